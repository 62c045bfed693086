//! The paper fallback for when power or the network fails: the register exported as CSV
//! (UTF-8 with BOM, or CP932, safe to open in Excel) and printable district lists stamped
//! with who printed them and when. Both are audited; both follow the same visibility rules
//! as the screens.

use std::fmt::Write as _;

use serde::Deserialize;

use super::commit::PersonRow;
use super::import::{Field, Person};
use super::visibility::{self, Scope};
use crate::auth::CurrentUser;
use crate::error::{AppError, Result};
use crate::store::{Store, Timestamp, write_tx};

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PaperQuery {
    /// The activation whose safety statuses to include (and whose disclosure applies).
    pub activation: Option<i64>,
    /// Only people of this district (地区); an empty value means people with no district.
    pub district: Option<String>,
    /// `utf-8` (default, with a BOM so Excel reads it as UTF-8) or `cp932` (also
    /// `shift_jis`, `sjis`). The printable page ignores it.
    pub encoding: Option<String>,
}

/// A person with their current safety status and its latest check.
#[derive(sqlx::FromRow)]
pub struct PaperRow {
    #[sqlx(flatten)]
    pub person: PersonRow,
    pub status: Option<String>,
    pub checked_by: Option<String>,
    pub checked_at: Option<Timestamp>,
    pub note: Option<String>,
}

const PAPER_SQL: &str = "SELECT p.resident_id, p.name, p.name_kana, p.birth_date, p.sex, p.postal_code, p.address, \
     p.phone, p.district, p.care_level, p.disability, p.support_reasons, p.consent, p.supporters, \
     p.designated_shelter, p.latitude, p.longitude, p.notes, p.removed_at, \
     s.status, c.checked_by, c.checked_at, c.note \
     FROM register_persons p \
     LEFT JOIN safety_status s ON s.resident_id = p.resident_id AND s.activation_id = $1 \
     LEFT JOIN safety_checks c ON c.id = s.check_id \
     WHERE p.removed_at IS NULL AND ($2 IS NULL OR COALESCE(p.district, '') = $2) AND ($3 OR p.consent = TRUE) \
     ORDER BY p.district, p.name_kana, p.resident_id";

/// Reads the rows a user may see, auditing the read as `action` in the same transaction.
async fn rows_for(
    store: &Store,
    user: &CurrentUser,
    query: &PaperQuery,
    action: &str,
) -> Result<Vec<PaperRow>> {
    let activation = match query.activation {
        Some(id) => Some(crate::activations::get_one(store, id).await?),
        None => None,
    };
    let scope = visibility::scope(store, user, activation.as_ref()).await?;
    let subject = format!(
        "district={} activation={}",
        query.district.as_deref().unwrap_or("*"),
        query.activation.map_or("*".into(), |a| a.to_string())
    );
    let actor = user.username.clone();
    let rows = write_tx!(store, tx => {
        let rows: Vec<PaperRow> = sqlx::query_as(PAPER_SQL)
            .bind(query.activation.unwrap_or(0))
            .bind(&query.district)
            .bind(scope == Scope::Everyone)
            .fetch_all(&mut *tx)
            .await?;
        crate::audit::append!(tx, &actor, action, &subject,
            serde_json::json!({ "count": rows.len(), "encoding": query.encoding }));
        rows
    });
    Ok(rows)
}

/// Excel and LibreOffice run a cell that starts with one of these as a formula (CSV
/// injection); a leading apostrophe makes it plain text.
pub(crate) fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

const SAFETY_HEADERS: [&str; 4] = ["安否状況", "安否確認日時", "確認者", "安否メモ"];

/// The person's cells in the order of `Field::ALL`, written the way the import reads them
/// back (so export then import gives the same records).
fn person_cells(p: &Person) -> Vec<String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    Field::ALL
        .iter()
        .map(|field| match field {
            Field::ResidentId => p.resident_id.clone(),
            Field::Name => p.name.clone(),
            Field::NameKana => opt(&p.name_kana),
            Field::BirthDate => p
                .birth_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            Field::Sex => p
                .sex
                .map(|s| if s.as_str() == "male" { "男" } else { "女" }.to_string())
                .unwrap_or_default(),
            Field::PostalCode => opt(&p.postal_code),
            Field::Address => p.address.clone(),
            Field::Phone => opt(&p.phone),
            Field::District => opt(&p.district),
            Field::CareLevel => opt(&p.care_level),
            Field::Disability => opt(&p.disability),
            Field::SupportReasons => opt(&p.support_reasons),
            Field::Consent => match p.consent {
                Some(true) => "有".into(),
                Some(false) => "無".into(),
                None => String::new(),
            },
            Field::Supporters => opt(&p.supporters),
            Field::DesignatedShelter => opt(&p.designated_shelter),
            Field::Latitude => num(p.latitude),
            Field::Longitude => num(p.longitude),
            Field::Notes => opt(&p.notes),
        })
        .collect()
}

