//! Birth dates as municipal exports write them: Western (1940-03-01, 1940/3/1, 19400301,
//! 1940年3月1日) or by Japanese era (和暦: 昭和15年3月1日, 昭和元年, S15.3.1), with full-width
//! digits anywhere. An era date is checked against the era's exact first and last day, since
//! a wrong era year (昭和65年) is a typing error, not a date; so is a date that does not exist
//! or lies in the future. The register stores the date itself (`YYYY-MM-DD` in JSON).

use chrono::{Datelike, NaiveDate};

use super::values::{digit, trim};

/// A Japanese era (元号) with its first and, if it has ended, last day.
struct Era {
    name: &'static str,
    letter: char,
    first: (i32, u32, u32),
    last: Option<(i32, u32, u32)>,
}

const ERAS: [Era; 5] = [
    Era {
        name: "明治",
        letter: 'M',
        first: (1868, 1, 25),
        last: Some((1912, 7, 29)),
    },
    Era {
        name: "大正",
        letter: 'T',
        first: (1912, 7, 30),
        last: Some((1926, 12, 24)),
    },
    Era {
        name: "昭和",
        letter: 'S',
        first: (1926, 12, 25),
        last: Some((1989, 1, 7)),
    },
    Era {
        name: "平成",
        letter: 'H',
        first: (1989, 1, 8),
        last: Some((2019, 4, 30)),
    },
    Era {
        name: "令和",
        letter: 'R',
        first: (2019, 5, 1),
        last: None,
    },
];

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("era boundaries are real dates")
}

fn japanese(date: NaiveDate) -> String {
    format!("{}年{}月{}日", date.year(), date.month(), date.day())
}

const UNREADABLE: &str = "生年月日として読めません (例: 1940-03-01, 1940/3/1, 19400301, 1940年3月1日, 昭和15年3月1日, S15.3.1)";

/// Reads a birth date; `today` bounds it (the register's notion of today, in Japan).
pub fn birth_date(s: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let written = read(trim(s)).ok_or_else(|| UNREADABLE.to_owned())?;
    let date = match written.era {
        None => NaiveDate::from_ymd_opt(written.year as i32, written.month, written.day)
            .ok_or_else(|| "存在しない日付です".to_owned())?,
        Some(era) => {
            if written.year == 0 {
                return Err(format!("{}0年はありません (元年が1年です)", era.name));
            }
            let year = era.first.0 + written.year as i32 - 1;
            let date = NaiveDate::from_ymd_opt(year, written.month, written.day)
                .ok_or_else(|| "存在しない日付です".to_owned())?;
            let first = ymd(era.first);
            let out_of_era = date < first || era.last.is_some_and(|last| date > ymd(last));
            if out_of_era {
                let span = match era.last {
                    Some(last) => format!("{}から{}まで", japanese(first), japanese(ymd(last))),
                    None => format!("{}から", japanese(first)),
                };
                let year = match written.year {
                    1 => "元".to_owned(),
                    n => n.to_string(),
                };
                let name = era.name;
                return Err(format!(
                    "{name}{year}年{}月{}日は{name}の期間外です ({name}は{span})",
                    written.month, written.day
                ));
            }
            date
        }
    };
    if date > today {
        return Err(format!("未来の日付です ({})", japanese(date)));
    }
    if date < ymd(ERAS[0].first) {
        // No one in the register was born before Meiji: such a year is a typing error.
        return Err(format!("明治より前の日付です ({})", japanese(date)));
    }
    Ok(date)
}

/// A date as written, before it is checked against the calendar.
struct Written {
    era: Option<&'static Era>,
    year: u32,
    month: u32,
    day: u32,
}

/// The grammar: `[era] year sep month sep day [日] [0:00[:00]]`, where the separators are
/// 年/月 or one of `/ - .` used twice, or eight digits alone. Spaces between parts are
/// allowed, as typed dates are often padded (昭和15年 3月 1日).
fn read(s: &str) -> Option<Written> {
    let mut rest = s;
    let era = take_era(&mut rest);
    skip_spaces(&mut rest);

    let (year, year_digits) = match (era, rest.strip_prefix('元')) {
        (Some(_), Some(after)) => {
            rest = after;
            (1, 1)
        }
        _ => take_number(&mut rest)?,
    };

    if era.is_none() && year_digits == 8 && at_end(rest) {
        return Some(Written {
            era,
            year: year / 10000,
            month: year / 100 % 100,
            day: year % 100,
        });
    }
    let year_fits = match era {
        Some(_) => (1..=2).contains(&year_digits),
        None => year_digits == 4,
    };
    if !year_fits {
        return None;
    }

    skip_spaces(&mut rest);
    let first_sep = take_separator(&mut rest)?;
    let second_sep = if first_sep == '年' { '月' } else { first_sep };
    skip_spaces(&mut rest);
    let (month, month_digits) = take_number(&mut rest)?;
    skip_spaces(&mut rest);
    if take_separator(&mut rest)? != second_sep {
        return None;
    }
    skip_spaces(&mut rest);
    let (day, day_digits) = take_number(&mut rest)?;
    if month_digits > 2 || day_digits > 2 {
        return None;
    }
    if first_sep == '年' {
        skip_spaces(&mut rest);
        rest = rest.strip_prefix('日').unwrap_or(rest);
    }
    if !at_end(rest) {
        return None;
    }
    Some(Written {
        era,
        year,
        month,
        day,
    })
}

