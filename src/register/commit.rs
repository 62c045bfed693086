//! Committing a register file: compare each person with what is stored, then write the
//! new, changed, restored and removed people in one transaction, with the import's record
//! and each person's change.
//!
//! The file is read a second time while it is written (see `import::RegisterFile`): a
//! blocking thread parses the rows and hands the people over a thousand at a time, and each
//! chunk is compared with the register (held as ids and fingerprints only) and written while
//! the next is read, so memory stays flat however long the file. Everything still goes in
//! one transaction: nobody sees part of an import.
//!
//! A file with invalid rows commits nothing unless the caller allows it; then only its valid
//! rows are written, the people its invalid rows name are kept as they were, and if any
//! invalid row cannot be told whose it is, nobody is marked removed. Rows with a bad cell are
//! found only as they are read, so a refused file's transaction is rolled back at its end.

use std::io::{Read, Seek};

use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::import::{FileError, InvalidCell, Person, RegisterFile, RowProblems, Sex};
use super::resident_ids::ResidentIds;
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::store::{Store, Timestamp, on_pool, write_tx_or_discard};

/// What an import found and did, for a dry run (試行) and a commit alike: how many people are
/// new, changed, unchanged and missing from the file, and every cell that could not be read.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = RegisterImportReport)]
pub struct ImportReport {
    /// The encoding the file was read in: `utf-8`, `utf-8-bom` or `cp932`.
    #[schema(value_type = String)]
    pub encoding: &'static str,
    /// Data rows read, valid or not (blank lines are not counted).
    pub rows: usize,
    /// People in the file who are not in the register yet.
    pub new: usize,
    /// Each person whose record changed, with the names of the fields that changed.
    pub updated: Vec<UpdatedPerson>,
    /// People whose record is the same as stored.
    pub unchanged: usize,
    /// People in the register but not in the file: marked removed (or, in a dry run, who
    /// would be).
    pub removed: usize,
    /// Every cell that could not be read, by line; a row with any is not imported.
    pub invalid: Vec<InvalidCell>,
    /// Headers that name no field of the register: those columns were ignored.
    pub unmapped_columns: Vec<String>,
    /// True when people missing from the file were not marked removed, because some invalid
    /// rows could not be told whose they were.
    pub removal_skipped: bool,
    /// Whether the register was changed (false for a dry run and for a refused file).
    pub committed: bool,
    /// Why nothing (or not everything) was committed, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The import's record, when it was committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_id: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UpdatedPerson {
    pub resident_id: String,
    /// The file line the person's record starts on.
    pub line: usize,
    /// The canonical names of the fields that changed (`address`, `care_level`, ...).
    #[schema(value_type = Vec<String>)]
    pub fields: Vec<&'static str>,
}

/// A digest of a person's canonical fields: equal digests, unchanged person. Stored as 32
/// hex digits (the first 16 bytes of a SHA-256).
pub fn fingerprint(p: &Person) -> String {
    Fingerprint::of(p).to_hex()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// Each field is fed with a presence mark and its length, so no two different records
    /// digest alike by moving text from one field to the next.
    fn of(p: &Person) -> Fingerprint {
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
        let digest = hasher.finalize();
        let mut print = [0; 16];
        print.copy_from_slice(&digest[..16]);
        Fingerprint(print)
    }

    fn to_hex(self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(32);
        for byte in self.0 {
            out.push(HEX[(byte >> 4) as usize] as char);
            out.push(HEX[(byte & 0x0f) as usize] as char);
        }
        out
    }

    /// A stored fingerprint; `None` for anything but the 32 lower-case hex digits `to_hex`
    /// writes (a value edited by hand), which then matches no record.
    fn from_hex(text: &str) -> Option<Fingerprint> {
        fn digit(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        let digits = text.as_bytes();
        if digits.len() != 32 {
            return None;
        }
        let mut print = [0; 16];
        for (byte, pair) in print.iter_mut().zip(digits.chunks_exact(2)) {
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Fingerprint(print))
    }
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

    #[test]
    fn a_stored_fingerprint_reads_back_and_a_damaged_one_matches_nothing() {
        let csv = "宛名番号,氏名,住所\n1,山田 太郎,横浜市\n";
        let parsed =
            crate::register::import::parse_register(csv.as_bytes(), &Default::default()).unwrap();
        let print = Fingerprint::of(&parsed.records[0].1);
        let hex = print.to_hex();
        assert_eq!(hex, fingerprint(&parsed.records[0].1), "stored as written");
        assert_eq!(Fingerprint::from_hex(&hex), Some(print), "read back");
        let upper = hex.to_uppercase();
        for (stored, case) in [
            ("", "empty"),
            (&hex[..31], "one digit short"),
            ("zz3456789abcdef0123456789abcdef0", "not hex"),
            (upper.as_str(), "upper case, as no import writes it"),
        ] {
            assert_eq!(Fingerprint::from_hex(stored), None, "{case}");
        }
    }
}

/// The people already in the register, as an import compares with them: only their ids
/// and fingerprints, compactly, and whether the file names them.
struct Register(ResidentIds<Stored>);

struct Stored {
    print: Option<Fingerprint>,
    removed: bool,
    /// The file names this person, in a valid row or an invalid one.
    named: bool,
}

/// What the import does with one person of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    New,
    Updated,
    /// Back in the register after being marked removed.
    Restored,
    Unchanged,
}

