//! The municipality's facility list (福祉避難所一覧) imported into the shelter registry, through
//! the register's import machinery (`register::import::table`): CP932 or UTF-8 detected, each
//! cell decoded on its own, file lines counted as staff see them, the same report shape, a dry
//! run, and nothing written when a row is invalid unless asked. Shelters are matched by name
//! (施設名); a shelter missing from the file stays in the registry (it may be closed for this
//! disaster, not gone).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CATEGORIES, FACILITIES, ShelterFields, openings};
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::register::import::table::read_table;
use crate::register::import::values::coordinate;
use crate::register::import::{
    DuplicateColumn, EncodingChoice, FileError, InvalidCell, MissingColumn, WHOLE_ROW,
};
use crate::store::{Store, Timestamp, write_tx};

/// The columns of a facility list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Name,
    Address,
    Capacity,
    Categories,
    Facilities,
    Latitude,
    Longitude,
    Contact,
    Notes,
}

impl Column {
    const ALL: [Column; 9] = [
        Column::Name,
        Column::Address,
        Column::Capacity,
        Column::Categories,
        Column::Facilities,
        Column::Latitude,
        Column::Longitude,
        Column::Contact,
        Column::Notes,
    ];

    fn canonical(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Address => "address",
            Column::Capacity => "capacity",
            Column::Categories => "categories",
            Column::Facilities => "facilities",
            Column::Latitude => "latitude",
            Column::Longitude => "longitude",
            Column::Contact => "contact",
            Column::Notes => "notes",
        }
    }

    /// Headers recognised without a mapping file; the canonical name is matched too.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["施設名", "施設名称", "名称", "避難所名"],
            Column::Address => &["住所", "所在地"],
            Column::Capacity => &["定員", "受入可能人数", "収容人数", "受入人数"],
            Column::Categories => &["受入対象", "対象者", "受入対象者"],
            Column::Facilities => &["設備", "設備・機能", "設備等"],
            Column::Latitude => &["緯度"],
            Column::Longitude => &["経度"],
            Column::Contact => &["連絡先", "電話番号", "電話"],
            Column::Notes => &["備考", "特記事項"],
        }
    }

    fn required(self) -> bool {
        matches!(self, Column::Name | Column::Address | Column::Capacity)
    }
}

/// `[columns] "施設の名前" = "name"`: a municipality's own headers, as for the register.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    columns: std::collections::BTreeMap<String, String>,
}

fn parse_mapping(text: &str) -> Result<Vec<(String, Column)>, FileError> {
    let file: MappingFile = toml::from_str(text).map_err(|e| FileError::BadMapping {
        reason: format!(
            "TOMLとして読めません。[columns] の下に \"見出し\" = \"項目名\" と書いてください: {}",
            e.message()
        ),
    })?;
    let mut out = Vec::new();
    for (header, target) in file.columns {
        let Some(column) = Column::ALL
            .into_iter()
            .find(|c| c.canonical().eq_ignore_ascii_case(target.trim()))
        else {
            let known: Vec<&str> = Column::ALL.iter().map(|c| c.canonical()).collect();
            return Err(FileError::BadMapping {
                reason: format!(
                    "知らない項目名「{target}」です。使える項目名は {} です",
                    known.join(", ")
                ),
            });
        };
        out.push((header.trim().to_string(), column));
    }
    Ok(out)
}

/// Which column of the file fills each field; the file's other headers.
fn resolve(
    headers: &[String],
    mapping: &[(String, Column)],
) -> Result<(Vec<Option<usize>>, Vec<String>), FileError> {
    let mut index = vec![None::<usize>; Column::ALL.len()];
    let mut duplicates: Vec<DuplicateColumn> = Vec::new();
    let mut unmapped = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        let column = mapping
            .iter()
            .find(|(h, _)| h == header)
            .map(|(_, c)| *c)
            .or_else(|| {
                Column::ALL.into_iter().find(|c| {
                    c.headers().contains(&header.as_str())
                        || c.canonical().eq_ignore_ascii_case(header)
                })
            });
        let Some(column) = column else {
            if !header.is_empty() {
                unmapped.push(header.clone());
            }
            continue;
        };
        let slot = &mut index[column as usize];
        match slot {
            None => *slot = Some(i),
            Some(first) => match duplicates
                .iter_mut()
                .find(|d| d.field == column.canonical())
            {
                Some(d) => d.headers.push(header.clone()),
                None => duplicates.push(DuplicateColumn {
                    field: column.canonical(),
                    headers: vec![headers[*first].clone(), header.clone()],
                }),
            },
        }
    }
    if !duplicates.is_empty() {
        return Err(FileError::DuplicateColumns { duplicates });
    }
    let missing: Vec<MissingColumn> = Column::ALL
        .into_iter()
        .filter(|c| c.required() && index[*c as usize].is_none())
        .map(|c| MissingColumn {
            field: c.canonical(),
            accepted: c.headers().iter().map(|h| h.to_string()).collect(),
        })
        .collect();
    if !missing.is_empty() {
        return Err(FileError::MissingColumns { missing });
    }
    Ok((index, unmapped))
}

