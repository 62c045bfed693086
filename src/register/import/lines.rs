//! The file line each record starts on, told while the file streams past. csv's own
//! `Position::line()` is where the reader stood before the record: before the blank lines
//! it skipped and, with CRLF, before the previous record's `\n`. A record really starts at
//! the first byte after that position that is not a line break. So the file is handed to
//! the CSV reader through [`Tracked`], which notes where each run of line-break bytes lies
//! and how many line ends it holds; a record's line is one more than the line ends in the
//! runs that begin at or before its position. Only the runs the CSV reader has read ahead
//! are kept. A line end is `\r\n`, `\n` or a lone `\r`: the CSV reader ends a record at
//! each of them (old Mac exports end lines with `\r` alone), and so does every editor a
//! staff member would open the file in to find the line named.

use std::collections::VecDeque;
use std::io::{self, Read};

/// The file on its way to the CSV reader, with the line-break runs not yet passed.
pub(crate) struct Tracked<R> {
    inner: R,
    /// Bytes handed on so far.
    offset: u64,
    runs: VecDeque<BreakRun>,
    /// The line of the byte after the last run passed.
    line: usize,
}

/// A run of `\r` and `\n` bytes: `[start, end)`, holding `newlines` line ends.
struct BreakRun {
    start: u64,
    end: u64,
    newlines: usize,
    /// The run's last byte is `\r`: a `\n` opening the next read ends the same line.
    ends_in_cr: bool,
}

impl<R> Tracked<R> {
    pub fn new(inner: R) -> Tracked<R> {
        Tracked {
            inner,
            offset: 0,
            runs: VecDeque::new(),
            line: 1,
        }
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The line of the record the CSV reader stood at `position` (a byte offset) before
    /// reading. Records must be asked about in file order.
    pub fn line_at(&mut self, position: u64) -> usize {
        while let Some(run) = self.runs.front()
            && run.start <= position
        {
            self.line += run.newlines;
            self.runs.pop_front();
        }
        self.line
    }

    fn note(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while let Some(found) = memchr::memchr2(b'\r', b'\n', &bytes[at..]) {
            let start = at + found;
            let len = bytes[start..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            let run = &bytes[start..start + len];
            let (start_at, end_at) = (
                self.offset + start as u64,
                self.offset + (start + len) as u64,
            );
            let ends_in_cr = run.last() == Some(&b'\r');
            match self.runs.back_mut() {
                // A run cut in two by the end of the previous read.
                Some(before) if before.end == start_at => {
                    before.newlines += line_ends(run, before.ends_in_cr);
                    before.end = end_at;
                    before.ends_in_cr = ends_in_cr;
                }
                _ => self.runs.push_back(BreakRun {
                    start: start_at,
                    end: end_at,
                    newlines: line_ends(run, false),
                    ends_in_cr,
                }),
            }
            at = start + len;
        }
        self.offset += bytes.len() as u64;
    }
}

/// The line ends in `bytes`: every `\r`, and every `\n` but one right after a `\r`.
/// `after_cr`: the byte just before `bytes` was a `\r`.
pub(crate) fn line_ends(bytes: &[u8], after_cr: bool) -> usize {
    let before = std::iter::once(if after_cr { b'\r' } else { 0 }).chain(bytes.iter().copied());
    bytes
        .iter()
        .zip(before)
        .filter(|&(&b, before)| b == b'\r' || (b == b'\n' && before != b'\r'))
        .count()
}

impl<R: Read> Read for Tracked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.note(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line of every record of `text`, read in reads of `chunk` bytes.
    fn lines(text: &str, chunk: usize) -> Vec<usize> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(chunk.max(1))
            .from_reader(Tracked::new(Trickle(text.as_bytes(), chunk)));
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let position = record.position().map_or(0, |p| p.byte());
            out.push(reader.get_mut().line_at(position));
        }
        out
    }

    #[test]
    fn records_start_on_the_line_of_their_first_byte() {
        let cases: &[(&str, &[usize], &str)] = &[
            ("a\nb\nc\n", &[1, 2, 3], "LF"),
            ("a\r\nb\r\nc\r\n", &[1, 2, 3], "CRLF"),
            ("a\n\n\nb\n", &[1, 4], "blank lines"),
            ("a\r\n\r\n\r\nb\r\n", &[1, 4], "blank CRLF lines"),
            ("\n\na\nb", &[3, 4], "leading blank lines, no final break"),
            ("a,\"x\ny\"\nb\n", &[1, 3], "a break inside quotes"),
            (
                "a,\"x\r\n\r\ny\"\r\nb\r\n",
                &[1, 4],
                "CRLF breaks inside quotes",
            ),
            ("a\rb\rc", &[1, 2, 3], "CR alone ends a line (old Mac)"),
            ("a\r\rb\r", &[1, 3], "blank CR lines"),
            ("a\r\n\rb\n\r\nc", &[1, 3, 5], "CR, LF and CRLF mixed"),
        ];
        for (text, want, case) in cases {
            for chunk in [1, 2, 3, 7, 64 * 1024] {
                assert_eq!(lines(text, chunk), *want, "{case}, reads of {chunk} bytes");
            }
        }
    }
}
