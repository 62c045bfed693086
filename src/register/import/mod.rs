//! Reading the municipality's export of the register (避難行動要支援者名簿) into canonical
//! records: the pure core of the register import, with no database and no HTTP.
//!
//! [`parse_register`] takes the file's bytes and returns every person it could read, with
//! the file line each starts on, and every problem, cell by cell, so that staff can fix the
//! export and import it again. Problems with the file as a whole (not a CSV, a required
//! column missing, two columns for one field) refuse it with a [`FileError`] instead: no
//! row of such a file can be trusted. The steps live in submodules: `decode` (encodings),
//! `columns` (headers and mapping files), `person` (a row into a [`Person`]), and the cell
//! parsers `values`, `dates` and `kana`.

mod columns;
mod dates;
mod decode;
mod kana;
mod person;
mod values;

#[cfg(test)]
pub(crate) mod roundtrip;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use columns::{DuplicateColumn, Field, HeaderMapping, MissingColumn, parse_mapping};
pub use person::Person;
pub use values::Sex;

use columns::Columns;
use decode::{DecodedRecord, Decoding};
use values::trim;

/// Which encoding to read the file in. `Auto` reads a file as UTF-8 when it has a BOM or
/// is valid UTF-8 throughout, and as CP932 otherwise — unless the file is UTF-8 with a few
/// damaged rows (see `parse_register`).
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

/// A callback told `(bytes read, bytes in all)` every few thousand rows, so the command line
/// can show a real progress bar on a million-row file. Does nothing by default.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// Reads a register export. `Err` only when the file as a whole cannot be used; problems
/// in rows are listed in [`ParsedRegister::invalid`].
pub fn parse_register(bytes: &[u8], options: &ImportOptions) -> Result<ParsedRegister, FileError> {
    refuse_non_text(bytes)?;
    let (body, bom) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) if options.encoding != EncodingChoice::Cp932 => (rest, true),
        _ => (bytes, false),
    };
    // Flexible, so that a row with a wrong number of cells is reported as that row's
    // problem rather than ending the import.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();

    // The header is the first line with anything on it.
    loop {
        if !reader.read_byte_record(&mut record).map_err(not_csv)? {
            return Err(FileError::Empty);
        }
        if !record.iter().flatten().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    let mut lines = LineCounter::new(body);
    let header_line = lines.line_of(&record);
    let mapping = options.mapping.as_ref();
    let header = |decoding| read_header(&record, header_line, decoding, mapping);
    let (decoding, (columns, unmapped_columns)) = match options.encoding {
        _ if bom => (Decoding::Utf8, header(Decoding::Utf8)?),
        EncodingChoice::Utf8 => (Decoding::Utf8, header(Decoding::Utf8)?),
        EncodingChoice::Cp932 => (Decoding::Cp932, header(Decoding::Cp932)?),
        EncodingChoice::Auto if encoding_rs::Encoding::utf8_valid_up_to(body) == body.len() => {
            (Decoding::Utf8, header(Decoding::Utf8)?)
        }
        // Not valid UTF-8, so CP932 — unless it is a UTF-8 file with a few damaged rows,
        // which are then reported one by one rather than the whole file read as mojibake.
        // The header has the last word: it must make sense in the encoding chosen.
        EncodingChoice::Auto => {
            let (likely, other) = if mostly_utf8(body) {
                (Decoding::Utf8, Decoding::Cp932)
            } else {
                (Decoding::Cp932, Decoding::Utf8)
            };
            match header(likely) {
                Ok(resolved) => (likely, resolved),
                Err(err) => match header(other) {
                    Ok(resolved) => (other, resolved),
                    Err(_) => return Err(err),
                },
            }
        }
    };
    let encoding = match (decoding, bom) {
        (Decoding::Utf8, true) => "utf-8-bom",
        (Decoding::Utf8, false) => "utf-8",
        (Decoding::Cp932, _) => "cp932",
    };

    let mut parsed = ParsedRegister {
        encoding,
        rows: 0,
        records: Vec::new(),
        invalid: Vec::new(),
        unmapped_columns,
        invalid_resident_ids: Vec::new(),
        unidentified_invalid_rows: 0,
    };
    let id_column = columns
        .index(Field::ResidentId)
        .expect("resident_id is a required column");
    // The resident ids of rejected rows, to find ids shared with other rows.
    let mut rejected_ids: Vec<(String, usize)> = Vec::new();
    let mut decoded = DecodedRecord::default();
    let total = body.len() as u64;
    while reader.read_byte_record(&mut record).map_err(not_csv)? {
        if parsed.rows.is_multiple_of(4096) {
            options
                .progress
                .report(record.position().map_or(0, |p| p.byte()), total);
        }
        let line = lines.line_of(&record);
        decoded.decode(&record, decoding);
        if decoded.is_blank() {
            continue;
        }
        parsed.rows += 1;
        if ends_in_open_quote(body, &record, &reader) {
            parsed.invalid.push(InvalidCell {
                line,
                column: WHOLE_ROW.to_owned(),
                value: truncated(&decoded),
                reason: "引用符 (\") が閉じられていないため、この行からファイルの最後までが読めません。引用符を閉じてから取り込み直してください".into(),
            });
            parsed.unidentified_invalid_rows += 1;
            continue;
        }
        if decoded.len() != columns.len() {
            parsed
                .invalid
                .push(wrong_cell_count(line, &decoded, columns.len()));
            parsed.unidentified_invalid_rows += 1;
            continue;
        }
        match person::read_person(
            line,
            &decoded,
            &columns,
            decoding,
            options.today,
            &mut parsed.invalid,
        ) {
            Some(person) => parsed.records.push((line, person)),
            None => match decoded.get(id_column) {
                Some(Ok(id)) if !trim(id).is_empty() => {
                    rejected_ids.push((trim(id).to_owned(), line))
                }
                _ => parsed.unidentified_invalid_rows += 1,
            },
        }
    }
    reject_shared_ids(&mut parsed, &rejected_ids, &columns.name(id_column));
    // Rows rejected for sharing an id left `records`; their ids are in the file all the same.
    let kept: std::collections::HashSet<&str> = parsed
        .records
        .iter()
        .map(|(_, p)| p.resident_id.as_str())
        .collect();
    let mut named: Vec<String> = parsed
        .invalid
        .iter()
        .filter(|cell| cell.column == columns.name(id_column))
        .map(|cell| cell.value.clone())
        .chain(rejected_ids.into_iter().map(|(id, _)| id))
        .filter(|id| !kept.contains(id.as_str()))
        .collect();
    named.sort_unstable();
    named.dedup();
    parsed.invalid_resident_ids = named;
    Ok(parsed)
}

