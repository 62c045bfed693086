//! A register export read in two passes over the file, so that neither the file nor its
//! people are ever held whole: a municipality's register can be a million rows.
//!
//! [`RegisterFile::open`] looks over the file (`sniff`), settles its encoding and columns
//! from the header, then reads every row once for what must be known before any person
//! is written: how many rows there are, which rows cannot be told whose they are, and which
//! resident ids more than one row gives (every such row is refused, and the first of them
//! may be the very first row of the file). [`RegisterFile::read_rows`] then reads the rows
//! again, a chunk of people at a time, with every problem cell by cell.

use std::io::{self, Read, Seek, SeekFrom};

use chrono::NaiveDate;

use super::columns::{Columns, Field, HeaderMapping};
use super::decode::{DecodedRecord, Decoding};
use super::lines::Tracked;
use super::values::trim;
use super::{
    EncodingChoice, FileError, ImportOptions, InvalidCell, Person, Progress, UTF8_BOM, WHOLE_ROW,
    person, sniff, unreadable,
};
use crate::register::resident_ids::ResidentIds;

/// How much of the file the CSV reader holds at a time.
const CSV_BUFFER: usize = 64 * 1024;

/// Rows between two reports to the progress callback.
const PROGRESS_EVERY: usize = 4096;

/// A register file whose header is settled and whose rows have been read through once.
pub struct RegisterFile<R> {
    source: R,
    survey: Survey,
}

/// What the first reading settled and found.
struct Survey {
    /// Where the body starts (after a BOM) and how long it is.
    body_start: u64,
    body_len: u64,
    decoding: Decoding,
    encoding: &'static str,
    columns: Columns,
    id_column: usize,
    unmapped_columns: Vec<String>,
    rows: usize,
    unidentified_invalid_rows: usize,
    shared: SharedIds,
    today: NaiveDate,
    progress: Progress,
}

/// Rows that give a resident id another row also gives, by their number among the file's
/// rows (blank lines not counted; the first row is 1). By number rather than by line, since
/// in a file whose lines end in CR alone every row is on line 1.
#[derive(Default)]
struct SharedIds {
    /// (row, index into `ids`), by row.
    rows: Vec<(usize, usize)>,
    ids: Vec<SharedId>,
}

struct SharedId {
    id: String,
    reason: String,
}

