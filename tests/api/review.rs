//! The after-action review (振り返り) through the HTTP API, on SQLite and PostgreSQL: a small
//! drill driven by hand (register, safety, a need through a team, check-ins, a shelter
//! placement) and the figures a council would check; the comparison with earlier runs of the
//! same scenario only; roles; and the scenario key on activations.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

crate::on_both_backends!(
    the_review_of_a_small_drill_shows_what_it_did,
    the_comparison_lists_earlier_runs_of_the_same_scenario_only,
    the_review_is_for_coordinators_and_admins,
);

/// Four people, all consented, in two districts.
const REGISTER: &str = "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,情報提供同意\r\n\
    7001,振返 一郎,フリカエリ イチロウ,昭和10年1月1日,男,架空市北町1-1,045-000-7001,北地区,有\r\n\
    7002,振返 二子,フリカエリ ニコ,昭和11年2月2日,女,架空市北町2-2,045-000-7002,北地区,有\r\n\
    7003,振返 三郎,フリカエリ サブロウ,昭和12年3月3日,男,架空市南町3-3,045-000-7003,南地区,有\r\n\
    7004,振返 四子,フリカエリ ヨツコ,昭和13年4月4日,女,架空市南町4-4,045-000-7004,南地区,有\r\n";

fn ok(status_body: (StatusCode, Value), expected: StatusCode, what: &str) -> Value {
    let (status, body) = status_body;
    assert_eq!(status, expected, "{what}: {body}");
    body
}

async fn drill(admin: &Session, name: &str, scenario: Option<&str>) -> i64 {
    let mut body = json!({ "name": name, "kind": "drill" });
    if let Some(key) = scenario {
        body["scenario"] = json!(key);
    }
    let made = ok(
        admin.post("/api/activations", body).await,
        StatusCode::CREATED,
        "open drill",
    );
    assert_eq!(made["scenario"], json!(scenario), "{made}");
    made["id"].as_i64().unwrap()
}

fn volunteer(name: &str, phone: &str) -> Value {
    json!({
        "name": name, "name_kana": "ボランティア", "phone": phone, "prefecture": "神奈川県",
        "city": "横浜市", "age_group": "30s", "skills": [],
        "insurance": { "joined": true, "plan": "disaster" }
    })
}

fn need(requester: &str, category: &str, priority: &str) -> Value {
    json!({
        "requester_name": requester, "phone": "045-999-0000", "address": "架空市北町9-9",
        "district": "北地区", "category": category, "description": "訓練", "people_needed": 2,
        "skills_needed": [], "priority": priority
    })
}

fn stage<'a>(review: &'a Value, name: &str) -> &'a Value {
    review["figures"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .unwrap_or_else(|| panic!("stage {name}: {review}"))
}

