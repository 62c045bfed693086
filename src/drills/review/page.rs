//! The review on paper: one printable page (HTML with `/print.css`, Japanese first, no
//! external assets), in the style of the day summary (日報), and the charts that both the page
//! and the web tab show. Counts, times and facility names only.

use std::fmt::Write as _;

use super::chart::{self, Series, offset_label};
use super::figures::{Figures, Headline};
use super::{Charts, Review, ShelterChart};
use crate::dispatch::{NEED_CATEGORIES, label};
use crate::register::paper::{escape, jst};
use crate::store::Timestamp;

/// Stages of a need in Japanese, with the English beside for the bilingual page.
pub const STAGES: [(&str, &str); 5] = [
    ("intake_to_matching", "受付→マッチング / intake → matching"),
    (
        "matching_to_dispatch",
        "マッチング→送り出し / matching → dispatch",
    ),
    ("dispatch_to_return", "送り出し→帰着 / dispatch → return"),
    ("return_to_report", "帰着→活動報告 / return → report"),
    (
        "intake_to_dispatch",
        "受付→送り出し（全体） / intake → dispatch",
    ),
];

/// Timeline kinds in Japanese.
pub const KINDS: [(&str, &str); 21] = [
    ("activation_opened", "開始"),
    ("register_imported", "名簿取込"),
    ("announcement_posted", "お知らせ掲示"),
    ("shelter_opened", "福祉避難所 開設"),
    ("need_received", "ニーズ受付"),
    ("volunteer_checked_in", "ボランティア受付"),
    ("team_formed", "班編成"),
    ("team_dispatched", "送り出し"),
    ("team_returned", "帰着"),
    ("team_reported", "活動報告"),
    ("safety_recorded", "安否確認の記録"),
    ("assignment_made", "福祉避難所 受入決定"),
    ("assignment_arrived", "福祉避難所 到着"),
    ("shelter_full", "福祉避難所 満員"),
    ("shelter_closed", "福祉避難所 閉鎖"),
    ("disclosure_declared", "同意なし情報提供の宣言"),
    ("disclosure_ended", "同意なし情報提供の終了"),
    ("confirmed_50", "名簿の50%を確認"),
    ("confirmed_90", "名簿の90%を確認"),
    ("confirmed_100", "名簿の全員を確認"),
    ("activation_closed", "終了"),
];

const NEED_STATUSES: [(&str, &str); 8] = [
    ("received", "受付"),
    ("surveyed", "調査済"),
    ("matched", "マッチング済"),
    ("dispatched", "活動中"),
    ("reported", "報告済"),
    ("continuing", "継続"),
    ("done", "完了"),
    ("cancelled", "取消"),
];

const PRIORITIES: [(&str, &str); 3] = [("high", "高"), ("normal", "中"), ("low", "低")];

/// What a drill played faster than real time must say: every time on the page is a real
/// (wall-clock) time, so "90 % confirmed after 10 minutes" at ×24 is four hours of the drill.
fn speed_note(speed: f64) -> String {
    let speed = if speed.fract() == 0.0 {
        format!("{speed:.0}")
    } else {
        format!("{speed}")
    };
    format!(
        "<p class=\"speed\">×{speed} で再生した訓練です。この頁の時間はすべて実時間で、訓練内の時間はおよそ{speed}倍です（一時停止の間も実時間に含みます）。</p>"
    )
}

/// "1時間05分", "12分", "45秒": a duration as the page prints it; "未達" when not reached.
pub fn duration_ja(seconds: Option<i64>) -> String {
    let Some(s) = seconds else {
        return "未達 / not reached".into();
    };
    match (s / 3600, (s % 3600) / 60) {
        (0, 0) => format!("{s}秒"),
        (0, m) => format!("{m}分"),
        (h, m) => format!("{h}時間{m:02}分"),
    }
}

/// A stage's duration: a dash when no need or team went through it.
fn stage_duration(count: usize, seconds: Option<i64>) -> String {
    if count == 0 {
        "—".into()
    } else {
        duration_ja(seconds)
    }
}