fn take_era(rest: &mut &str) -> Option<&'static Era> {
    let first = rest.chars().next()?;
    for era in &ERAS {
        if let Some(after) = rest.strip_prefix(era.name) {
            *rest = after;
            return Some(era);
        }
        // S15.3.1 (either case, either width) and the one-kanji abbreviation 昭15.3.1.
        let folded = match first {
            '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
                char::from_u32(first as u32 - 0xFEE0).unwrap_or(first)
            }
            _ => first,
        };
        let abbreviation = era.name.chars().next();
        if folded.eq_ignore_ascii_case(&era.letter) || Some(first) == abbreviation {
            *rest = &rest[first.len_utf8()..];
            return Some(era);
        }
    }
    None
}

fn skip_spaces(rest: &mut &str) {
    *rest = rest.trim_start_matches(|c: char| c.is_whitespace());
}

/// Digits (either width); the value and how many digits were written. Nine or more digits
/// are no part of a date.
fn take_number(rest: &mut &str) -> Option<(u32, usize)> {
    let mut value = 0u32;
    let mut count = 0;
    let mut consumed = 0;
    for c in rest.chars() {
        let Some(d) = digit(c) else { break };
        count += 1;
        if count > 8 {
            return None;
        }
        value = value * 10 + d;
        consumed += c.len_utf8();
    }
    if count == 0 {
        return None;
    }
    *rest = &rest[consumed..];
    Some((value, count))
}

fn take_separator(rest: &mut &str) -> Option<char> {
    let c = rest.chars().next()?;
    let sep = match c {
        '年' | '月' | '/' | '-' | '.' => c,
        '／' => '/',
        '－' | '‐' | '−' => '-',
        '．' => '.',
        _ => return None,
    };
    *rest = &rest[c.len_utf8()..];
    Some(sep)
}

