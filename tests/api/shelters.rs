//! Welfare shelters through the HTTP API and the websocket: the registry, opening and closing,
//! assignments with capacity (and the race for the last place), reassignment history,
//! suggestions, district plans, the operator's scope and records, and the paper fallback.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, Terminal, TestApp};

crate::on_both_backends!(
    the_registry_is_kept_by_admins_and_checked_field_by_field,
    a_closed_or_full_shelter_refuses_and_only_an_admin_may_override,
    coordinators_racing_for_the_last_places_get_exactly_the_capacity,
    reassigning_keeps_the_history_and_frees_the_old_place,
    suggestions_rank_the_designated_shelter_then_fit_then_free_places_then_distance,
    a_district_is_previewed_then_confirmed_whole_or_not_at_all,
    an_operator_gets_nothing_of_another_shelter_from_any_route,
    the_operator_sees_assignments_live_and_arrival_marks_the_person_evacuated,
    a_drill_assigns_only_people_who_consented,
    the_printed_list_and_the_export_carry_the_shelters_people_and_the_stamp,
    the_municipal_facility_list_imports_with_a_dry_run_and_line_level_errors,
);

const HEADER: &str = "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,障害,情報提供同意,避難先,緯度,経度,備考\r\n";

/// Five consented people in 大倉山 and one who did not consent.
const PEOPLE: [&str; 6] = [
    "2001,鈴木 花子,スズキ ハナコ,昭和15年3月1日,女,横浜市港北区大倉山1-1-1,045-000-0001,大倉山,要介護2,,有,さくら苑,35.5,139.6,",
    "2002,田中 一郎,タナカ イチロウ,S10.5.5,男,横浜市港北区大倉山2-2-2,045-000-0002,大倉山,,肢体不自由（車いす）,有,,35.5,139.6,",
    "2003,佐藤 三郎,サトウ サブロウ,1950/1/1,男,横浜市港北区大倉山3-3-3,045-000-0003,大倉山,要支援1,,有,,,,",
    "2004,高橋 四郎,タカハシ シロウ,1945/4/4,男,横浜市港北区大倉山4-4-4,045-000-0004,大倉山,,,有,,,,",
    "2005,伊藤 五子,イトウ イツコ,1940/5/5,女,横浜市港北区大倉山5-5-5,045-000-0005,大倉山,,,有,,,,",
    "2006,渡辺 六郎,ワタナベ ロクロウ,1938/6/6,男,横浜市港北区綱島6-6-6,045-000-0006,綱島,要介護3,,無,,,,",
];

async fn import_people(admin: &Session) {
    let mut csv = HEADER.to_string();
    for row in PEOPLE {
        csv.push_str(row);
        csv.push_str("\r\n");
    }
    let (status, report) = admin
        .post_bytes("/api/register/imports", csv.into_bytes())
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["new"], 6, "{report}");
}

async fn add_shelter(admin: &Session, body: Value) -> i64 {
    let (status, shelter) = admin.post("/api/shelters", body).await;
    assert_eq!(status, StatusCode::CREATED, "{shelter}");
    shelter["id"].as_i64().unwrap()
}

fn shelter_body(name: &str, capacity: i64) -> Value {
    json!({ "name": name, "address": "横浜市港北区", "capacity": capacity, "categories": ["elderly"] })
}

async fn open(session: &Session, activation: i64, shelter: i64, capacity: Option<i64>) -> Value {
    let body = match capacity {
        Some(c) => json!({ "capacity": c }),
        None => json!({}),
    };
    let (status, state) = session
        .post(
            &format!("/api/activations/{activation}/shelters/{shelter}/open"),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    state
}

async fn assign(
    session: &Session,
    activation: i64,
    resident: &str,
    shelter: i64,
) -> (StatusCode, Value) {
    session
        .post(
            &format!("/api/activations/{activation}/assignments"),
            json!({ "resident_id": resident, "shelter_id": shelter, "reason": "自宅が浸水" }),
        )
        .await
}

async fn shelter_state(session: &Session, activation: i64, shelter: i64) -> Value {
    let (status, states) = session
        .get(&format!("/api/activations/{activation}/shelters"))
        .await;
    assert_eq!(status, StatusCode::OK, "{states}");
    states
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == shelter)
        .cloned()
        .expect("the shelter is listed")
}