/// Reads every stored person's id and fingerprint through `$executor` (a pool or a
/// transaction), streamed rather than fetched whole.
macro_rules! load_register {
    ($executor:expr) => {{
        let mut ids = ResidentIds::new();
        let mut rows = sqlx::query_as::<_, (String, String, Option<Timestamp>)>(
            "SELECT resident_id, fingerprint, removed_at FROM register_persons",
        )
        .fetch($executor);
        while let Some((resident_id, print, removed_at)) = rows.try_next().await? {
            let stored = Stored {
                print: Fingerprint::from_hex(&print),
                removed: removed_at.is_some(),
                named: false,
            };
            ids.push(&resident_id, stored);
        }
        drop(rows);
        ids.seal();
        Register(ids)
    }};
}

impl Register {
    fn classify(&mut self, incoming: &Incoming) -> Change {
        match self.0.get_mut(&incoming.person.resident_id) {
            None => Change::New,
            Some(stored) => {
                stored.named = true;
                if stored.removed {
                    Change::Restored
                } else if stored.print != Some(incoming.print) {
                    Change::Updated
                } else {
                    Change::Unchanged
                }
            }
        }
    }

    /// Notes that an invalid row names this id.
    fn name(&mut self, resident_id: &str) {
        if let Some(stored) = self.0.get_mut(resident_id) {
            stored.named = true;
        }
    }

    /// The people in the register whom the file does not name.
    fn missing(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|(_, stored)| !stored.removed && !stored.named)
            .map(|(resident_id, _)| resident_id)
    }
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

/// A person read from the file, with the line they start on and their fingerprint.
struct Incoming {
    line: usize,
    person: Person,
    print: Fingerprint,
}

/// People handed from the reading thread to the writer at a time. A chunk's new people go
/// in one statement, so this is also the bound on rows per INSERT.
const PEOPLE_PER_CHUNK: usize = NEW_PER_STATEMENT;

/// Chunks read ahead of the writer: enough that neither waits for the other, few enough
/// that memory stays small.
const CHUNKS_AHEAD: usize = 4;

type Reading = tokio::task::JoinHandle<std::result::Result<RowProblems, FileError>>;

/// Starts the second reading of the file on a blocking thread (parsing and fingerprinting
/// are CPU work): the people come over the channel a chunk at a time, and the problems
/// when the reading ends. If the receiver is dropped (the import failed), reading stops.
fn read_people<R>(file: RegisterFile<R>) -> (mpsc::Receiver<Vec<Incoming>>, Reading)
where
    R: Read + Seek + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(CHUNKS_AHEAD);
    let reading = tokio::task::spawn_blocking(move || {
        let mut rows = file.read_rows()?;
        let mut people = Vec::with_capacity(PEOPLE_PER_CHUNK);
        loop {
            let more = rows.read_people(&mut people, PEOPLE_PER_CHUNK)?;
            let chunk: Vec<Incoming> = people
                .drain(..)
                .map(|(line, person)| Incoming {
                    line,
                    print: Fingerprint::of(&person),
                    person,
                })
                .collect();
            if (!chunk.is_empty() && sender.blocking_send(chunk).is_err()) || !more {
                break;
            }
        }
        Ok(rows.finish())
    });
    (receiver, reading)
}

