//! The volunteer centre on paper: the volunteer card (with a QR code of its card code, so a
//! returning volunteer is checked in with one scan or by reading the code aloud), the activity
//! certificate (活動証明書) a volunteer takes home, and the day summary (日報) as a page and CSV.
//! All HTML with the print CSS and no external assets; the QR code is drawn here as SVG.

use std::fmt::Write as _;

use chrono::NaiveDate;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Serialize;
use utoipa::ToSchema;

use super::{NEED_CATEGORIES, label};
use crate::activations::Activation;
use crate::error::{AppError, Result};
use crate::register::paper::{escape, jst};
use crate::store::{Store, Timestamp, on_pool};

/// What a card's QR code holds: the card code, marked as ours.
pub fn card_payload(card_code: &str) -> String {
    format!("SAIGAIVC:{card_code}")
}

fn qr_svg(payload: &str) -> Result<String> {
    let code = QrCode::new(payload.as_bytes()).map_err(|e| anyhow::anyhow!("QR code: {e}"))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build())
}

fn page(title: &str, drill: bool, body: &str) -> String {
    let banner = if drill {
        "<p class=\"drill\">訓練 DRILL — これは訓練です</p>"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <link rel=\"stylesheet\" href=\"/print.css\"></head><body>{banner}{body}</body></html>",
        title = escape(title)
    )
}

/// The volunteer card: name, card code in large letters, its QR code.
pub async fn card(store: &Store, activation: &Activation, volunteer_id: i64) -> Result<String> {
    let v = super::volunteers::get_one(store, activation.id, volunteer_id).await?;
    let qr = qr_svg(&card_payload(&v.card_code))?;
    let body = format!(
        "<section class=\"card\"><h1>ボランティアカード</h1><p class=\"card-name\">{name}</p>\
         <p class=\"card-code\">{code}</p><div class=\"qr\">{qr}</div>\
         <p>{activation}</p><p class=\"small\">次回の受付でこのカードを見せてください（番号を伝えるだけでも受付できます）/ \
         Show this card at the desk next time.</p></section>",
        name = escape(&v.name),
        code = escape(&v.card_code),
        activation = escape(&activation.name),
    );
    Ok(page(
        &format!("ボランティアカード {}", v.card_code),
        activation.kind == "drill",
        &body,
    ))
}

#[derive(sqlx::FromRow)]
struct TeamWork {
    formed_at: Timestamp,
    team: String,
    category: String,
    district: String,
    report: Option<String>,
}

/// The day in Japan of a moment, YYYY-MM-DD.
fn jst_day(at: Timestamp) -> String {
    jst(at).split(' ').next().unwrap_or_default().to_string()
}