/// The safety columns of one exported row: status, when, by whom, the note.
pub type SafetyCells = [String; 4];

/// Writes the CSV text: the register's fields under the headers the import recognises first,
/// then the safety columns when `with_safety`.
pub fn csv_text(rows: &[(Person, Option<SafetyCells>)], with_safety: bool) -> Result<String> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let mut header: Vec<&str> = Field::ALL.iter().map(|f| f.headers()[0]).collect();
    if with_safety {
        header.extend(SAFETY_HEADERS);
    }
    writer.write_record(&header).map_err(anyhow::Error::from)?;
    for (person, safety) in rows {
        let mut cells: Vec<String> = person_cells(person)
            .into_iter()
            .zip(Field::ALL)
            // Numbers are written by us and cannot be formulas; a negative one must stay one.
            .map(|(cell, field)| match field {
                Field::Latitude | Field::Longitude => cell,
                _ => neutralise(&cell).into_owned(),
            })
            .collect();
        if with_safety {
            let safety = safety.clone().unwrap_or_default();
            cells.extend(safety.iter().map(|c| neutralise(c).into_owned()));
        }
        writer.write_record(&cells).map_err(anyhow::Error::from)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok(String::from_utf8(bytes).map_err(anyhow::Error::from)?)
}

fn export_rows(rows: &[PaperRow]) -> Vec<(Person, Option<SafetyCells>)> {
    rows.iter()
        .map(|row| {
            let safety = [
                safety_label(row.status.as_deref()).to_string(),
                row.checked_at.map(jst).unwrap_or_default(),
                row.checked_by.clone().unwrap_or_default(),
                row.note.clone().unwrap_or_default(),
            ];
            (row.person.to_person(), Some(safety))
        })
        .collect()
}

/// The CSV export: (file name, content type, bytes).
pub async fn export(
    store: &Store,
    user: &CurrentUser,
    query: &PaperQuery,
) -> Result<(String, Vec<u8>)> {
    let cp932 = match query.encoding.as_deref().unwrap_or("utf-8") {
        "utf-8" | "utf8" => false,
        "cp932" | "shift_jis" | "sjis" => true,
        other => {
            return Err(AppError::invalid(
                "encoding",
                format!("unknown encoding {other:?}: use utf-8 or cp932"),
            ));
        }
    };
    let rows = rows_for(store, user, query, "register.export").await?;
    let rows = export_rows(&rows);
    let text = csv_text(&rows, query.activation.is_some())?;
    let bytes = if cp932 {
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
        if unmappable {
            // encoding_rs would write &#NNNN; for such characters: a changed name on paper.
            let who = rows
                .iter()
                .find(|r| {
                    encoding_rs::SHIFT_JIS
                        .encode(&csv_text(std::slice::from_ref(r), true).unwrap_or_default())
                        .2
                })
                .map(|r| r.0.resident_id.clone())
                .unwrap_or_default();
            return Err(AppError::conflict(
                "cp932_unmappable",
                format!(
                    "CP932 cannot hold some characters (first in resident {who}); export as UTF-8 instead"
                ),
            ));
        }
        bytes.into_owned()
    } else {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        out.extend_from_slice(text.as_bytes());
        out
    };
    let stamp = chrono::Utc::now()
        .with_timezone(&jst_offset())
        .format("%Y%m%d-%H%M");
    Ok((format!("register-{stamp}.csv"), bytes))
}

/// A CSV file as a download: what every export answers (register, shelters, day summary).
pub(crate) fn csv_download(
    file_name: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) fn jst_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(9 * 3600).expect("UTC+9")
}

