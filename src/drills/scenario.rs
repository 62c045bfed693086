//! The scenario file (`drills/*.toml`): what a drill plays, read and checked before anything
//! touches a server. A scenario names the drill, says how long it lasts, which register and
//! shelters it needs, and lists timed injects (a need phoned in, volunteers arriving, a
//! safety report, a shelter opening, closing or full, an announcement, a register import).
//!
//! Reading is in two passes. serde reads the TOML into loose `Raw*` structs whose every
//! field is `Spanned`, so a wrong type or an unknown field is reported by the `toml` crate
//! with its place; then `check` turns them into a [`Scenario`], collecting every problem
//! (a field that does not belong to the inject's kind, an offset past the end, an unknown
//! category, a shelter nobody defined) as `FILE:LINE: reason`, so `drill check` shows them
//! all at once. The format itself is documented in `drills/README.md`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::dispatch::{NEED_CATEGORIES, SKILLS};
use crate::register::import::{self as register_import, ImportOptions, Person};
use crate::register::safety::STATUSES;
use crate::shelters::ShelterFields;

/// The longest drill: two weeks of a centre's life is more than any exercise plays.
pub const MAX_DURATION: Duration = Duration::from_secs(14 * 24 * 3600);
/// The most people a generated register may hold.
pub const MAX_REGISTER: i64 = 100_000;
/// The most calls one inject may expand to (volunteers arriving, needs, a safety sweep).
pub const MAX_COUNT: i64 = 5_000;
/// The most calls a whole scenario may make: a drill, not a load test.
pub const MAX_STEPS: usize = 100_000;

/// The kinds of inject, as written in `kind = "..."`.
pub const KINDS: [&str; 8] = [
    "need",
    "volunteers",
    "safety",
    "shelter_open",
    "shelter_close",
    "shelter_full",
    "announcement",
    "register_import",
];

/// One problem with a scenario, where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// Every problem found in a scenario, one `FILE:LINE: reason` per line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

/// A scenario, checked: everything in it can be played.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file as it was named, for messages.
    pub file: String,
    pub name: String,
    pub description: String,
    pub duration: Duration,
    /// Seeds every generated name, phone and choice that an inject does not seed itself.
    pub seed: u64,
    /// The municipality (and ward) put before generated addresses, e.g. 架空市みなと区.
    pub city: String,
    pub register: Option<Register>,
    /// Shelters the drill needs in the registry; made when missing, matched by name.
    pub shelters: Vec<ShelterFields>,
    /// In the order written; the timeline sorts them by time.
    pub injects: Vec<Inject>,
}

/// Where the register's people come from.
#[derive(Clone, Debug)]
pub enum Register {
    /// A CSV file beside the scenario, sent as it is (any encoding the import reads).
    File {
        path: PathBuf,
        bytes: Vec<u8>,
        /// The people read from it here, for imports that add to it later.
        people: Vec<Person>,
        allow_invalid: bool,
    },
    /// Fictitious people made from a seed.
    Generated {
        seed: u64,
        count: usize,
        districts: Vec<String>,
        /// The share who consented to their data being shared (情報提供同意).
        consent: f64,
    },
}

impl Register {
    /// The districts people of this register live in (for a file: those it names).
    pub fn districts(&self) -> BTreeSet<String> {
        match self {
            Register::File { people, .. } => {
                people.iter().filter_map(|p| p.district.clone()).collect()
            }
            Register::Generated { districts, .. } => districts.iter().cloned().collect(),
        }
    }
}

/// One timed inject.
#[derive(Clone, Debug)]
pub struct Inject {
    /// The line of its `[[injects]]` header.
    pub line: usize,
    /// From the start of the drill.
    pub at: Duration,
    pub what: What,
}

#[derive(Clone, Debug)]
pub enum What {
    Need(NeedInject),
    /// `count` volunteers arriving at the desk, spread evenly over `over`.
    Volunteers {
        count: usize,
        over: Duration,
        seed: u64,
        /// The share who come without activity insurance.
        uninsured: f64,
        /// All of them one group (a company, a university club), when given.
        group_name: String,
    },
    Safety {
        target: SafetyTarget,
        /// (status, weight): the status of each report is drawn by weight.
        statuses: Vec<(String, u32)>,
        count: usize,
        over: Duration,
        seed: u64,
        note: String,
    },
    ShelterOpen {
        shelter: String,
        capacity: Option<i64>,
    },
    ShelterClose {
        shelter: String,
    },
    /// The shelter reports it is full (満床): it stays open with its capacity set to the
    /// people it holds, so nobody new is assigned without an admin's override.
    ShelterFull {
        shelter: String,
    },
    Announcement {
        text: String,
    },
    RegisterImport {
        register: Register,
        /// Import exactly this list (people missing from it are marked removed), instead of
        /// adding it to the people imported so far.
        replace: bool,
    },
}

impl What {
    pub fn kind(&self) -> &'static str {
        match self {
            What::Need(_) => "need",
            What::Volunteers { .. } => "volunteers",
            What::Safety { .. } => "safety",
            What::ShelterOpen { .. } => "shelter_open",
            What::ShelterClose { .. } => "shelter_close",
            What::ShelterFull { .. } => "shelter_full",
            What::Announcement { .. } => "announcement",
            What::RegisterImport { .. } => "register_import",
        }
    }
}

#[derive(Clone, Debug)]
pub enum NeedInject {
    /// One call, as written.
    One(NeedFields),
    /// `count` calls from generated requesters in the districts, spread over `over`.
    Generated {
        count: usize,
        over: Duration,
        seed: u64,
        districts: Vec<String>,
        template: NeedFields,
    },
}

