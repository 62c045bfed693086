//! Half-width katakana (半角カナ) to full width, for the kana reading of a name. Older
//! municipal systems still export readings as ﾔﾏﾀﾞ ﾀﾛｳ; the register stores ヤマダ タロウ so
//! that a search for either finds the person. A voiced or semi-voiced sound mark (ﾞ ﾟ) is
//! a separate character in half width and is combined with the kana before it. Everything
//! else, hiragana included, is kept as written.

use std::borrow::Cow;

/// Full-width forms of U+FF61..=U+FF9F, in code point order.
const FULL_WIDTH: [char; 63] = [
    '。', '「', '」', '、', '・', 'ヲ', 'ァ', 'ィ', 'ゥ', 'ェ', 'ォ', 'ャ', 'ュ', 'ョ', 'ッ', 'ー',
    'ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ', 'サ', 'シ', 'ス', 'セ', 'ソ', 'タ',
    'チ', 'ツ', 'テ', 'ト', 'ナ', 'ニ', 'ヌ', 'ネ', 'ノ', 'ハ', 'ヒ', 'フ', 'ヘ', 'ホ', 'マ', 'ミ',
    'ム', 'メ', 'モ', 'ヤ', 'ユ', 'ヨ', 'ラ', 'リ', 'ル', 'レ', 'ロ', 'ワ', 'ン', '゛', '゜',
];

const VOICED_MARK: char = '\u{FF9E}';
const SEMI_VOICED_MARK: char = '\u{FF9F}';

/// The kana with a voiced sound mark (カ → ガ), if it has one.
fn voiced(c: char) -> Option<char> {
    match c {
        'カ' | 'キ' | 'ク' | 'ケ' | 'コ' | 'サ' | 'シ' | 'ス' | 'セ' | 'ソ' | 'タ' | 'チ'
        | 'ツ' | 'テ' | 'ト' | 'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => {
            char::from_u32(c as u32 + 1)
        }
        'ウ' => Some('ヴ'),
        'ワ' => Some('ヷ'),
        'ヲ' => Some('ヺ'),
        _ => None,
    }
}

/// The kana with a semi-voiced sound mark (ハ → パ), if it has one.
fn semi_voiced(c: char) -> Option<char> {
    match c {
        'ハ' | 'ヒ' | 'フ' | 'ヘ' | 'ホ' => char::from_u32(c as u32 + 2),
        _ => None,
    }
}

/// The reading with its half-width katakana made full width; borrowed when there are none.
pub fn full_width_katakana(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| ('\u{FF61}'..='\u{FF9F}').contains(&c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let combined = match c {
            VOICED_MARK => out.chars().next_back().and_then(voiced),
            SEMI_VOICED_MARK => out.chars().next_back().and_then(semi_voiced),
            _ => None,
        };
        if let Some(combined) = combined {
            out.pop();
            out.push(combined);
        } else if ('\u{FF61}'..='\u{FF9F}').contains(&c) {
            out.push(FULL_WIDTH[(c as u32 - 0xFF61) as usize]);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_width_katakana_become_full_width() {
        let cases = [
            ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ", "a name with ﾀﾞ"),
            ("ｶﾞ", "ガ", "ｶﾞ → ガ"),
            ("ﾊﾟ", "パ", "ﾊﾟ → パ"),
            ("ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ", "バビブベボ", "voiced ハ row"),
            ("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ", "semi-voiced ハ row"),
            ("ｻﾞｼﾞｽﾞｾﾞｿﾞ", "ザジズゼゾ", "voiced サ row"),
            ("ﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ", "ダヂヅデド", "voiced タ row, ツ skips ッ"),
            ("ｳﾞｨｸﾄﾙ", "ヴィクトル", "ｳﾞ → ヴ"),
            ("ﾜﾞｦﾞ", "ヷヺ", "ﾜﾞ and ｦﾞ"),
            ("ｷｮｳｺ", "キョウコ", "small kana"),
            ("ｻｲﾄｳ ﾘｮｰｺ", "サイトウ リョーコ", "prolonged sound mark"),
            (
                "ｱﾞ",
                "ア゛",
                "a mark that combines with nothing stays a mark",
            ),
            ("ﾟ", "゜", "a mark alone"),
            ("ﾏｯｸｽ･ｳｪﾊﾞｰ", "マックス・ウェバー", "middle dot"),
            ("カﾞ", "ガ", "a full-width kana with a half-width mark"),
            ("ヤマダ タロウ", "ヤマダ タロウ", "already full width"),
            ("やまだ たろう", "やまだ たろう", "hiragana kept"),
            (
                "ﾀﾅｶ　ﾊﾅｺ",
                "タナカ　ハナコ",
                "an ideographic space inside is kept",
            ),
        ];
        for (input, want, case) in cases {
            assert_eq!(full_width_katakana(input), want, "{case}");
        }
    }

    #[test]
    fn the_table_covers_the_whole_half_width_block() {
        assert_eq!(FULL_WIDTH[0], '。', "U+FF61");
        assert_eq!(FULL_WIDTH[(0xFF71 - 0xFF61) as usize], 'ア', "U+FF71 ｱ");
        assert_eq!(FULL_WIDTH[(0xFF9D - 0xFF61) as usize], 'ン', "U+FF9D ﾝ");
        assert_eq!(FULL_WIDTH[62], '゜', "U+FF9F");
    }
}