/// Reads board events until one of `kind` arrives.
async fn next_of(terminal: &mut Terminal, kind: &str) -> Value {
    loop {
        let message = terminal.next().await;
        if message["type"] == kind {
            return message;
        }
    }
}

async fn the_registry_is_kept_by_admins_and_checked_field_by_field(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let id = add_shelter(
        &admin,
        json!({
            "name": "地域ケアプラザ大倉山", "address": "横浜市港北区大倉山1-1", "capacity": 20,
            "latitude": 35.52, "longitude": 139.63,
            "categories": ["dementia", "elderly"], "facilities": ["wheelchair_access"],
            "contact": "045-000-9999"
        }),
    )
    .await;
    let (status, shelter) = coordinator.get(&format!("/api/shelters/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    // Codes come back in the registry's order, whatever order they were given in.
    assert_eq!(shelter["categories"], json!(["elderly", "dementia"]));
    assert_eq!(shelter["capacity"], 20);

    let (status, _) = coordinator
        .post("/api/shelters", shelter_body("別の施設", 5))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = admin
        .post("/api/shelters", shelter_body("地域ケアプラザ大倉山", 5))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "shelter_exists");
    let (status, body) = admin
        .post("/api/shelters", shelter_body("負の定員", -1))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "capacity");
    let (status, body) = admin
        .post(
            "/api/shelters",
            json!({ "name": "x施設", "address": "a", "capacity": 1, "categories": ["elderly", "cats"] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "categories[1]");
    let (status, body) = admin
        .post(
            "/api/shelters",
            json!({ "name": "y施設", "address": "a", "capacity": 1, "latitude": 35.0 }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "longitude");

    let operator = app.operator("plaza1", id).await;
    let mut update = shelter_body("地域ケアプラザ大倉山（本館）", 25);
    update["facilities"] = json!(["oxygen"]);
    let (status, _) = operator
        .put(&format!("/api/shelters/{id}"), update.clone())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, updated) = admin.put(&format!("/api/shelters/{id}"), update).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "地域ケアプラザ大倉山（本館）");
    assert_eq!(updated["operators"], json!(["plaza1"]));
    let (_, list) = operator.get("/api/shelters").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["capacity"], 25);
}

async fn a_closed_or_full_shelter_refuses_and_only_an_admin_may_override(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    import_people(&admin).await;
    let activation = admin.open_activation("台風第10号", "real").await;
    let shelter = add_shelter(&admin, shelter_body("ケアプラザ", 10)).await;

    let (status, body) = assign(&coordinator, activation, "2001", shelter).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "shelter_closed");

    // Opened with room for one in this activation (staff are short).
    let state = open(&coordinator, activation, shelter, Some(1)).await;
    assert_eq!(state["status"], "open");
    assert_eq!(state["capacity"], 1);
    let (status, made) = assign(&coordinator, activation, "2001", shelter).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, body) = assign(&coordinator, activation, "2002", shelter).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "shelter_full");
    assert!(body["error"].as_str().unwrap().contains("ケアプラザ"));

    let override_body = json!({
        "resident_id": "2002", "shelter_id": shelter, "override_reason": "家族と同じ施設にするため"
    });
    let (status, _) = coordinator
        .post(
            &format!("/api/activations/{activation}/assignments"),
            override_body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, made) = admin
        .post(
            &format!("/api/activations/{activation}/assignments"),
            override_body,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["override_reason"], "家族と同じ施設にするため");
    let state = shelter_state(&coordinator, activation, shelter).await;
    assert_eq!(
        (state["assigned"].as_i64(), state["capacity"].as_i64()),
        (Some(2), Some(1))
    );

    let (status, closed) = coordinator
        .post(
            &format!("/api/activations/{activation}/shelters/{shelter}/close"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    let (status, body) = assign(&coordinator, activation, "2003", shelter).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("shelter_closed"))
    );
    // The board's snapshot carries the shelter with its numbers.
    let mut terminal = coordinator.board(activation, None).await;
    let snapshot = terminal.next().await;
    let on_board = &snapshot["data"]["shelters"][0];
    assert_eq!(on_board["status"], "closed");
    assert_eq!(on_board["assigned"], 2);
}

