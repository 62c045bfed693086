//! Committing a parsed register file: compare with what is stored, then write the new,
//! changed, restored and removed people in one transaction, with the import's record and
//! each person's change.
//!
//! A file with invalid rows commits nothing unless the caller allows it; then only its valid
//! rows are written, and nobody is marked removed (a person missing from such a file may be
//! one of its invalid rows).

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::import::{InvalidCell, ParsedRegister, Person, Sex};
use crate::error::Result;
use crate::events::{self, Actor, Event};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// The import report of the issue: dry run and commit alike.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub encoding: &'static str,
    pub rows: usize,
    pub new: usize,
    /// Each person whose record changed, with the names of the fields that changed.
    pub updated: Vec<UpdatedPerson>,
    pub unchanged: usize,
    pub removed: usize,
    pub invalid: Vec<InvalidCell>,
    pub unmapped_columns: Vec<String>,
    /// True when people missing from the file were not marked removed, because some invalid
    /// rows could not be told whose they were.
    pub removal_skipped: bool,
    pub committed: bool,
    /// Why nothing (or not everything) was committed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_id: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct UpdatedPerson {
    pub resident_id: String,
    pub line: usize,
    pub fields: Vec<&'static str>,
}

/// A digest of a person's canonical fields: equal digests, unchanged person. Each field is
/// fed with a presence mark and its length, so no two different records digest alike by
/// moving text from one field to the next.
pub fn fingerprint(p: &Person) -> String {
    let mut hasher = Sha256::new();
    let mut text = |value: Option<&str>| match value {
        Some(s) => {
            hasher.update([1u8]);
            hasher.update((s.len() as u64).to_le_bytes());
            hasher.update(s.as_bytes());
        }
        None => hasher.update([0u8]),
    };
    let birth_date = p.birth_date.map(|d| d.to_string());
    let consent = p.consent.map(|c| if c { "1" } else { "0" });
    let latitude = p.latitude.map(|x| x.to_bits().to_string());
    let longitude = p.longitude.map(|x| x.to_bits().to_string());
    for value in [
        Some(p.resident_id.as_str()),
        Some(p.name.as_str()),
        p.name_kana.as_deref(),
        birth_date.as_deref(),
        p.sex.map(|s| s.as_str()),
        p.postal_code.as_deref(),
        Some(p.address.as_str()),
        p.phone.as_deref(),
        p.district.as_deref(),
        p.care_level.as_deref(),
        p.disability.as_deref(),
        p.support_reasons.as_deref(),
        consent,
        p.supporters.as_deref(),
        p.designated_shelter.as_deref(),
        latitude.as_deref(),
        longitude.as_deref(),
        p.notes.as_deref(),
    ] {
        text(value);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = hasher.finalize();
    let mut out = String::with_capacity(32);
    for byte in &digest[..16] {
        out.push(HEX[(byte >> 4) as usize] as char);
        out.push(HEX[(byte & 0x0f) as usize] as char);
    }
    out
}

/// The names of the canonical fields that differ between two records of one person.
pub fn changed_fields(old: &Person, new: &Person) -> Vec<&'static str> {
    let old = serde_json::to_value(old).expect("a person serialises");
    let new = serde_json::to_value(new).expect("a person serialises");
    FIELDS
        .iter()
        .copied()
        .filter(|f| old.get(*f) != new.get(*f))
        .collect()
}

/// The canonical fields, in the order of the table.
pub const FIELDS: [&str; 18] = [
    "resident_id",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "postal_code",
    "address",
    "phone",
    "district",
    "care_level",
    "disability",
    "support_reasons",
    "consent",
    "supporters",
    "designated_shelter",
    "latitude",
    "longitude",
    "notes",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_changes_with_any_field_and_not_otherwise() {
        let csv = "宛名番号,氏名,住所,備考,地区\n1,山田 太郎,横浜市,,港北\n";
        let parsed =
            crate::register::import::parse_register(csv.as_bytes(), &Default::default()).unwrap();
        let person = parsed.records[0].1.clone();
        assert_eq!(
            fingerprint(&person),
            fingerprint(&person.clone()),
            "deterministic"
        );
        let mut moved = person.clone();
        moved.notes = Some("港北".into());
        moved.district = None;
        assert_ne!(
            fingerprint(&person),
            fingerprint(&moved),
            "moving a value to another field is a change"
        );
        let mut renamed = person.clone();
        renamed.name = "山田 太朗".into();
        assert_ne!(fingerprint(&person), fingerprint(&renamed));
        assert_eq!(fingerprint(&person).len(), 32);
    }
}

