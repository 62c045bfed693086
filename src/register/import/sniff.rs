//! The look over the whole file before any row is read: refuse what is plainly not CSV
//! text (a workbook, UTF-16, NUL bytes), find a UTF-8 BOM, and, when the encoding is left
//! to us, tally the file as UTF-8: is it valid throughout, and if not, is it still mostly
//! UTF-8 (a UTF-8 file with a few damaged rows) or something else (CP932)? The file is read
//! in blocks, never whole.

use std::io::{self, Read, Seek, SeekFrom};

use super::{EncodingChoice, FileError, UTF8_BOM};

/// What the look found.
pub(crate) struct Sniffed {
    /// The file's length in bytes.
    pub len: u64,
    /// The file starts with a UTF-8 BOM that is to be skipped.
    pub bom: bool,
    /// The body read as UTF-8, when the encoding is `Auto` and there is no BOM.
    pub utf8: Utf8Tally,
}

const BLOCK: usize = 1 << 20;

pub(crate) fn sniff<R: Read + Seek>(
    source: &mut R,
    choice: EncodingChoice,
) -> Result<Sniffed, FileError> {
    sniff_io(source, choice).map_err(super::unreadable)?
}

fn sniff_io<R: Read + Seek>(
    source: &mut R,
    choice: EncodingChoice,
) -> io::Result<Result<Sniffed, FileError>> {
    source.seek(SeekFrom::Start(0))?;
    let mut block = vec![0; BLOCK];
    let mut filled = read_full(source, &mut block)?;
    if let Err(err) = refuse_workbooks(&block[..filled]) {
        return Ok(Err(err));
    }
    let bom = block[..filled].starts_with(UTF8_BOM) && choice != EncodingChoice::Cp932;
    let tally_utf8 = choice == EncodingChoice::Auto && !bom;
    let mut utf8 = Utf8Tally::default();
    let mut len = 0u64;
    let mut skip = if bom { UTF8_BOM.len() } else { 0 };
    while filled > 0 {
        let bytes = &block[..filled];
        if let Some(at) = memchr::memchr(0, bytes) {
            let line = newlines_before(source, len + at as u64)? + 1;
            return Ok(Err(nul_byte(line)));
        }
        len += filled as u64;
        let last = filled < BLOCK;
        if tally_utf8 {
            utf8.add(&bytes[skip..], last);
        }
        skip = 0;
        if last {
            break;
        }
        filled = read_full(source, &mut block)?;
    }
    if tally_utf8 {
        utf8.add(&[], true);
    }
    Ok(Ok(Sniffed { len, bom, utf8 }))
}

