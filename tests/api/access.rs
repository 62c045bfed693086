//! The access matrix (issue 8): every route the server answers, tried by every role against
//! the situations that change the answer (own and other shelter, a person who consented and
//! one who did not, a drill, a real activation, and a real one with a disclosure in force),
//! compared with the table in `tests/access/matrix.csv`, which a council's data-protection
//! officer can read and review (`docs/access-matrix.md` explains it).
//!
//! Outcomes: `allow` is a 2xx, or a 4xx other than 401/403/404 (the role got past the gate
//! and the request was then judged on its merits, e.g. a 409 "already closed"); `deny` is
//! 401 or 403; `hidden` is a 404 from a handler (the thing is answered as if absent). Where a
//! request is allowed, its body is also searched for what that role must not see there:
//! people's names and phones, volunteers' and requesters' names.
//!
//! The routes are read from the API description the code generates (`/api/openapi.json`), not
//! from a list kept beside the code: axum's `Router` cannot list its routes, and a second
//! hand-kept list would drift like the table could. The live server then proves the reading:
//! every route of the table is answered by a handler (not the fallback), and every method
//! the table does not list for a path answers 405.
//!
//! Last, the gate comes first: each role the table denies is also sent ids that do not exist
//! (and a body that is not JSON), and must still be refused rather than told what exists.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Session, TestApp};

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_role_gets_what_the_access_matrix_says_on_every_route() {
        let app = crate::drill_control::spawn(crate::helpers::Backend::Sqlite)
            .await
            .expect("sqlite");
        super::every_role_gets_what_the_access_matrix_says_on_every_route(app).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_role_gets_what_the_access_matrix_says_on_every_route() {
        if let Some(app) = crate::drill_control::spawn(crate::helpers::Backend::Postgres).await {
            super::every_role_gets_what_the_access_matrix_says_on_every_route(app).await;
        }
    }
}

const MATRIX: &str = include_str!("../access/matrix.csv");

/// The roles of the table, in its column order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    Admin,
    Coordinator,
    /// The operator of shelter A, the shelter every shelter route is asked about.
    OperatorOwn,
    /// The operator of shelter B, asking about shelter A.
    OperatorOther,
    Board,
}

const COLUMNS: [(Who, &str); 6] = [
    (Who::Anonymous, "anonymous"),
    (Who::Admin, "admin"),
    (Who::Coordinator, "coordinator"),
    (Who::OperatorOwn, "operator_own"),
    (Who::OperatorOther, "operator_other"),
    (Who::Board, "board"),
];

/// The order in which roles try a route: least privilege first, so that a write a role may
/// not make is tried on an untouched scene, and the allowed ones come after.
const ORDER: [Who; 6] = [
    Who::Anonymous,
    Who::Board,
    Who::OperatorOther,
    Who::OperatorOwn,
    Who::Coordinator,
    Who::Admin,
];

fn column(who: Who) -> &'static str {
    COLUMNS.iter().find(|(w, _)| *w == who).unwrap().1
}

/// One line of the table.
#[derive(Clone, Debug)]
struct Row {
    method: String,
    path: String,
    /// `-` (no activation), `none` (the route takes one but is asked without), `drill`,
    /// `real`, `real+disclosure`.
    activation: String,
    /// `-`, `consented` or `not_consented`.
    person: String,
    expected: BTreeMap<Who, String>,
}

fn matrix() -> Vec<Row> {
    let mut reader = csv::Reader::from_reader(MATRIX.as_bytes());
    let headers = reader.headers().expect("a header line").clone();
    let at = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("matrix.csv has no column {name}"))
    };
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("matrix.csv line {}: {e}", line + 2));
        let mut expected = BTreeMap::new();
        for (who, name) in COLUMNS {
            let value = record[at(name)].trim().to_string();
            assert!(
                ["allow", "deny", "hidden"].contains(&value.as_str()),
                "matrix.csv line {}: {name} is {value:?}, not allow, deny or hidden",
                line + 2
            );
            expected.insert(who, value);
        }
        let row = Row {
            method: record[at("method")].trim().to_string(),
            path: record[at("path")].trim().to_string(),
            activation: record[at("activation")].trim().to_string(),
            person: record[at("person")].trim().to_string(),
            expected,
        };
        assert!(
            ["-", "none", "drill", "real", "real+disclosure"].contains(&row.activation.as_str()),
            "matrix.csv line {}: activation {:?}",
            line + 2,
            row.activation
        );
        assert!(
            ["-", "consented", "not_consented"].contains(&row.person.as_str()),
            "matrix.csv line {}: person {:?}",
            line + 2,
            row.person
        );
        rows.push(row);
    }
    rows
}