async fn the_review_of_a_small_drill_shows_what_it_did(app: TestApp) {
    let admin = app.user("review-admin", Role::Admin).await;
    let coordinator = app.user("review-coord", Role::Coordinator).await;
    let activation = drill(&admin, "振り返り訓練", Some("review-test")).await;
    let a = format!("/api/activations/{activation}");
    ok(
        admin
            .post_bytes("/api/register/imports", REGISTER.as_bytes().to_vec())
            .await,
        StatusCode::OK,
        "import",
    );

    // Safety: two confirmed, one not at home (not a confirmation), one never reached.
    for (resident, status) in [
        ("7001", "safe_at_home"),
        ("7003", "evacuated"),
        ("7002", "not_home"),
    ] {
        ok(
            coordinator
                .post(
                    &format!("{a}/safety"),
                    json!({ "resident_id": resident, "status": status }),
                )
                .await,
            StatusCode::CREATED,
            "safety",
        );
    }

    // Two volunteers check in; one need goes through a team to its report, one stays open.
    let mut ids = Vec::new();
    for (name, phone) in [
        ("受付 太郎", "090-7000-0001"),
        ("受付 花子", "090-7000-0002"),
    ] {
        let done = ok(
            coordinator
                .post(&format!("{a}/volunteers"), volunteer(name, phone))
                .await,
            StatusCode::CREATED,
            "volunteer",
        );
        ids.push(done["volunteer"]["id"].as_i64().unwrap());
    }
    let done_need = ok(
        coordinator
            .post(
                &format!("{a}/needs"),
                need("依頼 一郎", "mud_removal", "high"),
            )
            .await,
        StatusCode::CREATED,
        "need",
    )["need"]["id"]
        .as_i64()
        .unwrap();
    ok(
        coordinator
            .post(
                &format!("{a}/needs"),
                need("依頼 二郎", "cleaning", "normal"),
            )
            .await,
        StatusCode::CREATED,
        "need",
    );
    let team = ok(
        coordinator
            .post(
                &format!("{a}/teams"),
                json!({ "need_id": done_need, "leader_id": ids[0], "member_ids": [ids[1]],
                        "orientation_done": true }),
            )
            .await,
        StatusCode::CREATED,
        "team",
    );
    let t = format!("{a}/teams/{}", team["id"]);
    for (step, body) in [
        ("dispatch", json!({ "hours_out": 2 })),
        ("return", json!({ "injuries": false, "all_back": true })),
        ("report", json!({ "outcome": "done", "hours": 2 })),
    ] {
        ok(
            coordinator.post(&format!("{t}/{step}"), body).await,
            StatusCode::OK,
            step,
        );
    }
    // Reported is still open until the coordinator closes the need.
    ok(
        coordinator
            .post(
                &format!("{a}/needs/{done_need}/status"),
                json!({ "status": "done" }),
            )
            .await,
        StatusCode::OK,
        "done",
    );

    // A shelter of two places opens and takes one person.
    let shelter = app.shelter("振り返りケアプラザ", 5).await;
    ok(
        coordinator
            .post(
                &format!("{a}/shelters/{shelter}/open"),
                json!({ "capacity": 2 }),
            )
            .await,
        StatusCode::OK,
        "open shelter",
    );
    ok(
        coordinator
            .post(
                &format!("{a}/assignments"),
                json!({ "resident_id": "7004", "shelter_id": shelter, "reason": "訓練" }),
            )
            .await,
        StatusCode::CREATED,
        "assign",
    );

    let (status, review) = coordinator.get(&format!("{a}/review")).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    let f = &review["figures"];
    assert_eq!(review["activation"]["scenario"], "review-test");
    // 2 of 4 confirmed: 50 % reached, 90 % and 100 % not.
    assert_eq!(f["safety"]["register_total"], 4, "{f}");
    assert_eq!(f["safety"]["confirmed_at_end"], 2, "{f}");
    let milestones = f["safety"]["milestones"].as_array().unwrap();
    assert_eq!(milestones[0]["percent"], 50);
    assert!(milestones[0]["seconds"].is_i64(), "{f}");
    assert_eq!(
        (&milestones[1]["seconds"], &milestones[2]["seconds"]),
        (&Value::Null, &Value::Null),
        "{f}"
    );
    // One need went through every stage; the other was never matched.
    for name in [
        "intake_to_matching",
        "matching_to_dispatch",
        "dispatch_to_return",
        "return_to_report",
        "intake_to_dispatch",
    ] {
        let s = stage(&review, name);
        assert_eq!(s["count"], 1, "{s}");
        assert!(
            s["median_seconds"].is_i64() && s["p90_seconds"].is_i64(),
            "{s}"
        );
    }
    assert_eq!(f["teams_dispatched"], 1);
    assert_eq!(f["volunteers"]["checked_in"], 2);
    assert_eq!(f["volunteers"]["per_hour"][0], 2, "{f}");
    assert_eq!(f["needs"]["received"], 2);
    assert_eq!(f["needs"]["open_at_end"], 1);
    assert_eq!(f["needs"]["open_by_category"], json!({ "cleaning": 1 }));
    assert_eq!(f["needs"]["open_by_status"], json!({ "received": 1 }));
    assert_eq!(f["needs"]["open_by_priority"], json!({ "normal": 1 }));
    let shelters = f["shelters"].as_array().unwrap();
    assert_eq!(shelters.len(), 1, "{f}");
    assert_eq!(shelters[0]["name"], "振り返りケアプラザ");
    assert_eq!(
        (
            &shelters[0]["capacity_at_end"],
            &shelters[0]["occupied_at_end"]
        ),
        (&json!(2), &json!(1))
    );
    let kinds: Vec<(&str, i64)> = f["timeline"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["count"].as_i64().unwrap()))
        .collect();
    for expected in [
        ("activation_opened", 1),
        ("register_imported", 1),
        ("need_received", 2),
        ("volunteer_checked_in", 2),
        ("team_dispatched", 1),
        ("safety_recorded", 3),
        ("confirmed_50", 1),
        ("assignment_made", 1),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    // The charts are drawn by the server, as SVG.
    let charts = &review["charts"];
    for svg in [
        &charts["safety"],
        &charts["checkins"],
        &charts["shelters"][0]["svg"],
    ] {
        let svg = svg.as_str().unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{svg}");
    }
    // Only this run in the comparison: no earlier run of review-test.
    let comparison = review["comparison"].as_array().unwrap();
    assert_eq!(comparison.len(), 1);
    assert_eq!(comparison[0]["this_run"], true);
    assert_eq!(comparison[0]["confirmed_at_end"], 2);

    // Counts and times only: no person, requester or volunteer in the review.
    let text = review.to_string();
    for name in ["振返", "依頼", "受付 太郎", "7001", "045-"] {
        assert!(!text.contains(name), "{name} in the review: {text}");
    }

    // The printable page: the same figures and charts, Japanese first, marked as a drill.
    let (status, page) = coordinator.get_text(&format!("{a}/review/page")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("振り返り") && page.contains("これは訓練です"),
        "{page}"
    );
    assert!(page.contains("名簿 4人のうち確認済 2人"), "{page}");
    assert!(page.contains("未達"), "{page}");
    assert!(page.matches("<svg").count() >= 3, "{page}");
    assert!(page.contains("/print.css"));
    for name in ["振返", "依頼", "受付 太郎"] {
        assert!(!page.contains(name), "{name} on the page");
    }
}