/// The activity certificate: every day the volunteer came, and what their teams did.
pub async fn certificate(
    store: &Store,
    activation: &Activation,
    volunteer_id: i64,
    issued_by: &str,
) -> Result<String> {
    let v = super::volunteers::get_one(store, activation.id, volunteer_id).await?;
    let checkin_days: Vec<String> = on_pool!(store, pool => {
        sqlx::query_scalar("SELECT day FROM checkins WHERE volunteer_id = $1 AND activation_id = $2 ORDER BY day")
            .bind(volunteer_id)
            .bind(activation.id)
            .fetch_all(pool)
            .await?
    });
    let work: Vec<TeamWork> = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT t.formed_at, t.name AS team, n.category, n.district, t.report FROM team_members m \
             JOIN teams t ON t.id = m.team_id JOIN needs n ON n.id = t.need_id \
             WHERE m.volunteer_id = $1 AND t.activation_id = $2 AND t.status = 'closed' ORDER BY t.id",
        )
        .bind(volunteer_id)
        .bind(activation.id)
        .fetch_all(pool)
        .await?
    });
    let mut days: Vec<(String, Vec<String>, f64)> = checkin_days
        .into_iter()
        .map(|d| (d, Vec::new(), 0.0))
        .collect();
    for w in work {
        let day = jst_day(w.formed_at);
        let Some(entry) = days.iter_mut().find(|(d, _, _)| *d == day) else {
            continue;
        };
        let hours = w
            .report
            .as_deref()
            .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
            .and_then(|r| r["hours"].as_f64())
            .unwrap_or(0.0);
        entry.2 += hours;
        entry.1.push(format!(
            "{}（{}・{}）",
            w.team,
            label(&NEED_CATEGORIES, &w.category),
            w.district
        ));
    }
    let mut rows_html = String::new();
    let mut total = 0.0;
    for (day, work, hours) in &days {
        total += hours;
        let _ = write!(
            rows_html,
            "<tr><td>{}</td><td>{}</td><td>{:.1}</td></tr>",
            escape(day),
            escape(&work.join("、")),
            hours
        );
    }
    let body = format!(
        "<header><h1>ボランティア活動証明書</h1></header>\
         <p>氏名：<b>{name}</b>（カード番号 {code}）</p>\
         <p>上記の方が、{activation} において下記のとおり災害ボランティア活動に従事したことを証明します。</p>\
         <table><thead><tr><th>日付</th><th>活動</th><th>時間</th></tr></thead><tbody>{rows_html}</tbody>\
         <tfoot><tr><td>計 {days}日</td><td></td><td>{total:.1}</td></tr></tfoot></table>\
         <footer>発行: {who} {at} — 災害ボランティアセンター</footer>",
        name = escape(&v.name),
        code = escape(&v.card_code),
        activation = escape(&activation.name),
        days = days.len(),
        who = escape(issued_by),
        at = jst(Timestamp::now()),
    );
    Ok(page(
        &format!("活動証明書 {}", v.name),
        activation.kind == "drill",
        &body,
    ))
}

/// One day of the centre in numbers (日報).
#[derive(Debug, Serialize, ToSchema)]
pub struct DaySummary {
    /// The day (in Japan), YYYY-MM-DD.
    pub day: String,
    /// Volunteers checked in that day.
    pub volunteers_checked_in: i64,
    /// Of those, volunteers who registered that day (初回).
    pub volunteers_first_time: i64,
    pub needs_received: i64,
    /// Needs whose work was reported finished, or that were closed as done, that day.
    pub needs_done: i64,
    /// Needs continuing to the next day (継続).
    pub needs_carried_over: i64,
    /// Needs still open at the end of the day, whatever their status.
    pub needs_open: i64,
    /// Teams sent out that day.
    pub teams_dispatched: i64,
    /// Hours those teams reported.
    pub activity_hours: f64,
    /// Those teams' return checks that reported an injury or illness.
    pub injuries: i64,
    /// What nearly went wrong (ヒヤリハット), for the next morning's orientation.
    pub near_misses: Vec<String>,
    /// Needs received and done that day, by category (every category the activation has
    /// needs in).
    pub by_category: Vec<CategoryCount>,
}

/// Needs of one category received and done on a day.
#[derive(Debug, Serialize, sqlx::FromRow, ToSchema)]
#[schema(as = DaySummaryCategory)]
pub struct CategoryCount {
    #[schema(value_type = super::NeedCategoryCode)]
    pub category: String,
    pub received: i64,
    pub done: i64,
}

/// Microseconds at 00:00 and 24:00 in Japan of a day.
fn day_bounds(day: NaiveDate) -> (i64, i64) {
    let start = day
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_micros()
        - 9 * 3600 * 1_000_000;
    (start, start + 24 * 3600 * 1_000_000)
}