async fn coordinators_racing_for_the_last_places_get_exactly_the_capacity(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    import_people(&admin).await;
    let activation = admin.open_activation("地震", "real").await;
    let shelter = add_shelter(&admin, shelter_body("ケアプラザ", 2)).await;
    open(&admin, activation, shelter, None).await;
    let mut coordinators = Vec::new();
    for i in 0..5 {
        coordinators.push(app.user(&format!("coord{i}"), Role::Coordinator).await);
    }
    // Five coordinators, five people, two places, all at once.
    let attempts = coordinators
        .iter()
        .zip(["2001", "2002", "2003", "2004", "2005"])
        .map(|(c, r)| assign(c, activation, r, shelter));
    let results = futures_util::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let full = results
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "shelter_full")
        .count();
    assert_eq!((won, full), (2, 3), "{results:?}");
    let state = shelter_state(&admin, activation, shelter).await;
    assert_eq!(state["assigned"], 2);
    // seq stayed consecutive under the race: the event log has no gap.
    let (_, events) = admin
        .get(&format!("/api/activations/{activation}/events"))
        .await;
    let seqs: Vec<i64> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

async fn reassigning_keeps_the_history_and_frees_the_old_place(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    import_people(&admin).await;
    let activation = admin.open_activation("大雨", "real").await;
    let first = add_shelter(&admin, shelter_body("第一ケアプラザ", 5)).await;
    let second = add_shelter(&admin, shelter_body("第二ケアプラザ", 5)).await;
    open(&admin, activation, first, None).await;
    open(&admin, activation, second, None).await;
    assert_eq!(
        assign(&coordinator, activation, "2001", first).await.0,
        StatusCode::CREATED
    );
    let (status, body) = assign(&coordinator, activation, "2001", first).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_assigned"))
    );
    let (status, moved) = assign(&coordinator, activation, "2001", second).await;
    assert_eq!(status, StatusCode::CREATED, "{moved}");

    let (status, history) = coordinator
        .get(&format!(
            "/api/activations/{activation}/assignments?resident_id=2001"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["shelter_name"], "第一ケアプラザ");
    assert_eq!(history[0]["superseded_by"], "coord1");
    assert!(history[1]["superseded_at"].is_null());
    assert_eq!(
        shelter_state(&admin, activation, first).await["assigned"],
        0
    );
    assert_eq!(
        shelter_state(&admin, activation, second).await["assigned"],
        1
    );
    let (_, active) = coordinator
        .get(&format!("/api/activations/{activation}/assignments"))
        .await;
    assert_eq!(
        active,
        json!([{ "resident_id": "2001", "shelter_id": second, "status": "assigned" }])
    );
}

