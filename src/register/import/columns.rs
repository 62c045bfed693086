//! Which column of a municipality's export holds which field of the register. Every
//! municipality names its columns its own way, so each canonical field accepts the usual
//! Japanese headers, its own English name, and whatever a mapping file (TOML) adds for one
//! municipality. Headers are resolved once per file; rows are then read by column index.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FileError;
use super::values::trim;

/// A field of the register, as the import knows it. The canonical name is the one used in
/// code, JSON and mapping files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    ResidentId,
    Name,
    NameKana,
    BirthDate,
    Sex,
    PostalCode,
    Address,
    Phone,
    District,
    CareLevel,
    Disability,
    SupportReasons,
    Consent,
    Supporters,
    DesignatedShelter,
    Latitude,
    Longitude,
    Notes,
}

impl Field {
    pub const COUNT: usize = 18;

    pub const ALL: [Field; Field::COUNT] = [
        Field::ResidentId,
        Field::Name,
        Field::NameKana,
        Field::BirthDate,
        Field::Sex,
        Field::PostalCode,
        Field::Address,
        Field::Phone,
        Field::District,
        Field::CareLevel,
        Field::Disability,
        Field::SupportReasons,
        Field::Consent,
        Field::Supporters,
        Field::DesignatedShelter,
        Field::Latitude,
        Field::Longitude,
        Field::Notes,
    ];

    /// Without these three a row cannot name a person nor find them, so a file lacking one
    /// of these columns is refused whole.
    pub const REQUIRED: [Field; 3] = [Field::ResidentId, Field::Name, Field::Address];

    pub fn canonical(self) -> &'static str {
        match self {
            Field::ResidentId => "resident_id",
            Field::Name => "name",
            Field::NameKana => "name_kana",
            Field::BirthDate => "birth_date",
            Field::Sex => "sex",
            Field::PostalCode => "postal_code",
            Field::Address => "address",
            Field::Phone => "phone",
            Field::District => "district",
            Field::CareLevel => "care_level",
            Field::Disability => "disability",
            Field::SupportReasons => "support_reasons",
            Field::Consent => "consent",
            Field::Supporters => "supporters",
            Field::DesignatedShelter => "designated_shelter",
            Field::Latitude => "latitude",
            Field::Longitude => "longitude",
            Field::Notes => "notes",
        }
    }

    /// The headers recognised without a mapping file, the usual Japanese one first (it is
    /// the one staff see in messages). The canonical name is matched separately.
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Field::ResidentId => &["宛名番号", "住民番号", "識別番号", "整理番号"],
            Field::Name => &["氏名", "名前"],
            Field::NameKana => &["フリガナ", "ふりがな", "氏名カナ", "カナ氏名"],
            Field::BirthDate => &["生年月日"],
            Field::Sex => &["性別"],
            Field::PostalCode => &["郵便番号"],
            Field::Address => &["住所", "住所又は居所"],
            Field::Phone => &["電話番号", "連絡先", "電話"],
            Field::District => &["地区", "地区名", "地域"],
            Field::CareLevel => &["要介護度", "要介護状態区分"],
            Field::Disability => &["障害", "障害種別", "障害等級"],
            Field::SupportReasons => &[
                "避難支援を必要とする事由",
                "支援を必要とする理由",
                "要支援事由",
            ],
            Field::Consent => &["情報提供同意", "同意", "名簿提供同意"],
            Field::Supporters => &["避難支援者", "支援者", "避難支援等実施者"],
            Field::DesignatedShelter => &["避難先", "指定避難所", "避難先施設"],
            Field::Latitude => &["緯度"],
            Field::Longitude => &["経度"],
            Field::Notes => &["備考", "特記事項"],
        }
    }

    /// The name staff know the field by, e.g. "宛名番号 (resident_id)".
    pub fn label(self) -> String {
        format!("{} ({})", self.headers()[0], self.canonical())
    }

    pub fn from_canonical(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.canonical() == name)
    }

    /// The built-in recognition of a (trimmed) header. The English names are matched
    /// without regard to ASCII case, since spreadsheets tend to capitalise them.
    fn from_builtin_header(header: &str) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|f| f.headers().contains(&header) || f.canonical().eq_ignore_ascii_case(header))
    }
}

/// A municipality's own headers, read from a mapping file:
///
/// ```toml
/// [columns]
/// "住民コード" = "resident_id"
/// "避難所" = "designated_shelter"
/// ```
///
/// A mapping adds to the built-in headers and wins over them: "住所" mapped to `notes`
/// makes that column the notes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeaderMapping {
    /// (trimmed header, field), sorted by header so lookups are a binary search.
    columns: Vec<(String, Field)>,
}

