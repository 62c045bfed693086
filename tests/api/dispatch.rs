//! The volunteer centre through the HTTP API and the websocket, on SQLite and PostgreSQL:
//! check-in and insurance, needs intake with duplicate warnings, the whole team lifecycle with
//! every gate, equipment that never goes negative, the race for one volunteer, the matching
//! board's live events (without names), and the paper.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, Terminal, TestApp};

crate::on_both_backends!(
    volunteers_check_in_once_a_day_and_are_found_again_by_phone_or_card,
    a_need_is_taken_in_with_a_warning_when_the_phone_or_address_is_already_open,
    a_need_goes_from_intake_through_a_team_to_done_past_every_gate,
    equipment_stock_never_goes_below_zero,
    two_coordinators_putting_one_volunteer_in_two_teams_one_wins,
    a_team_is_refused_naming_the_member_who_cannot_join,
    the_matching_board_is_live_and_carries_no_names,
    the_centre_is_for_coordinators_and_admins_only,
    text_with_a_nul_character_is_refused_naming_where_it_was,
);

fn insured(name: &str, phone: &str) -> Value {
    json!({
        "name": name, "name_kana": "ボランティア", "phone": phone, "prefecture": "神奈川県",
        "city": "横浜市", "age_group": "30s", "skills": ["driving"],
        "insurance": { "joined": true, "plan": "disaster" }
    })
}

