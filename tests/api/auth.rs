//! Logging in and out, sessions, and the 401/403 answers every protected route gives.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, attempt};

crate::on_both_backends!(
    login_answers_token_and_role_and_sets_a_strict_httponly_cookie,
    wrong_password_and_unknown_user_get_the_same_401,
    logout_ends_the_session,
    api_routes_without_a_session_answer_401_json,
    roles_that_may_not_act_get_403_json,
    health_reports_the_database,
    six_wrong_passwords_answer_429_for_that_account_while_another_logs_in,
    a_successful_login_forgives_the_accounts_failures,
    twenty_failures_from_one_address_refuse_every_account_from_it,
);

async fn login_answers_token_and_role_and_sets_a_strict_httponly_cookie(app: TestApp) {
    app.user("tanaka", Role::Coordinator).await;
    let response = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({ "username": "tanaka", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"), "cookie is HttpOnly: {cookie}");
    assert!(
        cookie.contains("SameSite=Strict"),
        "cookie is SameSite=Strict: {cookie}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["role"], "coordinator");
    let token = body["token"].as_str().unwrap();
    assert!(
        cookie.contains(token),
        "the cookie carries the session token"
    );

    // The cookie alone authenticates, as in a browser.
    let cookie_pair = cookie.split(';').next().unwrap().to_string();
    let me = reqwest::Client::new()
        .get(app.url("/api/me"))
        .header("cookie", cookie_pair)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["username"], "tanaka");
    assert_eq!(me["role"], "coordinator");
}

async fn wrong_password_and_unknown_user_get_the_same_401(app: TestApp) {
    app.user("suzuki", Role::Admin).await;
    let anonymous = app.anonymous();
    let (status, wrong) = anonymous
        .post(
            "/api/login",
            json!({ "username": "suzuki", "password": "nope-nope" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, unknown) = anonymous
        .post(
            "/api/login",
            json!({ "username": "nobody", "password": "nope-nope" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, unknown,
        "the answer does not tell which usernames exist"
    );
    let (status, missing) = anonymous
        .post("/api/login", json!({ "username": "suzuki" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        missing["field"], "password",
        "names the missing field: {missing}"
    );
}

async fn logout_ends_the_session(app: TestApp) {
    let session = app.user("sato", Role::Coordinator).await;
    assert_eq!(session.get("/api/me").await.0, StatusCode::OK);
    let (status, _) = session.post("/api/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = session.get("/api/me").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the old token no longer works: {body}"
    );
}

async fn api_routes_without_a_session_answer_401_json(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let anonymous = app.anonymous();
    for path in [
        "/api/me",
        "/api/activations",
        &format!("/api/activations/{activation}"),
    ] {
        let (status, body) = anonymous.get(path).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "GET {path}");
        assert!(
            body["error"].is_string(),
            "GET {path} answers JSON with an error: {body}"
        );
    }
    let (status, _) = anonymous
        .post(
            &format!("/api/activations/{activation}/announcements"),
            json!({ "text": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let garbage = anonymous.with_token("not-a-token");
    assert_eq!(
        garbage.get("/api/activations").await.0,
        StatusCode::UNAUTHORIZED,
        "an unknown token"
    );
    assert_eq!(
        anonymous.board_with(activation, None, None).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
}

async fn roles_that_may_not_act_get_403_json(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord", Role::Coordinator).await;
    let board = app.user("wall", Role::Board).await;
    let operator = app.user("care-home", Role::ShelterOperator).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let announce = format!("/api/activations/{activation}/announcements");
    // Table of (who, request, expected status).
    let cases = [
        (
            "coordinator opens an activation",
            coordinator
                .post("/api/activations", json!({"name":"x","kind":"drill"}))
                .await,
            StatusCode::FORBIDDEN,
        ),
        (
            "board opens an activation",
            board
                .post("/api/activations", json!({"name":"x","kind":"drill"}))
                .await,
            StatusCode::FORBIDDEN,
        ),
        (
            "coordinator closes an activation",
            coordinator
                .post(&format!("/api/activations/{activation}/close"), json!({}))
                .await,
            StatusCode::FORBIDDEN,
        ),
        (
            "board posts an announcement",
            board.post(&announce, json!({"text":"x"})).await,
            StatusCode::FORBIDDEN,
        ),
        (
            "shelter operator posts an announcement",
            operator.post(&announce, json!({"text":"x"})).await,
            StatusCode::FORBIDDEN,
        ),
        (
            "board reads the event log",
            board
                .get(&format!("/api/activations/{activation}/events"))
                .await,
            StatusCode::FORBIDDEN,
        ),
        (
            "coordinator posts an announcement",
            coordinator.post(&announce, json!({"text":"x"})).await,
            StatusCode::CREATED,
        ),
        (
            "board lists activations",
            board.get("/api/activations").await,
            StatusCode::OK,
        ),
    ];
    for (case, (status, body), expected) in cases {
        assert_eq!(status, expected, "{case}: {body}");
        if expected == StatusCode::FORBIDDEN {
            assert!(body["error"].is_string(), "{case} answers JSON: {body}");
        }
    }
}

async fn health_reports_the_database(app: TestApp) {
    let (status, body) = app.anonymous().get("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ok");
}

async fn six_wrong_passwords_answer_429_for_that_account_while_another_logs_in(app: TestApp) {
    app.user("yamada", Role::Coordinator).await;
    app.user("kimura", Role::Coordinator).await;
    for n in 1..=5 {
        let (status, body, _) = attempt(&app, "yamada", "wrong password", None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "wrong password {n}: {body}"
        );
    }
    let (status, body, retry_after) = attempt(&app, "yamada", "wrong password", None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the sixth: {body}");
    assert_eq!(body["error"], "too_many_attempts", "{body}");
    let seconds = body["retry_after"]
        .as_u64()
        .expect("retry_after in the body");
    assert!(
        (1..=600).contains(&seconds),
        "within the 10 minute window: {body}"
    );
    assert_eq!(retry_after, Some(seconds), "Retry-After says the same");

    // The limit is checked before the password: even the right one is refused now.
    let (status, _, _) = attempt(&app, "yamada", PASSWORD, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Another account, from the same address, is not affected.
    let (status, body, _) = attempt(&app, "kimura", PASSWORD, None).await;
    assert_eq!(status, StatusCode::OK, "another account logs in: {body}");
}

async fn a_successful_login_forgives_the_accounts_failures(app: TestApp) {
    app.user("inoue", Role::Coordinator).await;
    for _ in 0..4 {
        assert_eq!(
            attempt(&app, "inoue", "typo typo", None).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&app, "inoue", PASSWORD, None).await.0,
        StatusCode::OK
    );
    // Forgiven: five more failures are answered 401, only the sixth 429.
    for n in 1..=5 {
        let (status, body, _) = attempt(&app, "inoue", "typo typo", None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "failure {n} after the reset: {body}"
        );
    }
    assert_eq!(
        attempt(&app, "inoue", "typo typo", None).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn twenty_failures_from_one_address_refuse_every_account_from_it(app: TestApp) {
    app.user("hayashi", Role::Coordinator).await;
    // Five accounts that do not exist, four failures each: twenty in all, and no account
    // reached its own limit of five.
    for n in 0..20 {
        let username = format!("guess{}", n % 5);
        let (status, body, _) = attempt(&app, &username, "wrong password", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "failure {n}: {body}");
    }
    let (status, body, retry_after) = attempt(&app, "hayashi", PASSWORD, None).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is refused, whatever the account: {body}"
    );
    assert!(retry_after.is_some_and(|s| s > 0));
    // Naming another address does not help: no proxy is trusted here.
    let (status, _, _) = attempt(&app, "hayashi", PASSWORD, Some("198.51.100.23")).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "X-Forwarded-For from an untrusted peer is ignored"
    );
}