impl HeaderMapping {
    pub fn field_for(&self, header: &str) -> Option<Field> {
        self.columns
            .binary_search_by(|(h, _)| h.as_str().cmp(header))
            .ok()
            .map(|i| self.columns[i].1)
    }

    /// The headers this mapping sends to `field`, for messages about a missing column.
    pub fn headers_for(&self, field: Field) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .filter(move |(_, f)| *f == field)
            .map(|(h, _)| h.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    columns: BTreeMap<String, String>,
}

/// Reads a mapping file. Every target must be a canonical field name; the message for an
/// unknown one names it and lists the names that would do.
pub fn parse_mapping(toml_text: &str) -> Result<HeaderMapping, FileError> {
    let file: MappingFile = toml::from_str(toml_text).map_err(|e| FileError::BadMapping {
        reason: format!(
            "TOMLとして読めません。[columns] の下に \"見出し\" = \"項目名\" と書いてください: {}",
            e.message()
        ),
    })?;

    let mut columns: Vec<(String, Field)> = Vec::with_capacity(file.columns.len());
    let mut unknown = Vec::new();
    for (header, target) in &file.columns {
        let header = trim(header);
        if header.is_empty() {
            return Err(FileError::BadMapping {
                reason: "空の見出しに項目名が割り当てられています".into(),
            });
        }
        let target_field = Field::ALL
            .into_iter()
            .find(|f| f.canonical().eq_ignore_ascii_case(trim(target)));
        match target_field {
            Some(field) => columns.push((header.to_owned(), field)),
            None => unknown.push(format!("「{header}」= \"{target}\"")),
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = Field::ALL.iter().map(|f| f.canonical()).collect();
        return Err(FileError::BadMapping {
            reason: format!(
                "知らない項目名があります: {}。使える項目名は {} です",
                unknown.join("、"),
                known.join(", ")
            ),
        });
    }

    columns.sort();
    // Two keys that differ only in surrounding spaces are the same header once trimmed.
    if let Some(pair) = columns
        .windows(2)
        .find(|w| w[0].0 == w[1].0 && w[0].1 != w[1].1)
    {
        return Err(FileError::BadMapping {
            reason: format!(
                "見出し「{}」が {} と {} の両方に割り当てられています",
                pair[0].0,
                pair[0].1.canonical(),
                pair[1].1.canonical()
            ),
        });
    }
    columns.dedup();
    Ok(HeaderMapping { columns })
}

/// A required column the file lacks, with every header that would have been accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MissingColumn {
    pub field: &'static str,
    pub accepted: Vec<String>,
}

/// Two or more columns of one file that would fill the same field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DuplicateColumn {
    pub field: &'static str,
    pub headers: Vec<String>,
}

/// The resolved header row of one file.
#[derive(Debug)]
pub(crate) struct Columns {
    /// Every header as written, trimmed, in file order.
    pub headers: Vec<String>,
    /// For each field, the index of the column that holds it.
    index_of: [Option<usize>; Field::COUNT],
}

impl Columns {
    pub fn index(&self, field: Field) -> Option<usize> {
        self.index_of[field as usize]
    }

    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// How a column is named in a message: its header, or its position if it has none or
    /// lies past the header row's end.
    pub fn name(&self, index: usize) -> String {
        match self.headers.get(index) {
            Some(h) if !h.is_empty() => h.clone(),
            _ => format!("({}列目)", index + 1),
        }
    }

