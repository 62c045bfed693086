//! Volunteers and their daily check-in (ボランティア受付). A first visit registers and checks in
//! in one step; a returning volunteer is found by phone or by the code on their volunteer card
//! and checked in again in one step. Activity insurance (ボランティア活動保険) is recorded with
//! the days it covers: a volunteer without valid cover today may check in, and may be
//! enrolled on the spot, but is not sent out (cover bought at the counter starts the next day).

use chrono::NaiveDate;
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::board::{DispatchEvent, volunteer_counts_in};
use super::{
    AGE_GROUPS, SKILLS, codes, fiscal_year_end, json_codes, parse_codes, phone_digits, text,
};
use crate::error::{AppError, Result};
use crate::events::{self, Actor, Event};
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// Activity insurance (ボランティア活動保険) as declared at the desk. Leave it all out for a
/// volunteer without cover: they are checked in but cannot be sent out.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InsuranceInput {
    /// Already insured (joined at their own 社協, or earlier here).
    #[serde(default)]
    pub joined: bool,
    /// `basic` or `disaster` (天災タイプ: covers earthquakes, tsunami, eruptions). Required
    /// when `joined`; with `enrol_here` it defaults to `disaster`.
    #[serde(default)]
    #[schema(value_type = Option<InsurancePlanCode>)]
    pub plan: Option<String>,
    /// Last day covered (YYYY-MM-DD); defaults to 31 March of this fiscal year.
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    /// Enrol now at the centre's counter: cover starts tomorrow.
    #[serde(default)]
    pub enrol_here: bool,
}

/// A first-time volunteer at the desk (ボランティア受付票).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVolunteer {
    /// 氏名, 1 to 100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// ふりがな, at most 100 characters: lists are sorted by it.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub name_kana: String,
    /// At least 9 digits and at most 40 characters; hyphens, spaces and full-width digits are
    /// fine.
    #[schema(max_length = 40)]
    pub phone: String,
    /// Where they came from: prefecture (at most 20 characters) and city (at most 50).
    #[serde(default)]
    #[schema(max_length = 20)]
    pub prefecture: String,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub city: String,
    #[serde(default)]
    #[schema(value_type = AgeGroupCode)]
    pub age_group: String,
    /// 緊急連絡先, at most 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub emergency_contact: String,
    #[serde(default)]
    #[schema(value_type = Vec<super::SkillCode>)]
    pub skills: Vec<String>,
    /// The group they came with (団体名), at most 100 characters.
    #[serde(default)]
    #[schema(max_length = 100)]
    pub group_name: String,
    #[serde(default)]
    pub insurance: InsuranceInput,
}

/// A volunteer's activity insurance (ボランティア活動保険) as recorded.
#[derive(Clone, Debug, Serialize, PartialEq, ToSchema)]
#[schema(as = VolunteerInsurance)]
pub struct Insurance {
    pub joined: bool,
    #[schema(value_type = Option<InsurancePlanCode>)]
    pub plan: Option<String>,
    /// First day covered (YYYY-MM-DD); null: covered from when they joined. Cover bought at
    /// the counter starts the next day.
    pub valid_from: Option<String>,
    /// Last day covered (YYYY-MM-DD).
    pub valid_until: Option<String>,
    /// Enrolled at this centre's counter.
    pub enrolled_here: bool,
}

crate::code_schema!(
    InsurancePlanCode,
    "An insurance plan: `basic`, or `disaster` (天災タイプ: also covers earthquakes, tsunami and eruptions).",
    PLANS.to_vec()
);

crate::code_schema!(
    AgeGroupCode,
    "An age group (年代), or empty when not asked.",
    std::iter::once("").chain(AGE_GROUPS).collect()
);

/// The insurance plans the counter knows.
const PLANS: [&str; 2] = ["basic", "disaster"];

impl Insurance {
    /// Whether the cover holds on `day`.
    pub fn covers(&self, day: NaiveDate) -> bool {
        let parse = |d: &Option<String>| {
            d.as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        };
        self.joined
            && parse(&self.valid_from).is_none_or(|from| from <= day)
            && parse(&self.valid_until).is_some_and(|until| day <= until)
    }
}

