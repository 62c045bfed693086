//! Property test: any valid register, written as a municipality might write it (columns in
//! any order under any accepted header, optional columns left out, values in any accepted
//! spelling, UTF-8 with or without BOM or CP932, LF or CRLF), reads back as the same people
//! on the lines they were written to. The writer here is deliberately independent of the
//! parser: its own era table, its own quoting.

use chrono::{Datelike, NaiveDate};
use encoding_rs::SHIFT_JIS;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::FileFailurePersistence;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()
}

/// Characters of names, addresses and notes: kanji with extension and compatibility
/// ideographs (U+F9DC), kana of both widths, symbols, CSV's own comma, quote and line
/// break, inner spaces, and characters CP932 lacks (𠮷, é).
const TEXT_CHARS: &str = "山田太郎花子髙﨑橋本鈴木渡辺横浜市港北区新丁目番地号能表ソ①②№ｶﾞﾊﾟｱｲ　 ,\"\n-()（）・ーabcXYZ0123456789\u{F9DC}𠮷é";
/// Characters of a reading: full-width katakana and hiragana (half-width ones are
/// converted, so they would not read back as written).
const KANA_CHARS: &str = "アイウエオカガキギパピプヴァッャーヲンやまだたろうはなこ　 ";

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Target {
    Utf8,
    Utf8Bom,
    Cp932,
}

/// Whether CP932 writes and reads `s` back unchanged (U+00A5 → 0x5C → U+005C, for one,
/// does not).
fn cp932_round_trips(s: &str) -> bool {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(s);
    !unmappable
        && SHIFT_JIS
            .decode_without_bom_handling_and_without_replacement(&bytes)
            .is_some_and(|back| back == s)
}

fn chars_for(pool: &str, target: Target) -> Vec<char> {
    pool.chars()
        .filter(|c| target != Target::Cp932 || cp932_round_trips(&c.to_string()))
        .collect()
}

fn text(pool: &'static str, target: Target, max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(select(chars_for(pool, target)), 1..max)
        .prop_map(|chars| values::trim(&chars.into_iter().collect::<String>()).to_owned())
        .prop_filter("a value is not blank", |s| !s.is_empty())
}

fn optional_text(target: Target) -> impl Strategy<Value = Option<String>> {
    prop::option::of(text(TEXT_CHARS, target, 16))
}

fn birth_date() -> impl Strategy<Value = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    (0i64..45_000).prop_map(move |days| first + chrono::TimeDelta::days(days))
}

fn coordinate(limit: i64) -> impl Strategy<Value = f64> {
    (-limit * 1_000_000..=limit * 1_000_000).prop_map(|micro| micro as f64 / 1e6)
}

pub(crate) fn person(target: Target) -> impl Strategy<Value = Person> {
    let required = (
        text("0123456789ABCK-", target, 8),
        text(TEXT_CHARS, target, 16),
        text(TEXT_CHARS, target, 24),
        prop::option::of(text(KANA_CHARS, target, 12)),
        prop::option::of(birth_date()),
        prop::option::of(prop_oneof![Just(Sex::Male), Just(Sex::Female)]),
    );
    let formatted = (
        prop::option::of(0u32..10_000_000),
        prop::option::of("0[1-9]{1,4}-[0-9]{1,4}-[0-9]{4}"),
        prop::option::of(select(vec![
            "要支援1",
            "要支援2",
            "要介護1",
            "要介護2",
            "要介護3",
            "要介護4",
            "要介護5",
            "非該当",
        ])),
        prop::option::of(any::<bool>()),
        prop::option::of(coordinate(90)),
        prop::option::of(coordinate(180)),
    );
    let free = (
        optional_text(target),
        optional_text(target),
        optional_text(target),
        optional_text(target),
        optional_text(target),
        optional_text(target),
    );
    (required, formatted, free).prop_map(
        |(
            (resident_id, name, address, name_kana, birth_date, sex),
            (postal, phone, care_level, consent, latitude, longitude),
            (district, disability, support_reasons, supporters, designated_shelter, notes),
        )| Person {
            resident_id,
            name,
            name_kana,
            birth_date,
            sex,
            postal_code: postal.map(|n| format!("{:03}-{:04}", n / 10_000, n % 10_000)),
            address,
            phone,
            district,
            care_level: care_level.map(str::to_owned),
            disability,
            support_reasons,
            consent,
            supporters,
            designated_shelter,
            latitude,
            longitude,
            notes,
        },
    )
}

