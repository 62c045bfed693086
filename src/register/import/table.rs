//! The same reading for other municipal lists: the welfare shelters' facility list (施設一覧)
//! comes from the same municipal systems as the register, with the same encodings and the
//! same habits. [`read_table`] gives its header and its rows with their file lines, each cell
//! decoded on its own (CP932 or UTF-8, never a U+FFFD stored), through the register's steps:
//! the look over the file (`sniff`: workbooks, NUL bytes, a BOM, the encoding), the CSV reader
//! on bytes, line numbers counted from byte offsets (`lines`), and cell decoding (`decode`).
//! What the columns mean is the caller's business.

use std::io::Cursor;

use super::decode::{DecodedRecord, Decoding};
use super::file::{csv_reader, line_of, not_csv, read_header_record, truncated};
use super::sniff::sniff;
use super::values::trim;
use super::{EncodingChoice, FileError, InvalidCell, UTF8_BOM, WHOLE_ROW};

/// A list read from a file: its header, and each row that has anything in it.
#[derive(Debug)]
pub struct Table {
    /// "utf-8", "utf-8-bom" or "cp932".
    pub encoding: &'static str,
    /// The header cells, trimmed.
    pub headers: Vec<String>,
    pub rows: Vec<TableRow>,
    /// Rows that could not be read as a row at all (a wrong number of cells).
    pub problems: Vec<InvalidCell>,
}

#[derive(Debug)]
pub struct TableRow {
    /// The file line the record starts on (the header is the first line with anything on it).
    pub line: usize,
    /// Each cell trimmed, or why its bytes cannot be decoded (with the bytes shown).
    pub cells: Vec<Result<String, (String, String)>>,
}

/// Reads a small list whole: the facility list has hundreds of rows, not millions.
pub fn read_table(bytes: &[u8], choice: EncodingChoice) -> Result<Table, FileError> {
    let sniffed = sniff(&mut Cursor::new(bytes), choice)?;
    let body = if sniffed.bom {
        &bytes[UTF8_BOM.len()..]
    } else {
        bytes
    };
    let decoding = match choice {
        _ if sniffed.bom => Decoding::Utf8,
        EncodingChoice::Utf8 => Decoding::Utf8,
        EncodingChoice::Cp932 => Decoding::Cp932,
        EncodingChoice::Auto if sniffed.utf8.is_valid() || sniffed.utf8.is_mostly_utf8() => {
            Decoding::Utf8
        }
        EncodingChoice::Auto => Decoding::Cp932,
    };
    let encoding = match (decoding, sniffed.bom) {
        (Decoding::Utf8, true) => "utf-8-bom",
        (Decoding::Utf8, false) => "utf-8",
        (Decoding::Cp932, _) => "cp932",
    };
    let mut reader = csv_reader(body);
    let mut record = csv::ByteRecord::new();
    let header_line = read_header_record(&mut reader, &mut record)?;
    let mut decoded = DecodedRecord::default();
    decoded.decode(&record, decoding);
    let mut headers = Vec::with_capacity(decoded.len());
    for (i, cell) in decoded.cells().enumerate() {
        match cell {
            Ok(text) => headers.push(trim(text).to_string()),
            Err(_) => {
                return Err(FileError::UndecodableHeader {
                    line: header_line,
                    column: i + 1,
                    encoding: decoding.label(),
                });
            }
        }
    }
    let mut table = Table {
        encoding,
        headers,
        rows: Vec::new(),
        problems: Vec::new(),
    };
    while reader.read_byte_record(&mut record).map_err(not_csv)? {
        let line = line_of(&mut reader, &record);
        decoded.decode(&record, decoding);
        if decoded.is_blank() {
            continue;
        }
        if decoded.len() != table.headers.len() {
            table.problems.push(InvalidCell {
                line,
                column: WHOLE_ROW.to_owned(),
                value: truncated(&decoded),
                reason: format!(
                    "見出しは{}列ですが、この行は{}列です。区切りのカンマや引用符を確かめてください",
                    table.headers.len(),
                    decoded.len()
                ),
            });
            continue;
        }
        let cells = decoded
            .cells()
            .map(|cell| match cell {
                Ok(text) => Ok(trim(text).to_string()),
                Err(bad) => Err((bad.shown.clone(), bad.reason(decoding))),
            })
            .collect();
        table.rows.push(TableRow { line, cells });
    }
    Ok(table)
}