/// The problems of the file once its reading has ended.
async fn problems(reading: Reading) -> Result<RowProblems> {
    reading
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("import reader failed: {e}")))?
        .map_err(|e| AppError::invalid("file", e.to_string()))
}

/// What an import did, or would do, with the people of the file.
#[derive(Default)]
struct Tally {
    new: usize,
    unchanged: usize,
    updated: Vec<UpdatedPerson>,
    restored: Vec<UpdatedPerson>,
    removed: usize,
}

impl Tally {
    fn changed(&mut self, old: &PersonRow, incoming: &Incoming) -> &UpdatedPerson {
        let mut fields = changed_fields(&old.to_person(), &incoming.person);
        let list = if old.removed_at.is_some() {
            fields.push("removed");
            &mut self.restored
        } else {
            &mut self.updated
        };
        list.push(UpdatedPerson {
            resident_id: incoming.person.resident_id.clone(),
            line: incoming.line,
            fields,
        });
        list.last().expect("just pushed")
    }
}

/// Runs an import: a dry run reads and reports; a commit writes everything in one
/// transaction, or nothing.
pub async fn import<R>(
    store: &Store,
    file: RegisterFile<R>,
    dry_run: bool,
    allow_invalid: bool,
    actor: &Actor,
) -> Result<(ImportReport, Vec<Event>)>
where
    R: Read + Seek + Send + 'static,
{
    // Someone missing from a file can be taken to have left the register only if every row of
    // the file could at least be told whose it was.
    let mark_removed = file.unidentified_invalid_rows() == 0;
    let mut report = ImportReport {
        encoding: file.encoding(),
        rows: file.rows(),
        new: 0,
        updated: vec![],
        unchanged: 0,
        removed: 0,
        invalid: vec![],
        unmapped_columns: file.unmapped_columns().to_vec(),
        removal_skipped: !mark_removed,
        committed: false,
        message: None,
        import_id: None,
    };
    // A file already known to be refused is only previewed, so nothing is written in vain.
    if dry_run || (file.has_known_invalid_rows() && !allow_invalid) {
        let (tally, problems) = preview(store, file, mark_removed).await?;
        conclude(&mut report, tally, problems, allow_invalid);
        return Ok((report, Vec::new()));
    }

    let now = Timestamp::now();
    let (mut people, reading) = read_people(file);
    let (encoding, rows) = (report.encoding, report.rows);
    let written = write_tx_or_discard!(store, tx => {
        let mut register = load_register!(&mut *tx);
        // Written first for its id; its figures are known only at the end.
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO register_imports (imported_at, imported_by, encoding, rows, new, updated, unchanged, removed, invalid) \
             VALUES ($1, $2, $3, $4, 0, 0, 0, 0, 0) RETURNING id",
        )
        .bind(now)
        .bind(&actor.name)
        .bind(encoding)
        .bind(rows as i64)
        .fetch_one(&mut *tx)
        .await?;
        let mut tally = Tally::default();
        WritePeople::write_people(&mut *tx, &mut people, &mut register, &mut tally, import_id).await?;
        let problems = problems(reading).await?;
        for resident_id in &problems.invalid_resident_ids {
            register.name(resident_id);
        }
        if !problems.invalid.is_empty() && !allow_invalid {
            // Found only on the way through: nothing of this file may stay.
            if mark_removed {
                tally.removed = register.missing().count();
            }
            return Ok(Err((tally, problems)));
        }
        if mark_removed {
            for resident_id in register.missing() {
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
                tally.removed += 1;
            }
        }
        sqlx::query("UPDATE register_imports SET new = $1, updated = $2, unchanged = $3, removed = $4, invalid = $5 WHERE id = $6")
            .bind(tally.new as i64)
            .bind((tally.updated.len() + tally.restored.len()) as i64)
            .bind(tally.unchanged as i64)
            .bind(tally.removed as i64)
            .bind(problems.invalid.len() as i64)
            .bind(import_id)
            .execute(&mut *tx)
            .await?;
        crate::audit::append!(tx, &actor.name, "register.import", &format!("import:{import_id}"),
            serde_json::json!({ "rows": rows, "new": tally.new, "removed": tally.removed }));
        // Every open activation's board shows safety counts over the register: tell each.
        let open: Vec<i64> = sqlx::query_scalar("SELECT id FROM activations WHERE status = 'open'")
            .fetch_all(&mut *tx)
            .await?;
        let mut events = Vec::new();
        for activation_id in open {
            let counts = crate::register::safety::counts_in!(tx, activation_id);
            let data = serde_json::json!({ "import_id": import_id, "safety": counts });
            events.push(events::append!(tx, activation_id, "register_imported", actor, &data));
        }
        Ok((import_id, tally, problems, events))
    });
    let (import_id, tally, problems, events) = match written {
        Ok(written) => written,
        Err((tally, problems)) => {
            conclude(&mut report, tally, problems, allow_invalid);
            return Ok((report, Vec::new()));
        }
    };
    conclude(&mut report, tally, problems, allow_invalid);
    report.import_id = Some(import_id);
    report.committed = true;
    Ok((report, events))
}