/// What is stored for an insurance declaration made today.
fn insurance_record(input: &InsuranceInput, today: NaiveDate) -> Result<Insurance> {
    let plan = match input.plan.as_deref() {
        None | Some("") => None,
        Some(p) if PLANS.contains(&p) => Some(p.to_string()),
        Some(other) => {
            return Err(AppError::invalid(
                "insurance.plan",
                format!("unknown plan {other:?}: basic or disaster (天災タイプ)"),
            ));
        }
    };
    if input.enrol_here {
        return Ok(Insurance {
            joined: true,
            // At a disaster centre the counter sells the 天災 type unless told otherwise.
            plan: Some(plan.unwrap_or_else(|| "disaster".into())),
            valid_from: today.succ_opt().map(|d| d.to_string()),
            valid_until: Some(fiscal_year_end(today).to_string()),
            enrolled_here: true,
        });
    }
    if !input.joined {
        return Ok(Insurance {
            joined: false,
            plan: None,
            valid_from: None,
            valid_until: None,
            enrolled_here: false,
        });
    }
    let Some(plan) = plan else {
        return Err(AppError::invalid(
            "insurance.plan",
            "say which plan: basic or disaster (天災タイプ)",
        ));
    };
    Ok(Insurance {
        joined: true,
        plan: Some(plan),
        valid_from: None,
        valid_until: Some(
            input
                .valid_until
                .unwrap_or_else(|| fiscal_year_end(today))
                .to_string(),
        ),
        enrolled_here: false,
    })
}

/// A volunteer as the API shows them, with where they are today.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Volunteer {
    pub id: i64,
    /// The code on their volunteer card: six letters and digits, read aloud or scanned.
    pub card_code: String,
    pub name: String,
    pub name_kana: String,
    pub phone: String,
    pub prefecture: String,
    pub city: String,
    #[schema(value_type = AgeGroupCode)]
    pub age_group: String,
    pub emergency_contact: String,
    #[schema(value_type = Vec<super::SkillCode>)]
    pub skills: Vec<String>,
    pub group_name: String,
    pub insurance: Insurance,
    /// Whether the insurance covers today: only then may they be sent out.
    pub insured_today: bool,
    pub checked_in_today: bool,
    /// Checked in today and gone home since.
    pub left_today: bool,
    /// The active team they are in, if any.
    pub team_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct VolunteerRow {
    pub id: i64,
    pub card_code: String,
    pub name: String,
    pub name_kana: String,
    pub phone: String,
    pub prefecture: String,
    pub city: String,
    pub age_group: String,
    pub emergency_contact: String,
    pub skills: String,
    pub group_name: String,
    pub insurance_joined: bool,
    pub insurance_plan: Option<String>,
    pub insurance_from: Option<String>,
    pub insurance_until: Option<String>,
    pub insurance_enrolled_here: bool,
    pub checked_in: Option<Timestamp>,
    pub left_at: Option<Timestamp>,
    pub team_id: Option<i64>,
}

impl VolunteerRow {
    pub(crate) fn view(self, today: NaiveDate) -> Volunteer {
        let insurance = Insurance {
            joined: self.insurance_joined,
            plan: self.insurance_plan,
            valid_from: self.insurance_from,
            valid_until: self.insurance_until,
            enrolled_here: self.insurance_enrolled_here,
        };
        Volunteer {
            id: self.id,
            card_code: self.card_code,
            name: self.name,
            name_kana: self.name_kana,
            phone: self.phone,
            prefecture: self.prefecture,
            city: self.city,
            age_group: self.age_group,
            emergency_contact: self.emergency_contact,
            skills: parse_codes(&self.skills),
            group_name: self.group_name,
            insured_today: insurance.covers(today),
            insurance,
            checked_in_today: self.checked_in.is_some(),
            left_today: self.left_at.is_some(),
            team_id: self.team_id,
        }
    }
}

/// The volunteer columns with today's check-in (`$2` is the day) and active team.
macro_rules! select_volunteer {
    () => {
        "SELECT v.id, v.card_code, v.name, v.name_kana, v.phone, v.prefecture, v.city, v.age_group, \
         v.emergency_contact, v.skills, v.group_name, v.insurance_joined, v.insurance_plan, \
         v.insurance_from, v.insurance_until, v.insurance_enrolled_here, \
         c.checked_in_at AS checked_in, c.left_at, m.team_id \
         FROM volunteers v \
         LEFT JOIN checkins c ON c.volunteer_id = v.id AND c.day = $2 \
         LEFT JOIN team_members m ON m.volunteer_id = v.id AND m.active = TRUE "
    };
}

/// Today's volunteer counts as a board event of `$kind`, inside `$tx`: every change to a
/// volunteer's day moves these numbers and nothing else on the board.
macro_rules! counts_event {
    ($tx:expr, $activation:expr, $seq:expr, $kind:expr, $actor:expr) => {{
        let counts = volunteer_counts_in!($tx, $activation);
        let data = DispatchEvent {
            volunteers: Some(counts),
            ..Default::default()
        };
        events::record!($tx, $activation, $seq, $kind, $actor, &data)
    }};
}