/// A time as Japan reads it on paper.
pub(crate) fn jst(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_micros(at.0)
        .map(|t| {
            t.with_timezone(&jst_offset())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

pub fn safety_label(status: Option<&str>) -> &'static str {
    match status.unwrap_or("unconfirmed") {
        "safe_at_home" => "在宅・無事",
        "evacuated" => "避難済",
        "needs_help" => "要支援・救助要請",
        "not_home" => "不在",
        "hospital" => "入院中",
        "unreachable" => "連絡不能",
        "deceased" => "死亡",
        _ => "未確認",
    }
}

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A printable district list (HTML with print CSS, no external assets): the sweep on paper,
/// with a box to tick per person, stamped with who printed it and when.
pub async fn print(store: &Store, user: &CurrentUser, query: &PaperQuery) -> Result<String> {
    let rows = rows_for(store, user, query, "register.print").await?;
    let activation = match query.activation {
        Some(id) => Some(crate::activations::get_one(store, id).await?),
        None => None,
    };
    let printed = jst(Timestamp::now());
    let district = match query.district.as_deref() {
        None => "全地区".to_string(),
        Some("") => "（地区なし）".to_string(),
        Some(d) => d.to_string(),
    };
    let mut html = String::new();
    let title = format!("避難行動要支援者名簿 {}", escape(&district));
    let kind = match activation.as_ref().map(|a| a.kind.as_str()) {
        Some("drill") => "<p class=\"drill\">訓練 DRILL — これは訓練です</p>",
        _ => "",
    };
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title><link rel=\"stylesheet\" href=\"/print.css\"></head><body>\
         {kind}<header><h1>{title}</h1><p class=\"stamp\">印刷: {who} {printed}（取扱注意・個人情報）</p>\
         <p>{activation_name} ／ {count}名</p></header><table><thead><tr>\
         <th>✓</th><th>氏名 / フリガナ</th><th>住所</th><th>電話</th><th>要介護度・障害</th><th>避難支援者</th>\
         <th>避難先</th><th>安否</th><th>メモ</th></tr></thead><tbody>",
        who = escape(&user.username),
        activation_name = escape(activation.as_ref().map_or("", |a| a.name.as_str())),
        count = rows.len(),
    );
    for row in &rows {
        let p = &row.person;
        let care = [p.care_level.as_deref(), p.disability.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ");
        let _ = write!(
            html,
            "<tr><td class=\"box\">□</td><td><b>{}</b><br><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"memo\"></td></tr>",
            escape(&p.name),
            escape(p.name_kana.as_deref().unwrap_or("")),
            escape(&p.address),
            escape(p.phone.as_deref().unwrap_or("")),
            escape(&care),
            escape(p.supporters.as_deref().unwrap_or("")),
            escape(p.designated_shelter.as_deref().unwrap_or("")),
            safety_label(row.status.as_deref()),
        );
    }
    let _ = write!(
        html,
        "</tbody></table><footer>印刷: {} {} — saigai-vc</footer></body></html>",
        escape(&user.username),
        printed
    );
    Ok(html)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::register::import::roundtrip::{Target, person};
    use crate::register::import::{ImportOptions, parse_register};

    /// Values that a spreadsheet would run as a formula are exported with a leading
    /// apostrophe, so they cannot read back unchanged: the round trip holds for all others.
    fn exported_unchanged(p: &Person) -> bool {
        person_cells(p).iter().zip(Field::ALL).all(|(cell, field)| {
            matches!(field, Field::Latitude | Field::Longitude) || neutralise(cell) == cell.as_str()
        })
    }

    #[test]
    fn formula_like_cells_are_neutralised_and_numbers_are_not() {
        let cases = [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+81", "'+81"),
            ("-1", "'-1"),
            ("@SUM", "'@SUM"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("横浜", "横浜"),
            ("1=1", "1=1"),
        ];
        for (cell, expected) in cases {
            assert_eq!(neutralise(cell), expected, "cell {cell:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn export_then_import_gives_back_the_same_records(
            people in prop::collection::vec(person(Target::Utf8), 1..12)
        ) {
            let mut seen = std::collections::HashSet::new();
            let people: Vec<Person> = people
                .into_iter()
                .filter(|p| exported_unchanged(p) && seen.insert(p.resident_id.clone()))
                .collect();
            prop_assume!(!people.is_empty());
            let rows: Vec<(Person, Option<SafetyCells>)> = people.iter().map(|p| (p.clone(), None)).collect();
            let text = csv_text(&rows, false).unwrap();
            let parsed = parse_register(text.as_bytes(), &ImportOptions {
                today: chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(),
                ..ImportOptions::default()
            }).unwrap();
            prop_assert!(parsed.invalid.is_empty(), "invalid: {:?}", parsed.invalid);
            let back: Vec<Person> = parsed.records.into_iter().map(|(_, p)| p).collect();
            prop_assert_eq!(back, people);
        }
    }
}