// ---------------------------------------------------------------------------------------
// The routes of the source
// ---------------------------------------------------------------------------------------

/// Every `(METHOD, PATH)` the server routes: the API description's operations. Routes are
/// declared with `utoipa_axum::routes!`, which routes and describes in one step (a unit test
/// in `src/openapi.rs` keeps any other way of routing out of `src/`).
fn routes_in_source() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(saigai_vc::openapi::document()).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                routes.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    routes
}

/// A new route without a row fails here, and so does a row whose route is gone.
#[test]
fn the_access_matrix_has_a_row_for_every_route_and_no_other() {
    let in_source = routes_in_source();
    assert!(
        in_source.contains(&("GET".to_string(), "/ws/board".to_string())) && in_source.len() > 60,
        "the source was not read as expected: {in_source:?}"
    );
    let rows = matrix();
    let in_matrix: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let missing: Vec<String> = in_source
        .difference(&in_matrix)
        .map(|(m, p)| format!("{m},{p}"))
        .collect();
    let extra: Vec<String> = in_matrix
        .difference(&in_source)
        .map(|(m, p)| format!("{m},{p}"))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "tests/access/matrix.csv and the routes in src/ differ.\nRoutes without a row (add them, with who may use them):\n  {}\nRows for no route:\n  {}",
        missing.join("\n  "),
        extra.join("\n  ")
    );
    let mut seen = BTreeSet::new();
    for r in &rows {
        assert!(
            seen.insert((&r.method, &r.path, &r.activation, &r.person)),
            "matrix.csv has two rows for {} {} {} {}",
            r.method,
            r.path,
            r.activation,
            r.person
        );
    }
}

// ---------------------------------------------------------------------------------------
// The world the roles act in
// ---------------------------------------------------------------------------------------

/// A register person of the fixture: resident id, name, phone.
struct Person {
    resident_id: &'static str,
    name: &'static str,
    phone: &'static str,
}

/// Consented, assigned to shelter A.
const CONSENTED: Person = Person {
    resident_id: "880001",
    name: "同意 花子",
    phone: "045-111-0001",
};
/// Did not consent; assigned to shelter A in real activations (a drill refuses).
const NOT_CONSENTED: Person = Person {
    resident_id: "880002",
    name: "非同意 一郎",
    phone: "045-111-0002",
};
/// Consented, assigned to shelter B.
const AT_B: Person = Person {
    resident_id: "880003",
    name: "別所 太郎",
    phone: "045-111-0003",
};
/// Consented, assigned nowhere.
const UNASSIGNED: Person = Person {
    resident_id: "880004",
    name: "未配 次郎",
    phone: "045-111-0004",
};
const VOLUNTEER_NAME: &str = "奉仕 三郎";
const REQUESTER_NAME: &str = "依頼 五郎";

fn register_csv() -> Vec<u8> {
    let mut csv =
        String::from("宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,情報提供同意\r\n");
    for (p, consent) in [
        (&CONSENTED, "有"),
        (&NOT_CONSENTED, "無"),
        (&AT_B, "有"),
        (&UNASSIGNED, "有"),
    ] {
        csv.push_str(&format!(
            "{},{},テスト,1940/1/1,女,横浜市港北区大倉山{}-1,{},大倉山,{consent}\r\n",
            p.resident_id,
            p.name,
            &p.resident_id[4..],
            p.phone
        ));
    }
    csv.into_bytes()
}

struct World {
    sessions: BTreeMap<Who, Session>,
    /// Second sessions, for the logout row (which ends the session it is sent with).
    spare: BTreeMap<Who, Session>,
    shelter_a: i64,
    shelter_b: i64,
    run: u64,
}

