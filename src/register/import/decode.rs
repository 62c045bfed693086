//! Character encodings of the export. Municipal systems write CP932 (Microsoft's
//! Shift_JIS, with NEC and IBM extensions such as 髙, 﨑, ① and №) or UTF-8, with or without
//! a BOM. The CSV structure is read on bytes first (every byte that matters to CSV is ASCII,
//! and in CP932 no trail byte is a comma, quote or line end), then each field is decoded
//! on its own: one damaged byte sequence spoils one cell of one row, never the file, and
//! nothing undecodable is ever turned into U+FFFD and stored — nor is a U+FFFD that an
//! earlier conversion left in the file.

use std::ops::Range;

use encoding_rs::{DecoderResult, SHIFT_JIS};

/// The encoding a file is read in. encoding_rs's `SHIFT_JIS` is the WHATWG Shift_JIS,
/// which is CP932 with its extensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decoding {
    Utf8,
    Cp932,
}

impl Decoding {
    pub fn label(self) -> &'static str {
        match self {
            Decoding::Utf8 => "UTF-8",
            Decoding::Cp932 => "CP932 (Shift_JIS)",
        }
    }

    /// Appends the decoded field to `out`, or explains why it cannot be decoded (leaving
    /// `out` as it was).
    pub fn decode_into(self, field: &[u8], out: &mut String) -> Result<(), Undecodable> {
        match self {
            Decoding::Utf8 => match std::str::from_utf8(field) {
                // Left by an earlier lossy conversion: the character it stands for is lost,
                // and storing it would pass the damage on silently.
                Ok(text) if text.contains('\u{FFFD}') => Err(Undecodable {
                    shown: text.replace('\u{FFFD}', "\\u{FFFD}"),
                    bad_bytes: Vec::new(),
                }),
                Ok(text) => {
                    out.push_str(text);
                    Ok(())
                }
                Err(_) => Err(Undecodable::utf8(field)),
            },
            Decoding::Cp932 => {
                let start = out.len();
                let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
                let room = decoder
                    .max_utf8_buffer_length_without_replacement(field.len())
                    .expect("a CSV field is far smaller than usize::MAX");
                out.reserve(room);
                let (result, _) = decoder.decode_to_string_without_replacement(field, out, true);
                match result {
                    DecoderResult::InputEmpty => Ok(()),
                    DecoderResult::Malformed(..) => {
                        out.truncate(start);
                        Err(Undecodable::cp932(field))
                    }
                    DecoderResult::OutputFull => {
                        unreachable!("room was reserved for the worst case")
                    }
                }
            }
        }
    }
}

/// A field that does not decode: what can be shown of it (readable parts as text, the bad
/// bytes as `\xNN`) and the bad bytes themselves, for the message.
#[derive(Debug)]
pub(crate) struct Undecodable {
    pub shown: String,
    /// Empty when the bytes decoded but hold U+FFFD, the replacement character.
    pub bad_bytes: Vec<u8>,
}

impl Undecodable {
    fn utf8(field: &[u8]) -> Undecodable {
        let mut shown = String::new();
        let mut bad_bytes = Vec::new();
        for chunk in field.utf8_chunks() {
            shown.push_str(chunk.valid());
            for b in chunk.invalid() {
                shown.push_str(&format!("\\x{b:02X}"));
                bad_bytes.push(*b);
            }
        }
        Undecodable { shown, bad_bytes }
    }

    fn cp932(field: &[u8]) -> Undecodable {
        let mut shown = String::new();
        let mut bad_bytes = Vec::new();
        let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
        let mut rest = field;
        loop {
            shown.reserve(
                decoder
                    .max_utf8_buffer_length_without_replacement(rest.len())
                    .unwrap_or(rest.len() * 3 + 4),
            );
            let (result, read) =
                decoder.decode_to_string_without_replacement(rest, &mut shown, true);
            match result {
                DecoderResult::InputEmpty => break,
                DecoderResult::Malformed(bad, after) => {
                    let end = read - usize::from(after);
                    let start = end - usize::from(bad);
                    for b in &rest[start..end] {
                        shown.push_str(&format!("\\x{b:02X}"));
                        bad_bytes.push(*b);
                    }
                    rest = &rest[read..];
                }
                DecoderResult::OutputFull => rest = &rest[read..],
            }
        }
        Undecodable { shown, bad_bytes }
    }

    pub fn reason(&self, decoding: Decoding) -> String {
        if self.bad_bytes.is_empty() {
            return "文字化けの跡 (置換文字 U+FFFD) があります。元のデータで正しい文字を確認してください".into();
        }
        let bytes: Vec<String> = self
            .bad_bytes
            .iter()
            .map(|b| format!("0x{b:02X}"))
            .collect();
        format!(
            "文字コード {} として読めないバイト ({}) があります。ファイルの破損か、文字コードの混在を確認してください",
            decoding.label(),
            bytes.join(" ")
        )
    }
}

/// One record decoded into a single reused buffer, so that reading a million rows does
/// not allocate per field.
#[derive(Default)]
pub(crate) struct DecodedRecord {
    text: String,
    cells: Vec<Result<Range<usize>, Undecodable>>,
}

