//! Reading one cell of the register: the small parsers for phone numbers, postal codes, sex,
//! consent, care level and coordinates. Municipal exports are typed by hand, so each parser
//! accepts the spellings staff actually use (full-width digits, 〒, ○ and ×) and turns them
//! into one canonical form; anything it cannot read with certainty is refused with a reason
//! in Japanese, never guessed. Free text (names, addresses, notes) is only trimmed: no
//! Unicode normalisation, since a compatibility ideograph in a name is the person's name.

use std::borrow::Cow;

/// Trims what a spreadsheet leaves around a value: ASCII and ideographic (U+3000) spaces,
/// and a stray BOM.
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
}

/// The value of an ASCII or full-width digit.
pub fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '０'..='９' => Some(c as u32 - '０' as u32),
        _ => None,
    }
}

/// Dashes that people type between the parts of a phone number or postal code.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '－' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '﹣' | '⁃'
    )
}

/// The katakana prolonged sound mark also serves as a hyphen after a digit (045ー123).
fn is_long_vowel_mark(c: char) -> bool {
    matches!(c, 'ー' | 'ｰ')
}

/// Full-width ASCII (U+FF01..U+FF5E) to ASCII, other characters unchanged.
fn ascii_fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Whether `value` is `word`, ignoring full width and ASCII case.
fn same_word(value: &str, word: &str) -> bool {
    value
        .chars()
        .map(|c| ascii_fold(c).to_ascii_lowercase())
        .eq(word.chars())
}

/// A phone number with its digits and dashes in ASCII. Phones are free text in the exports
/// ("045-123-4567（長男）", two numbers), so nothing else is checked or changed.
pub fn phone(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut after_digit = false;
    for c in s.chars() {
        let folded = if let Some(d) = digit(c) {
            char::from_digit(d, 10).unwrap_or(c)
        } else if is_dash(c) || (after_digit && is_long_vowel_mark(c)) {
            '-'
        } else {
            c
        };
        after_digit = folded.is_ascii_digit() || (after_digit && folded == '-');
        out.push(folded);
    }
    Cow::Owned(out)
}

/// A postal code as `NNN-NNNN`. Accepts 7 digits with or without the dash after the third,
/// full width, and a leading 〒.
pub fn postal_code(s: &str) -> Result<String, String> {
    let s = trim(s.strip_prefix('〒').unwrap_or(s));
    let mut digits = [0u32; 7];
    let mut count = 0;
    let mut dash_seen = false;
    let refuse = || "郵便番号は7桁の数字で書いてください (例: 222-0033)".to_owned();
    for c in s.chars() {
        if let Some(d) = digit(c) {
            if count == 7 {
                return Err(refuse());
            }
            digits[count] = d;
            count += 1;
        } else if (is_dash(c) || is_long_vowel_mark(c)) && count == 3 && !dash_seen {
            dash_seen = true;
        } else {
            return Err(refuse());
        }
    }
    if count != 7 {
        return Err(refuse());
    }
    let [a, b, c, d, e, f, g] = digits;
    Ok(format!("{a}{b}{c}-{d}{e}{f}{g}"))
}

/// Sex as the register records it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    /// The stored and serialised word.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "male",
            Sex::Female => "female",
        }
    }
}

/// 男/女 and the codes of municipal systems (1/2, M/F; 0 and 9 are "unknown" in the
/// ISO 5218 coding those systems follow).
pub fn sex(s: &str) -> Result<Option<Sex>, String> {
    const MALE: [&str; 4] = ["男", "男性", "m", "1"];
    const FEMALE: [&str; 4] = ["女", "女性", "f", "2"];
    const UNKNOWN: [&str; 4] = ["", "0", "9", "不明"];
    if MALE.iter().any(|w| same_word(s, w)) {
        Ok(Some(Sex::Male))
    } else if FEMALE.iter().any(|w| same_word(s, w)) {
        Ok(Some(Sex::Female))
    } else if UNKNOWN.iter().any(|w| same_word(s, w)) {
        Ok(None)
    } else {
        Err("性別は 男・女・不明 (または 1・2・9, M・F) で書いてください".into())
    }
}

/// Consent to share the record with supporters before a disaster. A blank is `None`, which
/// the register treats as not consented.
pub fn consent(s: &str) -> Result<Option<bool>, String> {
    const YES: [&str; 14] = [
        "有",
        "有り",
        "あり",
        "同意",
        "同意済",
        "同意済み",
        "済",
        "はい",
        "1",
        "○",
        "◯",
        "〇",
        "yes",
        "true",
    ];
    const NO: [&str; 10] = [
        "無",
        "無し",
        "なし",
        "不同意",
        "拒否",
        "いいえ",
        "0",
        "×",
        "no",
        "false",
    ];
    if s.is_empty() {
        Ok(None)
    } else if YES.iter().any(|w| same_word(s, w)) {
        Ok(Some(true))
    } else if NO.iter().any(|w| same_word(s, w)) {
        Ok(Some(false))
    } else {
        Err("同意は 有・無 (または ○・×, 1・0, 空欄) で書いてください".into())
    }
}