/// Whether a file that is not valid UTF-8 is still mostly UTF-8: its well-formed multibyte
/// sequences far outnumber its bad bytes. CP932 text forms such sequences only by chance
/// (its lead bytes 0x81–0x9F are UTF-8 continuation bytes), so it fails this easily.
fn mostly_utf8(body: &[u8]) -> bool {
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    for chunk in body.utf8_chunks() {
        multibyte += chunk.valid().bytes().filter(|b| !b.is_ascii()).count();
        invalid += chunk.invalid().len();
    }
    multibyte > 2 * invalid
}

/// Files that are plainly not CSV text, refused with what to do about them.
fn refuse_non_text(bytes: &[u8]) -> Result<(), FileError> {
    let resave = "Excel などで開き、「CSV UTF-8 (コンマ区切り)」か「CSV (コンマ区切り)」で保存し直してください";
    let reason = if bytes.starts_with(b"PK\x03\x04") {
        format!("Excel ブック (.xlsx) のようです。{resave}")
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        format!("古い Excel ブック (.xls) のようです。{resave}")
    } else if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        format!("UTF-16 (Unicode テキスト) で保存されています。{resave}")
    } else if let Some(at) = bytes.iter().position(|b| *b == 0) {
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
        return Err(FileError::NotCsv {
            line,
            reason: format!("文字データでないバイト (NUL) があります。{resave}"),
        });
    } else {
        return Ok(());
    };
    Err(FileError::NotCsv { line: 1, reason })
}

fn read_header(
    record: &csv::ByteRecord,
    line: usize,
    decoding: Decoding,
    mapping: Option<&HeaderMapping>,
) -> Result<(Columns, Vec<String>), FileError> {
    let mut decoded = DecodedRecord::default();
    decoded.decode(record, decoding);
    let mut headers = Vec::with_capacity(decoded.len());
    for (i, cell) in decoded.cells().enumerate() {
        match cell {
            Ok(text) => headers.push(trim(text).to_owned()),
            Err(_) => {
                return Err(FileError::UndecodableHeader {
                    line,
                    column: i + 1,
                    encoding: decoding.label(),
                });
            }
        }
    }
    if let [only] = headers.as_slice()
        && only.contains('\t')
    {
        return Err(FileError::NotCsv {
            line,
            reason: "タブ区切りのようです。コンマ区切り (CSV) で保存し直してください".into(),
        });
    }
    Columns::resolve(headers, mapping)
}