/// The fields of a need as the intake form has them (`POST .../needs`). In a generated
/// inject the requester, phone, address and district are made up; `people` of 0 means a
/// number drawn for each call.
#[derive(Clone, Debug, Default)]
pub struct NeedFields {
    pub requester_name: String,
    pub phone: String,
    pub address: String,
    pub district: String,
    pub category: String,
    pub description: String,
    pub people: i64,
    pub skills: Vec<String>,
    pub priority: String,
    pub urgent: bool,
    pub requires_care: bool,
    pub resident_id: Option<String>,
}

#[derive(Clone, Debug)]
pub enum SafetyTarget {
    /// One person of the register.
    Resident(String),
    /// Unconfirmed people of a district, drawn when the inject fires.
    District(String),
}

/// A time from the start, or a span: seconds (`90`) or units (`"2d"`, `"1h30m"`, `"45s"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offset(pub Duration);

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Offset, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Offset;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a time: seconds (90) or units such as \"2d\", \"1h30m\", \"45s\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Offset, E> {
                u64::try_from(v)
                    .map(|s| Offset(Duration::from_secs(s)))
                    .map_err(|_| E::custom("a time cannot be negative"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Offset, E> {
                Ok(Offset(Duration::from_secs(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Offset, E> {
                parse_offset(v).map(Offset).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Reads `"2d"`, `"90m"`, `"1h30m"`, `"1d 6h"`, `"45s"` or a bare number of seconds.
pub fn parse_offset(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "cannot read {text:?} as a time: write seconds (90) or units d, h, m, s (\"2d\", \"1h30m\", \"45s\")"
        )
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = trimmed.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut units_seen = String::new();
    for c in trimmed.chars() {
        match c {
            '0'..='9' => {
                let digit = u64::from(c as u8 - b'0');
                number = Some(
                    number
                        .unwrap_or(0)
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(digit))
                        .ok_or_else(bad)?,
                );
            }
            'd' | 'h' | 'm' | 's' => {
                let n = number.take().ok_or_else(bad)?;
                // Largest unit first, each once: "1h30m", never "30m1h" or "1h1h".
                let order = "dhms";
                if units_seen.chars().any(|u| order.find(u) >= order.find(c)) {
                    return Err(bad());
                }
                units_seen.push(c);
                let unit = match c {
                    'd' => 86_400,
                    'h' => 3_600,
                    'm' => 60,
                    _ => 1,
                };
                total = n
                    .checked_mul(unit)
                    .and_then(|s| total.checked_add(s))
                    .ok_or_else(bad)?;
            }
            ' ' => {
                if number.is_some() {
                    return Err(bad());
                }
            }
            _ => return Err(bad()),
        }
    }
    if number.is_some() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

/// `2d3h`, `1h30m`, `45s`, `0s`: how times are shown back.
pub fn format_offset(d: Duration) -> String {
    let mut s = d.as_secs();
    if s == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= size {
            out.push_str(&format!("{}{unit}", s / size));
            s %= size;
        }
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    duration: Option<Spanned<Offset>>,
    seed: Option<Spanned<i64>>,
    #[serde(default)]
    city: String,
    register: Option<Spanned<RawRegister>>,
    #[serde(default)]
    shelters: Vec<Spanned<RawShelter>>,
    #[serde(default)]
    injects: Vec<Spanned<RawInject>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    file: Option<Spanned<String>>,
    seed: Option<Spanned<i64>>,
    count: Option<Spanned<i64>>,
    districts: Option<Spanned<Vec<String>>>,
    consent: Option<Spanned<f64>>,
    allow_invalid: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawShelter {
    name: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    capacity: Option<Spanned<i64>>,
    #[serde(default)]
    categories: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    facilities: Option<Spanned<Vec<String>>>,
    latitude: Option<Spanned<f64>>,
    longitude: Option<Spanned<f64>>,
    contact: Option<Spanned<String>>,
    notes: Option<Spanned<String>>,
}

/// An inject as written: every field any kind may have, each optional and spanned; which
/// belong to which kind is checked after reading, so that a misplaced field is named with
/// its line and the kind it does not belong to.
macro_rules! raw_inject {
    ($($field:ident : $ty:ty),* $(,)?) => {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RawInject {
            $( $field: Option<Spanned<$ty>>, )*
        }

        impl RawInject {
            /// The fields written, with the byte offset of each value.
            fn written(&self) -> Vec<(&'static str, usize)> {
                let mut out = Vec::new();
                $( if let Some(value) = &self.$field {
                    out.push((stringify!($field), value.span().start));
                } )*
                out
            }
        }
    };
}

raw_inject! {
    at: Offset,
    kind: String,
    // need
    requester_name: String,
    phone: String,
    address: String,
    district: String,
    category: String,
    description: String,
    people: i64,
    skills: Vec<String>,
    priority: String,
    urgent: bool,
    requires_care: bool,
    resident_id: String,
    // spreading one inject into many calls
    count: i64,
    over: Offset,
    districts: Vec<String>,
    seed: i64,
    // volunteers
    uninsured: f64,
    group_name: String,
    // safety
    status: String,
    statuses: BTreeMap<String, i64>,
    note: String,
    // shelters
    shelter: String,
    capacity: i64,
    // announcement
    text: String,
    // register_import
    file: String,
    consent: f64,
    replace: bool,
    allow_invalid: bool,
}

/// The fields each kind takes besides `at` and `kind`.
fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "need" => &[
            "requester_name",
            "phone",
            "address",
            "district",
            "category",
            "description",
            "people",
            "skills",
            "priority",
            "urgent",
            "requires_care",
            "resident_id",
            "count",
            "over",
            "districts",
            "seed",
        ],
        "volunteers" => &["count", "over", "seed", "uninsured", "group_name"],
        "safety" => &[
            "resident_id",
            "district",
            "status",
            "statuses",
            "count",
            "over",
            "seed",
            "note",
        ],
        "shelter_open" => &["shelter", "capacity"],
        "shelter_close" | "shelter_full" => &["shelter"],
        "announcement" => &["text"],
        "register_import" => &[
            "file",
            "seed",
            "count",
            "districts",
            "consent",
            "replace",
            "allow_invalid",
        ],
        _ => &[],
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, pos: usize) -> usize {
    text.get(..pos.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

impl Scenario {
    /// Reads and checks a scenario file. A register file it names is read relative to it.
    pub fn load(path: &Path) -> Result<Scenario, Problems> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Problems(vec![Problem {
                file: file.clone(),
                line: 1,
                reason: format!("cannot read the scenario: {e}"),
            }])
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Scenario::parse(&text, &file, base)
    }

    /// Reads and checks a scenario's text; `file` names it in messages and `base` is the
    /// folder register files are relative to.
    pub fn parse(text: &str, file: &str, base: &Path) -> Result<Scenario, Problems> {
        let mut checker = Checker {
            file,
            text,
            base,
            problems: Vec::new(),
        };
        let raw: RawScenario = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map_or(1, |span| line_of(text, span.start));
                return Err(Problems(vec![Problem {
                    file: file.into(),
                    line,
                    reason: e.message().trim().to_string(),
                }]));
            }
        };
        let scenario = checker.scenario(raw);
        match scenario {
            Some(scenario) if checker.problems.is_empty() => Ok(scenario),
            _ => {
                let mut problems = checker.problems;
                problems.sort_by_key(|p| p.line);
                problems.dedup();
                Err(Problems(problems))
            }
        }
    }
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    base: &'a Path,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, pos: usize, reason: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            line: line_of(self.text, pos),
            reason: reason.into(),
        });
    }

    fn scenario(&mut self, raw: RawScenario) -> Option<Scenario> {
        let name = match raw.name {
            Some(name) if !name.get_ref().trim().is_empty() => {
                let (span, name) = (name.span(), name.into_inner());
                if name.trim().chars().count() > 150 {
                    self.problem(span.start, "name has at most 150 characters");
                }
                name.trim().to_string()
            }
            Some(name) => {
                self.problem(name.span().start, "name must not be blank");
                String::new()
            }
            None => {
                self.problem(0, "a scenario needs a name (name = \"...\")");
                String::new()
            }
        };
        let duration = match raw.duration {
            Some(d) => {
                let value = d.get_ref().0;
                if value.is_zero() || value > MAX_DURATION {
                    self.problem(
                        d.span().start,
                        "duration is more than 0 and at most 14d (two weeks)",
                    );
                }
                value
            }
            None => {
                self.problem(
                    0,
                    "a scenario needs a duration (duration = \"2d\", \"90m\", or seconds)",
                );
                Duration::ZERO
            }
        };
        let seed = self.seed(raw.seed.as_ref()).unwrap_or(1);
        let register = raw.register.and_then(|r| {
            let line_pos = r.span().start;
            self.register(r.into_inner(), line_pos, seed, "[register]")
        });
        let shelters = self.shelters(raw.shelters);
        let shelter_names: BTreeSet<String> = shelters.iter().map(|s| s.name.clone()).collect();
        let mut injects = Vec::new();
        for (index, raw_inject) in raw.injects.into_iter().enumerate() {
            let pos = raw_inject.span().start;
            let inject_seed = seed
                .wrapping_add(1 + index as u64)
                .wrapping_mul(0x9E37_79B9);
            if let Some(inject) =
                self.inject(raw_inject.into_inner(), pos, inject_seed, &shelter_names)
            {
                injects.push((pos, inject));
            }
        }
        // Offsets and spans within the drill.
        for (pos, inject) in &injects {
            let over = match &inject.what {
                What::Volunteers { over, .. }
                | What::Safety { over, .. }
                | What::Need(NeedInject::Generated { over, .. }) => *over,
                _ => Duration::ZERO,
            };
            if !duration.is_zero() && inject.at + over > duration {
                let end = format_offset(duration);
                let reason = if over.is_zero() {
                    format!(
                        "at = {} is after the end of the drill (duration {end})",
                        format_offset(inject.at)
                    )
                } else {
                    format!(
                        "at + over = {} is after the end of the drill (duration {end})",
                        format_offset(inject.at + over)
                    )
                };
                self.problem(*pos, reason);
            }
        }
        // Districts a safety inject sweeps must be in the register the scenario brings.
        let mut districts: BTreeSet<String> = register
            .as_ref()
            .map(Register::districts)
            .unwrap_or_default();
        for (_, inject) in &injects {
            if let What::RegisterImport { register, .. } = &inject.what {
                districts.extend(register.districts());
            }
        }
        let brings_register = register.is_some()
            || injects
                .iter()
                .any(|(_, i)| matches!(i.what, What::RegisterImport { .. }));
        for (pos, inject) in &injects {
            if let What::Safety {
                target: SafetyTarget::District(district),
                ..
            } = &inject.what
                && brings_register
                && !districts.contains(district)
            {
                let known: Vec<&str> = districts.iter().map(String::as_str).collect();
                self.problem(
                    *pos,
                    format!(
                        "district {district:?} is not in the scenario's register (its districts: {})",
                        known.join(", ")
                    ),
                );
            }
        }
        let steps: usize = injects.iter().map(|(_, i)| steps_of(&i.what)).sum();
        if steps > MAX_STEPS {
            self.problem(
                0,
                format!("the injects make {steps} calls; a scenario makes at most {MAX_STEPS}"),
            );
        }
        Some(Scenario {
            file: self.file.to_string(),
            name,
            description: raw.description.trim().to_string(),
            duration,
            seed,
            city: raw.city.trim().to_string(),
            register,
            shelters,
            injects: injects.into_iter().map(|(_, i)| i).collect(),
        })
    }

    fn seed(&mut self, seed: Option<&Spanned<i64>>) -> Option<u64> {
        let seed = seed?;
        match u64::try_from(*seed.get_ref()) {
            Ok(s) => Some(s),
            Err(_) => {
                self.problem(seed.span().start, "seed is a whole number, 0 or more");
                None
            }
        }
    }

    fn count(&mut self, count: &Spanned<i64>, max: i64, what: &str) -> usize {
        let n = *count.get_ref();
        if !(1..=max).contains(&n) {
            self.problem(
                count.span().start,
                format!("count of {what} is from 1 to {max}"),
            );
            return 1;
        }
        n as usize
    }

    fn share(&mut self, share: Option<&Spanned<f64>>, field: &str, default: f64) -> f64 {
        match share {
            Some(s) if !(0.0..=1.0).contains(s.get_ref()) => {
                self.problem(
                    s.span().start,
                    format!("{field} is a share from 0 to 1 (0.1 = one in ten)"),
                );
                default
            }
            Some(s) => *s.get_ref(),
            None => default,
        }
    }

    fn districts(&mut self, districts: &Spanned<Vec<String>>) -> Vec<String> {
        let list: Vec<String> = districts
            .get_ref()
            .iter()
            .map(|d| d.trim().to_string())
            .collect();
        if list.is_empty() || list.iter().any(String::is_empty) {
            self.problem(
                districts.span().start,
                "districts is a list of district names, none blank",
            );
        }
        list
    }

    /// The register of the header, or of a `register_import` inject.
    fn register(
        &mut self,
        raw: RawRegister,
        pos: usize,
        default_seed: u64,
        what: &str,
    ) -> Option<Register> {
        let generated = raw.count.is_some() || raw.districts.is_some() || raw.seed.is_some();
        match (&raw.file, generated) {
            (Some(_), true) => {
                self.problem(
                    pos,
                    format!(
                        "{what}: give either file = \"...\" or a generated register (count, districts, seed), not both"
                    ),
                );
                None
            }
            (None, false) => {
                self.problem(
                    pos,
                    format!(
                        "{what}: give file = \"register.csv\" or count and districts to generate people"
                    ),
                );
                None
            }
            (Some(file), false) => {
                if let Some(consent) = &raw.consent {
                    self.problem(
                        consent.span().start,
                        "consent is for generated registers; a file says who consented",
                    );
                }
                let allow_invalid = raw.allow_invalid.as_ref().is_some_and(|a| *a.get_ref());
                self.register_file(file, allow_invalid)
            }
            (None, true) => {
                if let Some(a) = &raw.allow_invalid {
                    self.problem(
                        a.span().start,
                        "allow_invalid is for register files; generated people are all valid",
                    );
                }
                let seed = self.seed(raw.seed.as_ref()).unwrap_or(default_seed);
                let count = match &raw.count {
                    Some(c) => self.count(c, MAX_REGISTER, "people"),
                    None => {
                        self.problem(
                            pos,
                            format!("{what}: count of people to generate is missing"),
                        );
                        1
                    }
                };
                let districts = match &raw.districts {
                    Some(d) => self.districts(d),
                    None => {
                        self.problem(
                            pos,
                            format!(
                                "{what}: districts = [\"...\"] is missing: where the people live"
                            ),
                        );
                        vec![]
                    }
                };
                let consent = self.share(raw.consent.as_ref(), "consent", 0.8);
                Some(Register::Generated {
                    seed,
                    count,
                    districts,
                    consent,
                })
            }
        }
    }

    /// A register file beside the scenario, read as the import would read it.
    fn register_file(&mut self, file: &Spanned<String>, allow_invalid: bool) -> Option<Register> {
        let pos = file.span().start;
        let path = self.base.join(file.get_ref());
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.problem(pos, format!("cannot read {}: {e}", path.display()));
                return None;
            }
        };
        match register_import::parse_register(&bytes, &ImportOptions::default()) {
            Err(e) => {
                self.problem(pos, format!("{}: {e}", path.display()));
                None
            }
            Ok(parsed) => {
                if let Some(first) = parsed.invalid.first()
                    && !allow_invalid
                {
                    self.problem(
                        pos,
                        format!(
                            "{} has {} invalid cells (first: line {}, {}: {}); fix the file or set allow_invalid = true",
                            path.display(),
                            parsed.invalid.len(),
                            first.line,
                            first.column,
                            first.reason
                        ),
                    );
                }
                if parsed.records.is_empty() {
                    self.problem(pos, format!("{} holds nobody", path.display()));
                }
                Some(Register::File {
                    path,
                    bytes,
                    people: parsed.records.into_iter().map(|(_, p)| p).collect(),
                    allow_invalid,
                })
            }
        }
    }

    fn shelters(&mut self, raw: Vec<Spanned<RawShelter>>) -> Vec<ShelterFields> {
        let mut out: Vec<ShelterFields> = Vec::new();
        for shelter in raw {
            let pos = shelter.span().start;
            let s = shelter.into_inner();
            let text = |v: &Option<Spanned<String>>| v.as_ref().map(|v| v.get_ref().clone());
            let fields = ShelterFields {
                name: text(&s.name).unwrap_or_default(),
                address: text(&s.address).unwrap_or_default(),
                latitude: s.latitude.as_ref().map(|v| *v.get_ref()),
                longitude: s.longitude.as_ref().map(|v| *v.get_ref()),
                capacity: s.capacity.as_ref().map_or(-1, |v| *v.get_ref()),
                categories: s
                    .categories
                    .as_ref()
                    .map(|v| v.get_ref().clone())
                    .unwrap_or_default(),
                facilities: s
                    .facilities
                    .as_ref()
                    .map(|v| v.get_ref().clone())
                    .unwrap_or_default(),
                contact: text(&s.contact).unwrap_or_default(),
                notes: text(&s.notes).unwrap_or_default(),
            };
            if s.capacity.is_none() {
                self.problem(pos, "a shelter needs a capacity (定員)");
                continue;
            }
            // The registry's own rules, so the shelter the runner creates is never refused.
            match fields.validated() {
                Ok(fields) => {
                    if out.iter().any(|o| o.name == fields.name) {
                        self.problem(pos, format!("shelter {:?} is defined twice", fields.name));
                    }
                    out.push(fields);
                }
                Err(crate::error::AppError::Invalid { field, message }) => {
                    let base = field.split('[').next().unwrap_or(&field);
                    let at = match base {
                        "name" => s.name.as_ref().map(|v| v.span().start),
                        "address" => s.address.as_ref().map(|v| v.span().start),
                        "capacity" => s.capacity.as_ref().map(|v| v.span().start),
                        "categories" => s.categories.as_ref().map(|v| v.span().start),
                        "facilities" => s.facilities.as_ref().map(|v| v.span().start),
                        "latitude" => s.latitude.as_ref().map(|v| v.span().start),
                        "longitude" => s.longitude.as_ref().map(|v| v.span().start),
                        "contact" => s.contact.as_ref().map(|v| v.span().start),
                        "notes" => s.notes.as_ref().map(|v| v.span().start),
                        _ => None,
                    };
                    self.problem(at.unwrap_or(pos), format!("shelter: {message}"));
                }
                Err(other) => self.problem(pos, format!("shelter: {other}")),
            }
        }
        out
    }

    fn inject(
        &mut self,
        raw: RawInject,
        pos: usize,
        default_seed: u64,
        shelters: &BTreeSet<String>,
    ) -> Option<Inject> {
        let Some(kind) = &raw.kind else {
            self.problem(
                pos,
                format!("an inject needs a kind: one of {}", KINDS.join(", ")),
            );
            return None;
        };
        let kind_pos = kind.span().start;
        let kind = kind.get_ref().as_str();
        if !KINDS.contains(&kind) {
            self.problem(
                kind_pos,
                format!("unknown kind {kind:?}: one of {}", KINDS.join(", ")),
            );
            return None;
        }
        let Some(at) = &raw.at else {
            self.problem(
                pos,
                "an inject needs at = \"...\": when, from the start of the drill",
            );
            return None;
        };
        let at = at.get_ref().0;
        let allowed = fields_of(kind);
        let before = self.problems.len();
        for (field, field_pos) in raw.written() {
            if field != "at" && field != "kind" && !allowed.contains(&field) {
                self.problem(
                    field_pos,
                    format!(
                        "{field} is not a field of kind {kind:?} (it takes at, kind, {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
        if self.problems.len() > before {
            return None;
        }
        let seed = self.seed(raw.seed.as_ref()).unwrap_or(default_seed);
        let what = match kind {
            "need" => What::Need(self.need(&raw, pos, seed)?),
            "volunteers" => {
                let count = match &raw.count {
                    Some(c) => self.count(c, MAX_COUNT, "volunteers"),
                    None => {
                        self.problem(pos, "a volunteers inject needs count: how many arrive");
                        return None;
                    }
                };
                What::Volunteers {
                    count,
                    over: raw.over.as_ref().map_or(Duration::ZERO, |o| o.get_ref().0),
                    seed,
                    uninsured: self.share(raw.uninsured.as_ref(), "uninsured", 0.0),
                    group_name: self.text(raw.group_name.as_ref(), "group_name", 100, false),
                }
            }
            "safety" => self.safety(&raw, pos, seed)?,
            "shelter_open" | "shelter_close" | "shelter_full" => {
                let Some(shelter) = &raw.shelter else {
                    self.problem(
                        pos,
                        format!("a {kind} inject needs shelter = \"...\" (its name)"),
                    );
                    return None;
                };
                let name = shelter.get_ref().trim().to_string();
                if !shelters.contains(&name) {
                    let known: Vec<&str> = shelters.iter().map(String::as_str).collect();
                    self.problem(
                        shelter.span().start,
                        format!(
                            "shelter {name:?} is not defined in [[shelters]] (defined: {})",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known.join(", ")
                            }
                        ),
                    );
                    return None;
                }
                match kind {
                    "shelter_open" => {
                        let capacity = raw.capacity.as_ref().map(|c| {
                            if !(0..=100_000).contains(c.get_ref()) {
                                self.problem(c.span().start, "capacity is from 0 to 100000");
                            }
                            *c.get_ref()
                        });
                        What::ShelterOpen {
                            shelter: name,
                            capacity,
                        }
                    }
                    "shelter_close" => What::ShelterClose { shelter: name },
                    _ => What::ShelterFull { shelter: name },
                }
            }
            "announcement" => {
                if raw.text.is_none() {
                    self.problem(pos, "an announcement inject needs text = \"...\"");
                    return None;
                }
                What::Announcement {
                    text: self.text(raw.text.as_ref(), "text", 2000, true),
                }
            }
            "register_import" => {
                let register = RawRegister {
                    file: raw.file.clone(),
                    seed: raw.seed.clone(),
                    count: raw.count.clone(),
                    districts: raw.districts.clone(),
                    consent: raw.consent.clone(),
                    allow_invalid: raw.allow_invalid.clone(),
                };
                let register = self.register(register, pos, seed, "register_import")?;
                What::RegisterImport {
                    register,
                    replace: raw.replace.as_ref().is_some_and(|r| *r.get_ref()),
                }
            }
            _ => unreachable!("kinds are checked above"),
        };
        Some(Inject {
            line: line_of(self.text, pos),
            at,
            what,
        })
    }

    /// A text field, trimmed and checked for length.
    fn text(
        &mut self,
        value: Option<&Spanned<String>>,
        field: &str,
        max: usize,
        required: bool,
    ) -> String {
        let Some(value) = value else {
            return String::new();
        };
        let text = value.get_ref().trim();
        if required && text.is_empty() {
            self.problem(value.span().start, format!("{field} must not be blank"));
        }
        if text.chars().count() > max {
            self.problem(
                value.span().start,
                format!("{field} has at most {max} characters"),
            );
        }
        text.to_string()
    }

    fn need(&mut self, raw: &RawInject, pos: usize, seed: u64) -> Option<NeedInject> {
        let category = match &raw.category {
            Some(c) if NEED_CATEGORIES.iter().any(|(code, _)| code == c.get_ref()) => {
                c.get_ref().clone()
            }
            Some(c) => {
                self.problem(
                    c.span().start,
                    format!(
                        "unknown category {:?}: one of {}",
                        c.get_ref(),
                        codes_of(&NEED_CATEGORIES)
                    ),
                );
                String::new()
            }
            None => {
                self.problem(
                    pos,
                    format!(
                        "a need inject needs a category: one of {}",
                        codes_of(&NEED_CATEGORIES)
                    ),
                );
                String::new()
            }
        };
        let skills = raw.skills.as_ref().map_or_else(Vec::new, |s| {
            for skill in s.get_ref() {
                if !SKILLS.iter().any(|(code, _)| code == skill) {
                    self.problem(
                        s.span().start,
                        format!("unknown skill {skill:?}: one of {}", codes_of(&SKILLS)),
                    );
                }
            }
            s.get_ref().clone()
        });
        let priority = match &raw.priority {
            Some(p) if ["high", "normal", "low"].contains(&p.get_ref().as_str()) => {
                p.get_ref().clone()
            }
            Some(p) => {
                self.problem(p.span().start, "priority is high, normal or low");
                String::new()
            }
            None => "normal".into(),
        };
        let people = match &raw.people {
            Some(p) if !(1..=100).contains(p.get_ref()) => {
                self.problem(p.span().start, "people (people needed) is from 1 to 100");
                1
            }
            Some(p) => *p.get_ref(),
            None => 0,
        };
        let fields = NeedFields {
            requester_name: self.text(raw.requester_name.as_ref(), "requester_name", 100, true),
            phone: self.text(raw.phone.as_ref(), "phone", 40, false),
            address: self.text(raw.address.as_ref(), "address", 300, true),
            district: self.text(raw.district.as_ref(), "district", 100, false),
            category,
            description: self.text(raw.description.as_ref(), "description", 4000, false),
            people,
            skills,
            priority,
            urgent: raw.urgent.as_ref().is_some_and(|u| *u.get_ref()),
            requires_care: raw.requires_care.as_ref().is_some_and(|r| *r.get_ref()),
            resident_id: raw
                .resident_id
                .as_ref()
                .map(|r| r.get_ref().trim().to_string())
                .filter(|r| !r.is_empty()),
        };
        match &raw.count {
            None => {
                for (field, value) in [
                    ("over", raw.over.as_ref().map(|v| v.span().start)),
                    ("districts", raw.districts.as_ref().map(|v| v.span().start)),
                    ("seed", raw.seed.as_ref().map(|v| v.span().start)),
                ] {
                    if let Some(at) = value {
                        self.problem(at, format!("{field} is for generated needs (with count)"));
                    }
                }
                if raw.requester_name.is_none() || raw.address.is_none() {
                    self.problem(
                        pos,
                        "a need inject needs requester_name and address, or count and districts to generate calls",
                    );
                }
                if raw.people.is_none() {
                    self.problem(
                        pos,
                        "a need inject needs people: how many volunteers it takes",
                    );
                }
                Some(NeedInject::One(fields))
            }
            Some(count) => {
                for (field, value) in [
                    (
                        "requester_name",
                        raw.requester_name.as_ref().map(|v| v.span().start),
                    ),
                    ("phone", raw.phone.as_ref().map(|v| v.span().start)),
                    ("address", raw.address.as_ref().map(|v| v.span().start)),
                    ("district", raw.district.as_ref().map(|v| v.span().start)),
                    (
                        "resident_id",
                        raw.resident_id.as_ref().map(|v| v.span().start),
                    ),
                ] {
                    if let Some(at) = value {
                        self.problem(
                            at,
                            format!(
                                "{field} is made up for generated needs (with count); leave it out"
                            ),
                        );
                    }
                }
                let count = self.count(count, MAX_COUNT, "needs");
                let districts = match &raw.districts {
                    Some(d) => self.districts(d),
                    None => {
                        self.problem(pos, "generated needs need districts = [\"...\"]");
                        vec![]
                    }
                };
                Some(NeedInject::Generated {
                    count,
                    over: raw.over.as_ref().map_or(Duration::ZERO, |o| o.get_ref().0),
                    seed,
                    districts,
                    template: fields,
                })
            }
        }
    }

    fn safety(&mut self, raw: &RawInject, pos: usize, seed: u64) -> Option<What> {
        let target = match (&raw.resident_id, &raw.district) {
            (Some(r), None) => {
                if let Some(c) = &raw.count
                    && *c.get_ref() != 1
                {
                    self.problem(
                        c.span().start,
                        "count is for a district sweep; one resident_id is one report",
                    );
                }
                if let Some(o) = &raw.over {
                    self.problem(o.span().start, "over is for a district sweep (with count)");
                }
                let id = r.get_ref().trim().to_string();
                if id.is_empty() {
                    self.problem(r.span().start, "resident_id must not be blank");
                }
                SafetyTarget::Resident(id)
            }
            (None, Some(d)) => {
                let district = d.get_ref().trim().to_string();
                if district.is_empty() {
                    self.problem(d.span().start, "district must not be blank");
                }
                SafetyTarget::District(district)
            }
            _ => {
                self.problem(
                    pos,
                    "a safety inject names resident_id (one person) or district (unconfirmed people of it), not both",
                );
                return None;
            }
        };
        let statuses = match (&raw.status, &raw.statuses) {
            (Some(s), None) => {
                if !STATUSES.contains(&s.get_ref().as_str()) {
                    self.problem(
                        s.span().start,
                        format!(
                            "unknown status {:?}: one of {}",
                            s.get_ref(),
                            STATUSES.join(", ")
                        ),
                    );
                }
                vec![(s.get_ref().clone(), 1)]
            }
            (None, Some(table)) => {
                let mut out = Vec::new();
                for (status, weight) in table.get_ref() {
                    if !STATUSES.contains(&status.as_str()) {
                        self.problem(
                            table.span().start,
                            format!("unknown status {status:?}: one of {}", STATUSES.join(", ")),
                        );
                    }
                    match u32::try_from(*weight) {
                        Ok(w) => out.push((status.clone(), w)),
                        Err(_) => self.problem(
                            table.span().start,
                            format!("the weight of {status} is a whole number, 0 or more"),
                        ),
                    }
                }
                if out.iter().all(|(_, w)| *w == 0) {
                    self.problem(
                        table.span().start,
                        "statuses needs at least one weight above 0",
                    );
                }
                out
            }
            _ => {
                self.problem(
                    pos,
                    "a safety inject needs status = \"...\" or statuses = { status = weight, ... }, not both",
                );
                return None;
            }
        };
        let count = raw
            .count
            .as_ref()
            .map_or(1, |c| self.count(c, MAX_COUNT, "safety reports"));
        Some(What::Safety {
            target,
            statuses,
            count,
            over: raw.over.as_ref().map_or(Duration::ZERO, |o| o.get_ref().0),
            seed,
            note: self.text(raw.note.as_ref(), "note", 1000, false),
        })
    }
}

fn codes_of(list: &[(&str, &str)]) -> String {
    list.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
}

/// How many calls an inject makes when played.
pub fn steps_of(what: &What) -> usize {
    match what {
        What::Need(NeedInject::Generated { count, .. })
        | What::Volunteers { count, .. }
        | What::Safety { count, .. } => *count,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario, Problems> {
        Scenario::parse(text, "test.toml", Path::new("."))
    }

    /// The problems as `LINE: reason` with the reason cut to what the case checks.
    fn problems(text: &str) -> Vec<(usize, String)> {
        match parse(text) {
            Ok(_) => vec![],
            Err(Problems(list)) => list.into_iter().map(|p| (p.line, p.reason)).collect(),
        }
    }

    const GOOD: &str = r#"
name = "テスト訓練"
description = "短い訓練"
duration = "2h"
seed = 42
city = "架空市みなと区"

[register]
count = 30
districts = ["北地区", "南地区"]

[[shelters]]
name = "みなと地域ケアプラザ"
address = "架空市みなと区1-1"
capacity = 20
categories = ["elderly"]

[[injects]]
at = "0m"
kind = "announcement"
text = "訓練を開始します"

[[injects]]
at = "10m"
kind = "need"
requester_name = "山本 花子"
phone = "045-000-0001"
address = "架空市みなと区北1-2-3"
district = "北地区"
category = "mud_removal"
people = 3
priority = "high"

[[injects]]
at = "15m"
kind = "volunteers"
count = 20
over = "30m"
uninsured = 0.1

[[injects]]
at = 3600
kind = "safety"
district = "北地区"
count = 5
over = "10m"
statuses = { safe_at_home = 3, needs_help = 1 }

[[injects]]
at = "1h30m"
kind = "shelter_open"
shelter = "みなと地域ケアプラザ"
capacity = 10

[[injects]]
at = "1h45m"
kind = "shelter_full"
shelter = "みなと地域ケアプラザ"

[[injects]]
at = "1h50m"
kind = "register_import"
count = 5
districts = ["北地区"]
"#;

    #[test]
    fn a_good_scenario_reads_into_injects() {
        let scenario = parse(GOOD).unwrap_or_else(|p| panic!("{p}"));
        assert_eq!(scenario.name, "テスト訓練");
        assert_eq!(scenario.duration, Duration::from_secs(7200));
        assert_eq!(scenario.seed, 42);
        assert_eq!(scenario.shelters.len(), 1);
        let kinds: Vec<(&str, u64, usize)> = scenario
            .injects
            .iter()
            .map(|i| (i.what.kind(), i.at.as_secs(), i.line))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("announcement", 0, 18),
                ("need", 600, 23),
                ("volunteers", 900, 34),
                ("safety", 3600, 41),
                ("shelter_open", 5400, 49),
                ("shelter_full", 6300, 55),
                ("register_import", 6600, 60),
            ]
        );
        match &scenario.injects[3].what {
            What::Safety {
                target: SafetyTarget::District(d),
                count,
                statuses,
                ..
            } => {
                assert_eq!(d, "北地区");
                assert_eq!(*count, 5);
                assert_eq!(statuses.len(), 2);
            }
            other => panic!("not a sweep: {other:?}"),
        }
    }

    #[test]
    fn offsets_read_in_seconds_or_units() {
        for (text, seconds) in [
            ("0", 0),
            ("90", 90),
            ("2d", 172_800),
            ("90m", 5_400),
            ("1h30m", 5_400),
            ("1d 6h", 108_000),
            ("45s", 45),
            ("1d2h3m4s", 93_784),
        ] {
            assert_eq!(
                parse_offset(text),
                Ok(Duration::from_secs(seconds)),
                "case {text:?}"
            );
        }
        for bad in ["", "h", "1x", "30m1h", "1h1h", "1 h", "-5", "1.5h"] {
            assert!(parse_offset(bad).is_err(), "case {bad:?} should be refused");
        }
        assert_eq!(format_offset(Duration::from_secs(93_784)), "1d2h3m4s");
        assert_eq!(format_offset(Duration::ZERO), "0s");
    }

    #[test]
    fn malformed_scenarios_are_refused_with_the_line_and_reason() {
        let head = "name = \"x\"\nduration = \"1h\"\n";
        // (case, scenario text, expected line, words the reason must contain)
        let cases: Vec<(&str, String, usize, &str)> = vec![
            ("not TOML", format!("{head}\n[[injects]\nat = 1\n"), 4, ""),
            (
                "unknown top-level field",
                format!("{head}speed = 3\n"),
                3,
                "unknown field `speed`",
            ),
            (
                "wrong type",
                format!(
                    "{head}\n[[injects]]\nat = \"1m\"\nkind = \"volunteers\"\ncount = \"ten\"\n"
                ),
                7,
                "invalid type",
            ),
            (
                "unreadable offset",
                format!(
                    "{head}\n[[injects]]\nat = \"soon\"\nkind = \"announcement\"\ntext = \"a\"\n"
                ),
                5,
                "cannot read \"soon\" as a time",
            ),
            (
                "unknown kind",
                format!("{head}\n[[injects]]\nat = \"1m\"\nkind = \"earthquake\"\n"),
                6,
                "unknown kind \"earthquake\"",
            ),
            (
                "field of another kind",
                format!(
                    "{head}\n[[injects]]\nat = \"1m\"\nkind = \"announcement\"\ntext = \"a\"\nshelter = \"b\"\n"
                ),
                8,
                "shelter is not a field of kind \"announcement\"",
            ),
            (
                "after the end",
                format!(
                    "{head}\n[[injects]]\nat = \"2h\"\nkind = \"announcement\"\ntext = \"a\"\n"
                ),
                4,
                "after the end of the drill",
            ),
            (
                "spread past the end",
                format!(
                    "{head}\n[[injects]]\nat = \"50m\"\nkind = \"volunteers\"\ncount = 10\nover = \"20m\"\n"
                ),
                4,
                "at + over = 1h10m",
            ),
            (
                "count not sane",
                format!("{head}\n[[injects]]\nat = \"1m\"\nkind = \"volunteers\"\ncount = 0\n"),
                7,
                "count of volunteers is from 1",
            ),
            (
                "unknown category",
                format!(
                    "{head}\n[[injects]]\nat = \"1m\"\nkind = \"need\"\nrequester_name = \"a\"\naddress = \"b\"\npeople = 2\ncategory = \"rescue\"\n"
                ),
                10,
                "unknown category \"rescue\"",
            ),
            (
                "need without people",
                format!(
                    "{head}\n[[injects]]\nat = \"1m\"\nkind = \"need\"\nrequester_name = \"a\"\naddress = \"b\"\ncategory = \"cleaning\"\n"
                ),
                4,
                "needs people",
            ),
            (
                "undefined shelter",
                format!(
                    "{head}\n[[injects]]\nat = \"1m\"\nkind = \"shelter_open\"\nshelter = \"どこか\"\n"
                ),
                7,
                "not defined in [[shelters]]",
            ),
            (
                "unknown safety status",
                format!(
                    "{head}\n[[injects]]\nat = \"1m\"\nkind = \"safety\"\nresident_id = \"1\"\nstatus = \"fine\"\n"
                ),
                8,
                "unknown status \"fine\"",
            ),
            (
                "safety district outside the register",
                format!(
                    "{head}[register]\ncount = 3\ndistricts = [\"北\"]\n\n[[injects]]\nat = \"1m\"\nkind = \"safety\"\ndistrict = \"南\"\nstatus = \"safe_at_home\"\n"
                ),
                7,
                "district \"南\" is not in the scenario's register",
            ),
            (
                "shelter without capacity",
                format!("{head}\n[[shelters]]\nname = \"a\"\naddress = \"b\"\n"),
                4,
                "needs a capacity",
            ),
            (
                "shelter with an unknown facility",
                format!(
                    "{head}\n[[shelters]]\nname = \"a\"\naddress = \"b\"\ncapacity = 3\nfacilities = [\"pool\"]\n"
                ),
                8,
                "unknown",
            ),
            (
                "register file missing",
                format!("{head}[register]\nfile = \"no-such-file.csv\"\n"),
                4,
                "cannot read",
            ),
            (
                "no duration",
                "name = \"x\"\n".to_string(),
                1,
                "needs a duration",
            ),
        ];
        for (case, text, line, words) in cases {
            let found = problems(&text);
            assert!(
                found
                    .iter()
                    .any(|(l, reason)| *l == line && reason.contains(words)),
                "case {case}: expected line {line} with {words:?}, got {found:?}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported_as_file_line_reason() {
        let text = "name = \"x\"\nduration = \"1h\"\n\n[[injects]]\nat = \"2h\"\nkind = \"announcement\"\ntext = \"a\"\n\n[[injects]]\nat = \"1m\"\nkind = \"need\"\ncategory = \"mud\"\n";
        let err = parse(text).unwrap_err();
        let shown = err.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines.len() >= 2, "{shown}");
        assert!(lines[0].starts_with("test.toml:4: "), "{shown}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("test.toml:12: unknown category")),
            "{shown}"
        );
    }
}