pub async fn day_summary(store: &Store, activation_id: i64, day: NaiveDate) -> Result<DaySummary> {
    let (from, to) = day_bounds(day);
    let day_text = day.to_string();
    let (checked_in, first_time): (i64, i64) = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN v.registered_at >= $3 AND v.registered_at < $4 THEN 1 ELSE 0 END), 0) \
             FROM checkins c JOIN volunteers v ON v.id = c.volunteer_id WHERE c.activation_id = $1 AND c.day = $2",
        )
        .bind(activation_id).bind(&day_text).bind(from).bind(to)
        .fetch_one(pool).await?
    });
    // A need's state at the end of the day is its last history entry before midnight.
    let (received, done, carried, open): (i64, i64, i64, i64) = on_pool!(store, pool => {
        sqlx::query_as(
            "WITH last AS (SELECT h.need_id, h.status FROM need_history h \
               JOIN needs n ON n.id = h.need_id AND n.activation_id = $1 \
               WHERE h.id = (SELECT MAX(h2.id) FROM need_history h2 WHERE h2.need_id = h.need_id AND h2.changed_at < $3)) \
             SELECT \
               (SELECT COUNT(*) FROM needs WHERE activation_id = $1 AND received_at >= $2 AND received_at < $3), \
               (SELECT COUNT(DISTINCT h.need_id) FROM need_history h JOIN needs n ON n.id = h.need_id \
                  WHERE n.activation_id = $1 AND h.status IN ('reported', 'done') AND h.changed_at >= $2 AND h.changed_at < $3), \
               (SELECT COUNT(*) FROM last WHERE status = 'continuing'), \
               (SELECT COUNT(*) FROM last WHERE status NOT IN ('done', 'cancelled'))",
        )
        .bind(activation_id).bind(from).bind(to)
        .fetch_one(pool).await?
    });
    let teams: Vec<(Option<String>, Option<String>)> = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT return_check, report FROM teams WHERE activation_id = $1 AND dispatched_at >= $2 AND dispatched_at < $3",
        )
        .bind(activation_id).bind(from).bind(to)
        .fetch_all(pool).await?
    });
    let mut summary = DaySummary {
        day: day_text,
        volunteers_checked_in: checked_in,
        volunteers_first_time: first_time,
        needs_received: received,
        needs_done: done,
        needs_carried_over: carried,
        needs_open: open,
        teams_dispatched: teams.len() as i64,
        activity_hours: 0.0,
        injuries: 0,
        near_misses: Vec::new(),
        by_category: Vec::new(),
    };
    for (check, report) in teams {
        let parse =
            |j: Option<String>| j.and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok());
        if let Some(check) = parse(check) {
            if check["injuries"].as_bool() == Some(true) {
                summary.injuries += 1;
            }
            if let Some(text) = check["near_misses"].as_str().filter(|t| !t.is_empty()) {
                summary.near_misses.push(text.to_string());
            }
        }
        if let Some(report) = parse(report) {
            summary.activity_hours += report["hours"].as_f64().unwrap_or(0.0);
        }
    }
    summary.by_category = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT category, \
               COALESCE(SUM(CASE WHEN received_at >= $2 AND received_at < $3 THEN 1 ELSE 0 END), 0) AS received, \
               COALESCE(SUM(CASE WHEN status IN ('reported', 'done') AND updated_at >= $2 AND updated_at < $3 THEN 1 ELSE 0 END), 0) AS done \
             FROM needs WHERE activation_id = $1 GROUP BY category ORDER BY category",
        )
        .bind(activation_id).bind(from).bind(to)
        .fetch_all(pool).await?
    });
    Ok(summary)
}

pub fn parse_day(day: Option<&str>) -> Result<NaiveDate> {
    match day {
        None | Some("") => Ok(super::today()),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map_err(|_| AppError::invalid("day", "day is YYYY-MM-DD")),
    }
}

