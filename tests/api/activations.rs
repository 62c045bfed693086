//! Activations and announcements through the HTTP API.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::json;

use crate::helpers::{Session, TestApp};

crate::on_both_backends!(
    deleting_a_drill_removes_all_its_records_and_touches_nothing_real,
    an_admin_opens_lists_and_closes_activations,
    a_closed_activation_refuses_new_announcements_with_409,
    bad_input_gets_a_400_naming_the_field_and_changes_nothing,
    every_change_is_in_the_event_log_with_who_and_consecutive_seq,
);

async fn an_admin_opens_lists_and_closes_activations(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let drill = admin.open_activation("総合防災訓練", "drill").await;
    let real = admin.open_activation("令和8年台風第10号", "real").await;
    let (status, list) = admin.get("/api/activations").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"総合防災訓練") && names.contains(&"令和8年台風第10号"),
        "{names:?}"
    );
    let (_, shown) = admin.get(&format!("/api/activations/{real}")).await;
    assert_eq!(shown["kind"], "real");
    assert_eq!(shown["status"], "open");

    let (status, closed) = admin
        .post(&format!("/api/activations/{drill}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert!(closed["closed_at"].is_string());
    let (status, again) = admin
        .post(&format!("/api/activations/{drill}/close"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "closing twice: {again}");
    let (status, _) = admin.get("/api/activations/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_closed_activation_refuses_new_announcements_with_409(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    admin.announce(activation, "before closing").await;
    admin
        .post(&format!("/api/activations/{activation}/close"), json!({}))
        .await;
    let (status, body) = admin
        .post(
            &format!("/api/activations/{activation}/announcements"),
            json!({ "text": "after" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(
        body["code"], "activation_closed",
        "a client can tell which conflict: {body}"
    );
    let (_, list) = admin
        .get(&format!("/api/activations/{activation}/announcements"))
        .await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing was added: {list}"
    );
    let (status, _) = admin
        .post(
            "/api/activations/4242/announcements",
            json!({ "text": "x" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "an activation that does not exist"
    );
}

async fn bad_input_gets_a_400_naming_the_field_and_changes_nothing(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let announce = format!("/api/activations/{activation}/announcements");
    let cases = [
        (
            "kind not drill or real",
            admin
                .post(
                    "/api/activations",
                    json!({ "name": "x", "kind": "exercise" }),
                )
                .await,
            "kind",
        ),
        (
            "name missing",
            admin
                .post("/api/activations", json!({ "kind": "drill" }))
                .await,
            "name",
        ),
        (
            "name blank",
            admin
                .post(
                    "/api/activations",
                    json!({ "name": "　 ", "kind": "drill" }),
                )
                .await,
            "name",
        ),
        (
            "text blank",
            admin.post(&announce, json!({ "text": "  " })).await,
            "text",
        ),
        (
            "text too long",
            admin
                .post(&announce, json!({ "text": "あ".repeat(2001) }))
                .await,
            "text",
        ),
        (
            "text not a string",
            admin.post(&announce, json!({ "text": 5 })).await,
            "text",
        ),
        (
            "not JSON",
            admin.post_raw(&announce, "{\"text\": ").await,
            "body",
        ),
        (
            "activation id not a number",
            admin.get("/api/activations/abc").await,
            "path",
        ),
    ];
    for (case, (status, body), field) in cases {
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {body}");
        assert_eq!(body["field"], field, "{case} names the field: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{case} says why: {body}"
        );
    }
    let (_, list) = admin.get("/api/activations").await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "no activation was created by bad input"
    );
    let (_, events) = admin
        .get(&format!("/api/activations/{activation}/events"))
        .await;
    assert_eq!(
        events.as_array().unwrap().len(),
        1,
        "only the opening event: {events}"
    );
}

async fn every_change_is_in_the_event_log_with_who_and_consecutive_seq(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("yamada", Role::Coordinator).await;
    let activation = admin.open_activation("訓練", "drill").await;
    coordinator.announce(activation, "13時から第2班出発").await;
    admin
        .post(&format!("/api/activations/{activation}/close"), json!({}))
        .await;
    let (status, events) = coordinator
        .get(&format!("/api/activations/{activation}/events"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = events.as_array().unwrap();
    let summary: Vec<(i64, &str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["seq"].as_i64().unwrap(),
                e["type"].as_str().unwrap(),
                e["by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "activation_opened", "admin1"),
            (2, "announcement_posted", "yamada"),
            (3, "activation_closed", "admin1")
        ]
    );
    assert_eq!(events[1]["data"]["text"], "13時から第2班出発");
}

/// Fills an activation with one of everything: an announcement, a safety check, a shelter
/// opening and an assignment, a volunteer, a need, equipment and a team.
async fn fill(admin: &Session, activation: i64, shelter: i64, tag: &str) {
    let a = format!("/api/activations/{activation}");
    admin
        .announce(activation, &format!("{tag} のお知らせ"))
        .await;
    let (status, body) = admin
        .post(
            &format!("{a}/safety"),
            json!({ "resident_id": "9001", "status": "evacuated" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = admin
        .post(&format!("{a}/shelters/{shelter}/open"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = admin
        .post(
            &format!("{a}/assignments"),
            json!({ "resident_id": "9001", "shelter_id": shelter }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, volunteer) = admin
        .post(
            &format!("{a}/volunteers"),
            json!({ "name": format!("{tag} ボランティア"), "phone": "090-5555-0000",
                    "insurance": { "joined": true, "plan": "disaster" } }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{volunteer}");
    let (status, need) = admin
        .post(
            &format!("{a}/needs"),
            json!({ "requester_name": "依頼者", "address": "港北区1-1", "category": "mud_removal", "people_needed": 1 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{need}");
    let (status, item) = admin
        .post(
            &format!("{a}/equipment"),
            json!({ "name": "スコップ", "total": 3 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let (status, team) = admin
        .post(
            &format!("{a}/teams"),
            json!({ "need_id": need["need"]["id"], "leader_id": volunteer["volunteer"]["id"],
                    "equipment": [{ "equipment_id": item["id"], "quantity": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
}

async fn deleting_a_drill_removes_all_its_records_and_touches_nothing_real(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let (status, report) = admin
        .post_bytes(
            "/api/register/imports",
            "宛名番号,氏名,住所,情報提供同意\r\n9001,訓練 花子,港北区1-1,有\r\n"
                .as_bytes()
                .to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let shelter = app.shelter("ケアプラザ", 10).await;
    let real = admin.open_activation("台風第5号", "real").await;
    let drill = admin.open_activation("総合防災訓練", "drill").await;
    fill(&admin, real, shelter, "本番").await;
    fill(&admin, drill, shelter, "訓練").await;

    let (status, _) = coordinator
        .delete(&format!("/api/activations/{drill}"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = admin.delete(&format!("/api/activations/{real}")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("real_activation_kept"))
    );
    let (status, body) = admin.delete(&format!("/api/activations/{drill}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // The drill and everything in it are gone, in the database itself.
    let (status, _) = admin.get(&format!("/api/activations/{drill}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for table in [
        "events",
        "announcements",
        "safety_checks",
        "safety_status",
        "shelter_openings",
        "assignments",
        "volunteers",
        "checkins",
        "needs",
        "equipment",
        "teams",
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE activation_id = $1");
        let left: i64 = saigai_vc::store::on_pool!(&app.store, pool => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).bind(drill).fetch_one(pool).await.unwrap()
        });
        assert_eq!(left, 0, "{table} still holds the drill's rows");
    }
    // The real activation kept all of its own; master data is untouched.
    let a = format!("/api/activations/{real}");
    let (_, announcements) = admin.get(&format!("{a}/announcements")).await;
    assert_eq!(announcements.as_array().unwrap().len(), 1);
    let (_, person) = admin
        .get(&format!("/api/register/persons/9001?activation={real}"))
        .await;
    assert_eq!(person["safety_status"], "evacuated");
    let (_, states) = admin.get(&format!("{a}/shelters")).await;
    assert_eq!(
        (states[0]["status"].as_str(), states[0]["assigned"].as_i64()),
        (Some("open"), Some(1))
    );
    let (_, volunteers) = admin.get(&format!("{a}/volunteers")).await;
    assert_eq!(volunteers.as_array().unwrap().len(), 1);
    let (_, teams) = admin.get(&format!("{a}/teams")).await;
    assert_eq!(teams.as_array().unwrap().len(), 1);
    let (_, shelters) = admin.get("/api/shelters").await;
    assert_eq!(shelters.as_array().unwrap().len(), 1);
    let (_, audit) = admin.get("/api/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "activation.delete")
    );
}