impl<R: Read + Seek> RegisterFile<R> {
    /// Settles the encoding and the columns, and reads the rows through once. `Err` when
    /// the file as a whole cannot be used.
    pub fn open(mut source: R, options: &ImportOptions) -> Result<RegisterFile<R>, FileError> {
        let sniffed = sniff::sniff(&mut source, options.encoding)?;
        let body_start = if sniffed.bom {
            UTF8_BOM.len() as u64
        } else {
            0
        };
        let body_len = sniffed.len.saturating_sub(body_start);
        source
            .seek(SeekFrom::Start(body_start))
            .map_err(unreadable)?;
        let mut reader = csv_reader(source);
        let mut record = csv::ByteRecord::new();
        let header_line = read_header_record(&mut reader, &mut record)?;
        let mapping = options.mapping.as_ref();
        let header = |decoding| read_header(&record, header_line, decoding, mapping);
        let (decoding, (columns, unmapped_columns)) = match options.encoding {
            _ if sniffed.bom => (Decoding::Utf8, header(Decoding::Utf8)?),
            EncodingChoice::Utf8 => (Decoding::Utf8, header(Decoding::Utf8)?),
            EncodingChoice::Cp932 => (Decoding::Cp932, header(Decoding::Cp932)?),
            EncodingChoice::Auto if sniffed.utf8.is_valid() => {
                (Decoding::Utf8, header(Decoding::Utf8)?)
            }
            // Not valid UTF-8, so CP932 — unless it is a UTF-8 file with a few damaged rows,
            // which are then reported one by one rather than the whole file read as mojibake.
            // The header has the last word: it must make sense in the encoding chosen.
            EncodingChoice::Auto => {
                let (likely, other) = if sniffed.utf8.is_mostly_utf8() {
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
        let encoding = match (decoding, sniffed.bom) {
            (Decoding::Utf8, true) => "utf-8-bom",
            (Decoding::Utf8, false) => "utf-8",
            (Decoding::Cp932, _) => "cp932",
        };
        let id_column = columns
            .index(Field::ResidentId)
            .expect("resident_id is a required column");
        let mut survey = Survey {
            body_start,
            body_len,
            decoding,
            encoding,
            columns,
            id_column,
            unmapped_columns,
            rows: 0,
            unidentified_invalid_rows: 0,
            shared: SharedIds::default(),
            today: options.today,
            progress: options.progress.clone(),
        };
        survey.read_rows(&mut reader, &mut record)?;
        Ok(RegisterFile {
            source: reader.into_inner().into_inner(),
            survey,
        })
    }

    /// Starts the second reading of the rows.
    pub fn read_rows(self) -> Result<RegisterRows<R>, FileError> {
        let RegisterFile { mut source, survey } = self;
        source
            .seek(SeekFrom::Start(survey.body_start))
            .map_err(unreadable)?;
        let mut reader = csv_reader(source);
        let mut record = csv::ByteRecord::new();
        read_header_record(&mut reader, &mut record)?;
        Ok(RegisterRows {
            reader,
            record,
            decoded: DecodedRecord::default(),
            survey,
            rows: 0,
            next_shared: 0,
            invalid: Vec::new(),
            named: Vec::new(),
        })
    }
}

impl<R> RegisterFile<R> {
    /// "utf-8", "utf-8-bom" or "cp932".
    pub fn encoding(&self) -> &'static str {
        self.survey.encoding
    }

    /// Data records, valid or not; blank lines are not counted.
    pub fn rows(&self) -> usize {
        self.survey.rows
    }

    /// Headers that name no field of the register; those columns are ignored.
    pub fn unmapped_columns(&self) -> &[String] {
        &self.survey.unmapped_columns
    }

    /// Invalid rows whose resident id cannot be read at all (a wrong number of cells, an
    /// unclosed quote, an empty or undecodable id): with any, nobody can be said to be
    /// missing from the file.
    pub fn unidentified_invalid_rows(&self) -> usize {
        self.survey.unidentified_invalid_rows
    }

    /// Whether the first reading already found invalid rows. (Rows with a bad cell are
    /// found only by the second.)
    pub fn has_known_invalid_rows(&self) -> bool {
        self.survey.unidentified_invalid_rows > 0 || !self.survey.shared.rows.is_empty()
    }
}

impl Survey {
    /// The first reading: counts the rows and the rows that cannot be told whose they are,
    /// and finds the resident ids given by more than one row. Only the ids are kept, and
    /// compactly, until the shared ones are known.
    fn read_rows<S: Read + Seek>(
        &mut self,
        reader: &mut csv::Reader<Tracked<S>>,
        record: &mut csv::ByteRecord,
    ) -> Result<(), FileError> {
        let mut ids: ResidentIds<(usize, usize)> = ResidentIds::new();
        let mut decoded = DecodedRecord::default();
        let mut id_text = String::new();
        while reader.read_byte_record(record).map_err(not_csv)? {
            if self.rows.is_multiple_of(PROGRESS_EVERY) {
                self.report_progress(record);
            }
            let line = line_of(reader, record);
            // The id alone tells most rows from blank lines; only a row without one is
            // decoded whole to see whether anything else is on it.
            id_text.clear();
            let id = match record.get(self.id_column) {
                Some(cell) => self
                    .decoding
                    .decode_into(cell, &mut id_text)
                    .map(|()| trim(&id_text)),
                None => Ok(""),
            };
            if id.as_ref().is_ok_and(|id| id.is_empty()) {
                decoded.decode(record, self.decoding);
                if decoded.is_blank() {
                    continue;
                }
            }
            self.rows += 1;
            if ends_in_open_quote(reader, record, self.body_start, self.body_len)?
                || record.len() != self.columns.len()
            {
                self.unidentified_invalid_rows += 1;
                continue;
            }
            match id {
                Ok(id) if !id.is_empty() => ids.push(id, (self.rows, line)),
                _ => self.unidentified_invalid_rows += 1,
            }
        }
        ids.seal();
        let header = self.columns.name(self.id_column);
        for (id, rows) in ids.repeated() {
            let lines: Vec<String> = rows.iter().map(|(_, line)| line.to_string()).collect();
            let reason = format!(
                "同じ{header}「{id}」が {} 行目にあります。同じ人が二度載っていないか確認してください",
                lines.join(", ")
            );
            let index = self.shared.ids.len();
            self.shared.ids.push(SharedId {
                id: id.to_owned(),
                reason,
            });
            self.shared
                .rows
                .extend(rows.iter().map(|(row, _)| (*row, index)));
        }
        self.shared.rows.sort_unstable();
        Ok(())
    }

    fn report_progress(&self, record: &csv::ByteRecord) {
        self.progress
            .report(record.position().map_or(0, |p| p.byte()), self.body_len);
    }
}

/// The second reading of a register file's rows.
pub struct RegisterRows<R> {
    reader: csv::Reader<Tracked<R>>,
    record: csv::ByteRecord,
    decoded: DecodedRecord,
    survey: Survey,
    rows: usize,
    /// The next entry of `survey.shared.rows` to come.
    next_shared: usize,
    invalid: Vec<InvalidCell>,
    /// The resident ids of invalid rows.
    named: Vec<String>,
}

/// Every problem of a file, once all its rows have been read.
#[derive(Debug)]
pub struct RowProblems {
    /// Every problem, by line, left to right within a line.
    pub invalid: Vec<InvalidCell>,
    /// The resident ids named by invalid rows, sorted: those people are in the file, so a
    /// commit of the valid rows must not take them for people who left the register.
    pub invalid_resident_ids: Vec<String>,
}

impl<R: Read + Seek> RegisterRows<R> {
    /// Reads on until `people` holds `max` people (each with the line it starts on) or
    /// the file ends. Answers false at the end of the file.
    pub fn read_people(
        &mut self,
        people: &mut Vec<(usize, Person)>,
        max: usize,
    ) -> Result<bool, FileError> {
        while people.len() < max {
            if !self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(not_csv)?
            {
                return Ok(false);
            }
            if self.rows.is_multiple_of(PROGRESS_EVERY) {
                self.survey.report_progress(&self.record);
            }
            if let Some(person) = self.read_row()? {
                people.push(person);
            }
        }
        Ok(true)
    }

    /// The row just read, as a person with their line, or `None` when it is blank or
    /// invalid (its problems noted).
    fn read_row(&mut self) -> Result<Option<(usize, Person)>, FileError> {
        let survey = &self.survey;
        let line = line_of(&mut self.reader, &self.record);
        self.decoded.decode(&self.record, survey.decoding);
        if self.decoded.is_blank() {
            return Ok(None);
        }
        self.rows += 1;
        if ends_in_open_quote(
            &mut self.reader,
            &self.record,
            survey.body_start,
            survey.body_len,
        )? {
            self.invalid.push(InvalidCell {
                line,
                column: WHOLE_ROW.to_owned(),
                value: truncated(&self.decoded),
                reason: "引用符 (\") が閉じられていないため、この行からファイルの最後までが読めません。引用符を閉じてから取り込み直してください".into(),
            });
            return Ok(None);
        }
        if self.decoded.len() != survey.columns.len() {
            self.invalid
                .push(wrong_cell_count(line, &self.decoded, survey.columns.len()));
            return Ok(None);
        }
        let shared = self.shared_id(self.rows);
        let survey = &self.survey;
        let person = person::read_person(
            line,
            &self.decoded,
            &survey.columns,
            survey.decoding,
            survey.today,
            &mut self.invalid,
        );
        if shared.is_none()
            && let Some(person) = person
        {
            return Ok(Some((line, person)));
        }
        if let Some(Ok(id)) = self.decoded.get(survey.id_column)
            && !trim(id).is_empty()
        {
            self.named.push(trim(id).to_owned());
        }
        // After the row's own problems: a resident id must name one person, so every row
        // that shares one is refused, since the register cannot tell which row is right.
        if let Some(index) = shared {
            let shared = &survey.shared.ids[index];
            self.invalid.push(InvalidCell {
                line,
                column: survey.columns.name(survey.id_column),
                value: shared.id.clone(),
                reason: shared.reason.clone(),
            });
        }
        Ok(None)
    }

    /// Which shared id row number `row` gives, if it shares one.
    fn shared_id(&mut self, row: usize) -> Option<usize> {
        let rows = &self.survey.shared.rows;
        while rows.get(self.next_shared).is_some_and(|(r, _)| *r < row) {
            self.next_shared += 1;
        }
        match rows.get(self.next_shared) {
            Some((r, index)) if *r == row => {
                self.next_shared += 1;
                Some(*index)
            }
            _ => None,
        }
    }
}

impl<R> RegisterRows<R> {
    /// Every problem found, once the rows have all been read.
    pub fn finish(self) -> RowProblems {
        let header = self.survey.columns.name(self.survey.id_column);
        let mut named = self.named;
        named.extend(
            self.invalid
                .iter()
                .filter(|cell| cell.column == header)
                .map(|cell| cell.value.clone()),
        );
        named.sort_unstable();
        named.dedup();
        RowProblems {
            invalid: self.invalid,
            invalid_resident_ids: named,
        }
    }
}

pub(super) fn csv_reader<R: Read>(source: R) -> csv::Reader<Tracked<R>> {
    // Flexible, so that a row with a wrong number of cells is reported as that row's
    // problem rather than ending the import.
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(Tracked::new(source))
}

/// Reads up to the header, the first line with anything on it; answers its line.
pub(super) fn read_header_record<R: Read>(
    reader: &mut csv::Reader<Tracked<R>>,
    record: &mut csv::ByteRecord,
) -> Result<usize, FileError> {
    loop {
        if !reader.read_byte_record(record).map_err(not_csv)? {
            return Err(FileError::Empty);
        }
        if !record.iter().flatten().all(u8::is_ascii_whitespace) {
            return Ok(line_of(reader, record));
        }
    }
}

pub(super) fn line_of<R: Read>(
    reader: &mut csv::Reader<Tracked<R>>,
    record: &csv::ByteRecord,
) -> usize {
    let position = record.position().map_or(0, |p| p.byte());
    reader.get_mut().line_at(position)
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

pub(super) fn not_csv(err: csv::Error) -> FileError {
    FileError::NotCsv {
        line: err.position().map_or(0, |p| p.line() as usize),
        reason: err.to_string(),
    }
}

/// An opening quote that is never closed makes the rest of the file one field, which the
/// CSV reader accepts without complaint; it shows as the last record running to the end of
/// the file with an odd number of quotes. (No CP932 trail byte is a quote, so counting
/// bytes is safe in either encoding.) Only that last record is read again to count them.
fn ends_in_open_quote<R: Read + Seek>(
    reader: &mut csv::Reader<Tracked<R>>,
    record: &csv::ByteRecord,
    body_start: u64,
    body_len: u64,
) -> Result<bool, FileError> {
    if reader.position().byte() < body_len {
        return Ok(false);
    }
    let start = record.position().map_or(0, |p| p.byte()).min(body_len);
    let source = reader.get_mut().get_mut();
    count_quotes(source, body_start + start, body_len - start)
        .map(|quotes| quotes % 2 == 1)
        .map_err(unreadable)
}

/// The `"` bytes in `len` bytes of `source` from `from`, leaving `source` where it was.
fn count_quotes<R: Read + Seek>(source: &mut R, from: u64, len: u64) -> io::Result<u64> {
    let resume = source.stream_position()?;
    source.seek(SeekFrom::Start(from))?;
    let mut block = vec![0; CSV_BUFFER];
    let mut tail = source.by_ref().take(len);
    let mut quotes = 0;
    loop {
        let n = match tail.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        quotes += memchr::memchr_iter(b'"', &block[..n]).count() as u64;
    }
    source.seek(SeekFrom::Start(resume))?;
    Ok(quotes)
}

/// A row as one line of text for a message about the whole row, cut short.
pub(super) fn truncated(decoded: &DecodedRecord) -> String {
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
