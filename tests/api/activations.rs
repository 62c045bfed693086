//! Activations and announcements through the HTTP API.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::json;

use crate::helpers::TestApp;

crate::on_both_backends!(
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
