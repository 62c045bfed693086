//! Fictitious people for drills, made from a seed: register persons, volunteers arriving at
//! the desk, residents phoning in a need. The same seed gives the same people on every
//! machine and every version, so a scenario plays the same way each time it is run (the
//! generator is our own SplitMix64, not a library's, whose sequence may change).
//!
//! Names are common Japanese family and given names; addresses are built from the
//! scenario's `city` and district names; phone numbers use exchanges that are not in
//! service (`045-0xx`, `090-00xx`). Generated resident ids start with `D`, which no real
//! 宛名番号 does.

use chrono::NaiveDate;
use serde_json::{Value, json};

use crate::dispatch::{AGE_GROUPS, SKILLS};
use crate::register::import::{Person, Sex};

use super::scenario::NeedFields;

/// SplitMix64: small, fast, and fixed for good.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1).max(1) as usize) as i64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn by weight; `weights` has at least one above 0.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut roll = self.next_u64() % total.max(1);
        for (i, w) in weights.iter().enumerate() {
            if roll < u64::from(*w) {
                return i;
            }
            roll -= u64::from(*w);
        }
        weights.len() - 1
    }

    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

const FAMILY: [(&str, &str); 40] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("前田", "マエダ"),
    ("藤田", "フジタ"),
    ("小川", "オガワ"),
    ("岡田", "オカダ"),
    ("後藤", "ゴトウ"),
    ("長谷川", "ハセガワ"),
    ("村上", "ムラカミ"),
    ("近藤", "コンドウ"),
    ("石井", "イシイ"),
    ("坂本", "サカモト"),
    ("遠藤", "エンドウ"),
    ("青木", "アオキ"),
    ("藤井", "フジイ"),
    ("西村", "ニシムラ"),
];

/// Given names of people born before about 1960: the register's generation.
const ELDER_MEN: [(&str, &str); 15] = [
    ("和夫", "カズオ"),
    ("清", "キヨシ"),
    ("茂", "シゲル"),
    ("勝", "マサル"),
    ("博", "ヒロシ"),
    ("正", "タダシ"),
    ("実", "ミノル"),
    ("進", "ススム"),
    ("昭", "アキラ"),
    ("武", "タケシ"),
    ("三郎", "サブロウ"),
    ("修", "オサム"),
    ("隆", "タカシ"),
    ("健一", "ケンイチ"),
    ("義男", "ヨシオ"),
];

const ELDER_WOMEN: [(&str, &str); 15] = [
    ("幸子", "サチコ"),
    ("和子", "カズコ"),
    ("洋子", "ヨウコ"),
    ("節子", "セツコ"),
    ("弘子", "ヒロコ"),
    ("京子", "キョウコ"),
    ("恵子", "ケイコ"),
    ("久子", "ヒサコ"),
    ("文子", "フミコ"),
    ("美代子", "ミヨコ"),
    ("トミ", "トミ"),
    ("ハル", "ハル"),
    ("静江", "シズエ"),
    ("照子", "テルコ"),
    ("貞子", "サダコ"),
];

/// Given names of younger people: most volunteers.
const YOUNG_MEN: [(&str, &str); 12] = [
    ("翔太", "ショウタ"),
    ("大輔", "ダイスケ"),
    ("健太", "ケンタ"),
    ("拓也", "タクヤ"),
    ("直樹", "ナオキ"),
    ("亮", "リョウ"),
    ("悠斗", "ユウト"),
    ("陽介", "ヨウスケ"),
    ("誠", "マコト"),
    ("航", "ワタル"),
    ("大樹", "ダイキ"),
    ("和也", "カズヤ"),
];

const YOUNG_WOMEN: [(&str, &str); 12] = [
    ("美咲", "ミサキ"),
    ("彩", "アヤ"),
    ("愛", "アイ"),
    ("優子", "ユウコ"),
    ("恵", "メグミ"),
    ("由美", "ユミ"),
    ("沙織", "サオリ"),
    ("真由美", "マユミ"),
    ("結衣", "ユイ"),
    ("千尋", "チヒロ"),
    ("麻衣", "マイ"),
    ("智子", "トモコ"),
];

