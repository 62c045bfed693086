//! The review's figures, computed by pure functions from an activation's event log (the
//! `events` table: type, payload, time) and the one thing the log does not say: how many people
//! the register had before the run first imported it. No database here, so every figure can be
//! checked by hand on a small log (see the tests).
//!
//! Events carry districts, statuses, categories, counts and ids, never a person's name, and
//! the figures keep only counts and times: the review holds no personal data. The only names
//! in it are the activation's and the welfare shelters' (facilities, not people).

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

/// Safety statuses that count as confirmed: the register's definition, shared with the board.
pub use crate::register::safety::CONFIRMED;

/// The shares of the register whose time to confirm the review reports.
pub const MILESTONES: [u32; 3] = [50, 90, 100];

/// Need statuses that are finished: everything else is still open at the end.
const NEED_FINISHED: [&str; 2] = ["done", "cancelled"];

const MICROS: i64 = 1_000_000;

/// One row of the event log, as the review reads it.
#[derive(Clone, Debug)]
pub struct LogEvent {
    pub seq: i64,
    pub kind: String,
    /// Microseconds since the Unix epoch.
    pub at: i64,
    pub payload: Value,
}

/// What the review needs besides the log.
#[derive(Clone, Copy, Debug)]
pub struct Run {
    /// When the activation was opened (microseconds): every offset is from here.
    pub opened_at: i64,
    /// When it was closed, if it was.
    pub closed_at: Option<i64>,
    /// People on the register (not removed) as the tables hold it now: the total until the
    /// log's first `register_imported` event says otherwise.
    pub register_total: i64,
}

/// Every figure of one run.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReviewFigures)]
pub struct Figures {
    /// From the opening to the close (or the last event of a run still open), in seconds.
    pub duration_seconds: i64,
    pub safety: Safety,
    /// The stages of a need: intake → matching → dispatch → return → report.
    pub stages: Vec<Stage>,
    pub volunteers: Volunteers,
    pub shelters: Vec<ShelterFill>,
    pub needs: Needs,
    pub teams_dispatched: i64,
    pub timeline: Timeline,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = ReviewSafety)]
pub struct Safety {
    /// People on the register at the end.
    pub register_total: i64,
    pub confirmed_at_end: i64,
    pub milestones: Vec<Milestone>,
    /// How many were confirmed (of how many) after each change, oldest first.
    pub curve: Vec<SafetyPoint>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewMilestone)]
pub struct Milestone {
    pub percent: u32,
    /// Seconds from the start until the share was first reached; null: not reached.
    pub seconds: Option<i64>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewSafetyPoint)]
pub struct SafetyPoint {
    pub seconds: i64,
    pub confirmed: i64,
    pub total: i64,
}

/// Durations of one stage, over the needs or teams that went through it.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewStage)]
pub struct Stage {
    /// `intake_to_matching`, `matching_to_dispatch`, `dispatch_to_return`,
    /// `return_to_report`, or the whole `intake_to_dispatch`.
    #[schema(value_type = String)]
    pub stage: &'static str,
    pub count: usize,
    pub median_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewVolunteers)]
pub struct Volunteers {
    pub checked_in: i64,
    /// Check-ins in each hour from the start: `[0]` is the first hour.
    pub per_hour: Vec<i64>,
}

/// One welfare shelter's places over time.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewShelterFill)]
pub struct ShelterFill {
    pub shelter_id: i64,
    pub name: String,
    pub capacity_at_end: i64,
    pub occupied_at_end: i64,
    pub peak_occupied: i64,
    /// Seconds from the start at which it first had no place left (occupied ≥ capacity).
    pub full_at_seconds: Option<i64>,
    pub points: Vec<FillPoint>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewFillPoint)]
pub struct FillPoint {
    pub seconds: i64,
    /// Places taken: assigned and not yet arrived, plus arrived.
    pub occupied: i64,
    pub capacity: i64,
    pub open: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewNeeds)]