/// 要支援1–2 and 要介護1–5 with an ASCII digit, so that the register can filter on them;
/// other values (非該当, 事業対象者, ...) are kept as given.
pub fn care_level(s: &str) -> Cow<'_, str> {
    for (prefix, max) in [("要支援", 2), ("要介護", 5)] {
        let Some(rest) = s.strip_prefix(prefix) else {
            continue;
        };
        let mut chars = trim(rest).chars();
        if let (Some(d), None) = (chars.next().and_then(digit), chars.next())
            && (1..=max).contains(&d)
        {
            if rest.len() == 1 {
                // Already canonical: one ASCII digit right after the prefix.
                return Cow::Borrowed(s);
            }
            return Cow::Owned(format!("{prefix}{d}"));
        }
    }
    Cow::Borrowed(s)
}

/// A latitude or longitude: a plain decimal number (full width allowed) within ±`limit`.
/// Exponents, `inf` and `NaN`, which Rust's float parser would take, are refused.
pub fn coordinate(s: &str, limit: f64, what: &str) -> Result<f64, String> {
    let refuse =
        || format!("{what}は -{limit} から {limit} までの10進数で書いてください (例: 35.5123)");
    // Written out in ASCII first; a coordinate longer than this buffer is no coordinate.
    let mut buf = [0u8; 32];
    let mut len = 0;
    let mut seen_digit = false;
    let mut seen_point = false;
    for (i, c) in s.chars().enumerate() {
        let ascii = if let Some(d) = digit(c) {
            seen_digit = true;
            b'0' + d as u8
        } else {
            match c {
                '+' | '＋' if i == 0 => b'+',
                '-' | '－' | '−' if i == 0 => b'-',
                '.' | '．' if !seen_point && seen_digit => {
                    seen_point = true;
                    b'.'
                }
                _ => return Err(refuse()),
            }
        };
        if len == buf.len() {
            return Err(refuse());
        }
        buf[len] = ascii;
        len += 1;
    }
    if !seen_digit || buf[len - 1] == b'.' {
        return Err(refuse());
    }
    let text = std::str::from_utf8(&buf[..len]).map_err(|_| refuse())?;
    let value: f64 = text.parse().map_err(|_| refuse())?;
    if !(-limit..=limit).contains(&value) {
        return Err(refuse());
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_removes_ascii_and_ideographic_spaces_and_a_bom() {
        let cases = [
            ("  山田 太郎 ", "山田 太郎", "ASCII spaces"),
            (
                "\u{3000}山田\u{3000}太郎\u{3000}",
                "山田\u{3000}太郎",
                "U+3000 at the ends only",
            ),
            ("\u{FEFF}宛名番号", "宛名番号", "a BOM"),
            ("\t値\r\n", "値", "tabs and line ends"),
            ("\u{3000} ", "", "nothing but spaces"),
        ];
        for (input, want, case) in cases {
            assert_eq!(trim(input), want, "{case}");
        }
    }

    #[test]
    fn phone_digits_and_dashes_become_ascii() {
        let cases = [
            ("045-123-4567", "045-123-4567", "already ASCII"),
            (
                "０４５－１２３－４５６７",
                "045-123-4567",
                "full width with －",
            ),
            ("045‐123‐4567", "045-123-4567", "U+2010 hyphen"),
            ("045−123−4567", "045-123-4567", "U+2212 minus"),
            (
                "045ー123ー4567",
                "045-123-4567",
                "long vowel mark after digits",
            ),
            (
                "０９０ｰ１２３４ｰ５６７８",
                "090-1234-5678",
                "half-width long vowel mark",
            ),
            (
                "０４５（１２３）４５６７",
                "045（123）4567",
                "other characters are kept",
            ),
            (
                "045-123-4567（ケアホーム）",
                "045-123-4567（ケアホーム）",
                "a note in katakana keeps its long vowel",
            ),
        ];
        for (input, want, case) in cases {
            assert_eq!(phone(input), want, "{case}");
        }
    }

    #[test]
    fn postal_codes_become_nnn_nnnn_or_are_refused() {
        let ok = [
            ("222-0033", "222-0033", "canonical"),
            ("2220033", "222-0033", "seven digits"),
            ("〒222-0033", "222-0033", "a leading 〒"),
            ("〒 ２２２－００３３", "222-0033", "〒, a space, full width"),
            (
                "２２２ー００３３",
                "222-0033",
                "long vowel mark as the dash",
            ),
        ];
        for (input, want, case) in ok {
            assert_eq!(postal_code(input).as_deref(), Ok(want), "{case}");
        }
        let bad = [
            ("222-003", "six digits"),
            ("22200333", "eight digits"),
            ("22-20033", "dash in the wrong place"),
            ("222--0033", "two dashes"),
            ("222 0033", "a space instead of a dash"),
            ("港北区", "no digits"),
            ("〒", "only the mark"),
        ];
        for (input, case) in bad {
            let err = postal_code(input).expect_err(case);
            assert!(err.contains("7桁"), "{case}: reason {err:?}");
        }
    }

    #[test]
    fn sex_codes() {
        let cases = [
            ("男", Ok(Some(Sex::Male)), "男"),
            ("男性", Ok(Some(Sex::Male)), "男性"),
            ("M", Ok(Some(Sex::Male)), "M"),
            ("m", Ok(Some(Sex::Male)), "lowercase m"),
            ("Ｍ", Ok(Some(Sex::Male)), "full-width M"),
            ("1", Ok(Some(Sex::Male)), "1"),
            ("１", Ok(Some(Sex::Male)), "full-width 1"),
            ("女", Ok(Some(Sex::Female)), "女"),
            ("女性", Ok(Some(Sex::Female)), "女性"),
            ("F", Ok(Some(Sex::Female)), "F"),
            ("2", Ok(Some(Sex::Female)), "2"),
            ("", Ok(None), "blank"),
            ("0", Ok(None), "0"),
            ("9", Ok(None), "9"),
            ("不明", Ok(None), "不明"),
        ];
        for (input, want, case) in cases {
            assert_eq!(sex(input), want, "{case}");
        }
        for input in ["3", "男女", "male", "おとこ"] {
            assert!(sex(input).is_err(), "{input:?} is not a sex code");
        }
    }

    #[test]
    fn consent_words() {
        let yes = [
            "有",
            "あり",
            "同意",
            "同意済",
            "済",
            "はい",
            "1",
            "○",
            "◯",
            "yes",
            "YES",
            "Yes",
            "true",
            "TRUE",
            "１",
            "ｙｅｓ",
            "〇",
            "有り",
        ];
        for input in yes {
            assert_eq!(consent(input), Ok(Some(true)), "{input:?} means consented");
        }
        let no = [
            "無",
            "なし",
            "不同意",
            "拒否",
            "いいえ",
            "0",
            "×",
            "no",
            "NO",
            "false",
            "False",
            "０",
            "無し",
        ];
        for input in no {
            assert_eq!(consent(input), Ok(Some(false)), "{input:?} means refused");
        }
        assert_eq!(consent(""), Ok(None), "blank is unknown");
        for input in ["未確認", "2", "△", "同意しない?"] {
            let err = consent(input).expect_err(input);
            assert!(err.contains("同意"), "{input:?}: reason {err:?}");
        }
    }

    #[test]
    fn care_levels_get_ascii_digits_and_others_stay() {
        let cases = [
            ("要支援1", "要支援1", "canonical"),
            ("要支援２", "要支援2", "full-width 2"),
            ("要介護１", "要介護1", "full-width 1"),
            ("要介護５", "要介護5", "full-width 5"),
            ("要介護 3", "要介護3", "a space before the digit"),
            ("要介護\u{3000}４", "要介護4", "an ideographic space"),
            ("要支援３", "要支援３", "要支援 has no 3: kept as given"),
            ("要介護６", "要介護６", "要介護 has no 6: kept as given"),
            ("非該当", "非該当", "other values kept"),
            ("事業対象者", "事業対象者", "other values kept"),
        ];
        for (input, want, case) in cases {
            assert_eq!(care_level(input), want, "{case}");
        }
    }

    #[test]
    fn coordinates_in_range() {
        let ok = [
            ("35.5123", 90.0, 35.5123, "plain"),
            ("-33.8", 90.0, -33.8, "negative"),
            ("+139.6", 180.0, 139.6, "explicit plus"),
            ("３５．５１２３", 90.0, 35.5123, "full width"),
            ("－３３．８", 90.0, -33.8, "full-width minus"),
            ("90", 90.0, 90.0, "the limit itself"),
            ("-180", 180.0, -180.0, "the negative limit"),
            ("139", 180.0, 139.0, "an integer"),
        ];
        for (input, limit, want, case) in ok {
            assert_eq!(coordinate(input, limit, "緯度"), Ok(want), "{case}");
        }
        let bad = [
            ("90.0001", 90.0, "past 90"),
            ("-181", 180.0, "past -180"),
            ("1e2", 180.0, "exponent"),
            ("NaN", 90.0, "NaN"),
            ("inf", 90.0, "inf"),
            ("35.", 90.0, "trailing point"),
            (".5", 90.0, "leading point"),
            ("35.1.2", 90.0, "two points"),
            ("35,5", 90.0, "decimal comma"),
            ("-", 90.0, "sign only"),
            ("北緯35度", 90.0, "words"),
            ("1-2", 90.0, "minus inside"),
        ];
        for (input, limit, case) in bad {
            let err = coordinate(input, limit, "緯度").expect_err(case);
            assert!(
                err.contains("緯度"),
                "{case}: reason names the field: {err:?}"
            );
        }
    }
}
