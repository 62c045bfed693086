//! Reading the municipality's export of the register (避難行動要支援者名簿) into canonical
//! records: the pure core of the register import, with no database and no HTTP.
//!
//! [`RegisterFile`] reads a file from anything that can be read and rewound, in two passes,
//! so that a whole municipality's register is never held in memory: the first settles the
//! encoding and columns and finds the rows that cannot stand (a resident id given twice),
//! the second hands over the people a chunk at a time, with the file line each starts on,
//! and every problem, cell by cell, so that staff can fix the export and import it again.
//! [`parse_register`] does both at once for a file in memory. Problems with the file as a
//! whole (not a CSV, a required column missing, two columns for one field) refuse it with a
//! [`FileError`] instead: no row of such a file can be trusted. The steps live in
//! submodules: `sniff` (the first look: not text, BOM, UTF-8 or not), `file` (the two
//! passes), `lines` (file lines while streaming), `decode` (encodings), `columns` (headers
//! and mapping files), `person` (a row into a [`Person`]), and the cell parsers `values`,
//! `dates` and `kana`.

mod columns;
mod dates;
mod decode;
mod file;
mod kana;
mod lines;
mod person;
mod sniff;
pub mod table;
pub(crate) mod values;

#[cfg(test)]
pub(crate) mod roundtrip;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use columns::{DuplicateColumn, Field, HeaderMapping, MissingColumn, parse_mapping};
pub use file::{RegisterFile, RegisterRows, RowProblems};
pub use person::Person;
pub use values::Sex;

/// Which encoding to read the file in. `Auto` reads a file as UTF-8 when it has a BOM or
/// is valid UTF-8 throughout, and as CP932 otherwise — unless the file is UTF-8 with a few
/// damaged rows (see [`RegisterFile::open`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncodingChoice {
    #[default]
    Auto,
    #[serde(alias = "utf-8")]
    Utf8,
    #[serde(alias = "shift_jis", alias = "sjis")]
    Cp932,
}

#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub encoding: EncodingChoice,
    /// The municipality's own headers, from a mapping file ([`parse_mapping`]).
    pub mapping: Option<HeaderMapping>,
    /// Birth dates after this day are refused. Defaults to today in Japan; tests fix it.
    pub today: NaiveDate,
    /// Told how far reading has got, for a progress bar.
    pub progress: Progress,
}

/// A callback told `(bytes read, bytes in all)` every few thousand rows, through each of the
/// two readings of the file in turn, so the command line can show a real progress bar on a
/// million-row file. Does nothing by default.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<dyn Fn(u64, u64) + Send + Sync>>);

impl Progress {
    pub fn new(report: impl Fn(u64, u64) + Send + Sync + 'static) -> Progress {
        Progress(Some(std::sync::Arc::new(report)))
    }

    pub fn report(&self, done: u64, total: u64) {
        if let Some(report) = &self.0 {
            report(done, total);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(reporting)"
        } else {
            "Progress(silent)"
        })
    }
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            encoding: EncodingChoice::Auto,
            mapping: None,
            today: today_in_japan(),
            progress: Progress::default(),
        }
    }
}

/// The date in Japan (UTC+9, no daylight saving), where the register's people are born.
pub fn today_in_japan() -> NaiveDate {
    (chrono::Utc::now() + chrono::TimeDelta::hours(9)).date_naive()
}

/// What a file held: the people read, and every problem found.
#[derive(Clone, Debug, Serialize)]
pub struct ParsedRegister {
    /// "utf-8", "utf-8-bom" or "cp932".
    pub encoding: &'static str,
    /// Data records read, valid or not; blank lines are not counted.
    pub rows: usize,
    /// Each valid record with the file line it starts on (the header is line 1).
    pub records: Vec<(usize, Person)>,
    /// Every problem, by line, left to right within a line.
    pub invalid: Vec<InvalidCell>,
    /// Headers that name no field of the register; those columns are ignored.
    pub unmapped_columns: Vec<String>,
    /// The resident ids named by invalid rows: those people are in the file, so a commit of
    /// the valid rows must not take them for people who left the register.
    pub invalid_resident_ids: Vec<String>,
    /// Invalid rows whose resident id cannot be read at all (a wrong number of cells, an
    /// unclosed quote, an empty or undecodable id): with any, nobody can be said to be
    /// missing from the file.
    pub unidentified_invalid_rows: usize,
}