/// A whole number of places: 「20」「２０人」「20名」.
fn capacity(s: &str) -> Result<i64, String> {
    let digits: String = s
        .trim_end_matches(['人', '名'])
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect();
    match digits.parse::<i64>() {
        Ok(n) if (0..=100_000).contains(&n) => Ok(n),
        _ => Err("定員は 0 から 100000 までの整数で書いてください (例: 20)".into()),
    }
}

/// Words of a facility list for who a shelter takes in, and for what it has.
const CATEGORY_WORDS: [(&str, &str); 17] = [
    ("高齢者", "elderly"),
    ("高齢", "elderly"),
    ("要介護者", "elderly"),
    ("身体障害者", "physical_disability"),
    ("身体障害", "physical_disability"),
    ("肢体不自由", "physical_disability"),
    ("知的障害者", "intellectual_mental_disability"),
    ("精神障害者", "intellectual_mental_disability"),
    ("知的障害", "intellectual_mental_disability"),
    ("精神障害", "intellectual_mental_disability"),
    ("発達障害", "intellectual_mental_disability"),
    ("認知症", "dementia"),
    ("妊産婦", "pregnant_infant"),
    ("乳幼児", "pregnant_infant"),
    ("妊婦", "pregnant_infant"),
    ("医療的ケア", "medical_care"),
    ("医療的ケア児", "medical_care"),
];

const FACILITY_WORDS: [(&str, &str); 13] = [
    ("車いす", "wheelchair_access"),
    ("車椅子", "wheelchair_access"),
    ("バリアフリー", "wheelchair_access"),
    ("多目的トイレ", "accessible_toilet"),
    ("だれでもトイレ", "accessible_toilet"),
    ("酸素", "oxygen"),
    ("発電機", "generator"),
    ("非常用発電機", "generator"),
    ("自家発電", "generator"),
    ("エレベーター", "elevator"),
    ("介護ベッド", "care_beds"),
    ("特殊寝台", "care_beds"),
    ("看護職員", "nursing_staff"),
];