/// How the file is laid out, and a stream of choices for how each value is spelt.
#[derive(Clone, Debug)]
struct Layout {
    /// Columns in file order, each with the index of the header alias used.
    columns: Vec<(Field, usize)>,
    /// An unknown column at this position, if any.
    extra_column: Option<usize>,
    crlf: bool,
    choices: Vec<usize>,
}

fn layout() -> impl Strategy<Value = Layout> {
    (
        Just(Field::ALL.to_vec()).prop_shuffle(),
        prop::collection::vec((any::<bool>(), 0usize..8), Field::COUNT),
        prop::option::of(0usize..Field::COUNT),
        any::<bool>(),
        prop::collection::vec(0usize..64, 64),
    )
        .prop_map(|(order, keep, extra_column, crlf, choices)| Layout {
            columns: order
                .into_iter()
                .filter(|f| Field::REQUIRED.contains(f) || keep[*f as usize].0)
                .map(|f| (f, keep[f as usize].1))
                .collect(),
            extra_column,
            crlf,
            choices,
        })
}

/// Spelling choices, cycled.
struct Choices<'a> {
    choices: &'a [usize],
    next: usize,
}

impl Choices<'_> {
    fn pick<'b>(&mut self, options: &[&'b str]) -> &'b str {
        let choice = self.choices[self.next % self.choices.len()];
        self.next += 1;
        options[choice % options.len()]
    }

    fn flip(&mut self) -> bool {
        self.pick(&["", "x"]).is_empty()
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The era of a date, by this test's own table: (kanji, letter, first year, first day).
fn era_of(date: NaiveDate) -> (&'static str, char, i32) {
    const ERAS: [(&str, char, (i32, u32, u32)); 5] = [
        ("令和", 'R', (2019, 5, 1)),
        ("平成", 'H', (1989, 1, 8)),
        ("昭和", 'S', (1926, 12, 25)),
        ("大正", 'T', (1912, 7, 30)),
        ("明治", 'M', (1868, 1, 25)),
    ];
    ERAS.into_iter()
        .find(|(_, _, (y, m, d))| date >= NaiveDate::from_ymd_opt(*y, *m, *d).unwrap())
        .map(|(name, letter, (year, _, _))| (name, letter, year))
        .expect("test dates are after 1900")
}

fn write_date(date: NaiveDate, choices: &mut Choices) -> String {
    let (y, m, d) = (date.year(), date.month(), date.day());
    let (era, letter, first_year) = era_of(date);
    let era_year = y - first_year + 1;
    let kanji_year = if era_year == 1 {
        "元".to_owned()
    } else {
        era_year.to_string()
    };
    let written = match choices.pick(&[
        "iso", "slash", "compact", "kanji", "wareki", "dots", "slashes",
    ]) {
        "iso" => format!("{y:04}-{m:02}-{d:02}"),
        "slash" => format!("{y}/{m}/{d}"),
        "compact" => format!("{y:04}{m:02}{d:02}"),
        "kanji" => format!("{y}年{m}月{d}日"),
        "wareki" => format!("{era}{kanji_year}年{m}月{d}日"),
        "dots" => format!("{letter}{era_year}.{m}.{d}"),
        _ => format!("{letter}{era_year}/{m}/{d}"),
    };
    if choices.flip() {
        full_width(&written)
    } else {
        written
    }
}

fn write_value(field: Field, person: &Person, choices: &mut Choices, target: Target) -> String {
    let fits = |s: &&str| target != Target::Cp932 || cp932_round_trips(s);
    let pick = |options: &[&'static str], choices: &mut Choices| {
        let usable: Vec<&str> = options.iter().copied().filter(fits).collect();
        choices.pick(&usable).to_owned()
    };
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    match field {
        Field::ResidentId => person.resident_id.clone(),
        Field::Name => person.name.clone(),
        Field::Address => person.address.clone(),
        Field::NameKana => text(&person.name_kana),
        Field::BirthDate => person
            .birth_date
            .map(|d| write_date(d, choices))
            .unwrap_or_default(),
        Field::Sex => match person.sex {
            Some(Sex::Male) => pick(&["男", "男性", "M", "m", "1"], choices),
            Some(Sex::Female) => pick(&["女", "女性", "F", "2"], choices),
            None => pick(&["", "0", "9", "不明"], choices),
        },
        Field::PostalCode => match &person.postal_code {
            None => String::new(),
            Some(code) => {
                let written = match choices.pick(&["dash", "digits", "mark"]) {
                    "dash" => code.clone(),
                    "digits" => code.replace('-', ""),
                    _ => format!("〒{code}"),
                };
                if choices.flip() {
                    full_width(&written)
                } else {
                    written
                }
            }
        },
        Field::Phone => match &person.phone {
            None => String::new(),
            Some(phone) if choices.flip() => full_width(phone),
            Some(phone) => phone.clone(),
        },
        Field::CareLevel => match &person.care_level {
            Some(level) if choices.flip() => level
                .chars()
                .map(|c| {
                    if c.is_ascii_digit() {
                        full_width(&c.to_string())
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
            other => text(other),
        },
        Field::Consent => match person.consent {
            Some(true) => pick(
                &[
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
                    "TRUE",
                ],
                choices,
            ),
            Some(false) => pick(
                &[
                    "無",
                    "なし",
                    "不同意",
                    "拒否",
                    "いいえ",
                    "0",
                    "×",
                    "No",
                    "false",
                ],
                choices,
            ),
            None => String::new(),
        },
        Field::Latitude | Field::Longitude => {
            let value = if field == Field::Latitude {
                person.latitude
            } else {
                person.longitude
            };
            match value {
                None => String::new(),
                Some(v) if choices.flip() => full_width(&v.to_string()),
                Some(v) => v.to_string(),
            }
        }
        Field::District => text(&person.district),
        Field::Disability => text(&person.disability),
        Field::SupportReasons => text(&person.support_reasons),
        Field::Supporters => text(&person.supporters),
        Field::DesignatedShelter => text(&person.designated_shelter),
        Field::Notes => text(&person.notes),
    }
}

/// Quotes a field when CSV needs it to.
fn csv_field(value: &str, out: &mut String) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// The file, and the line each person starts on.
fn write_file(people: &[Person], layout: &Layout, target: Target) -> (Vec<u8>, Vec<usize>) {
    let mut choices = Choices {
        choices: &layout.choices,
        next: 0,
    };
    let line_end = if layout.crlf { "\r\n" } else { "\n" };
    let cells_of = |row: Option<&Person>, choices: &mut Choices| -> Vec<String> {
        let mut cells: Vec<String> = layout
            .columns
            .iter()
            .map(|(field, alias)| match row {
                None => {
                    let mut names: Vec<&str> = field.headers().to_vec();
                    names.push(field.canonical());
                    names[alias % names.len()].to_owned()
                }
                Some(person) => write_value(*field, person, choices, target),
            })
            .collect();
        if let Some(at) = layout.extra_column {
            let extra = if row.is_some() {
                "メモ, 任意"
            } else {
                "自治会メモ"
            };
            cells.insert(at.min(cells.len()), extra.to_owned());
        }
        cells
    };

    let mut text = String::new();
    let mut line = 1;
    let mut lines = Vec::new();
    let rows = std::iter::once(None).chain(people.iter().map(Some));
    for row in rows {
        if row.is_some() {
            lines.push(line);
        }
        let cells = cells_of(row, &mut choices);
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            csv_field(cell, &mut text);
            line += cell.matches('\n').count();
        }
        text.push_str(line_end);
        line += 1;
    }

    let bytes = match target {
        Target::Utf8 => text.into_bytes(),
        Target::Utf8Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        Target::Cp932 => {
            let (bytes, _, unmappable) = SHIFT_JIS.encode(&text);
            assert!(
                !unmappable,
                "the CP932 pools only hold encodable characters"
            );
            bytes.into_owned()
        }
    };
    (bytes, lines)
}

fn people(target: Target) -> impl Strategy<Value = Vec<Person>> {
    prop::collection::vec(person(target), 1..6).prop_map(|mut people| {
        // Distinct ids: a shared one refuses the rows, which is tested elsewhere.
        for (i, p) in people.iter_mut().enumerate() {
            p.resident_id = format!("{}{i:04}", p.resident_id);
        }
        people
    })
}

fn check_round_trip(
    people: &[Person],
    layout: &Layout,
    target: Target,
) -> Result<(), TestCaseError> {
    let (bytes, lines) = write_file(people, layout, target);
    // ASCII-only CP932 (or, rarely, CP932 that happens to be valid UTF-8) is read as
    // UTF-8 by `Auto`, rightly; the encoding is forced for those.
    let ambiguous = target == Target::Cp932 && std::str::from_utf8(&bytes).is_ok();
    let options = ImportOptions {
        encoding: if ambiguous {
            EncodingChoice::Cp932
        } else {
            EncodingChoice::Auto
        },
        mapping: None,
        today: today(),
        progress: Progress::default(),
    };
    let parsed =
        parse_register(&bytes, &options).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(
        parsed.invalid.is_empty(),
        "no problems: {:#?}",
        parsed.invalid
    );
    let expected_encoding = match target {
        Target::Utf8 => "utf-8",
        Target::Utf8Bom => "utf-8-bom",
        Target::Cp932 => "cp932",
    };
    prop_assert_eq!(parsed.encoding, expected_encoding);
    prop_assert_eq!(parsed.rows, people.len());

    let kept = |f: Field| layout.columns.iter().any(|(c, _)| *c == f);
    let expected: Vec<(usize, Person)> = lines
        .into_iter()
        .zip(people.iter().map(|p| {
            // A column left out of the file reads as blank.
            let mut p = p.clone();
            let blank_unless = |f: Field| !kept(f);
            if blank_unless(Field::NameKana) {
                p.name_kana = None;
            }
            if blank_unless(Field::BirthDate) {
                p.birth_date = None;
            }
            if blank_unless(Field::Sex) {
                p.sex = None;
            }
            if blank_unless(Field::PostalCode) {
                p.postal_code = None;
            }
            if blank_unless(Field::Phone) {
                p.phone = None;
            }
            if blank_unless(Field::District) {
                p.district = None;
            }
            if blank_unless(Field::CareLevel) {
                p.care_level = None;
            }
            if blank_unless(Field::Disability) {
                p.disability = None;
            }
            if blank_unless(Field::SupportReasons) {
                p.support_reasons = None;
            }
            if blank_unless(Field::Consent) {
                p.consent = None;
            }
            if blank_unless(Field::Supporters) {
                p.supporters = None;
            }
            if blank_unless(Field::DesignatedShelter) {
                p.designated_shelter = None;
            }
            if blank_unless(Field::Latitude) {
                p.latitude = None;
            }
            if blank_unless(Field::Longitude) {
                p.longitude = None;
            }
            if blank_unless(Field::Notes) {
                p.notes = None;
            }
            p
        }))
        .collect();
    prop_assert_eq!(parsed.records, expected);
    Ok(())
}

proptest! {
    // Failing cases are kept beside this file (roundtrip.proptest-regressions), in the
    // import's own folder.
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn utf8_registers_read_back_as_written(
        people in people(Target::Utf8),
        layout in layout(),
        bom in any::<bool>(),
    ) {
        let target = if bom { Target::Utf8Bom } else { Target::Utf8 };
        check_round_trip(&people, &layout, target)?;
    }

    #[test]
    fn cp932_registers_read_back_as_written(people in people(Target::Cp932), layout in layout()) {
        check_round_trip(&people, &layout, Target::Cp932)?;
    }
}