pub struct Needs {
    pub received: i64,
    /// Needs not done nor cancelled at the end.
    pub open_at_end: i64,
    pub open_by_status: BTreeMap<String, i64>,
    pub open_by_category: BTreeMap<String, i64>,
    pub open_by_priority: BTreeMap<String, i64>,
}

/// The notable events, counted per kind in windows of `bucket_minutes` so that a two-day
/// drill is a page of rows, not thousands.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewTimeline)]
pub struct Timeline {
    pub bucket_minutes: i64,
    pub rows: Vec<TimelineRow>,
}

#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewTimelineRow)]
pub struct TimelineRow {
    /// Seconds from the start of the first event of this kind in the window.
    pub seconds: i64,
    /// The window: from `window_start` for `bucket_minutes`.
    pub window_start_seconds: i64,
    /// The event's kind (`need_received`, `team_dispatched`, ...), or a moment the
    /// review derives (`confirmed_50`, `confirmed_90`, `confirmed_100`, `shelter_full`).
    #[schema(value_type = String)]
    pub kind: &'static str,
    pub count: i64,
}

/// The headline figures of a run, for the comparison between runs of one scenario.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
#[schema(as = ReviewHeadline)]
pub struct Headline {
    pub duration_seconds: i64,
    pub register_total: i64,
    pub confirmed_at_end: i64,
    pub confirm_50_seconds: Option<i64>,
    pub confirm_90_seconds: Option<i64>,
    pub confirm_100_seconds: Option<i64>,
    pub needs_received: i64,
    pub needs_open_at_end: i64,
    pub intake_to_dispatch_median_seconds: Option<i64>,
    pub teams_dispatched: i64,
    pub volunteers_checked_in: i64,
}

impl Figures {
    pub fn headline(&self) -> Headline {
        let milestone = |p: u32| {
            self.safety
                .milestones
                .iter()
                .find(|m| m.percent == p)
                .and_then(|m| m.seconds)
        };
        Headline {
            duration_seconds: self.duration_seconds,
            register_total: self.safety.register_total,
            confirmed_at_end: self.safety.confirmed_at_end,
            confirm_50_seconds: milestone(50),
            confirm_90_seconds: milestone(90),
            confirm_100_seconds: milestone(100),
            needs_received: self.needs.received,
            needs_open_at_end: self.needs.open_at_end,
            intake_to_dispatch_median_seconds: self
                .stages
                .iter()
                .find(|s| s.stage == "intake_to_dispatch")
                .and_then(|s| s.median_seconds),
            teams_dispatched: self.teams_dispatched,
            volunteers_checked_in: self.volunteers.checked_in,
        }
    }
}