/// A dry run, or a file refused before anything is written: compares every person with the
/// register and reports what an import would do.
async fn preview<R>(
    store: &Store,
    file: RegisterFile<R>,
    mark_removed: bool,
) -> Result<(Tally, RowProblems)>
where
    R: Read + Seek + Send + 'static,
{
    let (mut people, reading) = read_people(file);
    on_pool!(store, pool => {
        let mut register = load_register!(pool);
        let mut tally = Tally::default();
        while let Some(chunk) = people.recv().await {
            for incoming in chunk {
                match register.classify(&incoming) {
                    Change::New => tally.new += 1,
                    Change::Unchanged => tally.unchanged += 1,
                    Change::Updated | Change::Restored => {
                        let old: PersonRow = sqlx::query_as(SELECT_PERSON_BY_ID)
                            .bind(&incoming.person.resident_id)
                            .fetch_one(pool)
                            .await?;
                        tally.changed(&old, &incoming);
                    }
                }
            }
        }
        let problems = problems(reading).await?;
        for resident_id in &problems.invalid_resident_ids {
            register.name(resident_id);
        }
        if mark_removed {
            tally.removed = register.missing().count();
        }
        Ok((tally, problems))
    })
}

/// Fills the report from what was done (or would be), with why not everything was.
fn conclude(report: &mut ImportReport, tally: Tally, problems: RowProblems, allow_invalid: bool) {
    let has_invalid = !problems.invalid.is_empty();
    report.new = tally.new;
    report.unchanged = tally.unchanged;
    report.removed = tally.removed;
    report.updated = tally.updated;
    report.updated.extend(tally.restored);
    if has_invalid && !allow_invalid {
        report.message = Some(format!(
            "{} invalid value(s): nothing was imported. Correct the file, or import its valid rows with allow_invalid.",
            problems.invalid.len()
        ));
    } else if has_invalid {
        report.message = Some(if !report.removal_skipped {
            "invalid rows were skipped; the people they name are kept as they were".into()
        } else {
            "invalid rows were skipped; some could not be told whose they were, so nobody was marked removed".into()
        });
    }
    report.invalid = problems.invalid;
}

/// Rows per multi-row INSERT on SQLite: 21 parameters each stays under its 32,766 bound
/// parameters per statement.
const NEW_PER_STATEMENT: usize = 1000;

/// The columns a new person is written with, in the order of the INSERT's values and of
/// [`copy_row`]'s fields.
macro_rules! new_person_columns {
    () => {
        "register_persons (resident_id, name, name_kana, birth_date, sex, postal_code, address, phone, \
         district, care_level, disability, support_reasons, consent, supporters, designated_shelter, latitude, \
         longitude, notes, fingerprint, first_import_id, last_import_id)"
    };
}

/// The COPY that streams new people into the register on PostgreSQL.
const COPY_PERSONS: &str = concat!(
    "COPY ",
    new_person_columns!(),
    " FROM STDIN WITH (FORMAT csv)"
);