async fn the_comparison_lists_earlier_runs_of_the_same_scenario_only(app: TestApp) {
    let admin = app.user("review-admin", Role::Admin).await;
    let first = drill(&admin, "水害訓練 第1回", Some("flood-ward")).await;
    admin.announce(first, "第1回").await;
    let other = drill(&admin, "地震訓練", Some("earthquake")).await;
    let real = admin.open_activation("実災害", "real").await;
    let by_hand = drill(&admin, "水害訓練（手動）", None).await;
    let second = drill(&admin, "水害訓練 第2回", Some("flood-ward")).await;

    let (_, review) = admin
        .get(&format!("/api/activations/{second}/review"))
        .await;
    let runs: Vec<(i64, bool)> = review["comparison"]
        .as_array()
        .unwrap_or_else(|| panic!("{review}"))
        .iter()
        .map(|c| (c["activation_id"].as_i64().unwrap(), c["this_run"] == true))
        .collect();
    assert_eq!(
        runs,
        vec![(first, false), (second, true)],
        "the earlier flood-ward run, oldest first, then this one; not {other}, {real} nor {by_hand}"
    );
    assert_eq!(review["comparison"][0]["name"], "水害訓練 第1回");

    // The first run has nothing earlier.
    let (_, review) = admin.get(&format!("/api/activations/{first}/review")).await;
    assert_eq!(
        review["comparison"].as_array().unwrap().len(),
        1,
        "{review}"
    );

    // A real activation is reviewed too, and compared with nothing.
    let (status, review) = admin.get(&format!("/api/activations/{real}/review")).await;
    assert_eq!(status, StatusCode::OK, "{review}");
    assert_eq!(review["comparison"], json!([]));
    assert_eq!(review["activation"]["kind"], "real");

    // The list shows each activation's scenario.
    let (_, list) = admin.get("/api/activations").await;
    let scenario_of = |id: i64| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["scenario"].clone())
            .unwrap()
    };
    assert_eq!(scenario_of(second), "flood-ward");
    assert_eq!(scenario_of(real), Value::Null);
}