/// Where volunteers come from: the prefecture, its neighbours, and further.
const HOMES: [(&str, &str); 10] = [
    ("神奈川県", "横浜市"),
    ("神奈川県", "横浜市"),
    ("神奈川県", "川崎市"),
    ("神奈川県", "相模原市"),
    ("神奈川県", "藤沢市"),
    ("東京都", "町田市"),
    ("東京都", "世田谷区"),
    ("埼玉県", "さいたま市"),
    ("静岡県", "静岡市"),
    ("千葉県", "船橋市"),
];

/// (kanji, kana) of a name by sex and generation.
fn name(rng: &mut Rng, male: bool, elder: bool) -> (String, String) {
    let (family, family_kana) = rng.pick(&FAMILY);
    let given = match (male, elder) {
        (true, true) => &ELDER_MEN[..],
        (false, true) => &ELDER_WOMEN[..],
        (true, false) => &YOUNG_MEN[..],
        (false, false) => &YOUNG_WOMEN[..],
    };
    let (given, given_kana) = rng.pick(given);
    (
        format!("{family} {given}"),
        format!("{family_kana} {given_kana}"),
    )
}

/// A house number in a district: 架空市みなと区北町3丁目12番5号.
fn address(rng: &mut Rng, city: &str, district: &str) -> String {
    let place = district
        .trim_end_matches("地区")
        .trim_end_matches("地域")
        .trim_end_matches("連合");
    format!(
        "{city}{place}{}丁目{}番{}号",
        rng.between(1, 5),
        rng.between(1, 30),
        rng.between(1, 20)
    )
}

/// The people of a generated register. `first_number` numbers their resident ids, so that
/// several generated lists in one scenario never share one.
pub fn register_people(
    seed: u64,
    count: usize,
    districts: &[String],
    consent: f64,
    city: &str,
    first_number: usize,
) -> Vec<Person> {
    const CARE: [(&str, u32); 8] = [
        ("", 30),
        ("要支援1", 8),
        ("要支援2", 8),
        ("要介護1", 12),
        ("要介護2", 12),
        ("要介護3", 12),
        ("要介護4", 10),
        ("要介護5", 8),
    ];
    const DISABILITY: [&str; 5] = [
        "身体障害者手帳2級",
        "視覚障害1級",
        "聴覚障害3級",
        "療育手帳B",
        "精神障害者保健福祉手帳2級",
    ];
    const REASONS: [&str; 8] = [
        "一人暮らし・歩行困難",
        "高齢者のみの世帯",
        "寝たきり",
        "車いす使用",
        "在宅酸素療法, 電源が必要",
        "認知症",
        "視覚障害",
        "人工透析（週3回）",
    ];
    let mut rng = Rng::new(seed);
    let weights: Vec<u32> = CARE.iter().map(|(_, w)| *w).collect();
    (0..count)
        .map(|i| {
            let male = rng.chance(0.4);
            let elder = !rng.chance(0.1);
            let (name, kana) = name(&mut rng, male, elder);
            let birth_year = if elder {
                rng.between(1928, 1960)
            } else {
                rng.between(1961, 2005)
            } as i32;
            let birth_date = NaiveDate::from_ymd_opt(
                birth_year,
                rng.between(1, 12) as u32,
                rng.between(1, 28) as u32,
            );
            let district = districts[i % districts.len().max(1)].clone();
            let number = first_number + i;
            let care_level = CARE[rng.weighted(&weights)].0;
            let disability =
                (!elder || rng.chance(0.15)).then(|| rng.pick(&DISABILITY).to_string());
            Person {
                resident_id: format!("D{number:07}"),
                name,
                name_kana: Some(kana),
                birth_date,
                sex: Some(if male { Sex::Male } else { Sex::Female }),
                postal_code: None,
                address: address(&mut rng, city, &district),
                phone: (!rng.chance(0.1))
                    .then(|| format!("045-0{:02}-{:04}", number / 10_000 % 100, number % 10_000)),
                district: Some(district),
                care_level: (!care_level.is_empty()).then(|| care_level.to_string()),
                disability,
                support_reasons: Some(rng.pick(&REASONS).to_string()),
                consent: Some(rng.chance(consent)),
                supporters: rng.chance(0.4).then(|| {
                    let (family, _) = rng.pick(&FAMILY);
                    format!("民生委員 {family}")
                }),
                designated_shelter: None,
                latitude: None,
                longitude: None,
                notes: None,
            }
        })
        .collect()
}