impl DecodedRecord {
    pub fn decode(&mut self, record: &csv::ByteRecord, decoding: Decoding) {
        self.text.clear();
        self.cells.clear();
        for field in record {
            let start = self.text.len();
            let cell = decoding
                .decode_into(field, &mut self.text)
                .map(|()| start..self.text.len());
            self.cells.push(cell);
        }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// The decoded text of cell `index`, untrimmed.
    pub fn get(&self, index: usize) -> Option<Result<&str, &Undecodable>> {
        self.cells.get(index).map(|cell| match cell {
            Ok(range) => Ok(&self.text[range.clone()]),
            Err(undecodable) => Err(undecodable),
        })
    }

    pub fn cells(&self) -> impl Iterator<Item = Result<&str, &Undecodable>> {
        (0..self.cells.len()).filter_map(|i| self.get(i))
    }

    /// A record whose every cell is empty once trimmed is a blank line (`,,,` included).
    pub fn is_blank(&self) -> bool {
        self.cells()
            .all(|cell| cell.is_ok_and(|text| super::values::trim(text).is_empty()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp932_extensions_decode() {
        // Bytes as CP932 writes them; both the NEC-selected (0xED/0xEE) and the IBM
        // (0xFA–0xFC) codes of the same ideograph decode.
        let cases: &[(&[u8], &str, &str)] = &[
            (b"\xEE\xE0", "髙", "髙, NEC-selected IBM extension"),
            (b"\xFB\xFC", "髙", "髙, IBM extension"),
            (b"\xED\x95", "﨑", "﨑"),
            (b"\x87\x40", "①", "① NEC special character"),
            (b"\x87\x82", "№", "№"),
            (
                b"\xB6\xDE",
                "ｶﾞ",
                "half-width kana stay half width when decoded",
            ),
            (
                b"\x94\x5C\x8C\xA9\x91\xE4",
                "能見台",
                "能 has 0x5C as its trail byte",
            ),
            (b"\x83\x5C", "ソ", "ソ has 0x5C as its trail byte"),
        ];
        for (bytes, want, case) in cases {
            let mut out = String::from("前:");
            Decoding::Cp932
                .decode_into(bytes, &mut out)
                .unwrap_or_else(|e| panic!("{case}: {e:?}"));
            assert_eq!(out, format!("前:{want}"), "{case}");
        }
    }

    #[test]
    fn undecodable_bytes_are_shown_escaped_and_never_replaced() {
        // (encoding, bytes, shown as, bad bytes, case)
        type Case<'a> = (Decoding, &'a [u8], &'a str, &'a [u8], &'a str);
        let cases: &[Case] = &[
            (
                Decoding::Cp932,
                b"\x8ER\x93c\xFF\x91\xBE\x98Y",
                "山田\\xFF太郎",
                b"\xFF",
                "an invalid single byte",
            ),
            (
                Decoding::Cp932,
                b"\x8ER\x93c\x82",
                "山田\\x82",
                b"\x82",
                "a lead byte cut off at the end of the field",
            ),
            (
                Decoding::Utf8,
                b"\xE5\xB1\xB1\xE7\x94",
                "山\\xE7\\x94",
                b"\xE7\x94",
                "a truncated UTF-8 sequence",
            ),
            (
                Decoding::Utf8,
                b"\x8ER\x93c",
                "\\x8ER\\x93c",
                b"\x8E\x93",
                "CP932 bytes read as UTF-8",
            ),
            (
                Decoding::Utf8,
                "山田\u{FFFD}郎".as_bytes(),
                "山田\\u{FFFD}郎",
                b"",
                "a replacement character left by an earlier conversion",
            ),
        ];
        for (decoding, bytes, shown, bad, case) in cases {
            let mut out = String::from("kept");
            let err = decoding.decode_into(bytes, &mut out).expect_err(case);
            assert_eq!(out, "kept", "{case}: the buffer is left as it was");
            assert_eq!(err.shown, *shown, "{case}: shown");
            assert_eq!(err.bad_bytes, *bad, "{case}: bad bytes");
            assert!(!err.shown.contains('\u{FFFD}'), "{case}: no U+FFFD");
            let reason = err.reason(*decoding);
            if bad.is_empty() {
                assert!(reason.contains("U+FFFD"), "{case}: {reason}");
            } else {
                assert!(
                    reason.contains(decoding.label()) && reason.contains("0x"),
                    "{case}: the reason names the encoding and the bytes: {reason}"
                );
            }
        }
    }

    #[test]
    fn a_record_is_decoded_cell_by_cell() {
        let mut record = csv::ByteRecord::new();
        record.push_field(b"A001");
        record.push_field(b"\x8ER\x93c\xFF");
        record.push_field("\u{3000}".as_bytes());
        let mut decoded = DecodedRecord::default();
        decoded.decode(&record, Decoding::Utf8);
        assert_eq!(decoded.len(), 3, "three cells");
        assert!(matches!(decoded.get(0), Some(Ok("A001"))), "first cell");
        assert!(matches!(decoded.get(1), Some(Err(_))), "second cell fails");
        assert!(matches!(decoded.get(2), Some(Ok("\u{3000}"))), "third cell");
        assert!(!decoded.is_blank(), "an undecodable cell is not blank");

        let mut blank = csv::ByteRecord::new();
        blank.push_field(b"");
        blank.push_field(" ".as_bytes());
        blank.push_field("\u{3000}".as_bytes());
        decoded.decode(&blank, Decoding::Utf8);
        assert!(decoded.is_blank(), "spaces only is blank");
    }
}