impl Register {
    /// Sorts a chunk of the file into new people and changed (or restored) ones, counting
    /// the unchanged.
    fn sort(&mut self, tally: &mut Tally, chunk: Vec<Incoming>) -> (Vec<Incoming>, Vec<Incoming>) {
        let (mut new_people, mut changed) = (Vec::with_capacity(chunk.len()), Vec::new());
        for incoming in chunk {
            match self.classify(&incoming) {
                Change::New => new_people.push(incoming),
                Change::Unchanged => tally.unchanged += 1,
                Change::Updated | Change::Restored => changed.push(incoming),
            }
        }
        tally.new += new_people.len();
        (new_people, changed)
    }
}

/// Writes people whose stored record differs from the file's (or who come back after being
/// removed) through `$conn`, one at a time with their change row: there are few of them in
/// the usual import, and each needs its old record for the list of changed fields.
macro_rules! write_changed {
    ($conn:expr, $tally:expr, $changed:expr, $import_id:expr) => {{
        for incoming in $changed {
            let old: PersonRow = sqlx::query_as(SELECT_PERSON_BY_ID)
                .bind(&incoming.person.resident_id)
                .fetch_one(&mut *$conn)
                .await?;
            let change = if old.removed_at.is_some() { "restored" } else { "updated" };
            let fields = serde_json::to_string(&$tally.changed(&old, &incoming).fields)
                .map_err(anyhow::Error::from)?;
            upsert_person!($conn, &incoming.person, incoming.print.to_hex(), $import_id);
            sqlx::query(
                "INSERT INTO register_changes (import_id, resident_id, change, fields) VALUES ($1, $2, $3, $4)",
            )
            .bind($import_id)
            .bind(&incoming.person.resident_id)
            .bind(change)
            .bind(fields)
            .execute(&mut *$conn)
            .await?;
        }
    }};
}