/// A register as the municipality's CSV (UTF-8 with the usual Japanese headers), in a form
/// the import reads back as the same people.
pub fn register_csv(people: &[Person]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "宛名番号",
        "氏名",
        "フリガナ",
        "生年月日",
        "性別",
        "郵便番号",
        "住所",
        "電話番号",
        "地区",
        "要介護度",
        "障害",
        "避難支援を必要とする事由",
        "情報提供同意",
        "避難支援者",
        "避難先",
        "緯度",
        "経度",
        "備考",
    ];
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(header);
    for p in people {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        let _ = writer.write_record([
            p.resident_id.clone(),
            p.name.clone(),
            text(&p.name_kana),
            p.birth_date
                .map(|d| d.format("%Y/%m/%d").to_string())
                .unwrap_or_default(),
            match p.sex {
                Some(Sex::Male) => "男".into(),
                Some(Sex::Female) => "女".into(),
                None => String::new(),
            },
            text(&p.postal_code),
            p.address.clone(),
            text(&p.phone),
            text(&p.district),
            text(&p.care_level),
            text(&p.disability),
            text(&p.support_reasons),
            match p.consent {
                Some(true) => "有".into(),
                Some(false) => "無".into(),
                None => String::new(),
            },
            text(&p.supporters),
            text(&p.designated_shelter),
            number(p.latitude),
            number(p.longitude),
            text(&p.notes),
        ]);
    }
    writer.into_inner().unwrap_or_default()
}

/// The check-in form of one volunteer (`POST .../volunteers`). `number` runs over the
/// whole drill, so no two volunteers share a phone.
pub fn volunteer(rng: &mut Rng, number: usize, uninsured: f64, group_name: &str) -> Value {
    let male = rng.chance(0.55);
    let age_group = AGE_GROUPS[1 + rng.weighted(&[22, 18, 20, 20, 14, 6])];
    let elder = matches!(age_group, "60s" | "70_plus");
    let (name, kana) = name(rng, male, elder);
    let (prefecture, city) = rng.pick(&HOMES);
    let skills: Vec<&str> = if rng.chance(0.2) {
        vec![rng.pick(&SKILLS).0]
    } else {
        vec![]
    };
    let insurance = if rng.chance(uninsured) {
        json!({ "joined": false })
    } else {
        // The 天災 type most centres ask for; some come with the basic one.
        let plan = if rng.chance(0.8) { "disaster" } else { "basic" };
        json!({ "joined": true, "plan": plan })
    };
    json!({
        "name": name,
        "name_kana": kana,
        "phone": format!("090-00{:02}-{:04}", number / 10_000 % 100, number % 10_000),
        "prefecture": prefecture,
        "city": city,
        "age_group": age_group,
        "emergency_contact": "",
        "skills": skills,
        "group_name": group_name,
        "insurance": insurance,
    })
}