async fn register(coordinator: &Session, activation: i64, body: Value) -> Value {
    let (status, done) = coordinator
        .post(&format!("/api/activations/{activation}/volunteers"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    done
}

fn need(phone: &str, address: &str) -> Value {
    json!({
        "requester_name": "山本 花子", "phone": phone, "address": address, "district": "大倉山",
        "category": "mud_removal", "description": "床下の泥出し", "people_needed": 3,
        "skills_needed": [], "priority": "high"
    })
}

async fn receive(coordinator: &Session, activation: i64, body: Value) -> Value {
    let (status, done) = coordinator
        .post(&format!("/api/activations/{activation}/needs"), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{done}");
    done
}

async fn next_of(terminal: &mut Terminal, kind: &str) -> Value {
    loop {
        let message = terminal.next().await;
        if message["type"] == kind {
            return message;
        }
    }
}

async fn volunteers_check_in_once_a_day_and_are_found_again_by_phone_or_card(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");

    let done = register(
        &coordinator,
        activation,
        insured("佐々木 一郎", "090-1111-2222"),
    )
    .await;
    let volunteer = &done["volunteer"];
    assert_eq!(volunteer["insured_today"], true);
    assert_eq!(volunteer["checked_in_today"], true);
    assert_eq!(done["warnings"], json!([]));
    let code = volunteer["card_code"].as_str().unwrap().to_string();
    let id = volunteer["id"].as_i64().unwrap();

    // The same phone again, written differently: the desk is told to check them in instead.
    let (status, body) = coordinator
        .post(
            &format!("{a}/volunteers"),
            insured("佐々木 一郎", "０９０ １１１１ ２２２２"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_registered"))
    );
    assert!(body["error"].as_str().unwrap().contains(&code));
    assert_eq!(
        (body["volunteer_id"].as_i64(), body["card_code"].as_str()),
        (Some(id), Some(code.as_str()))
    );

    // Found by phone digits or by the card, in one step.
    let (_, by_phone) = coordinator
        .get(&format!("{a}/volunteers?phone=09011112222"))
        .await;
    assert_eq!(by_phone[0]["id"], id);
    let (_, by_card) = coordinator
        .get(&format!("{a}/volunteers?card={}", code.to_lowercase()))
        .await;
    assert_eq!(by_card[0]["id"], id);
    let (_, by_name) = coordinator.get(&format!("{a}/volunteers?q=佐々木")).await;
    assert_eq!(by_name[0]["id"], id);
    // A wildcard typed into the search is a character, not "everyone".
    let (_, wildcard) = coordinator.get(&format!("{a}/volunteers?q=%25")).await;
    assert_eq!(wildcard, json!([]));
    let (status, body) = coordinator
        .post(&format!("{a}/volunteers/{id}/checkin"), json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_checked_in"))
    );

    // No insurance: checked in, told they cannot be sent out; enrolled here: cover tomorrow.
    let mut body = insured("新井 二郎", "080-3333-4444");
    body["insurance"] = json!({ "joined": false });
    let done = register(&coordinator, activation, body).await;
    assert_eq!(done["volunteer"]["insured_today"], false);
    assert_eq!(done["warnings"].as_array().unwrap().len(), 1);
    let uninsured = done["volunteer"]["id"].as_i64().unwrap();
    let (status, enrolled) = coordinator
        .post(
            &format!("{a}/volunteers/{uninsured}/insurance"),
            json!({ "enrol_here": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    assert_eq!(enrolled["insurance"]["enrolled_here"], true);
    assert_eq!(enrolled["insurance"]["plan"], "disaster");
    assert_eq!(
        enrolled["insured_today"], false,
        "cover bought today starts tomorrow"
    );

    let (status, body) = coordinator
        .post(
            &format!("{a}/volunteers"),
            json!({ "name": "", "phone": "090", "insurance": { "joined": true } }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "phone");

    // The card carries the code and its QR code, drawn here.
    let (status, card) = coordinator
        .get_text(&format!(
            "/volunteers/card?activation={activation}&volunteer={id}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(card.contains(&code) && card.contains("<svg"), "{card}");

    let (_, waiting) = coordinator
        .get(&format!("{a}/volunteers?waiting=true"))
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 2);
    let (status, _) = coordinator
        .post(&format!("{a}/volunteers/{id}/checkout"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, waiting) = coordinator
        .get(&format!("{a}/volunteers?waiting=true"))
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
}

async fn a_need_is_taken_in_with_a_warning_when_the_phone_or_address_is_already_open(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");
    let first = receive(
        &coordinator,
        activation,
        need("045-111-2222", "港北区大倉山１丁目２番３号"),
    )
    .await;
    assert_eq!(first["duplicates"], json!([]));
    assert_eq!(first["need"]["status"], "received");
    let first_id = first["need"]["id"].as_i64().unwrap();

    let same_phone = receive(
        &coordinator,
        activation,
        need("０４５－１１１－２２２２", "港北区綱島1-1"),
    )
    .await;
    assert_eq!(same_phone["duplicates"][0]["id"], first_id);
    assert_eq!(same_phone["duplicates"][0]["reason"], "same_phone");
    let same_house = receive(
        &coordinator,
        activation,
        need("090-0000-0000", "港北区大倉山 1-2-3"),
    )
    .await;
    assert_eq!(same_house["duplicates"][0]["reason"], "same_address");
    // Before saving, as the phone is answered.
    let (_, early) = coordinator
        .get(&format!("{a}/needs/duplicates?phone=0451112222&address="))
        .await;
    assert_eq!(early.as_array().unwrap().len(), 2);

    for (field, value) in [
        ("category", json!("fishing")),
        ("people_needed", json!(0)),
        ("priority", json!("urgent")),
        ("address", json!("  ")),
    ] {
        let mut body = need("045-999-9999", "港北区1-1");
        body[field] = value;
        let (status, answer) = coordinator.post(&format!("{a}/needs"), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {answer}");
        assert_eq!(answer["field"], field);
    }

    // Cancelled by hand; a cancelled need no longer warns.
    let (status, cancelled) = coordinator
        .post(
            &format!("{a}/needs/{first_id}/status"),
            json!({ "status": "cancelled", "note": "重複受付" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    let (status, body) = coordinator
        .post(
            &format!("{a}/needs/{first_id}/status"),
            json!({ "status": "dispatched" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, record) = coordinator.get(&format!("{a}/needs/{first_id}")).await;
    let history: Vec<&str> = record["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, vec!["received", "cancelled"]);
}

async fn a_need_goes_from_intake_through_a_team_to_done_past_every_gate(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");
    let (status, shovels) = coordinator
        .post(
            &format!("{a}/equipment"),
            json!({ "name": "スコップ", "total": 5 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{shovels}");
    let shovels = shovels["id"].as_i64().unwrap();
    let need_id = receive(
        &coordinator,
        activation,
        need("045-111-2222", "港北区大倉山1-2-3"),
    )
    .await["need"]["id"]
        .as_i64()
        .unwrap();
    let leader = register(
        &coordinator,
        activation,
        insured("班長 太郎", "090-0000-0001"),
    )
    .await["volunteer"]["id"]
        .as_i64()
        .unwrap();
    let member = register(
        &coordinator,
        activation,
        insured("隊員 次郎", "090-0000-0002"),
    )
    .await["volunteer"]["id"]
        .as_i64()
        .unwrap();
    let mut body = insured("未加入 三郎", "090-0000-0003");
    body["insurance"] = json!({ "enrol_here": true });
    let uninsured = register(&coordinator, activation, body).await["volunteer"]["id"]
        .as_i64()
        .unwrap();

    // With an uninsured member the team forms but cannot leave.
    let (status, team) = coordinator
        .post(
            &format!("{a}/teams"),
            json!({ "need_id": need_id, "leader_id": leader, "member_ids": [member, uninsured],
                    "vehicle": "軽トラ", "equipment": [{ "equipment_id": shovels, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let team_id = team["id"].as_i64().unwrap();
    assert_eq!(team["members"].as_array().unwrap().len(), 3);
    assert_eq!(
        (
            team["need_category"].as_str(),
            team["need_district"].as_str()
        ),
        (Some("mud_removal"), Some("大倉山"))
    );
    let (_, need_now) = coordinator.get(&format!("{a}/needs/{need_id}")).await;
    assert_eq!(need_now["status"], "matched");
    let t = format!("{a}/teams/{team_id}");
    let (status, body) = coordinator.post(&format!("{t}/dispatch"), json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("orientation_required"))
    );
    coordinator
        .post(&format!("{t}/prepare"), json!({ "orientation_done": true }))
        .await;
    let (status, body) = coordinator.post(&format!("{t}/dispatch"), json!({})).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("uninsured_members"))
    );
    assert!(
        body["error"].as_str().unwrap().contains("未加入 三郎"),
        "{body}"
    );

    // Disbanded: the shovels come back and the need is received again.
    let (status, _) = coordinator.post(&format!("{t}/disband"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, stock) = coordinator.get(&format!("{a}/equipment")).await;
    assert_eq!(stock[0]["available"], 5);
    let (_, need_now) = coordinator.get(&format!("{a}/needs/{need_id}")).await;
    assert_eq!(need_now["status"], "received");

    let (status, team) = coordinator
        .post(
            &format!("{a}/teams"),
            json!({ "need_id": need_id, "leader_id": leader, "member_ids": [member],
                    "orientation_done": true, "equipment": [{ "equipment_id": shovels, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{team}");
    let t = format!("{a}/teams/{}", team["id"]);
    let (status, body) = coordinator
        .post(
            &format!("{t}/report"),
            json!({ "outcome": "done", "hours": 3 }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, out) = coordinator
        .post(&format!("{t}/dispatch"), json!({ "hours_out": 3 }))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["status"], "dispatched");
    let (_, need_now) = coordinator.get(&format!("{a}/needs/{need_id}")).await;
    assert_eq!(need_now["status"], "dispatched");
    // The team is out: a report now is refused until the return check.
    let (status, body) = coordinator
        .post(
            &format!("{t}/report"),
            json!({ "outcome": "done", "hours": 3 }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("return_check_required"))
    );
    let (status, body) = coordinator
        .post(
            &format!("{t}/return"),
            json!({ "injuries": true, "all_back": true }),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("injury_notes"))
    );
    let (status, back) = coordinator
        .post(
            &format!("{t}/return"),
            json!({ "injuries": false, "all_back": true, "near_misses": "床が抜けかけていた" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    let (status, body) = coordinator
        .post(
            &format!("{t}/report"),
            json!({ "outcome": "done", "hours": 3, "equipment_returned": [{ "equipment_id": shovels, "quantity": 3 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, closed) = coordinator
        .post(
            &format!("{t}/report"),
            json!({ "outcome": "done", "hours": 3, "notes": "完了",
                    "equipment_returned": [{ "equipment_id": shovels, "quantity": 1 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["equipment"][0]["returned"], 1);
    let (_, stock) = coordinator.get(&format!("{a}/equipment")).await;
    assert_eq!(stock[0]["available"], 4, "one shovel did not come back");
    let (_, need_now) = coordinator.get(&format!("{a}/needs/{need_id}")).await;
    assert_eq!(need_now["status"], "reported");
    let (status, _) = coordinator
        .post(
            &format!("{a}/needs/{need_id}/status"),
            json!({ "status": "done" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Members are free again.
    let (_, waiting) = coordinator
        .get(&format!("{a}/volunteers?waiting=true"))
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 3);

    let (status, summary) = coordinator.get(&format!("{a}/day-summary")).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["volunteers_checked_in"], 3);
    assert_eq!(summary["needs_received"], 1);
    assert_eq!(summary["needs_done"], 1);
    assert_eq!(summary["needs_open"], 0);
    assert_eq!(summary["teams_dispatched"], 1);
    assert_eq!(summary["activity_hours"], 3.0);
    assert_eq!(summary["near_misses"], json!(["床が抜けかけていた"]));
    let csv = coordinator
        .get_bytes(&format!("{a}/day-summary/export"))
        .await;
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("ヒヤリハット,床が抜けかけていた"), "{csv}");
    let (status, certificate) = coordinator
        .get_text(&format!(
            "/volunteers/certificate?activation={activation}&volunteer={leader}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        certificate.contains("班長 太郎") && certificate.contains("泥出し"),
        "{certificate}"
    );
    assert!(certificate.contains("3.0"), "{certificate}");
}

async fn equipment_stock_never_goes_below_zero(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");
    let (_, barrows) = coordinator
        .post(
            &format!("{a}/equipment"),
            json!({ "name": "一輪車", "total": 2 }),
        )
        .await;
    let barrows = barrows["id"].as_i64().unwrap();
    let need_id = receive(&coordinator, activation, need("045-1", "港北区1-1")).await["need"]["id"]
        .as_i64()
        .unwrap();
    let leader = register(
        &coordinator,
        activation,
        insured("一輪 太郎", "090-0000-0011"),
    )
    .await["volunteer"]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = coordinator
        .post(
            &format!("{a}/teams"),
            json!({ "need_id": need_id, "leader_id": leader,
                    "equipment": [{ "equipment_id": barrows, "quantity": 3 }] }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("equipment_short"))
    );
    assert!(body["error"].as_str().unwrap().contains("一輪車"));
    // Nothing of the refused team was kept: the volunteer is still free.
    let (_, waiting) = coordinator
        .get(&format!("{a}/volunteers?waiting=true"))
        .await;
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    let (status, _) = coordinator
        .post(
            &format!("{a}/teams"),
            json!({ "need_id": need_id, "leader_id": leader,
                    "equipment": [{ "equipment_id": barrows, "quantity": 2 }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = coordinator
        .post(
            &format!("{a}/equipment/{barrows}/adjust"),
            json!({ "add": -1 }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("equipment_short"))
    );
    let (_, stock) = coordinator.get(&format!("{a}/equipment")).await;
    assert_eq!(
        (stock[0]["total"].as_i64(), stock[0]["available"].as_i64()),
        (Some(2), Some(0))
    );
}

async fn two_coordinators_putting_one_volunteer_in_two_teams_one_wins(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let first = app.user("coord1", Role::Coordinator).await;
    let second = app.user("coord2", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");
    let need_a =
        receive(&first, activation, need("045-1", "港北区1-1")).await["need"]["id"].clone();
    let need_b =
        receive(&first, activation, need("045-2", "港北区2-2")).await["need"]["id"].clone();
    let popular =
        register(&first, activation, insured("人気 者", "090-0000-0021")).await["volunteer"]["id"]
            .clone();
    let other =
        register(&first, activation, insured("別の 人", "090-0000-0022")).await["volunteer"]["id"]
            .clone();
    let path = format!("{a}/teams");
    let (one, two) = tokio::join!(
        first.post(&path, json!({ "need_id": need_a, "leader_id": popular })),
        second.post(
            &path,
            json!({ "need_id": need_b, "leader_id": other, "member_ids": [popular] })
        ),
    );
    let created = [&one, &two]
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let busy = [&one, &two]
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "volunteer_busy")
        .count();
    assert_eq!((created, busy), (1, 1), "{one:?} {two:?}");
    let (_, teams) = admin.get(&format!("{a}/teams?status=formed")).await;
    let memberships = teams
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["members"].as_array().unwrap())
        .filter(|m| m["volunteer_id"] == popular)
        .count();
    assert_eq!(memberships, 1);
}

/// Every would-be member is checked before a team is formed, and the answer names the first
/// one who cannot join, in the order given (the leader first): a volunteer of another
/// activation is no volunteer here; one who went home is not checked in.
async fn a_team_is_refused_naming_the_member_who_cannot_join(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let elsewhere = admin.open_activation("別の災害", "real").await;
    let a = format!("/api/activations/{activation}");
    let need_id =
        receive(&coordinator, activation, need("045-1", "港北区1-1")).await["need"]["id"].clone();
    let id = |v: Value| v["volunteer"]["id"].as_i64().unwrap();
    let leader = id(register(
        &coordinator,
        activation,
        insured("班長 役", "090-0000-0031"),
    )
    .await);
    let member = id(register(
        &coordinator,
        activation,
        insured("班員 役", "090-0000-0032"),
    )
    .await);
    let gone = id(register(
        &coordinator,
        activation,
        insured("帰宅 者", "090-0000-0033"),
    )
    .await);
    let stranger = id(register(&coordinator, elsewhere, insured("他所 者", "090-0000-0034")).await);
    let (status, _) = coordinator
        .post(&format!("{a}/volunteers/{gone}/checkout"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let form = |leader: i64, members: Vec<i64>| json!({ "need_id": need_id, "leader_id": leader, "member_ids": members });
    let (status, body) = coordinator
        .post(&format!("{a}/teams"), form(stranger, vec![member]))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("leader_id")),
        "{body}"
    );
    let (status, body) = coordinator
        .post(
            &format!("{a}/teams"),
            form(leader, vec![member, stranger, gone]),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("member_ids")),
        "{body}"
    );
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(&stranger.to_string()),
        "{body}"
    );
    let (status, body) = coordinator
        .post(&format!("{a}/teams"), form(leader, vec![gone, member]))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_checked_in")),
        "{body}"
    );
    assert!(
        body["error"].as_str().unwrap().contains("帰宅 者"),
        "{body}"
    );

    // Nothing of the refused teams was kept; the two who can go form one.
    let (_, teams) = coordinator.get(&format!("{a}/teams")).await;
    assert_eq!(teams.as_array().unwrap().len(), 0, "{teams}");
    let (status, body) = coordinator
        .post(&format!("{a}/teams"), form(leader, vec![member]))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let members: Vec<i64> = body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["volunteer_id"].as_i64().unwrap())
        .collect();
    assert_eq!(members.len(), 2, "{body}");
    assert!(
        members.contains(&leader) && members.contains(&member),
        "{body}"
    );
}

async fn the_matching_board_is_live_and_carries_no_names(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let wall = app.user("wall", Role::Board).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");
    let mut terminal = wall.board(activation, None).await;
    let snapshot = terminal.next().await;
    assert_eq!(snapshot["data"]["dispatch"]["volunteers"]["checked_in"], 0);

    let leader = register(
        &coordinator,
        activation,
        insured("秘密 太郎", "090-9876-5432"),
    )
    .await["volunteer"]["id"]
        .as_i64()
        .unwrap();
    let event = next_of(&mut terminal, "volunteer_checked_in").await;
    assert_eq!(event["data"]["volunteers"]["checked_in"], 1);
    assert_eq!(event["data"]["volunteers"]["waiting"], 1);
    let need_id = receive(
        &coordinator,
        activation,
        need("045-765-4321", "港北区秘密町1-1"),
    )
    .await["need"]["id"]
        .as_i64()
        .unwrap();
    let event = next_of(&mut terminal, "need_received").await;
    let card = &event["data"]["needs"][0];
    assert_eq!(
        (card["district"].as_str(), card["category"].as_str()),
        (Some("大倉山"), Some("mud_removal"))
    );
    let (_, team) = coordinator
        .post(
            &format!("{a}/teams"),
            json!({ "need_id": need_id, "leader_id": leader, "orientation_done": true }),
        )
        .await;
    let event = next_of(&mut terminal, "team_formed").await;
    assert_eq!(event["data"]["volunteers"]["in_team"], 1);
    coordinator
        .post(
            &format!("{a}/teams/{}/dispatch", team["id"]),
            json!({ "hours_out": 2 }),
        )
        .await;
    let event = next_of(&mut terminal, "team_dispatched").await;
    let card = &event["data"]["teams"][0];
    assert_eq!(card["status"], "dispatched");
    assert!(card["expected_back_at"].is_string());
    assert_eq!(event["data"]["volunteers"]["out"], 1);
    assert_eq!(event["data"]["needs"][0]["status"], "dispatched");

    // Nothing a terminal received names anyone.
    let (_, log) = admin.get(&format!("{a}/events")).await;
    let text = log.to_string();
    for secret in ["秘密", "山本", "9876", "765-4321"] {
        assert!(!text.contains(secret), "{secret} reached the board: {text}");
    }
}

async fn the_centre_is_for_coordinators_and_admins_only(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let wall = app.user("wall", Role::Board).await;
    let operator = app.user("plaza", Role::ShelterOperator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");
    for session in [&wall, &operator] {
        for path in [
            format!("{a}/volunteers"),
            format!("{a}/needs"),
            format!("{a}/teams"),
            format!("{a}/day-summary"),
        ] {
            let (status, _) = session.get(&path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "GET {path}");
        }
        let (status, _) = session
            .post(&format!("{a}/volunteers"), insured("x", "090-0000-0000"))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = session.post(&format!("{a}/needs"), need("1", "x")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // A closed activation takes no more work.
    admin.post(&format!("{a}/close"), json!({})).await;
    let (status, body) = admin
        .post(
            &format!("{a}/volunteers"),
            insured("遅い 人", "090-0000-0099"),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("activation_closed"))
    );
}

/// U+0000 is refused where it comes in, naming where it was: PostgreSQL cannot store it (it
/// answered 500 before), and no one types it. The same on both engines.
async fn text_with_a_nul_character_is_refused_naming_where_it_was(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord1", Role::Coordinator).await;
    let activation = admin.open_activation("大雨災害", "real").await;
    let a = format!("/api/activations/{activation}");

    let mut body = need("045-111-2222", "港北区大倉山1-2-3");
    body["description"] = json!("床下の\u{0}泥出し");
    let (status, answer) = coordinator.post(&format!("{a}/needs"), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["field"], "description", "{answer}");

    let mut body = insured("佐々木 一郎", "090-1111-2222");
    body["skills"] = json!(["driving", "a\u{0}b"]);
    let (status, answer) = coordinator.post(&format!("{a}/volunteers"), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["field"], "skills[1]", "{answer}");

    let (status, answer) = coordinator.get(&format!("{a}/volunteers?q=a%00b")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["field"], "q", "{answer}");

    let (status, answer) = admin.get("/api/register/persons/1%000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(answer["field"], "path", "{answer}");

    // Nothing was kept, and the same need without it is taken.
    let (status, list) = coordinator.get(&format!("{a}/needs")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([]));
    receive(
        &coordinator,
        activation,
        need("045-111-2222", "港北区大倉山1-2-3"),
    )
    .await;
}