impl World {
    async fn build(app: &TestApp) -> World {
        let admin = app.user("access-admin", Role::Admin).await;
        let coordinator = app.user("access-coordinator", Role::Coordinator).await;
        let board = app.user("access-board", Role::Board).await;
        let shelter_a = app.shelter("あおば苑", 10).await;
        let shelter_b = app.shelter("みどり荘", 10).await;
        let own = app.operator("access-operator-a", shelter_a).await;
        let other = app.operator("access-operator-b", shelter_b).await;
        let (status, report) = admin
            .post_bytes("/api/register/imports", register_csv())
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        assert_eq!(report["new"], 4, "{report}");
        let (status, run) = admin
            .post("/api/drills/runs", json!({ "scenario": "slow" }))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{run}");
        let mut sessions = BTreeMap::new();
        sessions.insert(Who::Anonymous, app.anonymous());
        sessions.insert(Who::Admin, admin);
        sessions.insert(Who::Coordinator, coordinator);
        sessions.insert(Who::OperatorOwn, own);
        sessions.insert(Who::OperatorOther, other);
        sessions.insert(Who::Board, board);
        let mut spare = BTreeMap::new();
        spare.insert(Who::Anonymous, app.anonymous());
        for (who, name) in [
            (Who::Admin, "access-admin"),
            (Who::Coordinator, "access-coordinator"),
            (Who::OperatorOwn, "access-operator-a"),
            (Who::OperatorOther, "access-operator-b"),
            (Who::Board, "access-board"),
        ] {
            spare.insert(who, app.login(name, PASSWORD).await);
        }
        World {
            sessions,
            spare,
            shelter_a,
            shelter_b,
            run: run["id"].as_u64().expect("a run id"),
        }
    }

    fn admin(&self) -> &Session {
        &self.sessions[&Who::Admin]
    }

    fn coordinator(&self) -> &Session {
        &self.sessions[&Who::Coordinator]
    }
}

/// One activation with something of everything in it.
struct Scene {
    activation: i64,
    assignment_consented: i64,
    assignment_not_consented: Option<i64>,
    volunteer: i64,
    need: i64,
    item: i64,
    team: i64,
    /// Checked in and in no team: for check-in, check-out and forming a team.
    spare_volunteer: i64,
    /// Received and not matched: for a status change and forming a team.
    spare_need: i64,
}

async fn created(session: &Session, path: &str, body: Value) -> Value {
    let (status, answer) = session.post(path, body).await;
    assert!(
        status.is_success(),
        "setting up, POST {path}: {status} {answer}"
    );
    answer
}