/// A list in one cell: 「高齢者、認知症・身体障害者」 → codes; a word not known is refused.
fn words(
    s: &str,
    known: &[(&str, &str)],
    codes: &[(&str, &str)],
    what: &str,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for word in s
        .split(['、', ',', '，', '・', '/', '／', ' ', '　', ';', '；'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
    {
        let code = known
            .iter()
            .find(|(w, _)| *w == word)
            .map(|(_, c)| *c)
            .or_else(|| codes.iter().find(|(c, _)| *c == word).map(|(c, _)| *c))
            .or_else(|| {
                codes
                    .iter()
                    .find(|(_, label)| *label == word)
                    .map(|(c, _)| *c)
            });
        match code {
            Some(code) if !out.iter().any(|c| c == code) => out.push(code.to_string()),
            Some(_) => {}
            None => {
                let words: Vec<&str> = codes.iter().map(|(_, l)| *l).collect();
                return Err(format!(
                    "{what}の「{word}」がわかりません。{} のように書いてください",
                    words.join("、")
                ));
            }
        }
    }
    Ok(out)
}

/// One facility read from the file.
#[derive(Debug)]
struct Row {
    line: usize,
    fields: ShelterFields,
}

/// What a list held.
#[derive(Debug)]
struct Parsed {
    encoding: &'static str,
    rows: usize,
    facilities: Vec<Row>,
    invalid: Vec<InvalidCell>,
    unmapped: Vec<String>,
    /// Which optional columns the list has: a column it lacks leaves that field of a
    /// shelter already in the registry as it was.
    present: [bool; 9],
}

/// A shelter already in the registry that the list changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedShelter {
    pub name: String,
    /// The file line of its row.
    pub line: usize,
    /// What changes: any of `address`, `capacity`, `categories`, `facilities`,
    /// `coordinates`, `contact`, `notes`.
    pub fields: Vec<&'static str>,
}

/// The import report, shaped as the register's.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ShelterImportReport)]
pub struct ImportReport {
    /// The encoding the file was read in: `utf-8` or `cp932`.
    pub encoding: &'static str,
    /// Data rows in the file.
    pub rows: usize,
    /// Shelters the list adds to the registry.
    pub new: usize,
    pub updated: Vec<UpdatedShelter>,
    /// Shelters in the list whose registry entry it leaves as it is.
    pub unchanged: usize,
    /// Every problem found, by line and column: a row with any is not imported.
    pub invalid: Vec<InvalidCell>,
    /// Headers the import did not recognise (their columns are ignored).
    pub unmapped_columns: Vec<String>,
    /// Whether the registry was changed: false for a dry run, or when invalid rows stopped
    /// the import.
    pub committed: bool,
    /// Present when invalid rows stopped the import: what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    pub encoding: EncodingChoice,
    /// The TOML mapping of the municipality's own headers.
    pub mapping: Option<String>,
    pub dry_run: bool,
    pub allow_invalid: bool,
}

/// Reads a facility list: its rows, or why the file as a whole cannot be used.
fn parse(bytes: &[u8], options: &ImportOptions) -> Result<Parsed, FileError> {
    let mapping = match options.mapping.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => parse_mapping(text)?,
        _ => Vec::new(),
    };
    let table = read_table(bytes, options.encoding)?;
    let (index, unmapped) = resolve(&table.headers, &mapping)?;
    let mut invalid = table.problems;
    let mut rows = Vec::new();
    let row_count = table.rows.len() + invalid.len();
    for row in table.rows {
        let mut bad = false;
        let mut cell = |column: Column| -> Option<String> {
            let i = index[column as usize]?;
            let header = table.headers[i].clone();
            match &row.cells[i] {
                Ok(text) => Some(text.clone()),
                Err((shown, reason)) => {
                    invalid.push(InvalidCell {
                        line: row.line,
                        column: header,
                        value: shown.clone(),
                        reason: reason.clone(),
                    });
                    bad = true;
                    None
                }
            }
        };
        let values: Vec<Option<String>> = Column::ALL.into_iter().map(&mut cell).collect();
        let value = |c: Column| values[c as usize].clone().unwrap_or_default();
        let header = |c: Column| {
            index[c as usize]
                .map(|i| table.headers[i].clone())
                .unwrap_or_else(|| c.canonical().to_string())
        };
        let mut problem = |c: Column, reason: String| {
            invalid.push(InvalidCell {
                line: row.line,
                column: header(c),
                value: value(c),
                reason,
            });
        };
        for c in [Column::Name, Column::Address] {
            if value(c).is_empty() {
                problem(c, "必須の項目です".into());
                bad = true;
            }
        }
        let capacity = capacity(&value(Column::Capacity)).map_err(|r| {
            problem(Column::Capacity, r);
        });
        let categories = words(
            &value(Column::Categories),
            &CATEGORY_WORDS,
            &CATEGORIES,
            "受入対象",
        )
        .map_err(|r| problem(Column::Categories, r));
        let facilities = words(
            &value(Column::Facilities),
            &FACILITY_WORDS,
            &FACILITIES,
            "設備",
        )
        .map_err(|r| problem(Column::Facilities, r));
        let coordinate_of = |c: Column, limit: f64, what: &str| match value(c).as_str() {
            "" => Ok(None),
            text => coordinate(text, limit, what).map(Some),
        };
        let latitude =
            coordinate_of(Column::Latitude, 90.0, "緯度").map_err(|r| problem(Column::Latitude, r));
        let longitude = coordinate_of(Column::Longitude, 180.0, "経度")
            .map_err(|r| problem(Column::Longitude, r));
        let (Ok(capacity), Ok(categories), Ok(facilities), Ok(latitude), Ok(longitude)) =
            (capacity, categories, facilities, latitude, longitude)
        else {
            continue;
        };
        if bad {
            continue;
        }
        let fields = ShelterFields {
            name: value(Column::Name),
            address: value(Column::Address),
            latitude,
            longitude,
            capacity,
            categories,
            facilities,
            contact: value(Column::Contact),
            notes: value(Column::Notes),
        };
        // The registry's own rules (lengths, both coordinates or neither), said per cell.
        match fields.validated() {
            Ok(fields) => rows.push(Row {
                line: row.line,
                fields,
            }),
            Err(AppError::Invalid { field, message }) => {
                let column = Column::ALL
                    .into_iter()
                    .find(|c| c.canonical() == field)
                    .unwrap_or(Column::Name);
                problem(column, message);
            }
            Err(other) => problem(Column::Name, other.to_string()),
        }
    }
    // One name twice in one list: which row is right cannot be told, so neither is taken.
    let mut names: Vec<&str> = rows.iter().map(|r| r.fields.name.as_str()).collect();
    names.sort_unstable();
    let twice: Vec<String> = names
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0].to_string())
        .collect();
    if !twice.is_empty() {
        let name_header = index[Column::Name as usize]
            .map(|i| table.headers[i].clone())
            .unwrap_or_else(|| WHOLE_ROW.to_string());
        rows.retain(|r| {
            if twice.contains(&r.fields.name) {
                invalid.push(InvalidCell {
                    line: r.line,
                    column: name_header.clone(),
                    value: r.fields.name.clone(),
                    reason: "同じ施設名の行が複数あります。一つにまとめてください".into(),
                });
                false
            } else {
                true
            }
        });
    }
    invalid.sort_by_key(|c| c.line);
    let mut present = [false; 9];
    for c in Column::ALL {
        present[c as usize] = index[c as usize].is_some();
    }
    Ok(Parsed {
        encoding: table.encoding,
        rows: row_count,
        facilities: rows,
        invalid,
        unmapped,
        present,
    })
}