/// The charts of a review, drawn once for both the page and the JSON.
pub fn charts(f: &Figures) -> Charts {
    let span = f.duration_seconds.max(60);
    let percent = |confirmed: i64, total: i64| {
        if total > 0 {
            100.0 * confirmed as f64 / total as f64
        } else {
            0.0
        }
    };
    let mut safety_points: Vec<(i64, f64)> = vec![(0, 0.0)];
    safety_points.extend(
        f.safety
            .curve
            .iter()
            .map(|p| (p.seconds, percent(p.confirmed, p.total))),
    );
    let safety = chart::steps(
        "安否確認済の割合 / share of the register confirmed",
        span,
        100.0,
        &|v| format!("{v:.0}%"),
        &[Series {
            label: "確認済 %",
            points: safety_points,
            dashed: false,
        }],
        &[(50.0, "50%"), (90.0, "90%")],
    );
    let checkins = chart::hourly_bars(
        "1時間ごとのボランティア受付 / volunteers checked in per hour",
        &f.volunteers.per_hour,
    );
    let shelters = f
        .shelters
        .iter()
        .map(|s| {
            let top = s
                .points
                .iter()
                .map(|p| p.occupied.max(p.capacity))
                .max()
                .unwrap_or(1)
                .max(1);
            let svg = chart::steps(
                &format!("{}：受入数と定員 / places taken and capacity", s.name),
                span,
                top as f64,
                &|v| format!("{v:.0}"),
                &[
                    Series {
                        label: "受入",
                        points: s
                            .points
                            .iter()
                            .map(|p| (p.seconds, p.occupied as f64))
                            .collect(),
                        dashed: false,
                    },
                    Series {
                        label: "定員",
                        points: s
                            .points
                            .iter()
                            .map(|p| (p.seconds, p.capacity as f64))
                            .collect(),
                        dashed: true,
                    },
                ],
                &[],
            );
            ShelterChart {
                shelter_id: s.shelter_id,
                name: s.name.clone(),
                svg,
            }
        })
        .collect();
    Charts {
        safety,
        checkins,
        shelters,
    }
}

fn counts_table(
    title: &str,
    counts: &std::collections::BTreeMap<String, i64>,
    labels: &[(&str, &str)],
) -> String {
    let mut rows = String::new();
    for (code, n) in counts {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{n}件</td></tr>",
            escape(label(labels, code))
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"2\">なし</td></tr>");
    }
    format!(
        "<table class=\"review-counts\"><thead><tr><th>{}</th><th>件数</th></tr></thead><tbody>{rows}</tbody></table>",
        escape(title)
    )
}

fn comparison_rows(review: &Review) -> String {
    let mut rows = String::new();
    for c in &review.comparison {
        let h: &Headline = &c.headline;
        let _ = write!(
            rows,
            "<tr{mark}><td>{name}{this}</td><td>{opened}</td><td>{total}人</td><td>{c50}</td><td>{c90}</td><td>{c100}</td>\
             <td>{received}件</td><td>{dispatch}</td><td>{teams}班</td><td>{vol}人</td><td>{open}件</td></tr>",
            mark = if c.this_run {
                " class=\"this-run\""
            } else {
                ""
            },
            name = escape(&c.name),
            this = if c.this_run { "（今回）" } else { "" },
            opened = jst(c.opened_at),
            total = h.register_total,
            c50 = duration_ja(h.confirm_50_seconds),
            c90 = duration_ja(h.confirm_90_seconds),
            c100 = duration_ja(h.confirm_100_seconds),
            received = h.needs_received,
            dispatch = duration_ja(h.intake_to_dispatch_median_seconds),
            teams = h.teams_dispatched,
            vol = h.volunteers_checked_in,
            open = h.needs_open_at_end,
        );
    }
    rows
}