/// One volunteer with today's check-in and team, inside `$tx`.
macro_rules! volunteer_in {
    ($tx:expr, $volunteer:expr, $day:expr) => {{
        let row: VolunteerRow = sqlx::query_as(concat!(select_volunteer!(), "WHERE v.id = $1"))
            .bind($volunteer)
            .bind($day)
            .fetch_one(&mut *$tx)
            .await?;
        row
    }};
}

/// The answer to a check-in: the volunteer, the day, what the desk should say.
fn checked_in(row: VolunteerRow, today: NaiveDate, day: String) -> CheckedIn {
    let volunteer = row.view(today);
    let warnings = warnings(&volunteer);
    CheckedIn {
        volunteer,
        day,
        warnings,
    }
}

/// Six characters from an alphabet without look-alikes: read aloud or typed from a card.
fn card_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// What a new registration answers: the volunteer, and what the desk should tell them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = VolunteerCheckedIn)]
pub struct CheckedIn {
    pub volunteer: Volunteer,
    /// The day checked in (in Japan), YYYY-MM-DD.
    pub day: String,
    /// For the desk: "not insured today: cannot be sent out", ...
    pub warnings: Vec<String>,
}

fn warnings(v: &Volunteer) -> Vec<String> {
    let mut out = Vec::new();
    if !v.insured_today {
        out.push(if v.insurance.enrolled_here {
            "ボランティア活動保険は明日から有効です。本日は活動に送り出せません / insurance starts tomorrow: cannot be sent out today".to_string()
        } else {
            "有効なボランティア活動保険がありません。送り出しできません / no valid insurance: cannot be sent out".to_string()
        });
    } else if v.insurance.plan.as_deref() == Some("basic") {
        out.push("基本タイプの保険です。地震・津波・噴火による災害の活動は補償されません / basic plan: earthquakes, tsunami and eruptions are not covered".to_string());
    }
    out
}

struct Checked {
    name: String,
    name_kana: String,
    phone: String,
    prefecture: String,
    city: String,
    age_group: String,
    emergency_contact: String,
    skills: Vec<String>,
    group_name: String,
}

fn check(new: &NewVolunteer) -> Result<Checked> {
    let phone = text("phone", &new.phone, 40, true)?;
    if phone_digits(&phone).len() < 9 {
        return Err(AppError::invalid(
            "phone",
            "a phone number has at least 9 digits",
        ));
    }
    let age_group = text("age_group", &new.age_group, 20, false)?;
    if !age_group.is_empty() && !AGE_GROUPS.contains(&age_group.as_str()) {
        return Err(AppError::invalid(
            "age_group",
            format!("age_group is one of {}", AGE_GROUPS.join(", ")),
        ));
    }
    Ok(Checked {
        name: text("name", &new.name, 100, true)?,
        name_kana: text("name_kana", &new.name_kana, 100, false)?,
        phone,
        prefecture: text("prefecture", &new.prefecture, 20, false)?,
        city: text("city", &new.city, 50, false)?,
        age_group,
        emergency_contact: text("emergency_contact", &new.emergency_contact, 200, false)?,
        skills: codes("skills", &new.skills, &SKILLS)?,
        group_name: text("group_name", &new.group_name, 100, false)?,
    })
}