/// What differs between a registry entry and a row of the file.
fn changed(old: &super::Shelter, new: &ShelterFields) -> Vec<&'static str> {
    let mut fields = Vec::new();
    if old.address != new.address {
        fields.push("address");
    }
    if old.capacity != new.capacity {
        fields.push("capacity");
    }
    if old.categories != new.categories {
        fields.push("categories");
    }
    if old.facilities != new.facilities {
        fields.push("facilities");
    }
    if old.latitude != new.latitude || old.longitude != new.longitude {
        fields.push("coordinates");
    }
    if old.contact != new.contact {
        fields.push("contact");
    }
    if old.notes != new.notes {
        fields.push("notes");
    }
    fields
}

/// Previews or commits a facility list. A file refused as a whole is a 400 naming why; a file
/// with invalid rows commits nothing unless `allow_invalid`.
pub async fn import(
    store: &Store,
    actor: &Actor,
    bytes: &[u8],
    options: ImportOptions,
) -> Result<(ImportReport, Vec<Event>)> {
    let Parsed {
        encoding,
        rows,
        facilities: parsed,
        invalid,
        unmapped,
        present,
    } = parse(bytes, &options).map_err(|e| AppError::invalid("file", e.to_string()))?;
    let has = |c: Column| present[c as usize];
    let existing = super::list(store).await?;
    let mut report = ImportReport {
        encoding,
        rows,
        new: 0,
        updated: Vec::new(),
        unchanged: 0,
        invalid,
        unmapped_columns: unmapped,
        committed: false,
        message: None,
    };
    let mut writes = Vec::new();
    for row in parsed {
        match existing.iter().find(|s| s.name == row.fields.name) {
            None => {
                report.new += 1;
                writes.push((None, row.fields));
            }
            Some(old) => {
                let mut new = row.fields;
                if !has(Column::Categories) {
                    new.categories = old.categories.clone();
                }
                if !has(Column::Facilities) {
                    new.facilities = old.facilities.clone();
                }
                if !has(Column::Latitude) && !has(Column::Longitude) {
                    (new.latitude, new.longitude) = (old.latitude, old.longitude);
                }
                if !has(Column::Contact) {
                    new.contact = old.contact.clone();
                }
                if !has(Column::Notes) {
                    new.notes = old.notes.clone();
                }
                let row = Row {
                    line: row.line,
                    fields: new,
                };
                let fields = changed(old, &row.fields);
                if fields.is_empty() {
                    report.unchanged += 1;
                } else {
                    report.updated.push(UpdatedShelter {
                        name: row.fields.name.clone(),
                        line: row.line,
                        fields,
                    });
                    writes.push((Some(old.id), row.fields));
                }
            }
        }
    }
    if !report.invalid.is_empty() && !options.allow_invalid {
        report.message = Some(format!(
            "{} invalid value(s): nothing was imported. Correct the file, or import its valid rows with allow_invalid.",
            report.invalid.len()
        ));
        return Ok((report, Vec::new()));
    }
    if options.dry_run {
        return Ok((report, Vec::new()));
    }
    let now = Timestamp::now();
    let events = write_tx!(store, tx => {
        let mut touched = Vec::new();
        for (id, f) in &writes {
            let categories = super::to_json(&f.categories);
            let facilities = super::to_json(&f.facilities);
            let id: i64 = match id {
                Some(id) => sqlx::query_scalar(
                    "UPDATE shelters SET address = $1, latitude = $2, longitude = $3, capacity = $4, categories = $5, \
                     facilities = $6, contact = $7, notes = $8, updated_at = $9 WHERE id = $10 RETURNING id",
                )
                .bind(&f.address).bind(f.latitude).bind(f.longitude).bind(f.capacity).bind(&categories)
                .bind(&facilities).bind(&f.contact).bind(&f.notes).bind(now).bind(id)
                .fetch_one(&mut *tx).await?,
                None => sqlx::query_scalar(
                    "INSERT INTO shelters (name, address, latitude, longitude, capacity, categories, facilities, contact, notes, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                )
                .bind(&f.name).bind(&f.address).bind(f.latitude).bind(f.longitude).bind(f.capacity)
                .bind(&categories).bind(&facilities).bind(&f.contact).bind(&f.notes).bind(now)
                .fetch_one(&mut *tx).await?,
            };
            touched.push(id);
        }
        // Every open activation's board lists every shelter: show the new and changed ones.
        let open: Vec<i64> = sqlx::query_scalar("SELECT id FROM activations WHERE status = 'open' ORDER BY id")
            .fetch_all(&mut *tx).await?;
        let mut written = Vec::new();
        for activation_id in open {
            for shelter_id in &touched {
                let seq = events::next_seq!(tx, activation_id);
                let states = openings::states_in!(tx, activation_id, Some(*shelter_id));
                let data = openings::ShelterEvent { shelter_id: *shelter_id, shelters: states };
                written.push(events::record!(tx, activation_id, seq, "shelter_changed", actor, &data));
            }
        }
        written
    });
    report.committed = true;
    Ok((report, events))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ImportOptions {
        ImportOptions::default()
    }

    #[test]
    fn a_cp932_list_is_read_with_its_words_mapped_to_codes() {
        let text = "施設名,所在地,定員,受入対象,設備,緯度,経度\r\n\
                    地域ケアプラザ髙田,横浜市港北区高田東1-1,２０人,高齢者・認知症,車いす、酸素,35.55,139.62\r\n";
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(text);
        let Parsed {
            encoding,
            rows,
            facilities: parsed,
            invalid,
            unmapped,
            ..
        } = parse(&bytes, &options()).unwrap();
        assert_eq!((encoding, rows), ("cp932", 1));
        assert!(invalid.is_empty(), "{invalid:?}");
        assert!(unmapped.is_empty());
        let f = &parsed[0].fields;
        assert_eq!(f.name, "地域ケアプラザ髙田");
        assert_eq!(f.capacity, 20);
        assert_eq!(f.categories, vec!["elderly", "dementia"]);
        assert_eq!(f.facilities, vec!["wheelchair_access", "oxygen"]);
        assert_eq!((f.latitude, f.longitude), (Some(35.55), Some(139.62)));
        assert_eq!(parsed[0].line, 2);
    }

    #[test]
    fn bad_cells_are_named_by_line_and_column_and_the_file_as_a_whole_when_it_must() {
        let text = "施設名,住所,定員,受入対象,備考,独自列\n\
                    A施設,港北区1,10,高齢者,,x\n\
                    \n\
                    B施設,港北区2,たくさん,猫,,y\n\
                    A施設,港北区3,5,,,z\n";
        let Parsed {
            rows,
            facilities: parsed,
            invalid,
            unmapped,
            ..
        } = parse(text.as_bytes(), &options()).unwrap();
        assert_eq!(rows, 3);
        assert!(parsed.is_empty(), "A is twice, B is wrong");
        let found: Vec<(usize, &str)> = invalid
            .iter()
            .map(|c| (c.line, c.column.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![(2, "施設名"), (4, "定員"), (4, "受入対象"), (5, "施設名")]
        );
        assert_eq!(unmapped, vec!["独自列"]);

        let missing = parse("施設名,住所\nA,B\n".as_bytes(), &options()).unwrap_err();
        assert!(
            matches!(missing, FileError::MissingColumns { .. }),
            "{missing}"
        );
        assert!(missing.to_string().contains("定員"));
    }

    #[test]
    fn a_mapping_file_names_the_municipalitys_own_headers() {
        let text = "施設の名前,場所,受入可能数\nC施設,港北区3,8\n";
        let mapped = ImportOptions {
            mapping: Some("[columns]\n\"施設の名前\" = \"name\"\n\"場所\" = \"address\"\n\"受入可能数\" = \"capacity\"\n".into()),
            ..options()
        };
        let Parsed {
            facilities: parsed,
            invalid,
            ..
        } = parse(text.as_bytes(), &mapped).unwrap();
        assert!(invalid.is_empty(), "{invalid:?}");
        assert_eq!(parsed[0].fields.capacity, 8);
    }
}