/// The end of the date, allowing the midnight that database exports append to a date
/// (1940/03/01 0:00:00).
fn at_end(rest: &str) -> bool {
    matches!(trim(rest), "" | "0:00" | "00:00" | "0:00:00" | "00:00:00")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn western_and_wareki_forms_are_read() {
        let cases = [
            ("1940-03-01", date(1940, 3, 1), "ISO"),
            (
                "1940/3/1",
                date(1940, 3, 1),
                "slashes, one-digit month and day",
            ),
            ("1940/03/01", date(1940, 3, 1), "slashes, zero-padded"),
            ("1940.3.1", date(1940, 3, 1), "dots"),
            ("19400301", date(1940, 3, 1), "eight digits"),
            ("1940年3月1日", date(1940, 3, 1), "年月日"),
            ("1940年3月1", date(1940, 3, 1), "年月 without 日"),
            ("１９４０年３月１日", date(1940, 3, 1), "full-width digits"),
            (
                "１９４０／０３／０１",
                date(1940, 3, 1),
                "full-width slashes",
            ),
            (
                "１９４００３０１",
                date(1940, 3, 1),
                "eight full-width digits",
            ),
            ("昭和15年3月1日", date(1940, 3, 1), "昭和"),
            ("昭和１５年３月１日", date(1940, 3, 1), "昭和, full width"),
            ("昭和15年 3月 1日", date(1940, 3, 1), "padded with spaces"),
            (
                "昭和 15 年 3 月 1 日",
                date(1940, 3, 1),
                "spaces everywhere",
            ),
            ("S15.3.1", date(1940, 3, 1), "S with dots"),
            ("S15/3/1", date(1940, 3, 1), "S with slashes"),
            ("s15.3.1", date(1940, 3, 1), "lowercase s"),
            ("Ｓ１５．３．１", date(1940, 3, 1), "full-width S and dots"),
            ("昭15.3.1", date(1940, 3, 1), "one-kanji era"),
            ("S15年3月1日", date(1940, 3, 1), "letter era with 年月日"),
            ("M45.7.29", date(1912, 7, 29), "明治 last day"),
            ("T1.7.30", date(1912, 7, 30), "大正 first day"),
            ("H1.1.8", date(1989, 1, 8), "平成 first day"),
            ("R1.5.1", date(2019, 5, 1), "令和 first day"),
            ("R7.5.31", date(2025, 5, 31), "令和7年, before today"),
            ("明治40年1月1日", date(1907, 1, 1), "明治"),
            ("大正10年10月10日", date(1921, 10, 10), "大正"),
            ("平成2年2月2日", date(1990, 2, 2), "平成"),
            ("令和2年2月2日", date(2020, 2, 2), "令和"),
            (
                "1940/03/01 0:00:00",
                date(1940, 3, 1),
                "a database export's midnight",
            ),
            ("1940-02-29", date(1940, 2, 29), "a leap day"),
            ("2025-06-01", date(2025, 6, 1), "today itself"),
        ];
        for (input, want, case) in cases {
            assert_eq!(birth_date(input, today()), Ok(want), "{case}: {input}");
        }
    }

    #[test]
    fn gannen_is_the_first_year_of_each_era() {
        let cases = [
            ("明治元年10月23日", date(1868, 10, 23)),
            ("大正元年8月1日", date(1912, 8, 1)),
            ("昭和元年12月25日", date(1926, 12, 25)),
            ("昭和元年12月31日", date(1926, 12, 31)),
            ("平成元年1月8日", date(1989, 1, 8)),
            ("令和元年5月1日", date(2019, 5, 1)),
            ("令和元年12月31日", date(2019, 12, 31)),
            ("H元.2.1", date(1989, 2, 1)),
        ];
        for (input, want) in cases {
            assert_eq!(birth_date(input, today()), Ok(want), "{input}");
        }
    }

    #[test]
    fn era_boundaries_are_exact() {
        // (date as written, valid?) on both sides of every change of era.
        let cases = [
            ("明治元年1月24日", false),
            ("明治元年1月25日", true),
            ("明治45年7月29日", true),
            ("明治45年7月30日", false),
            ("明治46年1月1日", false),
            ("大正元年7月29日", false),
            ("大正元年7月30日", true),
            ("大正15年12月24日", true),
            ("大正15年12月25日", false),
            ("大正16年1月1日", false),
            ("昭和元年12月24日", false),
            ("昭和元年12月25日", true),
            ("昭和64年1月7日", true),
            ("昭和64年1月8日", false),
            ("昭和65年1月1日", false),
            ("平成元年1月7日", false),
            ("平成元年1月8日", true),
            ("平成31年4月30日", true),
            ("平成31年5月1日", false),
            ("平成32年1月1日", false),
            ("令和元年4月30日", false),
            ("令和元年5月1日", true),
        ];
        for (input, valid) in cases {
            let result = birth_date(input, today());
            assert_eq!(result.is_ok(), valid, "{input}: {result:?}");
            if let Err(reason) = result {
                assert!(
                    reason.contains("期間外"),
                    "{input}: reason says it is outside the era: {reason}"
                );
            }
        }
        let reason = birth_date("昭和65年1月1日", today()).unwrap_err();
        assert!(
            reason.contains("1989年1月7日"),
            "the reason gives the era's last day: {reason}"
        );
        let reason = birth_date("H1.1.7", today()).unwrap_err();
        assert!(
            reason.starts_with("平成元年1月7日") && reason.contains("1989年1月8日から"),
            "the reason writes the first year as 元年 and gives the era's first day: {reason}"
        );
    }

    #[test]
    fn impossible_future_and_unreadable_dates_are_refused() {
        let cases = [
            ("1940-02-30", "存在しない", "February 30th"),
            ("1941-02-29", "存在しない", "not a leap year"),
            ("1940-13-01", "存在しない", "month 13"),
            ("19400230", "存在しない", "eight digits, no such day"),
            ("昭和15年2月30日", "存在しない", "wareki, no such day"),
            ("昭和0年1月1日", "0年", "era year 0"),
            ("2025-06-02", "未来", "tomorrow"),
            ("R8.1.1", "未来", "a future 令和 year"),
            ("1800-01-01", "明治より前", "before Meiji"),
            ("40/3/1", "読めません", "two-digit Western year"),
            ("1940/3-1", "読めません", "mixed separators"),
            ("1940年3/1", "読めません", "年 then a slash"),
            ("昭和123年1月1日", "読めません", "three-digit era year"),
            ("元年1月1日", "読めません", "元年 without an era"),
            ("X15.3.1", "読めません", "unknown era letter"),
            (
                "1940-03-01 12:30",
                "読めません",
                "a time that is not midnight",
            ),
            ("1940-03-01x", "読めません", "trailing garbage"),
            ("19400301123", "読めません", "too many digits"),
            ("二〇〇〇年一月一日", "読めません", "kanji numerals"),
            ("不明", "読めません", "a word"),
        ];
        for (input, needle, case) in cases {
            let reason = birth_date(input, today()).expect_err(case);
            assert!(
                reason.contains(needle),
                "{case}: {input} → {reason:?} should mention {needle}"
            );
        }
    }
}