/// The file line each record starts on. csv's own `Position::line()` is where the reader
/// stood before the record: before the blank lines it skipped, and, with CRLF, before the
/// previous record's `\n`. So the start is found from the byte offset instead, and line
/// breaks are counted up to it, once over the file.
struct LineCounter<'a> {
    body: &'a [u8],
    counted_to: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(body: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            body,
            counted_to: 0,
            line: 1,
        }
    }

    /// Records must be passed in file order.
    fn line_of(&mut self, record: &csv::ByteRecord) -> usize {
        let from = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .clamp(self.counted_to, self.body.len());
        let skipped = self.body[from..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let start = from + skipped;
        self.line += self.body[self.counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.counted_to = start;
        self.line
    }
}

fn not_csv(err: csv::Error) -> FileError {
    FileError::NotCsv {
        line: err.position().map_or(0, |p| p.line() as usize),
        reason: err.to_string(),
    }
}

/// An opening quote that is never closed makes the rest of the file one field, which the
/// CSV reader accepts without complaint; it shows as the last record running to the end of
/// the file with an odd number of quotes. (No CP932 trail byte is a quote, so counting
/// bytes is safe in either encoding.)
fn ends_in_open_quote(body: &[u8], record: &csv::ByteRecord, reader: &csv::Reader<&[u8]>) -> bool {
    let start = record.position().map_or(0, |p| p.byte() as usize);
    let end = reader.position().byte() as usize;
    end >= body.len()
        && body[start.min(body.len())..]
            .iter()
            .filter(|b| **b == b'"')
            .count()
            % 2
            == 1
}

/// A row as one line of text for a message about the whole row, cut short.
fn truncated(decoded: &DecodedRecord) -> String {
    let cells: Vec<&str> = decoded
        .cells()
        .map(|cell| cell.map_or_else(|u| u.shown.as_str(), trim))
        .collect();
    let mut value = cells.join(",");
    if let Some((cut, _)) = value.char_indices().nth(80) {
        value.truncate(cut);
        value.push('…');
    }
    value
}

fn wrong_cell_count(line: usize, decoded: &DecodedRecord, expected: usize) -> InvalidCell {
    InvalidCell {
        line,
        column: WHOLE_ROW.to_owned(),
        value: truncated(decoded),
        reason: format!(
            "列の数が見出しと合いません (見出しは{expected}列、この行は{}列)。区切りのコンマ (,) の数を確認してください",
            decoded.len()
        ),
    }
}

/// A resident id must name one person: every row that shares one is rejected, since the
/// register cannot tell which row is right.
fn reject_shared_ids(parsed: &mut ParsedRegister, rejected_ids: &[(String, usize)], header: &str) {
    let mut ids: Vec<(&str, usize)> = parsed
        .records
        .iter()
        .map(|(line, person)| (person.resident_id.as_str(), *line))
        .chain(rejected_ids.iter().map(|(id, line)| (id.as_str(), *line)))
        .collect();
    ids.sort_unstable();
    let mut shared_lines = Vec::new();
    let mut cells = Vec::new();
    for group in ids.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        let id = group[0].0;
        let lines: Vec<String> = group.iter().map(|(_, line)| line.to_string()).collect();
        let reason = format!(
            "同じ{header}「{id}」が {} 行目にあります。同じ人が二度載っていないか確認してください",
            lines.join(", ")
        );
        for (_, line) in group {
            shared_lines.push(*line);
            cells.push(InvalidCell {
                line: *line,
                column: header.to_owned(),
                value: id.to_owned(),
                reason: reason.clone(),
            });
        }
    }
    if cells.is_empty() {
        return;
    }
    shared_lines.sort_unstable();
    parsed
        .records
        .retain(|(line, _)| shared_lines.binary_search(line).is_err());
    parsed.invalid.extend(cells);
    // Stable: a line's own problems stay before the shared-id one.
    parsed.invalid.sort_by_key(|cell| cell.line);
}
