//! A scenario unrolled into the calls it makes, in time order: every volunteer of an
//! arrival, every call of a batch of needs, every report of a safety sweep becomes one
//! [`Step`] at its own time, with its request body already made. Built once, before the
//! drill starts, from the scenario alone (no server), so `drill check` can count the calls
//! and two runs of one scenario make the same calls.
//!
//! A spread inject (`count` over `over`) puts its calls evenly: the first at `at`, then one
//! every `over / count`.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use super::generate::{self, Rng};
use super::scenario::{NeedInject, Register, SafetyTarget, Scenario, What};
use crate::register::import::Person;

/// A register to send to `POST /api/register/imports`.
#[derive(Clone, Debug)]
pub struct RegisterUpload {
    pub csv: Bytes,
    /// How many people the file holds.
    pub people: usize,
    pub allow_invalid: bool,
}

#[derive(Clone, Debug)]
pub enum Action {
    Need(Value),
    Volunteer(Value),
    /// A safety report; for a district, an unconfirmed person of it is drawn (with `seed`)
    /// when the first report of the inject fires.
    Safety {
        target: SafetyTarget,
        status: String,
        note: String,
        seed: u64,
    },
    ShelterOpen {
        shelter: String,
        capacity: Option<i64>,
    },
    ShelterClose {
        shelter: String,
    },
    ShelterFull {
        shelter: String,
    },
    Announcement {
        text: String,
    },
    RegisterImport(RegisterUpload),
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Need(_) => "need",
            Action::Volunteer(_) => "volunteers",
            Action::Safety { .. } => "safety",
            Action::ShelterOpen { .. } => "shelter_open",
            Action::ShelterClose { .. } => "shelter_close",
            Action::ShelterFull { .. } => "shelter_full",
            Action::Announcement { .. } => "announcement",
            Action::RegisterImport(_) => "register_import",
        }
    }
}

/// One call, at its time from the start of the drill.
#[derive(Clone, Debug)]
pub struct Step {
    pub at: Duration,
    /// The line of the inject it comes from.
    pub line: usize,
    /// The inject's place in the file (0-based): steps of one sweep share it.
    pub inject: usize,
    /// This call's number within its inject (1-based), and how many the inject makes.
    pub number: usize,
    pub of: usize,
    pub action: Action,
}

#[derive(Clone, Debug)]
pub struct Timeline {
    /// The scenario's register, imported before the clock starts.
    pub register: Option<RegisterUpload>,
    pub steps: Vec<Step>,
}

impl Timeline {
    /// The first register the drill would import: the one to check against the server's
    /// before anything is changed.
    pub fn first_register(&self) -> Option<&RegisterUpload> {
        self.register.as_ref().or_else(|| {
            self.steps.iter().find_map(|s| match &s.action {
                Action::RegisterImport(upload) => Some(upload),
                _ => None,
            })
        })
    }

    /// Calls by kind, for `drill check` and the summary.
    pub fn counts(&self) -> BTreeMap<&'static str, usize> {
        let mut counts = BTreeMap::new();
        for step in &self.steps {
            *counts.entry(step.action.kind()).or_insert(0) += 1;
        }
        counts
    }
}

/// Time `number` (0-based) of `count` calls spread over `over` from `at`.
fn spread(at: Duration, over: Duration, number: usize, count: usize) -> Duration {
    let offset = over.as_nanos() * number as u128 / count.max(1) as u128;
    at + Duration::from_nanos(offset as u64)
}

/// The people of a register, numbering generated resident ids from `next_number`.
fn people_of(register: &Register, city: &str, next_number: &mut usize) -> Vec<Person> {
    match register {
        Register::File { people, .. } => people.clone(),
        Register::Generated {
            seed,
            count,
            districts,
            consent,
        } => {
            let people =
                generate::register_people(*seed, *count, districts, *consent, city, *next_number);
            *next_number += count;
            people
        }
    }
}