async fn suggestions_rank_the_designated_shelter_then_fit_then_free_places_then_distance(
    app: TestApp,
) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    import_people(&admin).await;
    let activation = admin.open_activation("地震", "real").await;
    let body = |name: &str, capacity: i64, categories: Value, lat: f64| {
        json!({ "name": name, "address": "港北区", "capacity": capacity,
                "categories": categories, "latitude": lat, "longitude": 139.6 })
    };
    // 鈴木 花子 (2001): 86 years old, 要介護2, designated さくら苑, at (35.5, 139.6).
    let designated = add_shelter(
        &admin,
        body("特別養護老人ホームさくら苑", 2, json!([]), 35.9),
    )
    .await;
    let near = add_shelter(
        &admin,
        body("近いケアプラザ", 5, json!(["elderly"]), 35.501),
    )
    .await;
    let far = add_shelter(&admin, body("遠いケアプラザ", 5, json!(["elderly"]), 35.6)).await;
    let roomy = add_shelter(&admin, body("広いホーム", 30, json!(["elderly"]), 35.8)).await;
    let unfit = add_shelter(
        &admin,
        body("母子避難所", 50, json!(["pregnant_infant"]), 35.5),
    )
    .await;
    let closed = add_shelter(&admin, body("閉じた施設", 50, json!(["elderly"]), 35.5)).await;
    for s in [designated, near, far, roomy, unfit] {
        open(&admin, activation, s, None).await;
    }
    let (status, ranked) = coordinator
        .get(&format!(
            "/api/activations/{activation}/suggestions?resident_id=2001"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{ranked}");
    let order: Vec<i64> = ranked
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["shelter_id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![designated, roomy, near, far, unfit]);
    assert!(!order.contains(&closed));
    assert_eq!(ranked[0]["reasons"][0]["code"], "designated");
    let codes: Vec<&str> = ranked[4]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"missing"), "{codes:?}");
    assert!(
        ranked[2]["distance_km"].as_f64().unwrap() < ranked[3]["distance_km"].as_f64().unwrap()
    );

    // The person who did not consent is not there for a coordinator without disclosure.
    let (status, _) = coordinator
        .get(&format!(
            "/api/activations/{activation}/suggestions?resident_id=2006"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_district_is_previewed_then_confirmed_whole_or_not_at_all(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    import_people(&admin).await;
    let activation = admin.open_activation("大雨", "real").await;
    let small = add_shelter(&admin, shelter_body("小さな施設", 2)).await;
    let other = add_shelter(&admin, shelter_body("もう一つの施設", 1)).await;
    open(&admin, activation, small, None).await;
    open(&admin, activation, other, None).await;
    // 2005 is safe at home: they need no place.
    let (status, _) = coordinator
        .post(
            &format!("/api/activations/{activation}/safety"),
            json!({ "resident_id": "2005", "status": "safe_at_home" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        assign(&coordinator, activation, "2004", other).await.0,
        StatusCode::CREATED
    );

    let (status, plan) = coordinator
        .get(&format!(
            "/api/activations/{activation}/assignments/plan?district=大倉山"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let placements = plan["placements"].as_array().unwrap();
    // Three people need a place, two are free (other is full with 2004): one is unplaced.
    assert_eq!(placements.len(), 2, "{plan}");
    assert!(placements.iter().all(|p| p["shelter_id"] == small));
    assert_eq!(plan["unplaced"].as_array().unwrap().len(), 1, "{plan}");
    assert_eq!(plan["skipped"]["safe_at_home"], 1);
    assert_eq!(plan["skipped"]["already_assigned"], 1);
    // Nothing was written by the preview.
    assert_eq!(
        shelter_state(&admin, activation, small).await["assigned"],
        0
    );

    let confirmation = json!({ "placements": placements.iter().map(|p| json!({
        "resident_id": p["resident_id"], "shelter_id": p["shelter_id"] })).collect::<Vec<_>>() });
    // Someone takes a place in between: the whole confirmation is refused, nothing written.
    let unplaced = plan["unplaced"][0]["resident_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        assign(&admin, activation, &unplaced, small).await.0,
        StatusCode::CREATED
    );
    let (status, body) = coordinator
        .post(
            &format!("/api/activations/{activation}/assignments/batch"),
            confirmation.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("placements[1]"),
        "{body}"
    );
    assert_eq!(
        shelter_state(&admin, activation, small).await["assigned"],
        1
    );

    // Freed again, the same confirmation goes through whole.
    let (_, history) = admin
        .get(&format!(
            "/api/activations/{activation}/assignments?resident_id={unplaced}"
        ))
        .await;
    let id = history[0]["id"].as_i64().unwrap();
    let (status, _) = admin
        .post(
            &format!("/api/activations/{activation}/assignments/{id}/status"),
            json!({ "status": "not_arrived", "note": "家族宅へ避難" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, made) = coordinator
        .post(
            &format!("/api/activations/{activation}/assignments/batch"),
            confirmation,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made.as_array().unwrap().len(), 2);
    assert_eq!(
        shelter_state(&admin, activation, small).await["assigned"],
        2
    );
}

async fn an_operator_gets_nothing_of_another_shelter_from_any_route(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    import_people(&admin).await;
    let activation = admin.open_activation("地震", "real").await;
    let mine = add_shelter(&admin, shelter_body("自分の施設", 5)).await;
    let theirs = add_shelter(&admin, shelter_body("よその施設", 5)).await;
    open(&admin, activation, mine, None).await;
    open(&admin, activation, theirs, None).await;
    let (_, made) = assign(&admin, activation, "2001", theirs).await;
    let theirs_assignment = made["id"].as_i64().unwrap();
    let operator = app.operator("plaza1", mine).await;

    let a = format!("/api/activations/{activation}");
    let reads = [
        format!("{a}/shelters/{theirs}/assignments"),
        format!("{a}/shelters/{theirs}/assignments/export"),
        format!("/shelters/print?activation={activation}&shelter={theirs}"),
        format!("{a}/assignments?resident_id=2001"),
        format!("{a}/assignments"),
        format!("{a}/suggestions?resident_id=2001"),
        format!("{a}/assignments/plan?district=大倉山"),
        "/api/register/persons/2001".to_string(),
    ];
    for path in reads {
        let (status, body) = operator.get_text(&path).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "GET {path}: {status}"
        );
        assert!(!body.contains("鈴木"), "GET {path} revealed a name: {body}");
    }
    let writes = [
        (format!("{a}/shelters/{theirs}/open"), json!({})),
        (format!("{a}/shelters/{theirs}/close"), json!({})),
        (
            format!("{a}/assignments"),
            json!({ "resident_id": "2002", "shelter_id": mine }),
        ),
        (
            format!("{a}/assignments/{theirs_assignment}/status"),
            json!({ "status": "arrived" }),
        ),
        (
            format!("{a}/assignments/batch"),
            json!({ "placements": [] }),
        ),
    ];
    for (path, body) in writes {
        let (status, answer) = operator.post(&path, body).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "POST {path}: {status} {answer}"
        );
        assert!(!answer.to_string().contains("鈴木"));
    }
    // Their own shelter is theirs to read and to close.
    let (status, own) = operator
        .get(&format!("{a}/shelters/{mine}/assignments"))
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own["people"], json!([]));
    // And nothing changed at the other shelter.
    let state = shelter_state(&admin, activation, theirs).await;
    assert_eq!(
        (state["status"].as_str(), state["assigned"].as_i64()),
        (Some("open"), Some(1))
    );
}

async fn the_operator_sees_assignments_live_and_arrival_marks_the_person_evacuated(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    import_people(&admin).await;
    let activation = admin.open_activation("地震", "real").await;
    let shelter = add_shelter(&admin, shelter_body("ケアプラザ", 5)).await;
    let other = add_shelter(&admin, shelter_body("別の施設", 5)).await;
    let operator = app.operator("plaza1", shelter).await;
    open(&operator, activation, shelter, None).await;
    open(&admin, activation, other, None).await;
    let mut terminal = operator.board(activation, None).await;
    let snapshot = terminal.next().await;
    assert_eq!(snapshot["type"], "snapshot");

    let (status, made) = assign(&coordinator, activation, "2001", shelter).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let event = next_of(&mut terminal, "assignment_made").await;
    assert_eq!(event["data"]["shelter_id"], shelter);
    assert_eq!(event["data"]["shelters"][0]["assigned"], 1);
    // The board event carries numbers, never the person.
    let text = event.to_string();
    assert!(!text.contains("鈴木") && !text.contains("2001"), "{text}");
    // Another shelter's assignment reaches the socket as numbers too.
    assign(&coordinator, activation, "2002", other).await;
    let event = next_of(&mut terminal, "assignment_made").await;
    assert_eq!(event["data"]["shelter_id"], other);
    assert!(!event.to_string().contains("田中"));

    let (status, list) = operator
        .get(&format!(
            "/api/activations/{activation}/shelters/{shelter}/assignments"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let people = list["people"].as_array().unwrap();
    assert_eq!(people.len(), 1);
    assert_eq!(people[0]["name"], "鈴木 花子");
    // Care needs are what a shelter needs to receive someone.
    assert_eq!(people[0]["care_level"], "要介護2");
    assert_eq!(people[0]["status"], "assigned");
    let assignment = people[0]["assignment_id"].as_i64().unwrap();

    let (status, recorded) = operator
        .post(
            &format!("/api/activations/{activation}/assignments/{assignment}/status"),
            json!({ "status": "arrived", "note": "車いすで到着" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    let event = next_of(&mut terminal, "assignment_updated").await;
    assert_eq!(event["data"]["shelters"][0]["arrived"], 1);
    assert_eq!(event["data"]["shelters"][0]["assigned"], 0);
    let safety = next_of(&mut terminal, "safety_recorded").await;
    assert_eq!(safety["data"]["to"], "evacuated");
    let (_, person) = coordinator
        .get(&format!(
            "/api/register/persons/2001?activation={activation}"
        ))
        .await;
    assert_eq!(person["safety_status"], "evacuated");
    assert_eq!(person["safety_history"][0]["checked_by"], "plaza1");

    let (status, body) = operator
        .post(
            &format!("/api/activations/{activation}/assignments/{assignment}/status"),
            json!({ "status": "transferred" }),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("destination"))
    );
    let (status, _) = operator
        .post(
            &format!("/api/activations/{activation}/assignments/{assignment}/status"),
            json!({ "status": "transferred", "destination": "hospital", "note": "発熱のため搬送" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, person) = coordinator
        .get(&format!(
            "/api/register/persons/2001?activation={activation}"
        ))
        .await;
    assert_eq!(person["safety_status"], "hospital");
    let (_, list) = operator
        .get(&format!(
            "/api/activations/{activation}/shelters/{shelter}/assignments"
        ))
        .await;
    let updates = list["people"][0]["updates"].as_array().unwrap();
    assert_eq!(updates.len(), 2);
    assert_eq!(updates[1]["destination"], "hospital");
    // A transferred person no longer takes a place.
    assert_eq!(list["shelter"]["arrived"], 0);
    // The operator's reads are audited.
    let (_, audit) = admin.get("/api/audit").await;
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["actor"] == "plaza1" && e["action"] == "shelter.assignments.read"),
        "{audit}"
    );
}

async fn a_drill_assigns_only_people_who_consented(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    import_people(&admin).await;
    let drill = admin.open_activation("総合防災訓練", "drill").await;
    let shelter = add_shelter(&admin, shelter_body("ケアプラザ", 5)).await;
    open(&admin, drill, shelter, None).await;
    let (status, body) = assign(&admin, drill, "2006", shelter).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("consent_required"))
    );
    assert_eq!(
        assign(&admin, drill, "2001", shelter).await.0,
        StatusCode::CREATED
    );
    // The drill's assignment is not the real activation's.
    let real = admin.open_activation("台風", "real").await;
    open(&admin, real, shelter, None).await;
    assert_eq!(shelter_state(&admin, real, shelter).await["assigned"], 0);
    assert_eq!(shelter_state(&admin, drill, shelter).await["assigned"], 1);
}

async fn the_printed_list_and_the_export_carry_the_shelters_people_and_the_stamp(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    import_people(&admin).await;
    let activation = admin.open_activation("訓練", "drill").await;
    let shelter = add_shelter(&admin, shelter_body("ケアプラザ", 5)).await;
    open(&admin, activation, shelter, None).await;
    assign(&admin, activation, "2001", shelter).await;
    let operator = app.operator("plaza1", shelter).await;
    let (status, page) = operator
        .get_text(&format!(
            "/shelters/print?activation={activation}&shelter={shelter}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("鈴木 花子") && page.contains("印刷: plaza1"),
        "{page}"
    );
    assert!(page.contains("訓練 DRILL"));
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "no external assets"
    );
    let csv = operator
        .get_bytes(&format!(
            "/api/activations/{activation}/shelters/{shelter}/assignments/export"
        ))
        .await;
    assert!(csv.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(csv).unwrap();
    assert!(
        text.contains("鈴木 花子") && text.contains("受入予定"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);
}

async fn the_municipal_facility_list_imports_with_a_dry_run_and_line_level_errors(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("地震", "real").await;
    let mut terminal = admin.board(activation, None).await;
    assert_eq!(terminal.next().await["type"], "snapshot");
    let list = "施設名,住所,定員,受入対象,設備,緯度,経度,連絡先\r\n\
                地域ケアプラザ大倉山,横浜市港北区大倉山1-1,20,高齢者・認知症,車いす,35.52,139.63,045-000-0001\r\n\
                特別養護老人ホーム﨑山,横浜市港北区綱島1-1,１０人,高齢者、医療的ケア,酸素・発電機,,,\r\n";
    let (cp932, _, _) = encoding_rs::SHIFT_JIS.encode(list);
    let (status, preview) = admin
        .post_bytes("/api/shelters/imports?dry_run=true", cp932.to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        (preview["encoding"].as_str(), preview["new"].as_i64()),
        (Some("cp932"), Some(2))
    );
    assert_eq!(preview["committed"], false);
    let (_, shelters) = admin.get("/api/shelters").await;
    assert_eq!(shelters, json!([]), "a dry run writes nothing");

    let (status, _) = coordinator
        .post_bytes("/api/shelters/imports", cp932.to_vec())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, report) = admin
        .post_bytes("/api/shelters/imports", cp932.to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true);
    let (_, shelters) = admin.get("/api/shelters").await;
    let names: Vec<&str> = shelters
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"特別養護老人ホーム﨑山"), "{names:?}");
    let sakiyama = shelters
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "特別養護老人ホーム﨑山")
        .unwrap();
    assert_eq!(sakiyama["capacity"], 10);
    assert_eq!(sakiyama["categories"], json!(["elderly", "medical_care"]));
    assert_eq!(sakiyama["facilities"], json!(["oxygen", "generator"]));
    // The open activation's board learns of the new shelters.
    let event = loop {
        let message = terminal.next().await;
        if message["type"] == "shelter_changed" {
            break message;
        }
    };
    assert_eq!(event["data"]["shelters"][0]["status"], "not_opened");

    // A later list: one capacity changed, one row wrong: nothing is written, the row is named.
    let later = "施設名,住所,定員,受入対象\n\
                 地域ケアプラザ大倉山,横浜市港北区大倉山1-1,25,高齢者・認知症\n\
                 新しい施設,横浜市港北区新横浜1-1,-3,高齢者\n";
    let (status, refused) = admin
        .post_bytes("/api/shelters/imports", later.as_bytes().to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["committed"], false);
    assert_eq!(refused["invalid"][0]["line"], 3);
    assert_eq!(refused["invalid"][0]["column"], "定員");
    // Columns the later list lacks leave those fields as they were.
    assert_eq!(refused["updated"][0]["fields"], json!(["capacity"]));
    let (status, partial) = admin
        .post_bytes(
            "/api/shelters/imports?allow_invalid=true",
            later.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{partial}");
    assert_eq!(partial["committed"], true);
    let (_, shelters) = admin.get("/api/shelters").await;
    assert_eq!(
        shelters.as_array().unwrap().len(),
        2,
        "the invalid row was not added"
    );
    // A file that is no list at all is refused as a whole, saying why.
    let (status, body) = admin
        .post_bytes(
            "/api/shelters/imports",
            "施設名,住所\nA,B\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("file"))
    );
    assert!(body["error"].as_str().unwrap().contains("定員"), "{body}");
}