    /// Maps each header to a field. A missing required column or two columns for one field
    /// refuse the file: guessing would put people's data in the wrong place.
    pub fn resolve(
        headers: Vec<String>,
        mapping: Option<&HeaderMapping>,
    ) -> Result<(Columns, Vec<String>), FileError> {
        let mut index_of = [None; Field::COUNT];
        let mut claimed: Vec<(Field, Vec<usize>)> = Vec::new();
        let mut unmapped = Vec::new();

        for (i, header) in headers.iter().enumerate() {
            let field = mapping
                .and_then(|m| m.field_for(header))
                .or_else(|| Field::from_builtin_header(header));
            let Some(field) = field else {
                unmapped.push(if header.is_empty() {
                    format!("({}列目: 見出しなし)", i + 1)
                } else {
                    header.clone()
                });
                continue;
            };
            match index_of[field as usize] {
                None => index_of[field as usize] = Some(i),
                Some(first) => match claimed.iter_mut().find(|(f, _)| *f == field) {
                    Some((_, at)) => at.push(i),
                    None => claimed.push((field, vec![first, i])),
                },
            }
        }

        if !claimed.is_empty() {
            claimed.sort();
            return Err(FileError::DuplicateColumns {
                duplicates: claimed
                    .into_iter()
                    .map(|(field, at)| DuplicateColumn {
                        field: field.canonical(),
                        headers: at.into_iter().map(|i| headers[i].clone()).collect(),
                    })
                    .collect(),
            });
        }

        let missing: Vec<MissingColumn> = Field::REQUIRED
            .into_iter()
            .filter(|f| index_of[*f as usize].is_none())
            .map(|field| {
                let mut accepted: Vec<String> =
                    field.headers().iter().map(|h| (*h).to_owned()).collect();
                accepted.push(field.canonical().to_owned());
                if let Some(m) = mapping {
                    accepted.extend(m.headers_for(field).map(str::to_owned));
                }
                MissingColumn {
                    field: field.canonical(),
                    accepted,
                }
            })
            .collect();
        if !missing.is_empty() {
            return Err(FileError::MissingColumns { missing });
        }

        Ok((Columns { headers, index_of }, unmapped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|h| (*h).to_owned()).collect()
    }

    #[test]
    fn every_recognised_header_maps_to_its_field() {
        let cases: &[(&str, Field)] = &[
            ("宛名番号", Field::ResidentId),
            ("住民番号", Field::ResidentId),
            ("識別番号", Field::ResidentId),
            ("整理番号", Field::ResidentId),
            ("resident_id", Field::ResidentId),
            ("Resident_ID", Field::ResidentId),
            ("氏名", Field::Name),
            ("名前", Field::Name),
            ("name", Field::Name),
            ("フリガナ", Field::NameKana),
            ("ふりがな", Field::NameKana),
            ("氏名カナ", Field::NameKana),
            ("カナ氏名", Field::NameKana),
            ("name_kana", Field::NameKana),
            ("生年月日", Field::BirthDate),
            ("birth_date", Field::BirthDate),
            ("性別", Field::Sex),
            ("sex", Field::Sex),
            ("郵便番号", Field::PostalCode),
            ("postal_code", Field::PostalCode),
            ("住所", Field::Address),
            ("住所又は居所", Field::Address),
            ("address", Field::Address),
            ("電話番号", Field::Phone),
            ("連絡先", Field::Phone),
            ("電話", Field::Phone),
            ("phone", Field::Phone),
            ("地区", Field::District),
            ("地区名", Field::District),
            ("地域", Field::District),
            ("district", Field::District),
            ("要介護度", Field::CareLevel),
            ("要介護状態区分", Field::CareLevel),
            ("care_level", Field::CareLevel),
            ("障害", Field::Disability),
            ("障害種別", Field::Disability),
            ("障害等級", Field::Disability),
            ("disability", Field::Disability),
            ("避難支援を必要とする事由", Field::SupportReasons),
            ("支援を必要とする理由", Field::SupportReasons),
            ("要支援事由", Field::SupportReasons),
            ("support_reasons", Field::SupportReasons),
            ("情報提供同意", Field::Consent),
            ("同意", Field::Consent),
            ("名簿提供同意", Field::Consent),
            ("consent", Field::Consent),
            ("避難支援者", Field::Supporters),
            ("支援者", Field::Supporters),
            ("避難支援等実施者", Field::Supporters),
            ("supporters", Field::Supporters),
            ("避難先", Field::DesignatedShelter),
            ("指定避難所", Field::DesignatedShelter),
            ("避難先施設", Field::DesignatedShelter),
            ("designated_shelter", Field::DesignatedShelter),
            ("緯度", Field::Latitude),
            ("latitude", Field::Latitude),
            ("経度", Field::Longitude),
            ("longitude", Field::Longitude),
            ("備考", Field::Notes),
            ("特記事項", Field::Notes),
            ("notes", Field::Notes),
        ];
        for (header, field) in cases {
            assert_eq!(
                Field::from_builtin_header(header),
                Some(*field),
                "header {header:?} should map to {}",
                field.canonical()
            );
        }
        for field in Field::ALL {
            assert_eq!(
                Field::ALL[field as usize],
                field,
                "ALL is in declaration order"
            );
        }
    }

    #[test]
    fn columns_resolve_in_any_order_and_unknown_ones_are_listed() {
        let (cols, unmapped) =
            Columns::resolve(headers(&["住所", "メモ欄", "氏名", "", "宛名番号"]), None)
                .expect("all required columns are present");
        assert_eq!(cols.index(Field::Address), Some(0), "address column");
        assert_eq!(cols.index(Field::Name), Some(2), "name column");
        assert_eq!(cols.index(Field::ResidentId), Some(4), "resident_id column");
        assert_eq!(cols.index(Field::Phone), None, "no phone column");
        assert_eq!(
            unmapped,
            vec!["メモ欄".to_owned(), "(4列目: 見出しなし)".to_owned()],
            "unknown and blank headers are listed as unmapped"
        );
    }

    #[test]
    fn a_missing_required_column_names_the_field_and_the_accepted_headers() {
        let err = Columns::resolve(headers(&["氏名", "電話番号"]), None).unwrap_err();
        let FileError::MissingColumns { missing } = &err else {
            panic!("expected MissingColumns, got {err:?}");
        };
        let fields: Vec<&str> = missing.iter().map(|m| m.field).collect();
        assert_eq!(
            fields,
            ["resident_id", "address"],
            "both missing fields named"
        );
        assert!(
            missing[0].accepted.contains(&"宛名番号".to_owned()),
            "accepted headers for resident_id include 宛名番号: {:?}",
            missing[0].accepted
        );
        let message = err.to_string();
        for needle in [
            "宛名番号",
            "住民番号",
            "resident_id",
            "住所又は居所",
            "address",
        ] {
            assert!(
                message.contains(needle),
                "message {message:?} names {needle}"
            );
        }
    }

    #[test]
    fn two_columns_for_one_field_refuse_the_file_naming_both() {
        let err = Columns::resolve(
            headers(&["宛名番号", "氏名", "住所", "住民番号", "電話", "連絡先"]),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            FileError::DuplicateColumns {
                duplicates: vec![
                    DuplicateColumn {
                        field: "resident_id",
                        headers: headers(&["宛名番号", "住民番号"]),
                    },
                    DuplicateColumn {
                        field: "phone",
                        headers: headers(&["電話", "連絡先"]),
                    },
                ]
            },
            "both duplicated fields are reported with their headers"
        );
        let message = err.to_string();
        assert!(
            message.contains("宛名番号") && message.contains("住民番号"),
            "message names both headers: {message}"
        );
    }

    #[test]
    fn a_mapping_renames_headers_and_wins_over_the_builtin_ones() {
        let mapping = parse_mapping(
            "[columns]\n\"住民コード\" = \"resident_id\"\n\"避難所\" = \"Designated_Shelter\"\n\"住所\" = \"notes\"\n\"現住所\" = \"address\"\n",
        )
        .expect("valid mapping");
        let (cols, unmapped) = Columns::resolve(
            headers(&["住民コード", "氏名", "現住所", "住所", "避難所"]),
            Some(&mapping),
        )
        .expect("mapped headers satisfy the required fields");
        assert_eq!(
            cols.index(Field::ResidentId),
            Some(0),
            "住民コード → resident_id"
        );
        assert_eq!(cols.index(Field::Address), Some(2), "現住所 → address");
        assert_eq!(cols.index(Field::Notes), Some(3), "住所 overridden → notes");
        assert_eq!(
            cols.index(Field::DesignatedShelter),
            Some(4),
            "避難所 → designated_shelter, the target's case ignored"
        );
        assert!(unmapped.is_empty(), "nothing unmapped: {unmapped:?}");
    }

    #[test]
    fn a_missing_column_message_offers_the_mapping_headers_too() {
        let mapping = parse_mapping("[columns]\n\"住民コード\" = \"resident_id\"\n").unwrap();
        let err = Columns::resolve(headers(&["氏名", "住所"]), Some(&mapping)).unwrap_err();
        assert!(
            err.to_string().contains("住民コード"),
            "the mapping's header is offered: {err}"
        );
    }

    #[test]
    fn bad_mappings_are_refused_with_a_reason() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "unknown canonical names are named",
                "[columns]\n\"住民コード\" = \"resident_no\"\n\"避難所\" = \"shelter\"\n",
                "resident_no",
            ),
            (
                "the second unknown name is named too",
                "[columns]\n\"住民コード\" = \"resident_no\"\n\"避難所\" = \"shelter\"\n",
                "shelter",
            ),
            ("not TOML", "columns = [", "TOML"),
            (
                "no [columns] table",
                "[headers]\n\"a\" = \"name\"\n",
                "TOML",
            ),
            (
                "an empty header",
                "[columns]\n\" \" = \"name\"\n",
                "空の見出し",
            ),
            (
                "one header, after trimming, for two fields",
                "[columns]\n\"氏名 \" = \"name\"\n\"氏名\" = \"notes\"\n",
                "両方",
            ),
        ];
        for (case, text, needle) in cases {
            match parse_mapping(text) {
                Err(FileError::BadMapping { reason }) => assert!(
                    reason.contains(needle),
                    "{case}: reason {reason:?} should mention {needle:?}"
                ),
                other => panic!("{case}: expected BadMapping, got {other:?}"),
            }
        }
    }
}