#[derive(sqlx::FromRow)]
struct Stored {
    resident_id: String,
    fingerprint: String,
    removed_at: Option<Timestamp>,
}

/// What an import would do, decided before anything is written.
struct Plan<'a> {
    new: Vec<(usize, &'a Person, String)>,
    updated: Vec<(usize, &'a Person, String)>,
    restored: Vec<(usize, &'a Person, String)>,
    unchanged: usize,
    removed: Vec<String>,
}

fn plan<'a>(parsed: &'a ParsedRegister, stored: &[Stored], mark_removed: bool) -> Plan<'a> {
    let by_id: HashMap<&str, &Stored> =
        stored.iter().map(|s| (s.resident_id.as_str(), s)).collect();
    let mut plan = Plan {
        new: vec![],
        updated: vec![],
        restored: vec![],
        unchanged: 0,
        removed: vec![],
    };
    let mut seen: HashSet<&str> = parsed
        .invalid_resident_ids
        .iter()
        .map(String::as_str)
        .collect();
    seen.reserve(parsed.records.len());
    for (line, person) in &parsed.records {
        let print = fingerprint(person);
        seen.insert(person.resident_id.as_str());
        match by_id.get(person.resident_id.as_str()) {
            None => plan.new.push((*line, person, print)),
            Some(s) if s.removed_at.is_some() => plan.restored.push((*line, person, print)),
            Some(s) if s.fingerprint != print => plan.updated.push((*line, person, print)),
            Some(_) => plan.unchanged += 1,
        }
    }
    if mark_removed {
        plan.removed = stored
            .iter()
            .filter(|s| s.removed_at.is_none() && !seen.contains(s.resident_id.as_str()))
            .map(|s| s.resident_id.clone())
            .collect();
    }
    plan
}

/// A stored person, read back as the canonical record (for comparing and for the API).
#[derive(sqlx::FromRow)]
pub struct PersonRow {
    pub resident_id: String,
    pub name: String,
    pub name_kana: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub postal_code: Option<String>,
    pub address: String,
    pub phone: Option<String>,
    pub district: Option<String>,
    pub care_level: Option<String>,
    pub disability: Option<String>,
    pub support_reasons: Option<String>,
    pub consent: Option<bool>,
    pub supporters: Option<String>,
    pub designated_shelter: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub notes: Option<String>,
    pub removed_at: Option<Timestamp>,
}

impl PersonRow {
    /// The canonical record. Stored values were written from canonical records, so nothing
    /// here can fail; a value edited by hand into something else reads as absent.
    pub fn to_person(&self) -> Person {
        Person {
            resident_id: self.resident_id.clone(),
            name: self.name.clone(),
            name_kana: self.name_kana.clone(),
            birth_date: self
                .birth_date
                .as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            sex: match self.sex.as_deref() {
                Some("male") => Some(Sex::Male),
                Some("female") => Some(Sex::Female),
                _ => None,
            },
            postal_code: self.postal_code.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            district: self.district.clone(),
            care_level: self.care_level.clone(),
            disability: self.disability.clone(),
            support_reasons: self.support_reasons.clone(),
            consent: self.consent,
            supporters: self.supporters.clone(),
            designated_shelter: self.designated_shelter.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            notes: self.notes.clone(),
        }
    }
}