impl Scene {
    async fn build(world: &World, situation: &str) -> Scene {
        let admin = world.admin();
        let coordinator = world.coordinator();
        let kind = if situation == "drill" {
            "drill"
        } else {
            "real"
        };
        let activation = admin
            .open_activation(&format!("access {situation}"), kind)
            .await;
        let a = format!("/api/activations/{activation}");
        for shelter in [world.shelter_a, world.shelter_b] {
            created(admin, &format!("{a}/shelters/{shelter}/open"), json!({})).await;
        }
        let assign = |person: &Person, shelter: i64| {
            let body = json!({ "resident_id": person.resident_id, "shelter_id": shelter, "reason": "浸水" });
            let path = format!("{a}/assignments");
            async move { created(admin, &path, body).await["id"].as_i64().unwrap() }
        };
        let assignment_consented = assign(&CONSENTED, world.shelter_a).await;
        assign(&AT_B, world.shelter_b).await;
        let assignment_not_consented = match kind {
            "real" => Some(assign(&NOT_CONSENTED, world.shelter_a).await),
            _ => None,
        };
        if situation == "real+disclosure" {
            created(
                admin,
                &format!("{a}/disclosure"),
                json!({ "hours": 2, "reason": "土砂災害警戒区域の全戸確認" }),
            )
            .await;
        }
        created(
            admin,
            &format!("{a}/safety"),
            json!({ "resident_id": CONSENTED.resident_id, "status": "safe_at_home" }),
        )
        .await;
        let volunteer = created(
            coordinator,
            &format!("{a}/volunteers"),
            volunteer_body(VOLUNTEER_NAME, "090-2222-0001"),
        )
        .await["volunteer"]["id"]
            .as_i64()
            .unwrap();
        let need = created(
            coordinator,
            &format!("{a}/needs"),
            need_body(REQUESTER_NAME),
        )
        .await["need"]["id"]
            .as_i64()
            .unwrap();
        let item = created(
            coordinator,
            &format!("{a}/equipment"),
            json!({ "name": "スコップ", "total": 5 }),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let team = created(
            coordinator,
            &format!("{a}/teams"),
            json!({ "need_id": need, "leader_id": volunteer }),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let spare_volunteer = created(
            coordinator,
            &format!("{a}/volunteers"),
            volunteer_body("予備 四郎", "090-2222-0002"),
        )
        .await["volunteer"]["id"]
            .as_i64()
            .unwrap();
        let mut spare = need_body("予備 依頼");
        spare["phone"] = json!("045-333-0002");
        spare["address"] = json!("横浜市港北区綱島8-8");
        let spare_need = created(coordinator, &format!("{a}/needs"), spare).await["need"]["id"]
            .as_i64()
            .unwrap();
        Scene {
            activation,
            assignment_consented,
            assignment_not_consented,
            volunteer,
            need,
            item,
            team,
            spare_volunteer,
            spare_need,
        }
    }

    /// Brings the scene to where `row` can succeed for an allowed role (a team must be
    /// prepared before it leaves, out before it returns, back before it reports), so the
    /// matrix sees a 2xx and not only a 409.
    async fn prime(&self, world: &World, row: &Row) {
        let a = format!("/api/activations/{}", self.activation);
        let t = format!("{a}/teams/{}", self.team);
        let steps: Vec<(String, Value)> = match row.path.rsplit('/').next().unwrap_or("") {
            "checkin" => vec![(
                format!("{a}/volunteers/{}/checkout", self.spare_volunteer),
                json!({}),
            )],
            "dispatch" => vec![(format!("{t}/prepare"), json!({ "orientation_done": true }))],
            "return" => vec![
                (format!("{t}/prepare"), json!({ "orientation_done": true })),
                (format!("{t}/dispatch"), json!({})),
            ],
            "report" => vec![
                (format!("{t}/prepare"), json!({ "orientation_done": true })),
                (format!("{t}/dispatch"), json!({})),
                (
                    format!("{t}/return"),
                    json!({ "injuries": false, "all_back": true }),
                ),
            ],
            _ => Vec::new(),
        };
        if !row.path.starts_with("/api/activations/{id}/") || row.method == "GET" {
            return;
        }
        for (path, body) in steps {
            created(world.coordinator(), &path, body).await;
        }
    }
}

fn volunteer_body(name: &str, phone: &str) -> Value {
    json!({
        "name": name, "name_kana": "ボランティア", "phone": phone, "prefecture": "神奈川県",
        "city": "横浜市", "age_group": "30s", "skills": ["driving"],
        "insurance": { "joined": true, "plan": "disaster" }
    })
}

fn need_body(requester: &str) -> Value {
    json!({
        "requester_name": requester, "phone": "045-333-0001", "address": "横浜市港北区大倉山9-9",
        "district": "大倉山", "category": "mud_removal", "description": "床下の泥出し",
        "people_needed": 2, "priority": "normal"
    })
}

/// What `who` must not find in an allowed answer in this situation.
fn must_not_see(who: Who, activation: &str) -> Vec<&'static str> {
    let real = activation == "real" || activation == "real+disclosure";
    let mut hidden: Vec<&Person> = Vec::new();
    let mut centre_only = false;
    match who {
        Who::Admin => {}
        Who::Coordinator => {
            if activation != "real+disclosure" {
                hidden.push(&NOT_CONSENTED);
            }
        }
        Who::OperatorOwn => {
            hidden.extend([&AT_B, &UNASSIGNED]);
            if !real {
                hidden.push(&NOT_CONSENTED);
            }
            centre_only = true;
        }
        Who::OperatorOther => {
            hidden.extend([&CONSENTED, &NOT_CONSENTED, &UNASSIGNED]);
            centre_only = true;
        }
        Who::Board | Who::Anonymous => {
            hidden.extend([&CONSENTED, &NOT_CONSENTED, &AT_B, &UNASSIGNED]);
            centre_only = true;
        }
    }
    let mut out: Vec<&'static str> = Vec::new();
    for p in hidden {
        out.push(p.name);
        out.push(p.phone);
    }
    if centre_only {
        out.extend([VOLUNTEER_NAME, REQUESTER_NAME]);
    }
    out
}

/// What `who` must find in a 2xx answer of `row`: where the list is the point of the route,
/// so that the search for what is hidden cannot pass on an answer that shows nobody.
fn must_see(row: &Row, who: Who) -> Vec<&'static str> {
    let real = row.activation == "real" || row.activation == "real+disclosure";
    match (row.method.as_str(), row.path.as_str(), who) {
        (
            "GET",
            "/api/register/persons" | "/api/register/export" | "/register/print",
            Who::Admin,
        ) => {
            vec![
                CONSENTED.name,
                NOT_CONSENTED.name,
                AT_B.name,
                UNASSIGNED.name,
            ]
        }
        (
            "GET",
            "/api/register/persons" | "/api/register/export" | "/register/print",
            Who::Coordinator,
        ) => {
            let mut names = vec![CONSENTED.name, AT_B.name, UNASSIGNED.name];
            if row.activation == "real+disclosure" {
                names.push(NOT_CONSENTED.name);
            }
            names
        }
        (
            "GET",
            "/api/activations/{id}/shelters/{shelter}/assignments" | "/shelters/print",
            Who::OperatorOwn | Who::Admin,
        ) => {
            if real {
                vec![CONSENTED.name, NOT_CONSENTED.name]
            } else {
                vec![CONSENTED.name]
            }
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Making each request
// ---------------------------------------------------------------------------------------

enum Body {
    None,
    Json(Value),
    Csv(Vec<u8>),
    /// Not JSON at all, for the gate-first probe.
    Garbage,
}

/// The concrete request for a row in a scene: method, path and query, body.
fn request(row: &Row, world: &World, scene: Option<&Scene>) -> (String, Body) {
    let person = match row.person.as_str() {
        "consented" => Some(&CONSENTED),
        "not_consented" => Some(&NOT_CONSENTED),
        _ => None,
    };
    let mut path = row.path.clone();
    if path.starts_with("/api/drills/runs/{id}") {
        path = path.replace("{id}", &world.run.to_string());
    } else if path.starts_with("/api/shelters/{id}") {
        path = path.replace("{id}", &world.shelter_a.to_string());
    }
    if let Some(s) = scene {
        let assignment = match person {
            Some(p) if p.resident_id == NOT_CONSENTED.resident_id => {
                s.assignment_not_consented.unwrap_or(0)
            }
            _ => s.assignment_consented,
        };
        for (key, value) in [
            ("{id}", s.activation),
            ("{shelter}", world.shelter_a),
            ("{assignment}", assignment),
            (
                "{volunteer}",
                if row.path.ends_with("/checkin") || row.path.ends_with("/checkout") {
                    s.spare_volunteer
                } else {
                    s.volunteer
                },
            ),
            (
                "{need}",
                if row.path.ends_with("/status") {
                    s.spare_need
                } else {
                    s.need
                },
            ),
            ("{item}", s.item),
            ("{team}", s.team),
        ] {
            path = path.replace(key, &value.to_string());
        }
    }
    if let Some(p) = person {
        path = path.replace("{resident_id}", p.resident_id);
    }
    let activation = scene.map(|s| s.activation).unwrap_or(0);
    let mut query: Vec<String> = Vec::new();
    match row.path.as_str() {
        "/api/register/persons"
        | "/api/register/persons/{resident_id}"
        | "/api/register/export"
        | "/register/print"
        | "/dispatch/day-summary/print"
        | "/ws/board"
            if scene.is_some() =>
        {
            query.push(format!("activation={activation}"))
        }
        "/shelters/print" => {
            query.push(format!("activation={activation}"));
            query.push(format!("shelter={}", world.shelter_a));
        }
        "/volunteers/card" | "/volunteers/certificate" => {
            query.push(format!("activation={activation}"));
            query.push(format!("volunteer={}", scene.unwrap().volunteer));
        }
        "/api/activations/{id}/assignments" | "/api/activations/{id}/suggestions"
            if row.method == "GET" =>
        {
            if let Some(p) = person {
                query.push(format!("resident_id={}", p.resident_id));
            }
        }
        "/api/activations/{id}/assignments/plan" => query.push("district=大倉山".into()),
        "/api/register/imports" | "/api/shelters/imports" => query.push("dry_run=true".into()),
        _ => {}
    }
    if !query.is_empty() {
        path = format!("{path}?{}", query.join("&"));
    }
    let resident = person.map_or(UNASSIGNED.resident_id, |p| p.resident_id);
    let body = match (row.method.as_str(), row.path.as_str()) {
        ("GET", _) => Body::None,
        (_, "/api/login") => {
            Body::Json(json!({ "username": "access-board", "password": PASSWORD }))
        }
        (_, "/api/activations") => Body::Json(json!({ "name": "新しい訓練", "kind": "drill" })),
        (_, "/api/activations/{id}/announcements") => {
            Body::Json(json!({ "text": "13時に駐車場へ集合" }))
        }
        (_, "/api/register/imports") => Body::Csv(register_csv()),
        (_, "/api/shelters/imports") => Body::Csv(
            "施設名,住所,定員,受入対象\r\nさくら苑,横浜市港北区綱島1-1,20,高齢者\r\n"
                .as_bytes()
                .to_vec(),
        ),
        (_, "/api/activations/{id}/safety") => {
            Body::Json(json!({ "resident_id": resident, "status": "needs_help", "note": "" }))
        }
        (_, "/api/activations/{id}/disclosure") => {
            Body::Json(json!({ "hours": 1, "reason": "発災直後の全戸確認" }))
        }
        (_, "/api/shelters") | (_, "/api/shelters/{id}") => Body::Json(json!({
            "name": if row.method == "PUT" { "あおば苑" } else { "新しい施設" },
            "address": "横浜市港北区大倉山1-1", "capacity": 10, "categories": ["elderly"]
        })),
        (_, "/api/activations/{id}/assignments") => Body::Json(json!({
            "resident_id": resident, "shelter_id": world.shelter_b, "reason": "移送"
        })),
        (_, "/api/activations/{id}/assignments/batch") => Body::Json(json!({
            "placements": [{ "resident_id": UNASSIGNED.resident_id, "shelter_id": world.shelter_b }]
        })),
        (_, "/api/activations/{id}/assignments/{assignment}/status") => {
            Body::Json(json!({ "status": "arrived" }))
        }
        (_, "/api/activations/{id}/volunteers") => {
            Body::Json(volunteer_body("新規 ボランティア", "090-4444-0001"))
        }
        (_, "/api/activations/{id}/volunteers/{volunteer}/insurance") => {
            Body::Json(json!({ "joined": true, "plan": "disaster" }))
        }
        (_, "/api/activations/{id}/needs") => Body::Json(need_body("新規 依頼者")),
        (_, "/api/activations/{id}/needs/{need}/status") => {
            Body::Json(json!({ "status": "cancelled", "note": "重複受付" }))
        }
        (_, "/api/activations/{id}/equipment") => {
            Body::Json(json!({ "name": "一輪車", "total": 2 }))
        }
        (_, "/api/activations/{id}/equipment/{item}/adjust") => Body::Json(json!({ "add": 1 })),
        (_, "/api/activations/{id}/teams") => Body::Json(json!({
            "need_id": scene.map_or(0, |s| s.spare_need),
            "leader_id": scene.map_or(0, |s| s.spare_volunteer)
        })),
        (_, "/api/activations/{id}/teams/{team}/prepare") => {
            Body::Json(json!({ "orientation_done": true }))
        }
        (_, "/api/activations/{id}/teams/{team}/return") => {
            Body::Json(json!({ "injuries": false, "all_back": true }))
        }
        (_, "/api/activations/{id}/teams/{team}/report") => {
            Body::Json(json!({ "outcome": "done", "hours": 2 }))
        }
        (_, "/api/drills/runs") => Body::Json(json!({ "scenario": "slow" })),
        ("DELETE", _) => Body::None,
        _ => Body::Json(json!({})),
    };
    (path, body)
}

/// What a role got: the outcome word of the table (or `unrouted`, `error`), the status, and
/// the body as text.
async fn attempt(session: &Session, method: &str, path: &str, body: Body) -> (String, u16, String) {
    if path.starts_with("/ws/board") {
        let activation: i64 = path
            .split("activation=")
            .nth(1)
            .and_then(|a| a.parse().ok())
            .expect("the board's activation");
        return match session.board_with(activation, None, None).await {
            Ok(mut terminal) => {
                let snapshot = terminal.next().await;
                terminal.close().await;
                // And every event of the activation, replayed from the first: what a
                // terminal that was there all along has seen.
                let mut seen = snapshot.to_string();
                let last = snapshot["seq"].as_i64().expect("the snapshot's seq");
                let mut replay = session.board(activation, Some(0)).await;
                loop {
                    let event = replay.next().await;
                    seen.push_str(&event.to_string());
                    if event["seq"].as_i64().is_none_or(|seq| seq >= last) {
                        break;
                    }
                }
                replay.close().await;
                ("allow".into(), 101, seen)
            }
            Err(status) => (outcome(status.as_u16(), ""), status.as_u16(), String::new()),
        };
    }
    let (status, text) = session.send_any(method, path, body_parts(body)).await;
    (outcome(status, &text), status, text)
}

fn body_parts(body: Body) -> Option<(&'static str, Vec<u8>)> {
    match body {
        Body::None => None,
        Body::Json(v) => Some(("application/json", v.to_string().into_bytes())),
        Body::Csv(bytes) => Some(("text/csv", bytes)),
        Body::Garbage => Some(("application/json", b"{\"broken".to_vec())),
    }
}

fn outcome(status: u16, body: &str) -> String {
    match status {
        200..=299 | 101 => "allow",
        401 | 403 => "deny",
        // The router's own fallback, not a handler hiding something.
        404 if body.contains("route not found") => "unrouted",
        404 => "hidden",
        405 => "unrouted",
        400..=499 => "allow",
        _ => "error",
    }
    .to_string()
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

async fn every_role_gets_what_the_access_matrix_says_on_every_route(app: TestApp) {
    let rows = matrix();
    let world = World::build(&app).await;
    let mut read_scenes: BTreeMap<String, Scene> = BTreeMap::new();
    for situation in ["drill", "real", "real+disclosure"] {
        read_scenes.insert(situation.into(), Scene::build(&world, situation).await);
    }
    let mut mismatches: Vec<String> = Vec::new();
    let mut unproven: Vec<String> = Vec::new();
    let mut tried = 0usize;
    // Reads first, on the shared scenes; then each write on a scene of its own, so that
    // what one write changes (a closed activation, a deleted drill) cannot change another's
    // answer. Logging out comes last of the rest: it ends a session.
    let mut ordered: Vec<&Row> = rows.iter().filter(|r| r.method == "GET").collect();
    ordered.extend(rows.iter().filter(|r| r.method != "GET"));
    for row in ordered {
        let fresh;
        let scene = match row.activation.as_str() {
            "-" | "none" => None,
            situation if row.method == "GET" => Some(&read_scenes[situation]),
            situation => {
                fresh = Scene::build(&world, situation).await;
                fresh.prime(&world, row).await;
                Some(&fresh)
            }
        };
        let mut proven = false;
        let mut first_answer = String::new();
        let mut first_status = 0u16;
        for who in ORDER {
            let session = if row.path == "/api/logout" {
                &world.spare[&who]
            } else {
                &world.sessions[&who]
            };
            let (path, body) = request(row, &world, scene);
            let (mut got, status, text) = attempt(session, &row.method, &path, body).await;
            tried += 1;
            let expected = &row.expected[&who];
            let mut detail = String::new();
            if got == "allow" {
                proven |= (200..300).contains(&status) || status == 101;
                if first_answer.is_empty() {
                    first_status = status;
                    first_answer = format!(
                        "{}: {status} {}",
                        column(who),
                        text.chars().take(100).collect::<String>()
                    );
                }
                let leaked: Vec<&str> = must_not_see(who, &row.activation)
                    .into_iter()
                    .filter(|secret| text.contains(secret))
                    .collect();
                let missing: Vec<&str> = must_see(row, who)
                    .into_iter()
                    .filter(|name| (200..300).contains(&status) && !text.contains(name))
                    .collect();
                if !leaked.is_empty() {
                    got = "leak".into();
                    detail = format!("shows {}", leaked.join(", "));
                } else if !missing.is_empty() {
                    got = "missing".into();
                    detail = format!("does not show {}", missing.join(", "));
                }
            }
            if &got != expected {
                if detail.is_empty() {
                    detail = text
                        .chars()
                        .take(120)
                        .collect::<String>()
                        .replace('\n', " ");
                }
                mismatches.push(format!(
                    "| {} | {} | {} | {} | {} | {} | {} ({status}) | {} |",
                    row.method,
                    row.path,
                    row.activation,
                    row.person,
                    column(who),
                    expected,
                    got,
                    detail
                ));
            }
        }
        if !proven && row.expected.values().any(|e| e == "allow") {
            // Allowed with a conflict about the state of things only (a drill never
            // discloses, a volunteer checks in once a day): anything else means the test's
            // own request was wrong and proved nothing.
            if first_status != 409 {
                mismatches.push(format!(
                    "| {} | {} | {} | {} | (every allowed role) | a 2xx or a 409 | {first_answer} | |",
                    row.method, row.path, row.activation, row.person
                ));
            }
            unproven.push(format!(
                "{} {} {} {}: {first_answer}",
                row.method, row.path, row.activation, row.person
            ));
        }
    }

    // The reading of the source, checked on the live server: for every path, a method the
    // table does not list answers 405 (a route the reading missed would answer otherwise).
    let scene = &read_scenes["drill"];
    let mut by_path: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for row in &rows {
        by_path.entry(&row.path).or_default().insert(&row.method);
    }
    for (path, methods) in by_path {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            if methods.contains(method) || path == "/ws/board" {
                continue;
            }
            let row = Row {
                method: method.into(),
                path: path.into(),
                activation: "drill".into(),
                person: "consented".into(),
                expected: BTreeMap::new(),
            };
            let (concrete, _) = request(&row, &world, Some(scene));
            let (status, text) = world.admin().send_any(method, &concrete, None).await;
            tried += 1;
            if status != 405 {
                mismatches.push(format!(
                    "| {method} | {path} | - | - | admin | 405 (not in the table) | {status} | {} |",
                    text.chars().take(120).collect::<String>()
                ));
            }
        }
    }

    // The gate comes first: a role that may not use a route is refused whatever it sends,
    // a body that does not parse or ids that do not exist, and learns neither that its body
    // was wrong nor whether the thing exists.
    let mut parsed_before_gate: BTreeSet<String> = BTreeSet::new();
    let nowhere = Scene {
        activation: 999_999,
        assignment_consented: 999_999,
        assignment_not_consented: Some(999_999),
        volunteer: 999_999,
        need: 999_999,
        item: 999_999,
        team: 999_999,
        spare_volunteer: 999_999,
        spare_need: 999_999,
    };
    for row in &rows {
        for who in ORDER {
            if row.expected[&who] != "deny" || row.path == "/api/logout" {
                continue;
            }
            let scene = (row.activation != "-" && row.activation != "none").then_some(&nowhere);
            let (path, body) = request(row, &world, scene);
            let attempts = [
                ("an unknown activation or record", path.clone(), body),
                (
                    "a body that is not JSON",
                    request(row, &world, scene.map(|_| &read_scenes["drill"]))
                        .0
                        .replace("999999", "0"),
                    Body::Garbage,
                ),
            ];
            for (what, path, body) in attempts {
                let body_kind = if matches!(body, Body::Garbage) {
                    "garbage"
                } else {
                    "valid"
                };
                if row.method == "GET" && body_kind == "garbage" {
                    continue;
                }
                let (got, status, text) =
                    attempt(&world.sessions[&who], &row.method, &path, body).await;
                tried += 1;
                // Roles are refused before the body is read (`auth::Allowed`). The one
                // exception: the operator of another shelter is refused by a handler that
                // needs the record to tell, after the body was parsed; it may learn that its
                // own body was malformed, nothing else. Any other answer is a mismatch.
                if matches!(body_kind, "garbage")
                    && who == Who::OperatorOther
                    && status == 400
                    && text.contains("\"field\":\"body\"")
                {
                    parsed_before_gate.insert(format!("{} {}", row.method, row.path));
                    continue;
                }
                if got != "deny" {
                    mismatches.push(format!(
                        "| {} | {} | {what} | {} | {} | deny | {got} ({status}) | {} |",
                        row.method,
                        row.path,
                        row.person,
                        column(who),
                        text.chars().take(120).collect::<String>()
                    ));
                }
            }
        }
    }

    eprintln!(
        "access matrix: {} rows, {tried} requests, {} unexpected",
        rows.len(),
        mismatches.len()
    );
    if !parsed_before_gate.is_empty() {
        eprintln!(
            "routes where the operator of another shelter is refused after its body is parsed (400 \"body\" for a broken body):\n  {}",
            parsed_before_gate
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    if !unproven.is_empty() {
        eprintln!(
            "rows where no allowed role got a 2xx, only a 409 about the state of things:\n  {}",
            unproven.join("\n  ")
        );
    }
    assert!(
        mismatches.is_empty(),
        "{} unexpected outcomes against tests/access/matrix.csv:\n\
         | method | path | activation | person | role | expected | got (status) | detail |\n\
         |---|---|---|---|---|---|---|---|\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