/// The printable review.
pub fn html(review: &Review, printed_by: &str) -> String {
    let a = &review.activation;
    let f = &review.figures;
    let drill = a.kind == "drill";
    let mut milestones = String::new();
    for m in &f.safety.milestones {
        let _ = write!(
            milestones,
            "<tr><th>{}%の確認まで</th><td>{}</td></tr>",
            m.percent,
            duration_ja(m.seconds)
        );
    }
    let mut stages = String::new();
    for s in &f.stages {
        let _ = write!(
            stages,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(label(&STAGES, s.stage)),
            s.count,
            stage_duration(s.count, s.median_seconds),
            stage_duration(s.count, s.p90_seconds)
        );
    }
    let mut shelters = String::new();
    for s in &f.shelters {
        let _ = write!(
            shelters,
            "<tr><td>{}</td><td>{}人</td><td>{}人</td><td>{}人</td><td>{}</td></tr>",
            escape(&s.name),
            s.capacity_at_end,
            s.occupied_at_end,
            s.peak_occupied,
            s.full_at_seconds
                .map_or_else(|| "—".to_string(), offset_label),
        );
    }
    let shelter_charts: String = review
        .charts
        .shelters
        .iter()
        .map(|c| format!("<div class=\"review-chart\">{}</div>", c.svg))
        .collect();
    let mut timeline = String::new();
    for r in &f.timeline.rows {
        let _ = write!(
            timeline,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            offset_label(r.seconds),
            escape(label(&KINDS, r.kind)),
            r.count
        );
    }
    let comparison = if review.comparison.is_empty() {
        "<p>比較できる同じシナリオの訓練はありません（シナリオから実行した訓練のみ比較します）。</p>".to_string()
    } else {
        format!(
            "<table><thead><tr><th>訓練</th><th>開始</th><th>名簿</th><th>50%確認</th><th>90%確認</th><th>100%確認</th>\
             <th>ニーズ受付</th><th>受付→送り出し（中央値）</th><th>送り出し</th><th>ボランティア受付</th><th>未完了ニーズ</th></tr></thead>\
             <tbody>{}</tbody></table>",
            comparison_rows(review)
        )
    };
    let body = format!(
        "<header><h1>振り返り（事後検証）/ After-action review</h1><p class=\"stamp\">印刷: {who} {at}</p>\
         <p>{name}（{kind}{scenario}）</p><p>開始 {opened} ／ {end} ／ 所要 {duration}</p>{speed}</header>\
         <h2>安否確認 / Safety confirmation</h2>\
         <p>名簿 {total}人のうち確認済 {confirmed}人（確認済に数える状態: 在宅・無事、避難済、要支援・救助要請、入院中、死亡。不在・連絡不能は数えません）</p>\
         <table><tbody>{milestones}</tbody></table><div class=\"review-chart\">{safety_chart}</div>\
         <h2>ニーズ対応の所要時間 / Need stages</h2>\
         <table><thead><tr><th>区間</th><th>件数</th><th>中央値</th><th>90パーセンタイル</th></tr></thead><tbody>{stages}</tbody></table>\
         <h2>ボランティア受付 / Volunteers</h2><p>受付 計{volunteers}人、送り出した班 {teams}班</p>\
         <div class=\"review-chart\">{checkin_chart}</div>\
         <h2>福祉避難所の受入 / Shelter fill</h2>\
         <table><thead><tr><th>施設</th><th>定員（終了時）</th><th>受入（終了時）</th><th>最大受入</th><th>満員になった時刻</th></tr></thead>\
         <tbody>{shelters}</tbody></table>{shelter_charts}\
         <h2>終了時に未完了のニーズ / Needs still open: {open}件（受付 {received}件）</h2>\
         <div class=\"review-tables\">{by_status}{by_category}{by_priority}</div>\
         <h2>同じシナリオの過去の訓練との比較 / Earlier runs of this scenario</h2>{comparison}\
         <h2>時系列（{bucket}分ごと）/ Timeline</h2>\
         <table><thead><tr><th>時刻</th><th>出来事</th><th>件数</th></tr></thead><tbody>{timeline}</tbody></table>\
         <footer>数と時刻のみを載せています（個人情報なし）。— 災害ボランティアセンター</footer>",
        who = escape(printed_by),
        at = jst(Timestamp::now()),
        name = escape(&a.name),
        kind = if drill { "訓練" } else { "災害対応" },
        scenario = a
            .scenario
            .as_deref()
            .map(|s| format!("・シナリオ {}", escape(s)))
            .unwrap_or_default(),
        speed = a
            .speed
            .filter(|&s| s != 1.0)
            .map(speed_note)
            .unwrap_or_default(),
        opened = jst(a.opened_at),
        end = a
            .closed_at
            .map_or_else(|| "継続中".to_string(), |t| format!("終了 {}", jst(t))),
        duration = duration_ja(Some(f.duration_seconds)),
        total = f.safety.register_total,
        confirmed = f.safety.confirmed_at_end,
        safety_chart = review.charts.safety,
        volunteers = f.volunteers.checked_in,
        teams = f.teams_dispatched,
        checkin_chart = review.charts.checkins,
        open = f.needs.open_at_end,
        received = f.needs.received,
        by_status = counts_table("状態", &f.needs.open_by_status, &NEED_STATUSES),
        by_category = counts_table("種類", &f.needs.open_by_category, &NEED_CATEGORIES),
        by_priority = counts_table("優先度", &f.needs.open_by_priority, &PRIORITIES),
        bucket = f.timeline.bucket_minutes,
    );
    let banner = if drill {
        "<p class=\"drill\">訓練 DRILL — これは訓練です</p>"
    } else {
        ""
    };
    format!(
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>振り返り {title}</title>\
         <link rel=\"stylesheet\" href=\"/print.css\"></head><body class=\"review\">{banner}{body}</body></html>",
        title = escape(&a.name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::activations::Activation;
    use crate::drills::review::figures::{self, Run};
    use crate::drills::review::{Compared, Review};

    #[test]
    fn every_name_on_the_page_is_escaped() {
        let activation = Activation {
            id: 1,
            name: "<script>alert(1)</script> 訓練".into(),
            kind: "drill".into(),
            status: "open".into(),
            opened_at: Timestamp(0),
            closed_at: None,
            last_seq: 1,
            scenario: Some("flood\"ward<".into()),
            speed: Some(24.0),
        };
        let log = vec![figures::LogEvent {
            seq: 2,
            kind: "shelter_opened".into(),
            at: 60_000_000,
            payload: serde_json::json!({ "shelters": [{ "id": 3, "name": "<b>施設</b>", "status": "open",
                "capacity": 2, "assigned": 0, "arrived": 0 }] }),
        }];
        let f = figures::compute(
            Run {
                opened_at: 0,
                closed_at: None,
                register_total: 0,
            },
            &log,
        );
        let review = Review {
            comparison: vec![Compared {
                activation_id: 1,
                name: activation.name.clone(),
                opened_at: Timestamp(0),
                this_run: true,
                headline: f.headline(),
            }],
            charts: charts(&f),
            activation,
            confirmed_statuses: &figures::CONFIRMED,
            figures: f,
        };
        let page = html(&review, "<admin>");
        assert!(!page.contains("<script>") && !page.contains("<b>") && !page.contains("<admin>"));
        assert!(page.contains("&lt;script&gt;") && page.contains("&lt;b&gt;施設&lt;/b&gt;"));
        assert!(page.contains("flood&quot;ward&lt;"));
        assert!(page.contains("これは訓練です"), "a drill says so");
        assert!(
            page.contains("×24 で再生した訓練です"),
            "a drill played faster says its times are real times"
        );
    }

    #[test]
    fn a_speed_reads_as_the_runner_took_it() {
        assert!(speed_note(24.0).contains("×24 で再生"));
        assert!(speed_note(1.5).contains("×1.5 で再生"));
    }

    #[test]
    fn durations_read_in_japanese_and_unreached_is_said() {
        assert_eq!(duration_ja(None), "未達 / not reached");
        assert_eq!(duration_ja(Some(45)), "45秒");
        assert_eq!(duration_ja(Some(600)), "10分");
        assert_eq!(duration_ja(Some(3900)), "1時間05分");
    }
}