pub fn build(scenario: &Scenario) -> Timeline {
    let mut next_resident = 1;
    // The people imported so far: an import that adds people sends them all again, so that
    // nobody the drill imported earlier is marked removed.
    let mut known: Vec<Person> = Vec::new();
    let register = scenario.register.as_ref().map(|r| {
        known = people_of(r, &scenario.city, &mut next_resident);
        match r {
            Register::File {
                bytes,
                allow_invalid,
                ..
            } => RegisterUpload {
                csv: Bytes::from(bytes.clone()),
                people: known.len(),
                allow_invalid: *allow_invalid,
            },
            Register::Generated { .. } => RegisterUpload {
                csv: Bytes::from(generate::register_csv(&known)),
                people: known.len(),
                allow_invalid: false,
            },
        }
    });

    // In time order (file order among equals), since numbering and cumulative imports
    // follow the order the calls are made in.
    let mut order: Vec<usize> = (0..scenario.injects.len()).collect();
    order.sort_by_key(|&i| (scenario.injects[i].at, i));
    let mut volunteer_number = 1;
    let mut need_number = 1;
    let mut steps = Vec::new();
    for index in order {
        let inject = &scenario.injects[index];
        let step = |number: usize, of: usize, at: Duration, action: Action| Step {
            at,
            line: inject.line,
            inject: index,
            number,
            of,
            action,
        };
        match &inject.what {
            What::Need(NeedInject::One(fields)) => {
                steps.push(step(
                    1,
                    1,
                    inject.at,
                    Action::Need(generate::need_body(fields)),
                ));
            }
            What::Need(NeedInject::Generated {
                count,
                over,
                seed,
                districts,
                template,
            }) => {
                let mut rng = Rng::new(*seed);
                for i in 0..*count {
                    let body = generate::generated_need(
                        &mut rng,
                        need_number,
                        &scenario.city,
                        districts,
                        template,
                    );
                    need_number += 1;
                    let at = spread(inject.at, *over, i, *count);
                    steps.push(step(i + 1, *count, at, Action::Need(body)));
                }
            }
            What::Volunteers {
                count,
                over,
                seed,
                uninsured,
                group_name,
            } => {
                let mut rng = Rng::new(*seed);
                for i in 0..*count {
                    let body =
                        generate::volunteer(&mut rng, volunteer_number, *uninsured, group_name);
                    volunteer_number += 1;
                    let at = spread(inject.at, *over, i, *count);
                    steps.push(step(i + 1, *count, at, Action::Volunteer(body)));
                }
            }
            What::Safety {
                target,
                statuses,
                count,
                over,
                seed,
                note,
            } => {
                let mut rng = Rng::new(*seed);
                let weights: Vec<u32> = statuses.iter().map(|(_, w)| *w).collect();
                for i in 0..*count {
                    let status = statuses[rng.weighted(&weights)].0.clone();
                    let action = Action::Safety {
                        target: target.clone(),
                        status,
                        note: note.clone(),
                        seed: *seed,
                    };
                    steps.push(step(
                        i + 1,
                        *count,
                        spread(inject.at, *over, i, *count),
                        action,
                    ));
                }
            }
            What::ShelterOpen { shelter, capacity } => steps.push(step(
                1,
                1,
                inject.at,
                Action::ShelterOpen {
                    shelter: shelter.clone(),
                    capacity: *capacity,
                },
            )),
            What::ShelterClose { shelter } => steps.push(step(
                1,
                1,
                inject.at,
                Action::ShelterClose {
                    shelter: shelter.clone(),
                },
            )),
            What::ShelterFull { shelter } => steps.push(step(
                1,
                1,
                inject.at,
                Action::ShelterFull {
                    shelter: shelter.clone(),
                },
            )),
            What::Announcement { text } => steps.push(step(
                1,
                1,
                inject.at,
                Action::Announcement { text: text.clone() },
            )),
            What::RegisterImport {
                register: new_register,
                replace,
            } => {
                let new_people = people_of(new_register, &scenario.city, &mut next_resident);
                let allow_invalid = matches!(
                    new_register,
                    Register::File {
                        allow_invalid: true,
                        ..
                    }
                );
                let upload = if *replace {
                    known = new_people;
                    match new_register {
                        Register::File { bytes, .. } => RegisterUpload {
                            csv: Bytes::from(bytes.clone()),
                            people: known.len(),
                            allow_invalid,
                        },
                        Register::Generated { .. } => RegisterUpload {
                            csv: Bytes::from(generate::register_csv(&known)),
                            people: known.len(),
                            allow_invalid,
                        },
                    }
                } else {
                    for person in new_people {
                        match known
                            .iter_mut()
                            .find(|p| p.resident_id == person.resident_id)
                        {
                            Some(old) => *old = person,
                            None => known.push(person),
                        }
                    }
                    RegisterUpload {
                        csv: Bytes::from(generate::register_csv(&known)),
                        people: known.len(),
                        allow_invalid,
                    }
                };
                steps.push(step(1, 1, inject.at, Action::RegisterImport(upload)));
            }
        }
    }
    // Spread injects interleave: order every call by its time, keeping file order for ties.
    steps.sort_by_key(|s| (s.at, s.inject, s.number));
    Timeline { register, steps }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn timeline(text: &str) -> Timeline {
        let scenario =
            Scenario::parse(text, "t.toml", Path::new(".")).unwrap_or_else(|p| panic!("{p}"));
        build(&scenario)
    }

    const SCENARIO: &str = r#"
name = "t"
duration = "1h"
city = "架空市"
[register]
count = 10
districts = ["北地区"]

[[injects]]
at = "10m"
kind = "volunteers"
count = 4
over = "20m"

[[injects]]
at = "5m"
kind = "need"
count = 3
over = "30m"
districts = ["北地区"]
category = "mud_removal"

[[injects]]
at = "50m"
kind = "register_import"
count = 5
districts = ["北地区"]
"#;

    #[test]
    fn spread_injects_interleave_in_time_order() {
        let t = timeline(SCENARIO);
        let got: Vec<(u64, &str)> = t
            .steps
            .iter()
            .map(|s| (s.at.as_secs(), s.action.kind()))
            .collect();
        assert_eq!(
            got,
            vec![
                (300, "need"),
                (600, "volunteers"),
                (900, "volunteers"),
                (900, "need"),
                (1200, "volunteers"),
                (1500, "volunteers"),
                (1500, "need"),
                (3000, "register_import"),
            ]
        );
    }

    #[test]
    fn the_same_scenario_makes_the_same_calls() {
        let a = timeline(SCENARIO);
        let b = timeline(SCENARIO);
        let bodies = |t: &Timeline| {
            t.steps
                .iter()
                .filter_map(|s| match &s.action {
                    Action::Need(v) | Action::Volunteer(v) => Some(v.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(bodies(&a), bodies(&b));
        // No two volunteers share a phone: the desk would take them for one person.
        let phones: std::collections::BTreeSet<String> = bodies(&a)
            .iter()
            .filter_map(|v| v["phone"].as_str().map(String::from))
            .collect();
        assert_eq!(phones.len(), 7);
    }

    #[test]
    fn an_added_register_keeps_the_people_imported_before() {
        let t = timeline(SCENARIO);
        assert_eq!(t.register.as_ref().map(|r| r.people), Some(10));
        let Some(Action::RegisterImport(upload)) = t.steps.last().map(|s| &s.action) else {
            panic!("the last step imports");
        };
        assert_eq!(upload.people, 15);
        let text = String::from_utf8(upload.csv.to_vec()).unwrap();
        assert!(
            text.contains("D0000001,") && text.contains("D0000015,"),
            "{text}"
        );
    }
}