async fn the_review_is_for_coordinators_and_admins(app: TestApp) {
    let admin = app.user("review-admin", Role::Admin).await;
    let coordinator = app.user("review-coord", Role::Coordinator).await;
    let wall = app.user("review-wall", Role::Board).await;
    let shelter = app.shelter("役割ケアプラザ", 3).await;
    let operator = app.operator("review-op", shelter).await;
    let activation = drill(&admin, "役割の訓練", Some("roles")).await;

    for path in [
        format!("/api/activations/{activation}/review"),
        format!("/api/activations/{activation}/review/page"),
    ] {
        for (who, session) in [("board", &wall), ("shelter_operator", &operator)] {
            let (status, body) = session.get_text(&path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}: {body}");
        }
        let (status, _) = admin.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "admin {path}");
        let (status, _) = coordinator.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "coordinator {path}");
    }
    let (status, body) = coordinator.get("/api/activations/999999/review").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = coordinator
        .get_text("/api/activations/999999/review/page")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A scenario key belongs to a drill, and is a short key.
    for (body, why) in [
        (
            json!({ "name": "実災害", "kind": "real", "scenario": "flood-ward" }),
            "real",
        ),
        (
            json!({ "name": "訓練", "kind": "drill", "scenario": "  " }),
            "blank",
        ),
        (
            json!({ "name": "訓練", "kind": "drill", "scenario": "x".repeat(101) }),
            "too long",
        ),
    ] {
        let (status, answer) = admin.post("/api/activations", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {answer}");
        assert_eq!(answer["field"], "scenario", "{why}: {answer}");
    }

    // A speed belongs to a played scenario, and is drill time per real time.
    for (body, why) in [
        (
            json!({ "name": "訓練", "kind": "drill", "speed": 24 }),
            "no scenario",
        ),
        (
            json!({ "name": "訓練", "kind": "drill", "scenario": "flood-ward", "speed": 0 }),
            "zero",
        ),
        (
            json!({ "name": "訓練", "kind": "drill", "scenario": "flood-ward", "speed": 100001 }),
            "too fast",
        ),
    ] {
        let (status, answer) = admin.post("/api/activations", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {answer}");
        assert_eq!(answer["field"], "speed", "{why}: {answer}");
    }

    // A drill played at ×24 says, on its review, that the times shown are real times.
    let made = ok(
        admin
            .post(
                "/api/activations",
                json!({ "name": "速い訓練", "kind": "drill", "scenario": "flood-ward", "speed": 24 }),
            )
            .await,
        StatusCode::CREATED,
        "open a drill played at ×24",
    );
    assert_eq!(made["speed"], json!(24.0), "{made}");
    let fast = made["id"].as_i64().unwrap();
    let (status, page) = coordinator
        .get_text(&format!("/api/activations/{fast}/review/page"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("×24 で再生した訓練です"), "{page}");
    let (_, review) = coordinator
        .get(&format!("/api/activations/{fast}/review"))
        .await;
    assert_eq!(review["activation"]["speed"], json!(24.0), "{review}");
    // One opened without a speed says nothing of the kind.
    let (_, page) = coordinator
        .get_text(&format!("/api/activations/{activation}/review/page"))
        .await;
    assert!(!page.contains("で再生した訓練です"), "{page}");
}