/// Runs an import: a dry run reads and reports; a commit writes everything in one
/// transaction, or nothing.
pub async fn import(
    store: &Store,
    parsed: ParsedRegister,
    dry_run: bool,
    allow_invalid: bool,
    actor: &Actor,
) -> Result<(ImportReport, Vec<Event>)> {
    let has_invalid = !parsed.invalid.is_empty();
    let refused = has_invalid && !allow_invalid;
    let mut report = ImportReport {
        encoding: parsed.encoding,
        rows: parsed.rows,
        new: 0,
        updated: vec![],
        unchanged: 0,
        removed: 0,
        invalid: vec![],
        unmapped_columns: parsed.unmapped_columns.clone(),
        removal_skipped: false,
        committed: false,
        message: None,
        import_id: None,
    };
    if refused {
        report.message = Some(format!(
            "{} invalid value(s): nothing was imported. Correct the file, or import its valid rows with allow_invalid.",
            parsed.invalid.len()
        ));
    }
    // Someone missing from a file can be taken to have left the register only if every row of
    // the file could at least be told whose it was.
    let mark_removed = parsed.unidentified_invalid_rows == 0;
    report.removal_skipped = !mark_removed;
    if has_invalid && !refused {
        report.message = Some(if mark_removed {
            "invalid rows were skipped; the people they name are kept as they were".into()
        } else {
            "invalid rows were skipped; some could not be told whose they were, so nobody was marked removed".into()
        });
    }
    let mut events = Vec::new();
    if dry_run || refused {
        let stored: Vec<Stored> = on_pool!(store, pool => {
            sqlx::query_as("SELECT resident_id, fingerprint, removed_at FROM register_persons").fetch_all(pool).await?
        });
        let plan = plan(&parsed, &stored, mark_removed);
        fill_counts(&mut report, &plan);
        report.updated = describe_updates(store, &plan).await?;
    } else {
        let now = Timestamp::now();
        let outcome = write_tx!(store, tx => {
            let stored: Vec<Stored> = sqlx::query_as("SELECT resident_id, fingerprint, removed_at FROM register_persons")
                .fetch_all(&mut *tx)
                .await?;
            let plan = plan(&parsed, &stored, mark_removed);
            fill_counts(&mut report, &plan);
            let import_id: i64 = sqlx::query_scalar(
                "INSERT INTO register_imports (imported_at, imported_by, encoding, rows, new, updated, unchanged, removed, invalid) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(now)
            .bind(&actor.name)
            .bind(parsed.encoding)
            .bind(parsed.rows as i64)
            .bind(report.new as i64)
            .bind((plan.updated.len() + plan.restored.len()) as i64)
            .bind(report.unchanged as i64)
            .bind(report.removed as i64)
            .bind(parsed.invalid.len() as i64)
            .fetch_one(&mut *tx)
            .await?;
            let mut updated = Vec::new();
            for (line, person, print) in plan.updated.iter().chain(plan.restored.iter()) {
                let old: PersonRow = sqlx::query_as(SELECT_PERSON_BY_ID)
                    .bind(&person.resident_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let mut fields = changed_fields(&old.to_person(), person);
                let change = if old.removed_at.is_some() { fields.push("removed"); "restored" } else { "updated" };
                upsert_person!(tx, person, print, import_id);
                sqlx::query("INSERT INTO register_changes (import_id, resident_id, change, fields) VALUES ($1, $2, $3, $4)")
                    .bind(import_id)
                    .bind(&person.resident_id)
                    .bind(change)
                    .bind(serde_json::to_string(&fields).map_err(anyhow::Error::from)?)
                    .execute(&mut *tx)
                    .await?;
                updated.push(UpdatedPerson { resident_id: person.resident_id.clone(), line: *line, fields });
            }
            // New people go in many to a statement: one statement per row costs more in
            // round trips than in writing (see BENCHMARKS.md).
            for chunk in plan.new.chunks(NEW_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new(INSERT_PERSONS);
                insert.push_values(chunk, |mut row, (_, p, print)| {
                    row.push_bind(&p.resident_id)
                        .push_bind(&p.name)
                        .push_bind(&p.name_kana)
                        .push_bind(p.birth_date.map(|d| d.to_string()))
                        .push_bind(p.sex.map(|s| s.as_str()))
                        .push_bind(&p.postal_code)
                        .push_bind(&p.address)
                        .push_bind(&p.phone)
                        .push_bind(&p.district)
                        .push_bind(&p.care_level)
                        .push_bind(&p.disability)
                        .push_bind(&p.support_reasons)
                        .push_bind(p.consent)
                        .push_bind(&p.supporters)
                        .push_bind(&p.designated_shelter)
                        .push_bind(p.latitude)
                        .push_bind(p.longitude)
                        .push_bind(&p.notes)
                        .push_bind(print)
                        .push_bind(import_id)
                        .push_bind(import_id);
                });
                // Their arrival is recorded by first_import_id: no change row each.
                insert.build().execute(&mut *tx).await?;
            }
            for resident_id in &plan.removed {
                sqlx::query("UPDATE register_persons SET removed_at = $1, last_import_id = $2 WHERE resident_id = $3")
                    .bind(now)
                    .bind(import_id)
                    .bind(resident_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO register_changes (import_id, resident_id, change, fields) VALUES ($1, $2, 'removed', '[]')")
                    .bind(import_id)
                    .bind(resident_id)
                    .execute(&mut *tx)
                    .await?;
            }
            crate::audit::append!(tx, &actor.name, "register.import", &format!("import:{import_id}"),
                serde_json::json!({ "rows": parsed.rows, "new": report.new, "removed": report.removed }));
            // Every open activation's board shows safety counts over the register: tell each.
            let open: Vec<i64> = sqlx::query_scalar("SELECT id FROM activations WHERE status = 'open'")
                .fetch_all(&mut *tx)
                .await?;
            for activation_id in open {
                let counts = crate::register::safety::counts_in!(tx, activation_id);
                let data = serde_json::json!({ "import_id": import_id, "safety": counts });
                events.push(events::append!(tx, activation_id, "register_imported", actor, &data));
            }
            (import_id, updated)
        });
        report.import_id = Some(outcome.0);
        report.updated = outcome.1;
        report.committed = true;
    }
    report.invalid = parsed.invalid;
    Ok((report, events))
}

fn fill_counts(report: &mut ImportReport, plan: &Plan<'_>) {
    report.new = plan.new.len();
    report.unchanged = plan.unchanged;
    report.removed = plan.removed.len();
}

/// For a dry run: which fields each updated person would change.
async fn describe_updates(store: &Store, plan: &Plan<'_>) -> Result<Vec<UpdatedPerson>> {
    let mut out = Vec::new();
    for (line, person, _) in plan.updated.iter().chain(plan.restored.iter()) {
        let old: PersonRow = on_pool!(store, pool => {
            sqlx::query_as(SELECT_PERSON_BY_ID).bind(&person.resident_id).fetch_one(pool).await?
        });
        let mut fields = changed_fields(&old.to_person(), person);
        if old.removed_at.is_some() {
            fields.push("removed");
        }
        out.push(UpdatedPerson {
            resident_id: person.resident_id.clone(),
            line: *line,
            fields,
        });
    }
    Ok(out)
}

/// Rows per multi-row INSERT: 21 parameters each stays under SQLite's 32,766 and
/// PostgreSQL's 65,535 bound parameters per statement.
const NEW_PER_STATEMENT: usize = 1000;

const INSERT_PERSONS: &str = "INSERT INTO register_persons (resident_id, name, name_kana, birth_date, sex, postal_code, \
     address, phone, district, care_level, disability, support_reasons, consent, supporters, designated_shelter, \
     latitude, longitude, notes, fingerprint, first_import_id, last_import_id) ";

pub const SELECT_PERSON_BY_ID: &str = "SELECT resident_id, name, name_kana, birth_date, sex, postal_code, address, phone, \
     district, care_level, disability, support_reasons, consent, supporters, designated_shelter, latitude, longitude, \
     notes, removed_at FROM register_persons WHERE resident_id = $1";

/// Inserts or replaces one person's canonical fields inside `$tx`.
#[macro_export]
macro_rules! upsert_register_person {
    ($tx:expr, $person:expr, $fingerprint:expr, $import_id:expr) => {{
        let p: &$crate::register::import::Person = $person;
        sqlx::query(
            "INSERT INTO register_persons (resident_id, name, name_kana, birth_date, sex, postal_code, address, phone, \
             district, care_level, disability, support_reasons, consent, supporters, designated_shelter, latitude, \
             longitude, notes, fingerprint, removed_at, first_import_id, last_import_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, NULL, $20, $20) \
             ON CONFLICT (resident_id) DO UPDATE SET name = excluded.name, name_kana = excluded.name_kana, \
             birth_date = excluded.birth_date, sex = excluded.sex, postal_code = excluded.postal_code, \
             address = excluded.address, phone = excluded.phone, district = excluded.district, \
             care_level = excluded.care_level, disability = excluded.disability, \
             support_reasons = excluded.support_reasons, consent = excluded.consent, supporters = excluded.supporters, \
             designated_shelter = excluded.designated_shelter, latitude = excluded.latitude, \
             longitude = excluded.longitude, notes = excluded.notes, fingerprint = excluded.fingerprint, \
             removed_at = NULL, last_import_id = excluded.last_import_id",
        )
        .bind(&p.resident_id)
        .bind(&p.name)
        .bind(&p.name_kana)
        .bind(p.birth_date.as_ref().map(|d| d.to_string()))
        .bind(p.sex.map(|s| s.as_str()))
        .bind(&p.postal_code)
        .bind(&p.address)
        .bind(&p.phone)
        .bind(&p.district)
        .bind(&p.care_level)
        .bind(&p.disability)
        .bind(&p.support_reasons)
        .bind(p.consent)
        .bind(&p.supporters)
        .bind(&p.designated_shelter)
        .bind(p.latitude)
        .bind(p.longitude)
        .bind(&p.notes)
        .bind($fingerprint)
        .bind($import_id)
        .execute(&mut *$tx)
        .await?;
    }};
}

pub use crate::upsert_register_person as upsert_person;