/// What a caller says, by category, when the scenario does not say it.
fn description_for(rng: &mut Rng, category: &str) -> String {
    let options: &[&str] = match category {
        "mud_removal" => &[
            "床下浸水。床下の泥出しをお願いしたい",
            "床上浸水。室内の泥出しと畳の搬出をお願いしたい",
            "庭と駐車場に泥が溜まって車が出せない",
            "高齢の二人暮らしで、床下の泥を自分では出せない",
        ],
        "furniture_removal" => &[
            "浸水した畳と家具を運び出したい",
            "濡れた家電と布団を集積所まで運んでほしい",
        ],
        "cleaning" => &["泥出しの後の床下の清掃と消毒をお願いしたい"],
        "tidying" => &[
            "地震で倒れた家具と割れた食器の片付け",
            "本棚と食器棚が倒れて部屋に入れない",
        ],
        "supply_transport" => &["避難所まで水と食料を運んでほしい"],
        "watching_over" => &["一人暮らしの母の様子を見に行ってほしい（家族は遠方）"],
        "evacuation_support" => &["足が悪く自力で避難所まで行けない"],
        _ => &["困りごとの相談"],
    };
    rng.pick(options).to_string()
}

/// The intake form of a need (`POST .../needs`), from the scenario's fields.
pub fn need_body(fields: &NeedFields) -> Value {
    json!({
        "requester_name": fields.requester_name,
        "phone": fields.phone,
        "address": fields.address,
        "district": fields.district,
        "category": fields.category,
        "description": fields.description,
        "people_needed": fields.people,
        "skills_needed": fields.skills,
        "priority": fields.priority,
        "urgent": fields.urgent,
        "requires_care": fields.requires_care,
        "resident_id": fields.resident_id,
    })
}

/// A need phoned in by a generated resident of one of the districts. `number` runs over
/// the whole drill, so phones differ (a repeated address is possible, as in life).
pub fn generated_need(
    rng: &mut Rng,
    number: usize,
    city: &str,
    districts: &[String],
    template: &NeedFields,
) -> Value {
    let district = rng.pick(districts).clone();
    let male = rng.chance(0.5);
    let elder = rng.chance(0.7);
    let (requester_name, _) = name(rng, male, elder);
    let mut fields = template.clone();
    fields.requester_name = requester_name;
    fields.phone = format!("045-09{}-{:04}", number / 10_000 % 10, number % 10_000);
    fields.address = address(rng, city, &district);
    fields.district = district;
    if fields.description.is_empty() {
        fields.description = description_for(rng, &template.category);
    }
    if fields.people == 0 {
        fields.people = rng.between(2, 6);
    }
    need_body(&fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::register::import::{ImportOptions, parse_register};

    #[test]
    fn the_same_seed_makes_the_same_people() {
        let districts = vec!["北地区".to_string(), "南地区".to_string()];
        let a = register_people(7, 50, &districts, 0.8, "架空市", 1);
        let b = register_people(7, 50, &districts, 0.8, "架空市", 1);
        let c = register_people(8, 50, &districts, 0.8, "架空市", 1);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a[0].resident_id, "D0000001");
        assert_eq!(a[49].resident_id, "D0000050");
    }

    #[test]
    fn a_generated_register_reads_back_as_the_same_people() {
        let districts = vec!["北地区".to_string(), "南地区".to_string()];
        let people = register_people(3, 200, &districts, 0.7, "架空市みなと区", 1);
        let parsed = parse_register(&register_csv(&people), &ImportOptions::default())
            .expect("a register the import reads");
        assert_eq!(parsed.invalid, vec![]);
        let back: Vec<Person> = parsed.records.into_iter().map(|(_, p)| p).collect();
        assert_eq!(back, people);
    }

    #[test]
    fn weights_and_shares_are_followed() {
        let mut rng = Rng::new(1);
        let mut counts = [0; 3];
        for _ in 0..10_000 {
            counts[rng.weighted(&[1, 0, 3])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((2_200..2_800).contains(&counts[0]), "{counts:?}");
        let uninsured = (0..1000)
            .filter(|n| volunteer(&mut rng, *n, 0.1, "")["insurance"]["joined"] == false)
            .count();
        assert!((60..140).contains(&uninsured), "{uninsured}");
    }
}