/// Every figure of a run from its log (oldest first, as `seq` orders it).
pub fn compute(run: Run, log: &[LogEvent]) -> Figures {
    let end = run
        .closed_at
        .into_iter()
        .chain(log.iter().map(|e| e.at))
        .max()
        .unwrap_or(run.opened_at)
        .max(run.opened_at);
    let duration_seconds = (end - run.opened_at) / MICROS;
    let offset = |at: i64| ((at - run.opened_at).max(0)) / MICROS;

    let safety = safety(run, log, &offset);
    let shelters = shelters(log, &offset);
    let mut derived: Vec<(i64, &'static str)> = Vec::new();
    for m in &safety.milestones {
        if let Some(s) = m.seconds {
            derived.push((
                s,
                match m.percent {
                    50 => "confirmed_50",
                    90 => "confirmed_90",
                    _ => "confirmed_100",
                },
            ));
        }
    }
    for s in &shelters {
        if let Some(at) = s.full_at_seconds {
            derived.push((at, "shelter_full"));
        }
    }
    Figures {
        duration_seconds,
        stages: stages(log),
        volunteers: volunteers(log, duration_seconds, &offset),
        needs: needs(log),
        teams_dispatched: log.iter().filter(|e| e.kind == "team_dispatched").count() as i64,
        timeline: timeline(log, &derived, duration_seconds, &offset),
        safety,
        shelters,
    }
}

fn is_confirmed(status: &str) -> bool {
    CONFIRMED.contains(&status)
}

/// Confirmed people and the register's size from a `safety` counts array (district counts).
fn from_counts(counts: &Value) -> Option<(i64, i64)> {
    let districts = counts.as_array()?;
    let mut confirmed = 0;
    let mut total = 0;
    for d in districts {
        total += d["total"].as_i64().unwrap_or(0);
        if let Some(by) = d["by_status"].as_object() {
            confirmed += by
                .iter()
                .filter(|(status, _)| is_confirmed(status))
                .map(|(_, n)| n.as_i64().unwrap_or(0))
                .sum::<i64>();
        }
    }
    Some((confirmed, total))
}

/// Share `percent` of `total`, rounded up: 90 % of 4 people is 4 people.
fn needed(total: i64, percent: u32) -> i64 {
    (total * i64::from(percent) + 99) / 100
}

fn safety(run: Run, log: &[LogEvent], offset: &impl Fn(i64) -> i64) -> Safety {
    let mut confirmed: i64 = 0;
    let mut total = run.register_total;
    let mut curve = Vec::new();
    let mut reached: Vec<Option<i64>> = vec![None; MILESTONES.len()];
    for e in log {
        match e.kind.as_str() {
            // Each safety record is one person moving from one status to another.
            "safety_recorded" => {
                let from = e.payload["from"].as_str().unwrap_or("unconfirmed");
                let to = e.payload["to"].as_str().unwrap_or("unconfirmed");
                confirmed += i64::from(is_confirmed(to)) - i64::from(is_confirmed(from));
            }
            // An import carries the whole register's counts: the truth from here on.
            "register_imported" => match from_counts(&e.payload["safety"]) {
                Some((c, t)) => {
                    confirmed = c;
                    total = t;
                }
                None => continue,
            },
            _ => continue,
        }
        let seconds = offset(e.at);
        curve.push(SafetyPoint {
            seconds,
            confirmed,
            total,
        });
        for (i, percent) in MILESTONES.iter().enumerate() {
            if reached[i].is_none() && total > 0 && confirmed >= needed(total, *percent) {
                reached[i] = Some(seconds);
            }
        }
    }
    Safety {
        register_total: total,
        confirmed_at_end: confirmed,
        milestones: MILESTONES
            .iter()
            .zip(reached)
            .map(|(percent, seconds)| Milestone {
                percent: *percent,
                seconds,
            })
            .collect(),
        curve,
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least
/// `percent` % of the values at or below it (the median of 10, 20, 30, 40 is 20).
pub fn percentile(sorted: &[i64], percent: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * percent as usize).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn stage(name: &'static str, mut seconds: Vec<i64>) -> Stage {
    seconds.sort_unstable();
    Stage {
        stage: name,
        count: seconds.len(),
        median_seconds: percentile(&seconds, 50),
        p90_seconds: percentile(&seconds, 90),
    }
}

/// The first item of a payload's list (`needs` or `teams`), as board events carry them.
fn first_id(payload: &Value, list: &str, field: &str) -> Option<i64> {
    payload[list].as_array()?.first()?[field].as_i64()
}

fn stages(log: &[LogEvent]) -> Vec<Stage> {
    let mut received: HashMap<i64, i64> = HashMap::new();
    let mut first_team: HashMap<i64, i64> = HashMap::new();
    let mut first_dispatch: HashMap<i64, i64> = HashMap::new();
    // Per team: (need, formed, dispatched, returned).
    let mut teams: HashMap<i64, (i64, i64, Option<i64>, Option<i64>)> = HashMap::new();
    let (mut matching, mut dispatch, mut back, mut report) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for e in log {
        let p = &e.payload;
        match e.kind.as_str() {
            "need_received" => {
                if let Some(need) = first_id(p, "needs", "id") {
                    received.entry(need).or_insert(e.at);
                }
            }
            "team_formed" => {
                if let (Some(team), Some(need)) =
                    (first_id(p, "teams", "id"), first_id(p, "teams", "need_id"))
                {
                    teams.insert(team, (need, e.at, None, None));
                    first_team.entry(need).or_insert(e.at);
                }
            }
            "team_dispatched" => {
                if let Some(t) = first_id(p, "teams", "id").and_then(|id| teams.get_mut(&id)) {
                    if t.2.is_none() {
                        t.2 = Some(e.at);
                        dispatch.push((e.at - t.1) / MICROS);
                    }
                    first_dispatch.entry(t.0).or_insert(e.at);
                }
            }
            "team_returned" => {
                if let Some(t) = first_id(p, "teams", "id").and_then(|id| teams.get_mut(&id))
                    && let (Some(out), None) = (t.2, t.3)
                {
                    t.3 = Some(e.at);
                    back.push((e.at - out) / MICROS);
                }
            }
            "team_reported" => {
                if let Some(t) = first_id(p, "teams", "id").and_then(|id| teams.get(&id))
                    && let Some(returned) = t.3
                {
                    report.push((e.at - returned) / MICROS);
                }
            }
            _ => {}
        }
    }
    let since_intake = |firsts: &HashMap<i64, i64>| {
        firsts
            .iter()
            .filter_map(|(need, at)| received.get(need).map(|r| (at - r) / MICROS))
            .collect::<Vec<_>>()
    };
    matching.extend(since_intake(&first_team));
    vec![
        stage("intake_to_matching", matching),
        stage("matching_to_dispatch", dispatch),
        stage("dispatch_to_return", back),
        stage("return_to_report", report),
        stage("intake_to_dispatch", since_intake(&first_dispatch)),
    ]
}

fn volunteers(log: &[LogEvent], duration_seconds: i64, offset: &impl Fn(i64) -> i64) -> Volunteers {
    let hours = (duration_seconds / 3600 + 1) as usize;
    let mut per_hour = vec![0; hours];
    let mut checked_in = 0;
    // Each volunteer_checked_in event is one check-in: a second one the same day is refused
    // (409) and writes no event.
    for e in log.iter().filter(|e| e.kind == "volunteer_checked_in") {
        let hour = (offset(e.at) / 3600) as usize;
        if hour >= per_hour.len() {
            per_hour.resize(hour + 1, 0);
        }
        per_hour[hour] += 1;
        checked_in += 1;
    }
    Volunteers {
        checked_in,
        per_hour,
    }
}

fn shelters(log: &[LogEvent], offset: &impl Fn(i64) -> i64) -> Vec<ShelterFill> {
    let mut fills: BTreeMap<i64, ShelterFill> = BTreeMap::new();
    for e in log {
        // Every shelter event (opened, changed, closed, an assignment made or updated)
        // carries the shelters it changed, in full.
        let Some(states) = e.payload["shelters"].as_array() else {
            continue;
        };
        for s in states {
            let Some(id) = s["id"].as_i64() else { continue };
            let open = s["status"].as_str() == Some("open");
            let occupied = s["assigned"].as_i64().unwrap_or(0) + s["arrived"].as_i64().unwrap_or(0);
            let capacity = s["capacity"].as_i64().unwrap_or(0);
            // A registry edit reaches every open activation: a shelter never opened here
            // and holding nobody is not part of this run.
            if !open && occupied == 0 && !fills.contains_key(&id) {
                continue;
            }
            let seconds = offset(e.at);
            let fill = fills.entry(id).or_insert_with(|| ShelterFill {
                shelter_id: id,
                name: String::new(),
                capacity_at_end: 0,
                occupied_at_end: 0,
                peak_occupied: 0,
                full_at_seconds: None,
                points: Vec::new(),
            });
            fill.name = s["name"].as_str().unwrap_or_default().to_string();
            fill.capacity_at_end = capacity;
            fill.occupied_at_end = occupied;
            fill.peak_occupied = fill.peak_occupied.max(occupied);
            if fill.full_at_seconds.is_none() && open && occupied > 0 && occupied >= capacity {
                fill.full_at_seconds = Some(seconds);
            }
            let point = FillPoint {
                seconds,
                occupied,
                capacity,
                open,
            };
            // Several events in one second: the last one is what the second ended with.
            match fill.points.last_mut() {
                Some(last) if last.seconds == seconds => *last = point,
                _ => fill.points.push(point),
            }
        }
    }
    fills.into_values().collect()
}

fn needs(log: &[LogEvent]) -> Needs {
    // The last card seen of each need: (status, category, priority).
    let mut last: BTreeMap<i64, (String, String, String)> = BTreeMap::new();
    let mut received = 0;
    for e in log {
        if e.kind == "need_received" {
            received += 1;
        }
        let Some(cards) = e.payload["needs"].as_array() else {
            continue;
        };
        for card in cards {
            let Some(id) = card["id"].as_i64() else {
                continue;
            };
            let text = |field: &str| card[field].as_str().unwrap_or_default().to_string();
            last.insert(id, (text("status"), text("category"), text("priority")));
        }
    }
    let mut out = Needs {
        received,
        open_at_end: 0,
        open_by_status: BTreeMap::new(),
        open_by_category: BTreeMap::new(),
        open_by_priority: BTreeMap::new(),
    };
    for (status, category, priority) in last.into_values() {
        if NEED_FINISHED.contains(&status.as_str()) {
            continue;
        }
        out.open_at_end += 1;
        *out.open_by_status.entry(status).or_default() += 1;
        *out.open_by_category.entry(category).or_default() += 1;
        *out.open_by_priority.entry(priority).or_default() += 1;
    }
    out
}

/// The kinds the timeline shows, in the order a window lists them when they start together.
pub const TIMELINE_KINDS: [&str; 21] = [
    "activation_opened",
    "register_imported",
    "announcement_posted",
    "shelter_opened",
    "need_received",
    "volunteer_checked_in",
    "team_formed",
    "team_dispatched",
    "team_returned",
    "team_reported",
    "safety_recorded",
    "assignment_made",
    "assignment_arrived",
    "shelter_full",
    "shelter_closed",
    "disclosure_declared",
    "disclosure_ended",
    "confirmed_50",
    "confirmed_90",
    "confirmed_100",
    "activation_closed",
];

/// The window of the timeline: the smallest that keeps the run within 48 windows.
fn bucket_minutes(duration_seconds: i64) -> i64 {
    const CHOICES: [i64; 10] = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];
    CHOICES
        .into_iter()
        .find(|m| (duration_seconds + m * 60 - 1) / (m * 60) <= 48)
        .unwrap_or(1440)
}

fn timeline(
    log: &[LogEvent],
    derived: &[(i64, &'static str)],
    duration_seconds: i64,
    offset: &impl Fn(i64) -> i64,
) -> Timeline {
    let minutes = bucket_minutes(duration_seconds);
    let width = minutes * 60;
    let mut moments: Vec<(i64, &'static str)> = log
        .iter()
        .filter_map(|e| {
            let kind = if e.kind == "assignment_updated" {
                (e.payload["status"].as_str() == Some("arrived")).then_some("assignment_arrived")
            } else {
                TIMELINE_KINDS.iter().copied().find(|k| *k == e.kind)
            }?;
            Some((offset(e.at), kind))
        })
        .collect();
    moments.extend_from_slice(derived);
    // Window, then kind (in the order above): (window, kind) → (first second, count).
    let mut rows: BTreeMap<(i64, usize), (i64, i64)> = BTreeMap::new();
    for (seconds, kind) in moments {
        let rank = TIMELINE_KINDS.iter().position(|k| *k == kind).unwrap_or(0);
        let row = rows.entry((seconds / width, rank)).or_insert((seconds, 0));
        row.0 = row.0.min(seconds);
        row.1 += 1;
    }
    let mut rows: Vec<TimelineRow> = rows
        .into_iter()
        .map(|((window, rank), (seconds, count))| TimelineRow {
            seconds,
            window_start_seconds: window * width,
            kind: TIMELINE_KINDS[rank],
            count,
        })
        .collect();
    rows.sort_by_key(|r| (r.window_start_seconds, r.seconds));
    Timeline {
        bucket_minutes: minutes,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const START: i64 = 1_795_359_600_000_000;

    fn at_min(minutes: i64) -> i64 {
        START + minutes * 60 * MICROS
    }

    fn event(seq: i64, minutes: i64, kind: &str, payload: Value) -> LogEvent {
        LogEvent {
            seq,
            kind: kind.into(),
            at: at_min(minutes),
            payload,
        }
    }

    fn safety_event(seq: i64, minutes: i64, from: &str, to: &str) -> LogEvent {
        event(
            seq,
            minutes,
            "safety_recorded",
            json!({ "district": "北地区", "from": from, "to": to, "counts": {} }),
        )
    }

    fn need_card(id: i64, status: &str, category: &str, priority: &str) -> Value {
        json!({ "needs": [{ "id": id, "status": status, "category": category, "priority": priority,
                            "district": "北地区", "people_needed": 2 }] })
    }

    /// A team event's data: the team and its need's card.
    fn team_card(id: i64, need: i64, status: &str, need_status: &str) -> Value {
        json!({ "teams": [{ "id": id, "need_id": need, "status": status }],
                "needs": [{ "id": need, "status": need_status, "category": "mud_removal", "priority": "high" }] })
    }

    fn shelter(id: i64, status: &str, capacity: i64, assigned: i64, arrived: i64) -> Value {
        json!({ "shelter_id": id, "shelters": [{ "id": id, "name": "北ケアプラザ", "status": status,
                "capacity": capacity, "assigned": assigned, "arrived": arrived }] })
    }

    /// A small drill, written out by hand. Four people on the register.
    ///
    /// - Safety: confirmed at +5 (safe_at_home), +10 (evacuated) and +20 min (needs_help); a
    ///   fourth is recorded not_home at +30 (not a confirmation) and never found. So 50 % (2
    ///   people) at +10 min = 600 s; 90 % and 100 % (4 people) not reached; 3 confirmed at end.
    /// - Need 1 received at +0, team 10 formed +10, out +20, back +80, reported +90.
    ///   Need 2 received at +30, team 11 formed +60, out +62, not back yet.
    ///   Need 3 received at +40, never matched, still `received` at the end.
    ///   intake→matching: 10 and 30 min → median 10 min (600 s, nearest rank), p90 30 min.
    ///   matching→dispatch: 10 and 2 min → median 2 min (120 s), p90 10 min (600 s).
    ///   dispatch→return: 60 min (one team). return→report: 10 min (one team).
    ///   intake→dispatch: 20 and 32 min → median 20 min (1200 s), p90 32 min (1920 s).
    /// - Needs at the end: need 1 done; need 2 dispatched (high, mud_removal); need 3 received
    ///   (normal, cleaning): 2 open.
    /// - Check-ins at +1, +2, +59 (hour 0) and +61 (hour 1); the run ends at +90 → 2 hours.
    /// - The shelter opens at +3 with 2 places; 1 assigned at +15, a second at +25 (full:
    ///   1500 s), one arrives at +35 (still 2 places taken); peak 2.
    fn small_drill() -> (Run, Vec<LogEvent>) {
        let log = vec![
            event(1, 0, "activation_opened", json!({})),
            event(
                2,
                0,
                "need_received",
                need_card(1, "received", "mud_removal", "high"),
            ),
            event(3, 1, "volunteer_checked_in", json!({ "volunteers": {} })),
            event(4, 2, "volunteer_checked_in", json!({ "volunteers": {} })),
            event(5, 3, "shelter_opened", shelter(7, "open", 2, 0, 0)),
            safety_event(6, 5, "unconfirmed", "safe_at_home"),
            event(7, 10, "team_formed", team_card(10, 1, "formed", "matched")),
            safety_event(8, 10, "unconfirmed", "evacuated"),
            json_assignment(
                9,
                15,
                "assignment_made",
                "assigned",
                shelter(7, "open", 2, 1, 0),
            ),
            event(
                10,
                20,
                "team_dispatched",
                team_card(10, 1, "dispatched", "dispatched"),
            ),
            safety_event(11, 20, "unconfirmed", "needs_help"),
            json_assignment(
                12,
                25,
                "assignment_made",
                "assigned",
                shelter(7, "open", 2, 2, 0),
            ),
            event(
                13,
                30,
                "need_received",
                need_card(2, "received", "mud_removal", "high"),
            ),
            safety_event(14, 30, "unconfirmed", "not_home"),
            json_assignment(
                15,
                35,
                "assignment_updated",
                "arrived",
                shelter(7, "open", 2, 1, 1),
            ),
            event(
                16,
                40,
                "need_received",
                need_card(3, "received", "cleaning", "normal"),
            ),
            event(17, 59, "volunteer_checked_in", json!({ "volunteers": {} })),
            event(18, 60, "team_formed", team_card(11, 2, "formed", "matched")),
            event(19, 61, "volunteer_checked_in", json!({ "volunteers": {} })),
            event(
                20,
                62,
                "team_dispatched",
                team_card(11, 2, "dispatched", "dispatched"),
            ),
            event(
                21,
                80,
                "team_returned",
                team_card(10, 1, "returned", "dispatched"),
            ),
            event(
                22,
                90,
                "team_reported",
                team_card(10, 1, "closed", "reported"),
            ),
            event(
                23,
                90,
                "need_changed",
                need_card(1, "done", "mud_removal", "high"),
            ),
        ];
        (
            Run {
                opened_at: START,
                closed_at: None,
                register_total: 4,
            },
            log,
        )
    }

    fn json_assignment(seq: i64, minutes: i64, kind: &str, status: &str, mut p: Value) -> LogEvent {
        p["status"] = json!(status);
        event(seq, minutes, kind, p)
    }

    #[test]
    fn time_to_confirm_counts_known_situations_only() {
        let (run, log) = small_drill();
        let f = compute(run, &log);
        assert_eq!(f.safety.register_total, 4);
        assert_eq!(
            f.safety.confirmed_at_end, 3,
            "not_home is not a confirmation"
        );
        assert_eq!(
            f.safety.milestones,
            vec![
                Milestone {
                    percent: 50,
                    seconds: Some(600)
                },
                Milestone {
                    percent: 90,
                    seconds: None
                },
                Milestone {
                    percent: 100,
                    seconds: None
                },
            ]
        );
        assert_eq!(
            f.safety
                .curve
                .iter()
                .map(|p| (p.seconds, p.confirmed))
                .collect::<Vec<_>>(),
            vec![(300, 1), (600, 2), (1200, 3), (1800, 3)]
        );
    }

    #[test]
    fn stage_durations_follow_each_need_and_team() {
        let (run, log) = small_drill();
        let f = compute(run, &log);
        let by = |name: &str| f.stages.iter().find(|s| s.stage == name).unwrap().clone();
        let row = |s: Stage| (s.count, s.median_seconds, s.p90_seconds);
        assert_eq!(row(by("intake_to_matching")), (2, Some(600), Some(1800)));
        assert_eq!(row(by("matching_to_dispatch")), (2, Some(120), Some(600)));
        assert_eq!(row(by("dispatch_to_return")), (1, Some(3600), Some(3600)));
        assert_eq!(row(by("return_to_report")), (1, Some(600), Some(600)));
        assert_eq!(row(by("intake_to_dispatch")), (2, Some(1200), Some(1920)));
        assert_eq!(f.teams_dispatched, 2);
    }

    #[test]
    fn open_needs_checkins_and_shelter_fill_at_the_end() {
        let (run, log) = small_drill();
        let f = compute(run, &log);
        assert_eq!(f.duration_seconds, 90 * 60);
        assert_eq!(f.needs.received, 3);
        assert_eq!(f.needs.open_at_end, 2);
        assert_eq!(
            f.needs.open_by_status,
            BTreeMap::from([("dispatched".into(), 1), ("received".into(), 1)])
        );
        assert_eq!(
            f.needs.open_by_category,
            BTreeMap::from([("cleaning".into(), 1), ("mud_removal".into(), 1)])
        );
        assert_eq!(
            f.needs.open_by_priority,
            BTreeMap::from([("high".into(), 1), ("normal".into(), 1)])
        );
        assert_eq!(f.volunteers.checked_in, 4);
        assert_eq!(f.volunteers.per_hour, vec![3, 1]);
        assert_eq!(f.shelters.len(), 1);
        let s = &f.shelters[0];
        assert_eq!(
            (s.peak_occupied, s.occupied_at_end, s.capacity_at_end),
            (2, 2, 2)
        );
        assert_eq!(s.full_at_seconds, Some(1500));
        assert_eq!(
            s.points
                .iter()
                .map(|p| (p.seconds, p.occupied))
                .collect::<Vec<_>>(),
            vec![(180, 0), (900, 1), (1500, 2), (2100, 2)]
        );
    }

    #[test]
    fn the_timeline_counts_kinds_per_window() {
        let (run, log) = small_drill();
        let f = compute(run, &log);
        // 90 minutes: 5-minute windows (18 of them).
        assert_eq!(f.timeline.bucket_minutes, 5);
        let first: Vec<(i64, &str, i64)> = f
            .timeline
            .rows
            .iter()
            .take(4)
            .map(|r| (r.window_start_seconds, r.kind, r.count))
            .collect();
        assert_eq!(
            first,
            vec![
                (0, "activation_opened", 1),
                (0, "need_received", 1),
                (0, "volunteer_checked_in", 2),
                (0, "shelter_opened", 1),
            ]
        );
        let milestone = f
            .timeline
            .rows
            .iter()
            .find(|r| r.kind == "confirmed_50")
            .unwrap();
        assert_eq!(milestone.seconds, 600);
        let full = f
            .timeline
            .rows
            .iter()
            .find(|r| r.kind == "shelter_full")
            .unwrap();
        assert_eq!(full.seconds, 1500);
        assert!(
            f.timeline
                .rows
                .iter()
                .any(|r| r.kind == "assignment_arrived" && r.seconds == 2100)
        );
        // A two-day drill stays within 48 windows.
        assert_eq!(bucket_minutes(2 * 24 * 3600), 60);
    }

    #[test]
    fn an_import_resets_the_register_and_its_confirmed_people() {
        let run = Run {
            opened_at: START,
            closed_at: Some(at_min(10)),
            register_total: 0,
        };
        let counts = json!({ "import_id": 1, "safety": [
            { "district": "北", "total": 3, "by_status": { "unconfirmed": 3 } },
            { "district": "南", "total": 1, "by_status": { "unconfirmed": 0, "safe_at_home": 1 } },
        ]});
        let log = vec![
            event(1, 0, "register_imported", counts),
            safety_event(2, 2, "unconfirmed", "safe_at_home"),
        ];
        let f = compute(run, &log);
        assert_eq!((f.safety.register_total, f.safety.confirmed_at_end), (4, 2));
        assert_eq!(f.safety.milestones[0].seconds, Some(120));
        assert_eq!(f.duration_seconds, 600, "a closed run ends when it closed");
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[10, 20, 30, 40], 50), Some(20));
        assert_eq!(percentile(&[10, 20, 30, 40], 90), Some(40));
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&hundred, 90), Some(90));
    }
}