/// Fills `block` unless the file ends first; answers how many bytes it holds.
fn read_full<R: Read>(source: &mut R, block: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < block.len() {
        match source.read(&mut block[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Counts the line ends before `offset` (as `lines::line_ends` does), for the line of a
/// refused byte (a rare path, so the file is read again rather than counted all along).
fn newlines_before<R: Read + Seek>(source: &mut R, offset: u64) -> io::Result<usize> {
    source.seek(SeekFrom::Start(0))?;
    let mut block = vec![0; BLOCK];
    let mut left = offset;
    let mut newlines = 0;
    let mut after_cr = false;
    while left > 0 {
        let want = block.len().min(left as usize);
        let n = read_full(source, &mut block[..want])?;
        if n == 0 {
            break;
        }
        newlines += super::lines::line_ends(&block[..n], after_cr);
        after_cr = block[n - 1] == b'\r';
        left -= n as u64;
    }
    Ok(newlines)
}

const RESAVE: &str =
    "Excel などで開き、「CSV UTF-8 (コンマ区切り)」か「CSV (コンマ区切り)」で保存し直してください";

/// Files that are plainly not CSV text by their first bytes, refused with what to do.
fn refuse_workbooks(start: &[u8]) -> Result<(), FileError> {
    let reason = if start.starts_with(b"PK\x03\x04") {
        format!("Excel ブック (.xlsx) のようです。{RESAVE}")
    } else if start.starts_with(b"\xD0\xCF\x11\xE0") {
        format!("古い Excel ブック (.xls) のようです。{RESAVE}")
    } else if start.starts_with(b"\xFF\xFE") || start.starts_with(b"\xFE\xFF") {
        format!("UTF-16 (Unicode テキスト) で保存されています。{RESAVE}")
    } else {
        return Ok(());
    };
    Err(FileError::NotCsv { line: 1, reason })
}

fn nul_byte(line: usize) -> FileError {
    FileError::NotCsv {
        line,
        reason: format!("文字データでないバイト (NUL) があります。{RESAVE}"),
    }
}

/// The body read as UTF-8, block by block: its well-formed multibyte characters and its
/// bad bytes. A character cut in two by the end of a block is carried to the next.
#[derive(Default)]
pub(crate) struct Utf8Tally {
    /// Bytes of well-formed multibyte sequences.
    multibyte: u64,
    /// Bytes that are not UTF-8.
    invalid: u64,
    carried: Vec<u8>,
}

impl Utf8Tally {
    /// Valid UTF-8 throughout.
    pub fn is_valid(&self) -> bool {
        self.invalid == 0
    }

    /// Whether a file that is not valid UTF-8 is still mostly UTF-8: its well-formed
    /// multibyte sequences far outnumber its bad bytes. CP932 text forms such sequences
    /// only by chance (its lead bytes 0x81–0x9F are UTF-8 continuation bytes), so it fails
    /// this easily.
    pub fn is_mostly_utf8(&self) -> bool {
        self.multibyte > 2 * self.invalid
    }

    fn add(&mut self, bytes: &[u8], last: bool) {
        if !self.carried.is_empty() {
            let mut joined = std::mem::take(&mut self.carried);
            joined.extend_from_slice(bytes);
            self.add_whole(&joined, last);
        } else {
            self.add_whole(bytes, last);
        }
    }

    fn add_whole(&mut self, bytes: &[u8], last: bool) {
        // A byte that is not a continuation byte always starts a fresh sequence, so cutting
        // there tallies exactly as reading the file in one piece would.
        let cut = if last {
            bytes.len()
        } else {
            cut_before_open_char(bytes)
        };
        let (now, later) = bytes.split_at(cut);
        self.carried.extend_from_slice(later);
        match std::str::from_utf8(now) {
            Ok(text) => self.multibyte += non_ascii(text.as_bytes()),
            Err(_) => {
                for chunk in now.utf8_chunks() {
                    self.multibyte += non_ascii(chunk.valid().as_bytes());
                    self.invalid += chunk.invalid().len() as u64;
                }
            }
        }
    }
}

fn non_ascii(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| !b.is_ascii()).count() as u64
}

/// Where the last character of `bytes` starts if the block ends before that character
/// does; the block's length otherwise.
fn cut_before_open_char(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(4);
    let Some(lead) = (tail..bytes.len()).rev().find(|&i| bytes[i] & 0xC0 != 0x80) else {
        return bytes.len();
    };
    let wants = match bytes[lead] {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    if lead + wants > bytes.len() {
        lead
    } else {
        bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(bytes: &[u8], block: usize) -> (u64, u64) {
        let mut tally = Utf8Tally::default();
        let mut chunks = bytes.chunks(block).peekable();
        while let Some(chunk) = chunks.next() {
            tally.add(chunk, chunks.peek().is_none());
        }
        tally.add(&[], true);
        (tally.multibyte, tally.invalid)
    }

    #[test]
    fn a_tally_in_blocks_matches_the_tally_in_one_piece() {
        let cases: &[(&[u8], &str)] = &[
            ("山田 太郎,横浜市\n".as_bytes(), "valid UTF-8"),
            (b"\x8eR\x93c \x91\xbe\x98Y", "CP932"),
            (
                b"\xe5\xb1\xb1\xe7\x94\x30\xe7",
                "a cut sequence, then one cut by the end",
            ),
            (
                b"\x80\x80\x80\x80\x80\xf0\x9f\x98\x80",
                "stray continuation bytes, then a 4-byte character",
            ),
        ];
        for (bytes, case) in cases {
            let whole = tally(bytes, bytes.len().max(1));
            let mut expected = (0, 0);
            for chunk in bytes.utf8_chunks() {
                expected.0 += non_ascii(chunk.valid().as_bytes());
                expected.1 += chunk.invalid().len() as u64;
            }
            assert_eq!(whole, expected, "{case}: in one piece");
            for block in 1..=5 {
                assert_eq!(tally(bytes, block), expected, "{case}: blocks of {block}");
            }
        }
    }
}