/// How the people of the file go into the register, by engine, as the reading thread hands
/// them over. Both compare a chunk with the register while the database writes the one
/// before, so the parsing thread, this task and the database work at the same time. New
/// people's arrival is recorded by first_import_id: no change row each. Values are moved in,
/// not copied.
trait WritePeople {
    fn write_people(
        &mut self,
        people: &mut mpsc::Receiver<Vec<Incoming>>,
        register: &mut Register,
        tally: &mut Tally,
        import_id: i64,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// SQLite takes new people a thousand to an INSERT (one statement per row costs more in
/// round trips to sqlx's worker thread than in writing; see BENCHMARKS.md), the INSERT of one
/// chunk running while the next is sorted.
impl WritePeople for sqlx::SqliteConnection {
    async fn write_people(
        &mut self,
        people: &mut mpsc::Receiver<Vec<Incoming>>,
        register: &mut Register,
        tally: &mut Tally,
        import_id: i64,
    ) -> Result<()> {
        let mut insert: Option<Vec<Incoming>> = None;
        let mut pending: Vec<Incoming> = Vec::new();
        loop {
            let (written, next) = tokio::join!(
                async {
                    match insert.take() {
                        Some(new_people) => {
                            insert_people_sqlite(&mut *self, new_people, import_id).await
                        }
                        None => Ok(()),
                    }
                },
                async {
                    let chunk = people.recv().await?;
                    Some(register.sort(tally, chunk))
                },
            );
            written?;
            let Some((new_people, changed)) = next else {
                if !pending.is_empty() {
                    insert_people_sqlite(&mut *self, pending, import_id).await?;
                }
                return Ok(());
            };
            write_changed!(self, tally, changed, import_id);
            pending.extend(new_people);
            if pending.len() >= NEW_PER_STATEMENT {
                // At most a statement's worth of rows (SQLite's bound on parameters); the
                // rest wait for the next chunk.
                let rest = pending.split_off(NEW_PER_STATEMENT);
                insert = Some(std::mem::replace(&mut pending, rest));
            }
        }
    }
}

/// One multi-row INSERT of new people. `OR FAIL`: by default (`ABORT`) a statement that
/// writes many rows keeps a statement journal, a copy of every page it touches that the
/// transaction had already changed, so that it alone can be undone, and keeping it took a
/// fifth of SQLite's time in a million-row import. Nothing here needs it: any error ends the
/// whole transaction.
async fn insert_people_sqlite(
    conn: &mut sqlx::SqliteConnection,
    people: Vec<Incoming>,
    import_id: i64,
) -> Result<(), sqlx::Error> {
    let mut insert =
        sqlx::QueryBuilder::new(concat!("INSERT OR FAIL INTO ", new_person_columns!(), " "));
    insert.push_values(
        people,
        |mut row,
         Incoming {
             person: p, print, ..
         }| {
            row.push_bind(p.resident_id)
                .push_bind(p.name)
                .push_bind(p.name_kana)
                .push_bind(p.birth_date.map(|d| d.to_string()))
                .push_bind(p.sex.map(|s| s.as_str()))
                .push_bind(p.postal_code)
                .push_bind(p.address)
                .push_bind(p.phone)
                .push_bind(p.district)
                .push_bind(p.care_level)
                .push_bind(p.disability)
                .push_bind(p.support_reasons)
                .push_bind(p.consent)
                .push_bind(p.supporters)
                .push_bind(p.designated_shelter)
                .push_bind(p.latitude)
                .push_bind(p.longitude)
                .push_bind(p.notes)
                .push_bind(print.to_hex())
                .push_bind(import_id)
                .push_bind(import_id);
        },
    );
    insert.build().execute(conn).await.map(|_| ())
}

/// PostgreSQL takes new people through `COPY ... FROM STDIN`, its bulk path: one COPY stays
/// open while chunk after chunk of new people streams into it, each sent as soon as it is
/// sorted, so PostgreSQL stores one chunk while the next is parsed and sorted. A COPY holds
/// the connection, so a chunk with changed people ends it; they are written, and the next
/// new people open another. A first import is one COPY; before, a COPY per 20,000 people
/// left both sides waiting for each other at every COPY's end (BENCHMARKS.md).
impl WritePeople for sqlx::PgConnection {
    async fn write_people(
        &mut self,
        people: &mut mpsc::Receiver<Vec<Incoming>>,
        register: &mut Register,
        tally: &mut Tally,
        import_id: i64,
    ) -> Result<()> {
        let mut data = Vec::new();
        while let Some(chunk) = people.recv().await {
            let (mut new_people, mut changed) = register.sort(tally, chunk);
            if !new_people.is_empty() {
                let mut copy = self.copy_in_raw(COPY_PERSONS).await?;
                loop {
                    data.clear();
                    for Incoming { person, print, .. } in new_people {
                        copy_row(&mut data, person, &print.to_hex(), import_id);
                    }
                    if !data.is_empty() {
                        copy.send(data.as_slice()).await?;
                    }
                    if !changed.is_empty() {
                        break;
                    }
                    let Some(chunk) = people.recv().await else {
                        break;
                    };
                    (new_people, changed) = register.sort(tally, chunk);
                }
                copy.finish().await?;
            }
            write_changed!(self, tally, changed, import_id);
        }
        Ok(())
    }
}

/// One person as a line of COPY's CSV: every text quoted (so an empty text stays a text), a
/// missing value left empty and unquoted (NULL).
fn copy_row(out: &mut Vec<u8>, p: Person, fingerprint: &str, import_id: i64) {
    fn text(out: &mut Vec<u8>, value: Option<&str>) {
        if let Some(value) = value {
            out.push(b'"');
            for b in value.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        }
        out.push(b',');
    }
    text(out, Some(&p.resident_id));
    text(out, Some(&p.name));
    text(out, p.name_kana.as_deref());
    text(out, p.birth_date.map(|d| d.to_string()).as_deref());
    text(out, p.sex.map(|s| s.as_str()));
    text(out, p.postal_code.as_deref());
    text(out, Some(&p.address));
    text(out, p.phone.as_deref());
    text(out, p.district.as_deref());
    text(out, p.care_level.as_deref());
    text(out, p.disability.as_deref());
    text(out, p.support_reasons.as_deref());
    text(out, p.consent.map(|c| if c { "t" } else { "f" }));
    text(out, p.supporters.as_deref());
    text(out, p.designated_shelter.as_deref());
    // Numbers are written by us: Rust's shortest round-trip form, read back exactly.
    text(out, p.latitude.map(|v| v.to_string()).as_deref());
    text(out, p.longitude.map(|v| v.to_string()).as_deref());
    text(out, p.notes.as_deref());
    text(out, Some(fingerprint));
    out.extend_from_slice(format!("{import_id},{import_id}\n").as_bytes());
}

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