/// One problem in one row: a row with any produces no record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvalidCell {
    /// The file line the record starts on.
    pub line: usize,
    /// The header as written in the file, or [`WHOLE_ROW`] for a problem with the row.
    pub column: String,
    /// The value as read (trimmed); undecodable bytes are shown as `\xNN`.
    pub value: String,
    pub reason: String,
}

/// The `column` of a problem with a whole row rather than one of its cells.
pub const WHOLE_ROW: &str = "(行全体)";

/// A file that cannot be imported at all. The messages are for the staff member who
/// exported it, in Japanese, and name the column or line concerned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FileError {
    #[error("ファイルが空です。見出し行とデータのあるCSVファイルを選んでください")]
    Empty,
    #[error("CSVファイルとして読めません ({line}行目): {reason}")]
    NotCsv { line: usize, reason: String },
    #[error(
        "見出し行 ({line}行目) の{column}列目が文字コード {encoding} として読めません。文字コードの指定を確認してください"
    )]
    UndecodableHeader {
        line: usize,
        column: usize,
        encoding: &'static str,
    },
    #[error("必須の列がありません。{}", describe_missing(.missing))]
    MissingColumns { missing: Vec<MissingColumn> },
    #[error("同じ項目の列が複数あります。{}", describe_duplicates(.duplicates))]
    DuplicateColumns { duplicates: Vec<DuplicateColumn> },
    #[error("見出しの対応表 (マッピングファイル) に誤りがあります: {reason}")]
    BadMapping { reason: String },
}

fn field_label(canonical: &str) -> String {
    Field::from_canonical(canonical).map_or_else(|| canonical.to_owned(), Field::label)
}

fn describe_missing(missing: &[MissingColumn]) -> String {
    missing
        .iter()
        .map(|m| {
            let accepted: Vec<String> = m.accepted.iter().map(|h| format!("「{h}」")).collect();
            format!(
                "{}: 見出しを{}のどれかにしてください。",
                field_label(m.field),
                accepted.join("")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn describe_duplicates(duplicates: &[DuplicateColumn]) -> String {
    duplicates
        .iter()
        .map(|d| {
            let headers: Vec<String> = d.headers.iter().map(|h| format!("「{h}」")).collect();
            format!(
                "{}がどれも {} の列です。一つだけ残してください。",
                headers.join("と"),
                field_label(d.field)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads a register export held in memory, every person at once: for tests and small
/// files. An import streams through [`RegisterFile`] instead. `Err` only when the file as a
/// whole cannot be used; problems in rows are listed in [`ParsedRegister::invalid`].
pub fn parse_register(bytes: &[u8], options: &ImportOptions) -> Result<ParsedRegister, FileError> {
    let file = RegisterFile::open(std::io::Cursor::new(bytes), options)?;
    let (encoding, rows) = (file.encoding(), file.rows());
    let unmapped_columns = file.unmapped_columns().to_vec();
    let unidentified_invalid_rows = file.unidentified_invalid_rows();
    let mut reading = file.read_rows()?;
    let mut records = Vec::new();
    while reading.read_people(&mut records, usize::MAX)? {}
    let RowProblems {
        invalid,
        mut invalid_resident_ids,
    } = reading.finish();
    let kept: std::collections::HashSet<&str> = records
        .iter()
        .map(|(_, p)| p.resident_id.as_str())
        .collect();
    invalid_resident_ids.retain(|id| !kept.contains(id.as_str()));
    Ok(ParsedRegister {
        encoding,
        rows,
        records,
        invalid,
        unmapped_columns,
        invalid_resident_ids,
        unidentified_invalid_rows,
    })
}

/// A file that could not be read (rather than read and refused).
fn unreadable(err: std::io::Error) -> FileError {
    FileError::NotCsv {
        line: 0,
        reason: err.to_string(),
    }
}
