//! The volunteer centre (災害VC): volunteers checking in each day (`volunteers`), needs taken
//! in by phone (`needs`), equipment counted out and back (`equipment`), teams (班) formed for
//! a need, sent out and reporting back (`teams`), the matching board's section of the live
//! board (`board`), and the paper: volunteer cards, activity certificates and the day summary
//! (`paper`).
//!
//! The flow of DOMAIN.md: ニーズ受付 → ボランティア受付 → マッチング → オリエンテーション・資機材 →
//! 送り出し → 帰着・活動報告. Each step is one transaction with its event; board events carry
//! districts, categories and numbers, never a requester's or a volunteer's name or phone.

pub mod board;
pub mod equipment;
pub mod needs;
pub mod paper;
mod routes;
pub mod teams;
pub mod volunteers;

use chrono::{Datelike, NaiveDate};

use crate::error::{AppError, Result};

pub use routes::router;

crate::code_schema!(
    SkillCode,
    "A skill (特技・資格): heavy machinery (重機), nursing (看護), driving (運転), carpentry (大工), childcare (保育), interpreting (通訳), first aid (応急手当), chainsaw (チェーンソー), electrical work (電気工事).",
    SKILLS.iter().map(|(code, _)| *code).collect()
);
crate::code_schema!(
    NeedCategoryCode,
    "What a need asks for (ニーズの種類): mud removal (泥出し), furniture removal (家財搬出), cleaning (清掃), tidying (片付け), supply transport (物資運搬), watching over (見守り), evacuation support (避難支援), other (その他).",
    NEED_CATEGORIES.iter().map(|(code, _)| *code).collect()
);
crate::code_schema!(
    NeedStatusCode,
    "Where a need stands: received (受付), surveyed (調査済), matched (マッチング済), dispatched (活動中), reported (報告済), done (完了), continuing (継続: carried to the next day), cancelled (取消).",
    needs::STATUSES.to_vec()
);
crate::code_schema!(
    NeedPriorityCode,
    "A need's priority: high, normal or low. Lists and the board show urgent needs first, then by priority.",
    needs::PRIORITIES.to_vec()
);
crate::code_schema!(
    TeamStatusCode,
    "Where a team stands: formed (編成: orientation and equipment), dispatched (活動中), returned (帰着: report not yet made), closed (報告済), disbanded (解散: never left).",
    teams::STATUSES.to_vec()
);

/// Skills a volunteer may bring (特技・資格).
pub const SKILLS: [(&str, &str); 9] = [
    ("heavy_machinery", "重機"),
    ("nursing", "看護"),
    ("driving", "運転"),
    ("carpentry", "大工"),
    ("childcare", "保育"),
    ("interpreting", "通訳"),
    ("first_aid", "応急手当"),
    ("chainsaw", "チェーンソー"),
    ("electrical", "電気工事"),
];

/// What a need asks for (ニーズの種類).
pub const NEED_CATEGORIES: [(&str, &str); 8] = [
    ("mud_removal", "泥出し"),
    ("furniture_removal", "家財搬出"),
    ("cleaning", "清掃"),
    ("tidying", "片付け"),
    ("supply_transport", "物資運搬"),
    ("watching_over", "見守り"),
    ("evacuation_support", "避難支援"),
    ("other", "その他"),
];

/// Age groups of the check-in form (年代).
pub const AGE_GROUPS: [&str; 7] = ["under_18", "18_29", "30s", "40s", "50s", "60s", "70_plus"];

pub fn label<'a>(list: &'a [(&'a str, &'a str)], code: &'a str) -> &'a str {
    list.iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, l)| l)
}

/// The centre's day, in Japan: check-ins, the day summary and "carried to the next day" all
/// count days as the people in the centre do.
pub fn today() -> NaiveDate {
    crate::register::import::today_in_japan()
}

/// The last day of the fiscal year (31 March) a day falls in: ボランティア活動保険 covers
/// until then.
pub fn fiscal_year_end(day: NaiveDate) -> NaiveDate {
    let year = if day.month() >= 4 {
        day.year() + 1
    } else {
        day.year()
    };
    NaiveDate::from_ymd_opt(year, 3, 31).expect("31 March exists")
}

/// The digits of a phone number, full-width ones included: what duplicates and searches
/// compare, whatever hyphens or spaces were typed.
pub fn phone_digits(phone: &str) -> String {
    phone
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .collect()
}

/// An address reduced to what tells two addresses apart: no spaces, and one kind of hyphen
/// and digit, so 「大倉山１－２－３」 and 「大倉山 1-2-3」 are the same house.
pub fn address_key(address: &str) -> String {
    address
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '－' | '‐' | '―' | 'ー' | '−' | '–' | '—' => '-',
            '丁' | '番' | '号' => '-',
            '目' | '地' => '\0',
            c => c,
        })
        .filter(|c| *c != '\0')
        .collect::<String>()
        .trim_end_matches('-')
        .to_string()
}

/// Trims a text field and checks its length, naming the field.
pub fn text(field: &str, value: &str, max: usize, required: bool) -> Result<String> {
    let value = value.trim();
    if required && value.is_empty() {
        return Err(AppError::invalid(field, format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{field} has at most {max} characters"),
        ));
    }
    Ok(value.to_string())
}

pub use crate::extract::known_codes as codes;

pub(crate) fn json_codes(codes: &[String]) -> String {
    serde_json::to_string(codes).unwrap_or_else(|_| "[]".into())
}

pub(crate) fn parse_codes(json: &str) -> Vec<String> {
    serde_json::from_str(json).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insurance_runs_to_the_end_of_the_fiscal_year() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(fiscal_year_end(d(2026, 11, 23)), d(2027, 3, 31));
        assert_eq!(fiscal_year_end(d(2027, 3, 31)), d(2027, 3, 31));
        assert_eq!(fiscal_year_end(d(2027, 4, 1)), d(2028, 3, 31));
    }

    #[test]
    fn phones_and_addresses_compare_by_what_matters() {
        assert_eq!(phone_digits("０４５－１２３－４５６７"), "0451234567");
        assert_eq!(phone_digits("045 123 4567（自宅）"), "0451234567");
        assert_eq!(
            address_key("港北区大倉山１丁目２番３号"),
            address_key("港北区大倉山 1-2-3")
        );
        assert_ne!(
            address_key("港北区大倉山1-2-3"),
            address_key("港北区大倉山1-2-4")
        );
    }
}