/// The day summary as a printable page.
pub fn day_summary_html(activation: &Activation, s: &DaySummary, printed_by: &str) -> String {
    let mut categories = String::new();
    for c in &s.by_category {
        let _ = write!(
            categories,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(label(&NEED_CATEGORIES, &c.category)),
            c.received,
            c.done
        );
    }
    let near: String = s
        .near_misses
        .iter()
        .map(|n| format!("<li>{}</li>", escape(n)))
        .collect();
    let body = format!(
        "<header><h1>災害ボランティアセンター 日報 {day}</h1><p class=\"stamp\">印刷: {who} {at}</p><p>{activation}</p></header>\
         <table><tbody>\
         <tr><th>受付ボランティア</th><td>{vol}人（うち初回 {first}人）</td></tr>\
         <tr><th>ニーズ受付</th><td>{received}件</td></tr>\
         <tr><th>活動完了</th><td>{done}件</td></tr>\
         <tr><th>翌日へ継続</th><td>{carried}件</td></tr>\
         <tr><th>未完了のニーズ</th><td>{open}件</td></tr>\
         <tr><th>送り出した班</th><td>{teams}班（活動 {hours:.1}時間）</td></tr>\
         <tr><th>けが・体調不良の報告</th><td>{injuries}件</td></tr>\
         </tbody></table>\
         <h2>種類別</h2><table><thead><tr><th>種類</th><th>受付</th><th>完了</th></tr></thead><tbody>{categories}</tbody></table>\
         <h2>ヒヤリハット</h2><ul>{near}</ul>",
        day = escape(&s.day),
        who = escape(printed_by),
        at = jst(Timestamp::now()),
        activation = escape(&activation.name),
        vol = s.volunteers_checked_in,
        first = s.volunteers_first_time,
        received = s.needs_received,
        done = s.needs_done,
        carried = s.needs_carried_over,
        open = s.needs_open,
        teams = s.teams_dispatched,
        hours = s.activity_hours,
        injuries = s.injuries,
    );
    page(
        &format!("日報 {}", s.day),
        activation.kind == "drill",
        &body,
    )
}

/// The day summary as CSV (UTF-8 with BOM): one row per figure, then one per category.
pub fn day_summary_csv(s: &DaySummary) -> Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut row = |cells: &[&str]| writer.write_record(cells).map_err(anyhow::Error::from);
    row(&["項目", "値"])?;
    for (name, value) in [
        ("日付", s.day.clone()),
        ("受付ボランティア", s.volunteers_checked_in.to_string()),
        ("うち初回", s.volunteers_first_time.to_string()),
        ("ニーズ受付", s.needs_received.to_string()),
        ("活動完了", s.needs_done.to_string()),
        ("翌日へ継続", s.needs_carried_over.to_string()),
        ("未完了のニーズ", s.needs_open.to_string()),
        ("送り出した班", s.teams_dispatched.to_string()),
        ("活動時間", format!("{:.1}", s.activity_hours)),
        ("けが・体調不良", s.injuries.to_string()),
    ] {
        row(&[name, &value])?;
    }
    for c in &s.by_category {
        row(&[
            &format!("種類別 {} 受付", label(&NEED_CATEGORIES, &c.category)),
            &c.received.to_string(),
        ])?;
        row(&[
            &format!("種類別 {} 完了", label(&NEED_CATEGORIES, &c.category)),
            &c.done.to_string(),
        ])?;
    }
    for n in &s.near_misses {
        row(&["ヒヤリハット", &crate::register::paper::neutralise(n)])?;
    }
    writer
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_code_becomes_a_qr_code_drawn_as_svg() {
        let svg = qr_svg(&card_payload("K7P2QX")).unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
        assert!(
            !svg.contains("<image") && !svg.contains("href"),
            "nothing fetched from elsewhere"
        );
    }

    #[test]
    fn a_day_runs_midnight_to_midnight_in_japan() {
        let (from, to) = day_bounds(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        // 2026-11-22T15:00:00Z is midnight in Japan.
        assert_eq!(from, 1_795_359_600_000_000);
        assert_eq!(to - from, 86_400_000_000);
    }
}