/// Registers a first-time volunteer and checks them in today, in one transaction. A phone
/// already registered in this activation answers 409 `already_registered` with their id, so
/// the desk checks that person in again instead of making a second record, unless
/// `allow_same_phone` (a family sharing one phone).
pub async fn register(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    new: NewVolunteer,
    allow_same_phone: bool,
) -> Result<(CheckedIn, Event)> {
    let today = super::today();
    let v = check(&new)?;
    let insurance = insurance_record(&new.insurance, today)?;
    let digits = phone_digits(&v.phone);
    let now = Timestamp::now();
    let day = today.to_string();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        if !allow_same_phone {
            let existing: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, card_code FROM volunteers WHERE activation_id = $1 AND phone_digits = $2 ORDER BY id LIMIT 1",
            )
            .bind(activation_id).bind(&digits).fetch_optional(&mut *tx).await?;
            if let Some((id, code)) = existing {
                return Err(AppError::ConflictAbout {
                    code: "already_registered",
                    message: format!("a volunteer with this phone is registered already (id {id}, card {code}): check them in again"),
                    about: serde_json::json!({ "volunteer_id": id, "card_code": code }),
                });
            }
        }
        let mut id = None;
        // A clash of two random card codes is rare; try a few before giving up.
        for _ in 0..5 {
            let code = card_code();
            let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM volunteers WHERE activation_id = $1 AND card_code = $2")
                .bind(activation_id).bind(&code).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                continue;
            }
            let new_id: i64 = sqlx::query_scalar(
                "INSERT INTO volunteers (activation_id, card_code, name, name_kana, phone, phone_digits, prefecture, city, \
                 age_group, emergency_contact, skills, group_name, insurance_joined, insurance_plan, insurance_from, \
                 insurance_until, insurance_enrolled_here, registered_at, registered_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
            )
            .bind(activation_id).bind(&code).bind(&v.name).bind(&v.name_kana).bind(&v.phone).bind(&digits)
            .bind(&v.prefecture).bind(&v.city).bind(&v.age_group).bind(&v.emergency_contact)
            .bind(json_codes(&v.skills)).bind(&v.group_name).bind(insurance.joined).bind(&insurance.plan)
            .bind(&insurance.valid_from).bind(&insurance.valid_until).bind(insurance.enrolled_here)
            .bind(now).bind(&actor.name)
            .fetch_one(&mut *tx).await?;
            id = Some(new_id);
            break;
        }
        let id = id.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no free card code")))?;
        sqlx::query("INSERT INTO checkins (activation_id, volunteer_id, day, checked_in_at, checked_in_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(activation_id).bind(id).bind(&day).bind(now).bind(&actor.name)
            .execute(&mut *tx).await?;
        let event = counts_event!(tx, activation_id, seq, "volunteer_checked_in", actor);
        (volunteer_in!(tx, id, &day), event)
    });
    Ok((checked_in(out.0, today, day), out.1))
}

/// Checks a registered volunteer in again today (a returning volunteer, found by phone or
/// card). 409 `already_checked_in` if they are.
pub async fn check_in(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    volunteer_id: i64,
) -> Result<(CheckedIn, Event)> {
    let today = super::today();
    let day = today.to_string();
    let now = Timestamp::now();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM volunteers WHERE id = $1 AND activation_id = $2")
            .bind(volunteer_id).bind(activation_id).fetch_optional(&mut *tx).await?;
        if exists.is_none() {
            return Err(AppError::NotFound("volunteer"));
        }
        let inserted = sqlx::query(
            "INSERT INTO checkins (activation_id, volunteer_id, day, checked_in_at, checked_in_by) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (volunteer_id, day) DO NOTHING",
        )
        .bind(activation_id).bind(volunteer_id).bind(&day).bind(now).bind(&actor.name)
        .execute(&mut *tx).await?;
        if inserted.rows_affected() == 0 {
            return Err(AppError::conflict("already_checked_in", "this volunteer is checked in today already"));
        }
        let event = counts_event!(tx, activation_id, seq, "volunteer_checked_in", actor);
        (volunteer_in!(tx, volunteer_id, &day), event)
    });
    Ok((checked_in(out.0, today, day), out.1))
}

/// Records insurance for a registered volunteer: shown a certificate, or enrolled here.
pub async fn set_insurance(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    volunteer_id: i64,
    input: InsuranceInput,
) -> Result<(Volunteer, Event)> {
    let today = super::today();
    let insurance = insurance_record(&input, today)?;
    let day = today.to_string();
    let out = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let updated = sqlx::query(
            "UPDATE volunteers SET insurance_joined = $1, insurance_plan = $2, insurance_from = $3, insurance_until = $4, \
             insurance_enrolled_here = $5 WHERE id = $6 AND activation_id = $7",
        )
        .bind(insurance.joined).bind(&insurance.plan).bind(&insurance.valid_from).bind(&insurance.valid_until)
        .bind(insurance.enrolled_here).bind(volunteer_id).bind(activation_id)
        .execute(&mut *tx).await?;
        if updated.rows_affected() == 0 {
            return Err(AppError::NotFound("volunteer"));
        }
        let event = counts_event!(tx, activation_id, seq, "volunteer_insured", actor);
        (volunteer_in!(tx, volunteer_id, &day), event)
    });
    Ok((out.0.view(today), out.1))
}

/// A volunteer goes home for the day. Not while their team is active.
pub async fn check_out(
    store: &Store,
    actor: &Actor,
    activation_id: i64,
    volunteer_id: i64,
) -> Result<Event> {
    let day = super::today().to_string();
    let now = Timestamp::now();
    let event = write_tx!(store, tx => {
        let seq = events::next_seq!(tx, activation_id);
        let team: Option<i64> = sqlx::query_scalar("SELECT team_id FROM team_members WHERE volunteer_id = $1 AND active = TRUE")
            .bind(volunteer_id).fetch_optional(&mut *tx).await?;
        if team.is_some() {
            return Err(AppError::conflict("in_team", "this volunteer is in an active team: close or leave the team first"));
        }
        let updated = sqlx::query(
            "UPDATE checkins SET left_at = $1 WHERE volunteer_id = $2 AND day = $3 AND activation_id = $4 AND left_at IS NULL",
        )
        .bind(now).bind(volunteer_id).bind(&day).bind(activation_id)
        .execute(&mut *tx).await?;
        if updated.rows_affected() == 0 {
            return Err(AppError::conflict("not_checked_in", "this volunteer is not checked in today, or has left already"));
        }
        counts_event!(tx, activation_id, seq, "volunteer_left", actor)
    });
    Ok(event)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// Digits of a phone number (hyphens and full-width digits are fine).
    pub phone: Option<String>,
    /// The code on a volunteer card.
    pub card: Option<String>,
    /// Part of a name or kana.
    pub q: Option<String>,
    /// Only those checked in today and not in a team (the matching pool).
    #[serde(default)]
    pub waiting: bool,
    /// Only those checked in today.
    #[serde(default)]
    pub today: bool,
}

/// Finds volunteers of an activation: by phone or card (a returning volunteer), by name, or
/// today's pool.
pub async fn search(store: &Store, activation_id: i64, search: Search) -> Result<Vec<Volunteer>> {
    let today = super::today();
    let day = today.to_string();
    let digits = search
        .phone
        .as_deref()
        .map(phone_digits)
        .filter(|d| !d.is_empty());
    let card = search
        .card
        .as_deref()
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty());
    let pattern = search
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(crate::register::persons::like_pattern);
    let rows: Vec<VolunteerRow> = on_pool!(store, pool => {
        sqlx::query_as(concat!(
            select_volunteer!(),
            "WHERE v.activation_id = $1 AND ($3 IS NULL OR v.phone_digits = $3) AND ($4 IS NULL OR v.card_code = $4) \
             AND ($5 IS NULL OR v.name LIKE $5 ESCAPE '\\' OR v.name_kana LIKE $5 ESCAPE '\\') \
             AND (NOT $6 OR (c.checked_in_at IS NOT NULL AND c.left_at IS NULL AND m.team_id IS NULL)) \
             AND (NOT $7 OR c.checked_in_at IS NOT NULL) \
             ORDER BY v.name_kana, v.id LIMIT 500"
        ))
        .bind(activation_id)
        .bind(&day)
        .bind(&digits)
        .bind(&card)
        .bind(&pattern)
        .bind(search.waiting)
        .bind(search.today)
        .fetch_all(pool)
        .await?
    });
    Ok(rows.into_iter().map(|r| r.view(today)).collect())
}

pub async fn get_one(store: &Store, activation_id: i64, volunteer_id: i64) -> Result<Volunteer> {
    let today = super::today();
    let day = today.to_string();
    let row: Option<VolunteerRow> = on_pool!(store, pool => {
        sqlx::query_as(concat!(select_volunteer!(), "WHERE v.id = $1 AND v.activation_id = $3"))
            .bind(volunteer_id)
            .bind(&day)
            .bind(activation_id)
            .fetch_optional(pool)
            .await?
    });
    Ok(row.ok_or(AppError::NotFound("volunteer"))?.view(today))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn cover_bought_at_the_counter_starts_tomorrow() {
        let today = day("2026-11-23");
        let enrolled = insurance_record(
            &InsuranceInput {
                enrol_here: true,
                ..Default::default()
            },
            today,
        )
        .unwrap();
        assert!(!enrolled.covers(today));
        assert!(enrolled.covers(day("2026-11-24")));
        assert!(enrolled.covers(day("2027-03-31")));
        assert!(!enrolled.covers(day("2027-04-01")));
        assert_eq!(enrolled.plan.as_deref(), Some("disaster"));
    }

    #[test]
    fn declared_cover_holds_until_it_ends_and_needs_a_plan() {
        let today = day("2026-11-23");
        let none = insurance_record(&InsuranceInput::default(), today).unwrap();
        assert!(!none.covers(today));
        let expired = insurance_record(
            &InsuranceInput {
                joined: true,
                plan: Some("basic".into()),
                valid_until: Some(day("2026-03-31")),
                enrol_here: false,
            },
            today,
        )
        .unwrap();
        assert!(!expired.covers(today));
        let err = insurance_record(
            &InsuranceInput {
                joined: true,
                ..Default::default()
            },
            today,
        )
        .unwrap_err();
        assert!(matches!(err, AppError::Invalid { field, .. } if field == "insurance.plan"));
    }
}
