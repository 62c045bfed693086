//! The support-needed register through the HTTP API: import (dry run, commit, re-import,
//! refusal), who sees whom, safety confirmation live on the board, and the audit of reads.

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

crate::on_both_backends!(
    an_import_previews_then_commits_then_reimport_reports_changes,
    a_file_with_an_invalid_row_commits_nothing_unless_allowed,
    a_cp932_file_keeps_its_names_exactly,
    coordinators_see_consented_people_and_others_only_under_disclosure_in_a_real_activation,
    safety_statuses_are_kept_with_history_and_counted_live_on_the_board,
    every_read_of_a_person_is_audited_and_the_chain_verifies,
    the_export_opens_safely_in_excel_and_reimports_to_the_same_register,
    a_printed_district_list_is_stamped_and_shows_only_whom_the_printer_may_see,
    people_without_a_district_are_listed_and_counted_under_the_blank_district,
    a_person_named_by_an_invalid_row_is_not_taken_for_one_who_left,
    a_municipal_export_imports_through_the_form_with_its_header_mapping,
    a_register_of_several_chunks_imports_in_one_transaction_or_not_at_all,
    values_with_quotes_commas_newlines_and_blanks_are_stored_exactly,
    new_people_after_unchanged_ones_are_added_however_the_chunks_fall,
    changed_people_between_runs_of_new_ones_are_all_written,
);

const HEADER: &str =
    "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,障害,情報提供同意,備考\r\n";

fn register_csv(rows: &[&str]) -> String {
    let mut csv = HEADER.to_string();
    for row in rows {
        csv.push_str(row);
        csv.push_str("\r\n");
    }
    csv
}

const SUZUKI: &str = "1001,鈴木 花子,ｽｽﾞｷ ﾊﾅｺ,昭和15年3月1日,女,横浜市港北区大倉山1-1-1,045-000-0001,大倉山,要介護２,,有,";
const TANAKA: &str = "1002,田中 一郎,タナカ イチロウ,S10.5.5,男,横浜市港北区大倉山2-2-2,045-000-0002,大倉山,,視覚障害,同意,";
const SATO: &str = "1003,佐藤 三郎,サトウ サブロウ,1950/1/1,男,横浜市港北区綱島東3-3-3,045-000-0003,綱島,要支援1,,無,同意なし";

async fn import(admin: &Session, csv: impl Into<Vec<u8>>, query: &str) -> (StatusCode, Value) {
    admin
        .post_bytes(&format!("/api/register/imports{query}"), csv.into())
        .await
}

fn ids(people: &Value) -> Vec<String> {
    people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["resident_id"].as_str().unwrap().to_string())
        .collect()
}

async fn an_import_previews_then_commits_then_reimport_reports_changes(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let csv = register_csv(&[SUZUKI, TANAKA, SATO]);
    let (status, preview) = import(&admin, csv.clone(), "?dry_run=true").await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["committed"], false);
    assert_eq!(preview["new"], 3);
    assert_eq!(preview["rows"], 3);
    let (_, people) = admin.get("/api/register/persons").await;
    assert_eq!(
        ids(&people),
        Vec::<String>::new(),
        "a dry run stores nothing"
    );

    let (status, report) = import(&admin, csv, "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true);
    assert_eq!(report["new"], 3);
    assert_eq!(report["encoding"], "utf-8");
    let (_, suzuki) = admin.get("/api/register/persons/1001").await;
    assert_eq!(suzuki["name"], "鈴木 花子");
    assert_eq!(
        suzuki["name_kana"], "スズキ ハナコ",
        "half-width kana became full-width"
    );
    assert_eq!(suzuki["birth_date"], "1940-03-01", "wareki date converted");
    assert_eq!(suzuki["care_level"], "要介護2");
    assert_eq!(suzuki["consent"], true);

    // The municipality's next export: Suzuki moved, Sato is gone.
    let moved = SUZUKI.replace("大倉山1-1-1", "大倉山5-5-5");
    let (status, again) = import(&admin, register_csv(&[&moved, TANAKA]), "").await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["new"], 0);
    assert_eq!(again["unchanged"], 1);
    assert_eq!(again["removed"], 1);
    assert_eq!(
        again["updated"],
        json!([{ "resident_id": "1001", "line": 2, "fields": ["address"] }])
    );
    let (_, current) = admin.get("/api/register/persons").await;
    assert_eq!(
        ids(&current).len(),
        2,
        "the removed person is not listed by default"
    );
    let (_, all) = admin
        .get("/api/register/persons?include_removed=true")
        .await;
    let sato = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["resident_id"] == "1003")
        .expect("kept, not deleted");
    assert_eq!(sato["removed"], true);
}

async fn a_file_with_an_invalid_row_commits_nothing_unless_allowed(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let bad = "1004,山田 太郎,ヤマダ タロウ,昭和65年1月1日,男,横浜市港北区日吉1-1,045-000-0004,日吉,,,有,";
    let csv = register_csv(&[SUZUKI, bad, TANAKA]);
    let (status, report) = import(&admin, csv.clone(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["committed"], false);
    let invalid = &report["invalid"][0];
    assert_eq!(invalid["line"], 3, "the header is line 1: {report}");
    assert_eq!(invalid["column"], "生年月日");
    assert_eq!(invalid["value"], "昭和65年1月1日");
    assert!(invalid["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let (_, people) = admin.get("/api/register/persons").await;
    assert!(
        people.as_array().unwrap().is_empty(),
        "nothing was committed"
    );

    let (status, report) = import(&admin, csv, "?allow_invalid=true").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true);
    assert_eq!(report["new"], 2);
    let (_, people) = admin.get("/api/register/persons").await;
    assert_eq!(ids(&people).len(), 2);

    let (status, refused) = import(&admin, "氏名,住所\r\n鈴木,横浜\r\n", "").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a missing required column refuses the file: {refused}"
    );
    assert!(
        refused["error"].as_str().unwrap().contains("resident_id"),
        "{refused}"
    );
}

async fn a_cp932_file_keeps_its_names_exactly(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let row = "2001,髙橋 﨑子,ﾀｶﾊｼ ｻｷｺ,平成元年1月8日,女,横浜市港北区新横浜①-2,045-000-0101,新横浜,,,はい,№12";
    let text = register_csv(&[row]);
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable, "the fixture is CP932");
    let (status, report) = import(&admin, bytes.into_owned(), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["encoding"], "cp932");
    let (_, person) = admin.get("/api/register/persons/2001").await;
    assert_eq!(person["name"], "髙橋 﨑子");
    assert_eq!(person["name_kana"], "タカハシ サキコ");
    assert_eq!(person["address"], "横浜市港北区新横浜①-2");
    assert_eq!(person["birth_date"], "1989-01-08");
    assert_eq!(person["notes"], "№12");
}

async fn coordinators_see_consented_people_and_others_only_under_disclosure_in_a_real_activation(
    app: TestApp,
) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord", Role::Coordinator).await;
    let wall = app.user("wall", Role::Board).await;
    import(&admin, register_csv(&[SUZUKI, TANAKA, SATO]), "").await;
    let drill = admin.open_activation("訓練", "drill").await;
    let real = admin.open_activation("令和8年豪雨", "real").await;

    let (_, seen) = coordinator
        .get(&format!("/api/register/persons?activation={drill}"))
        .await;
    assert_eq!(ids(&seen), ["1001", "1002"], "consented only");
    let (status, _) = coordinator.get("/api/register/persons/1003").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a non-consented person is as if absent"
    );
    let (status, _) = wall.get("/api/register/persons").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "board terminals never see names"
    );

    let (status, body) = admin
        .post(
            &format!("/api/activations/{drill}/disclosure"),
            json!({ "hours": 24, "reason": "訓練" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a drill never unlocks: {body}"
    );
    let (status, body) = coordinator
        .post(
            &format!("/api/activations/{real}/disclosure"),
            json!({ "hours": 24, "reason": "x" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only an admin declares: {body}"
    );
    let (status, body) = admin
        .post(
            &format!("/api/activations/{real}/disclosure"),
            json!({ "hours": 24, "reason": "避難指示発令" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (_, seen) = coordinator
        .get(&format!("/api/register/persons?activation={real}"))
        .await;
    assert_eq!(
        ids(&seen).len(),
        3,
        "under disclosure in a real activation, everyone"
    );
    let (_, seen) = coordinator
        .get(&format!("/api/register/persons?activation={drill}"))
        .await;
    assert_eq!(
        ids(&seen).len(),
        2,
        "the drill still shows consented people only"
    );
    let (status, _) = coordinator
        .get(&format!("/api/register/persons/1003?activation={real}"))
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = admin
        .post(
            &format!("/api/activations/{real}/disclosure/end"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, seen) = coordinator
        .get(&format!("/api/register/persons?activation={real}"))
        .await;
    assert_eq!(ids(&seen).len(), 2, "ended: consented only again");
}

async fn safety_statuses_are_kept_with_history_and_counted_live_on_the_board(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord", Role::Coordinator).await;
    let wall = app.user("wall", Role::Board).await;
    import(&admin, register_csv(&[SUZUKI, TANAKA, SATO]), "").await;
    let activation = admin.open_activation("地震訓練", "drill").await;
    let mut board = wall.board(activation, None).await;
    let snapshot = board.next().await;
    let okurayama = snapshot["data"]["safety"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district"] == "大倉山")
        .cloned()
        .unwrap();
    assert_eq!(okurayama["total"], 2);
    assert_eq!(okurayama["by_status"]["unconfirmed"], 2);

    let safety = format!("/api/activations/{activation}/safety");
    let (status, body) = coordinator
        .post(
            &safety,
            json!({ "resident_id": "1001", "status": "evacuated", "note": "長男宅へ" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let event = board.next().await;
    assert_eq!(event["type"], "safety_recorded");
    assert_eq!(event["data"]["district"], "大倉山");
    assert_eq!(event["data"]["counts"]["by_status"]["evacuated"], 1);
    assert_eq!(event["data"]["counts"]["by_status"]["unconfirmed"], 1);
    assert!(
        !event.to_string().contains("鈴木"),
        "board events carry no names: {event}"
    );

    coordinator
        .post(
            &safety,
            json!({ "resident_id": "1001", "status": "hospital", "note": "搬送" }),
        )
        .await;
    let (_, person) = coordinator
        .get(&format!(
            "/api/register/persons/1001?activation={activation}"
        ))
        .await;
    assert_eq!(person["safety_status"], "hospital");
    let history: Vec<(&str, &str, &str)> = person["safety_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["status"].as_str().unwrap(),
                c["note"].as_str().unwrap(),
                c["checked_by"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            ("evacuated", "長男宅へ", "coord"),
            ("hospital", "搬送", "coord")
        ]
    );

    let cases = [
        (
            json!({ "resident_id": "1001", "status": "fine" }),
            StatusCode::BAD_REQUEST,
            "an unknown status",
        ),
        (
            json!({ "resident_id": "9999", "status": "evacuated" }),
            StatusCode::NOT_FOUND,
            "an unknown person",
        ),
        (
            json!({ "resident_id": "1003", "status": "evacuated" }),
            StatusCode::NOT_FOUND,
            "a person the coordinator may not see",
        ),
    ];
    for (body, expected, case) in cases {
        let (status, answer) = coordinator.post(&safety, body).await;
        assert_eq!(status, expected, "{case}: {answer}");
    }
    let (status, _) = wall
        .post(
            &safety,
            json!({ "resident_id": "1001", "status": "evacuated" }),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a board terminal cannot record"
    );
    // The sweep list: unconfirmed people first.
    let (_, sweep) = coordinator
        .get(&format!(
            "/api/register/persons?activation={activation}&district=大倉山"
        ))
        .await;
    assert_eq!(ids(&sweep), ["1002", "1001"]);
    assert_eq!(sweep[0]["safety_status"], "unconfirmed");
}

async fn every_read_of_a_person_is_audited_and_the_chain_verifies(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord", Role::Coordinator).await;
    import(&admin, register_csv(&[SUZUKI, TANAKA]), "").await;
    coordinator.get("/api/register/persons/1002").await;
    coordinator
        .get("/api/register/persons?district=大倉山")
        .await;
    let (status, audit) = admin.get("/api/audit").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries: Vec<(&str, &str)> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["actor"].as_str().unwrap(), e["action"].as_str().unwrap()))
        .collect();
    assert!(entries.contains(&("coord", "register.read")), "{entries:?}");
    assert!(entries.contains(&("coord", "register.list")), "{entries:?}");
    assert!(
        entries.contains(&("admin1", "register.import")),
        "{entries:?}"
    );
    assert_eq!(audit["chain_intact"], true);
    let (status, _) = coordinator.get("/api/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn the_export_opens_safely_in_excel_and_reimports_to_the_same_register(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let formula = SUZUKI.replace(",有,", ",有,=HYPERLINK(\"http://x\")");
    import(&admin, register_csv(&[&formula, TANAKA, SATO]), "").await;
    let activation = admin.open_activation("訓練", "drill").await;
    admin
        .post(
            &format!("/api/activations/{activation}/safety"),
            json!({ "resident_id": "1002", "status": "evacuated" }),
        )
        .await;

    let response = admin
        .get_bytes(&format!("/api/register/export?activation={activation}"))
        .await;
    assert!(
        response.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a BOM, so Excel reads it as UTF-8"
    );
    let text = String::from_utf8(response[3..].to_vec()).unwrap();
    assert!(
        text.contains("'=HYPERLINK"),
        "a formula-like cell is neutralised: {text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("1002,") && l.contains("避難済")),
        "safety status exported: {text}"
    );

    let cp932 = admin.get_bytes("/api/register/export?encoding=cp932").await;
    let (decoded, _, bad) = encoding_rs::SHIFT_JIS.decode(&cp932);
    assert!(
        !bad && decoded.contains("田中 一郎"),
        "CP932 export decodes: {decoded}"
    );

    // The exported file imports back as the same register (the neutralised cell aside).
    let (_, before) = admin.get("/api/register/persons").await;
    let (status, report) = import(&admin, response, "?dry_run=true").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["new"], 0);
    assert_eq!(report["removed"], 0);
    assert_eq!(report["unchanged"], 2, "{report}");
    assert_eq!(
        report["updated"],
        json!([{ "resident_id": "1001", "line": 2, "fields": ["notes"] }])
    );
    assert_eq!(
        report["unmapped_columns"].as_array().unwrap().len(),
        4,
        "the safety columns are ignored on import"
    );
    assert_eq!(before.as_array().unwrap().len(), 3);

    let (_, audit) = admin.get("/api/audit").await;
    let exports = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "register.export")
        .count();
    assert_eq!(exports, 2, "each export is audited");
}

async fn a_printed_district_list_is_stamped_and_shows_only_whom_the_printer_may_see(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coord", Role::Coordinator).await;
    let wall = app.user("wall", Role::Board).await;
    import(&admin, register_csv(&[SUZUKI, TANAKA, SATO]), "").await;
    let activation = admin.open_activation("訓練", "drill").await;
    let page = coordinator
        .get_bytes(&format!("/register/print?activation={activation}"))
        .await;
    let html = String::from_utf8(page).unwrap();
    assert!(html.contains("印刷: coord"), "stamped with who printed it");
    assert!(html.contains("鈴木 花子") && html.contains("田中 一郎"));
    assert!(
        !html.contains("佐藤 三郎"),
        "not the person who did not consent"
    );
    assert!(html.contains("訓練 DRILL"), "a drill's list says so");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no external assets"
    );
    let (status, _) = wall.get("/register/print").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn people_without_a_district_are_listed_and_counted_under_the_blank_district(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let no_district = "1005,森 花,モリ ハナ,,女,横浜市港北区篠原町1,,,,,有,";
    import(&admin, register_csv(&[SUZUKI, no_district]), "").await;
    let activation = admin.open_activation("訓練", "drill").await;
    let (_, counts) = admin
        .get(&format!("/api/activations/{activation}/safety"))
        .await;
    let blank = counts
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district"] == "")
        .expect("a blank district: {counts}");
    assert_eq!(blank["total"], 1);
    let (_, listed) = admin
        .get(&format!(
            "/api/register/persons?activation={activation}&district="
        ))
        .await;
    assert_eq!(
        ids(&listed),
        ["1005"],
        "the blank district lists who has none"
    );
}

async fn a_person_named_by_an_invalid_row_is_not_taken_for_one_who_left(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    import(&admin, register_csv(&[SUZUKI, TANAKA, SATO]), "").await;
    // Suzuki's row is damaged this time, Tanaka left, Sato is unchanged.
    let damaged = SUZUKI.replace("昭和15年3月1日", "昭和99年1月1日");
    let (status, report) = import(
        &admin,
        register_csv(&[&damaged, SATO]),
        "?allow_invalid=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["removed"], 1, "only Tanaka left: {report}");
    assert_eq!(report["removal_skipped"], false);
    let (_, all) = admin
        .get("/api/register/persons?include_removed=true")
        .await;
    let removed: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["removed"] == true)
        .map(|p| p["resident_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        removed,
        ["1002"],
        "Suzuki, named by the damaged row, is kept"
    );

    // A row that cannot be told whose it is (a cell missing): nobody is marked removed.
    let (status, report) = import(
        &admin,
        register_csv(&["1003,佐藤 三郎"]),
        "?allow_invalid=true&dry_run=true",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["removal_skipped"], true, "{report}");
    assert_eq!(report["removed"], 0);
}

async fn a_municipal_export_imports_through_the_form_with_its_header_mapping(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/register");
    let csv = std::fs::read(format!("{fixtures}/municipal_headers.csv")).unwrap();
    let mapping = std::fs::read_to_string(format!("{fixtures}/municipal_mapping.toml")).unwrap();
    let form = |with_mapping: bool| {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.clone()).file_name("meibo.csv"),
        );
        if with_mapping {
            form.text("mapping", mapping.clone())
        } else {
            form
        }
    };
    let (status, refused) = admin
        .post_form("/api/register/imports?dry_run=true", form(false))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "without its mapping the file lacks required columns: {refused}"
    );
    let (status, report) = admin.post_form("/api/register/imports", form(true)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["new"], 2);
    let (_, person) = admin.get("/api/register/persons/K-0001").await;
    assert_eq!(person["name"], "岡田 和夫");
    assert_eq!(person["designated_shelter"], "高田小学校");
    let bad = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.clone()))
        .text("mapping", "[columns]\n\"住民コード\" = \"my_number\"\n");
    let (status, body) = admin.post_form("/api/register/imports", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["field"], "mapping", "{body}");
}

async fn a_register_of_several_chunks_imports_in_one_transaction_or_not_at_all(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    // More people than the import hands from reading to writing at a time (1,000), so each
    // step below crosses chunks.
    let row = |i: usize, address: &str| {
        format!(
            "{},氏名{i},,S10.5.5,男,{address},,地区{},,,有,",
            20000 + i,
            i % 7
        )
    };
    let rows: Vec<String> = (0..2500)
        .map(|i| row(i, &format!("横浜市港北区{i}")))
        .collect();
    let csv = |rows: &[String]| register_csv(&rows.iter().map(String::as_str).collect::<Vec<_>>());

    // The last row's date is impossible: found only when the rows are read for writing,
    // after the first 2,499 people went into the transaction.
    let mut damaged = rows.clone();
    damaged[2499] = damaged[2499].replace("S10.5.5", "昭和99年1月1日");
    let (status, report) = import(&admin, csv(&damaged), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(report["committed"], false);
    assert_eq!(report["new"], 2499, "counted as a dry run counts them");
    assert_eq!(report["invalid"][0]["line"], 2501, "the last line");
    let (_, preview) = import(&admin, csv(&damaged), "?dry_run=true&allow_invalid=true").await;
    assert_eq!(
        preview["new"], 2499,
        "nothing of the refused import stayed: {preview}"
    );

    let (status, report) = import(&admin, csv(&rows), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (report["new"].clone(), report["rows"].clone()),
        (json!(2500), json!(2500))
    );

    // The next export: person 1500 moved, person 10 left (so the lines after move up one).
    let mut next = rows.clone();
    next[1500] = row(1500, "横浜市港北区転居先");
    next.remove(10);
    let (status, report) = import(&admin, csv(&next), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["updated"],
        json!([{ "resident_id": "21500", "line": 1501, "fields": ["address"] }])
    );
    assert_eq!(
        (report["removed"].clone(), report["unchanged"].clone()),
        (json!(1), json!(2498))
    );

    // Person 10 is back as they were, person 2000 changed: the changed are listed before the
    // restored, whatever their lines.
    let mut back = rows.clone();
    back[1500] = row(1500, "横浜市港北区転居先");
    back[2000] = row(2000, "横浜市港北区別");
    let (status, report) = import(&admin, csv(&back), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["updated"],
        json!([
            { "resident_id": "22000", "line": 2002, "fields": ["address"] },
            { "resident_id": "20010", "line": 12, "fields": ["removed"] },
        ])
    );
    assert_eq!(
        (
            report["new"].clone(),
            report["removed"].clone(),
            report["unchanged"].clone()
        ),
        (json!(0), json!(0), json!(2498))
    );
    let (_, person) = admin.get("/api/register/persons/20010").await;
    assert_eq!(person["removed"], false, "restored: {person}");
}

/// What the database's bulk path (COPY on PostgreSQL, multi-row INSERT on SQLite) must keep:
/// quotes, commas and line breaks inside a value, and a blank cell stays absent.
async fn values_with_quotes_commas_newlines_and_blanks_are_stored_exactly(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let csv = "宛名番号,氏名,フリガナ,住所,情報提供同意,備考,緯度,経度\r\n\
               7001,\"山田 \"\"タロウ\"\" 太郎\",,\"港北区1-1, 2階\",有,\"一行目\r\n二行目\",-35.25,139.5\r\n\
               7002,\\N 田中,,港北区\\.2,,\"\",,\r\n";
    let (status, report) = import(&admin, csv, "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["new"], 2, "{report}");
    let (_, first) = admin.get("/api/register/persons/7001").await;
    assert_eq!(first["name"], "山田 \"タロウ\" 太郎");
    assert_eq!(first["address"], "港北区1-1, 2階");
    assert_eq!(first["notes"], "一行目\r\n二行目");
    assert_eq!(first["name_kana"], Value::Null);
    assert_eq!(
        (first["latitude"].as_f64(), first["longitude"].as_f64()),
        (Some(-35.25), Some(139.5))
    );
    let (_, second) = admin.get("/api/register/persons/7002").await;
    assert_eq!(second["name"], "\\N 田中");
    assert_eq!(second["address"], "港北区\\.2");
    assert_eq!(second["consent"], Value::Null);
    assert_eq!(second["notes"], Value::Null, "a blank cell is no note");
}

/// The next year's export: last year's people unchanged at the top, many new people after.
/// New people gather across chunks before they are written; on SQLite a statement holds at
/// most a chunk of them (its limit on parameters), which the first version overran: this
/// import answered 500 "too many SQL variables".
async fn new_people_after_unchanged_ones_are_added_however_the_chunks_fall(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let row = |i: usize| {
        format!(
            "{},氏名{i},,S10.5.5,男,横浜市港北区{i},,地区{},,,有,",
            30000 + i,
            i % 5
        )
    };
    let csv = |n: usize| {
        register_csv(
            &(0..n)
                .map(row)
                .collect::<Vec<_>>()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )
    };

    let (status, report) = import(&admin, csv(100), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // 100 unchanged, then 2,000 new: the first chunk of 1,000 rows leaves 900 new waiting, the
    // next adds 1,000 more: 1,900 people of 21 parameters each is past SQLite's 32,766.
    let (status, report) = import(&admin, csv(2100), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            report["new"].clone(),
            report["unchanged"].clone(),
            report["committed"].clone()
        ),
        (json!(2000), json!(100), json!(true))
    );
    let (_, last) = admin.get("/api/register/persons/32099").await;
    assert_eq!(
        last["name"], "氏名2099",
        "the last new person is in: {last}"
    );
}

/// New people stream into the register (one COPY on PostgreSQL) until a chunk holds someone
/// changed, who is written on the same connection; the new people after them go in too. Here
/// changes fall in the second and the last of four chunks, each among new people.
async fn changed_people_between_runs_of_new_ones_are_all_written(app: TestApp) {
    let admin = app.user("admin1", Role::Admin).await;
    let row = |i: usize, address: &str| {
        format!(
            "{},氏名{i},,S10.5.5,男,{address},,地区{},,,有,",
            40000 + i,
            i % 3
        )
    };
    let at_home = |i: usize| row(i, &format!("横浜市港北区{i}"));
    let csv = |rows: &[String]| register_csv(&rows.iter().map(String::as_str).collect::<Vec<_>>());

    let mut first: Vec<String> = (0..1500).map(at_home).collect();
    first.push(at_home(3500));
    let (status, report) = import(&admin, csv(&first), "").await;
    assert_eq!(
        (status, report["new"].clone()),
        (StatusCode::OK, json!(1501)),
        "{report}"
    );

    let mut next: Vec<String> = (0..4000).map(at_home).collect();
    next[1200] = row(1200, "横浜市港北区転居先");
    next[3500] = row(3500, "横浜市港北区別");
    let (status, report) = import(&admin, csv(&next), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["updated"],
        json!([
            { "resident_id": "41200", "line": 1202, "fields": ["address"] },
            { "resident_id": "43500", "line": 3502, "fields": ["address"] },
        ])
    );
    assert_eq!(
        (
            report["new"].clone(),
            report["unchanged"].clone(),
            report["removed"].clone()
        ),
        (json!(2499), json!(1499), json!(0))
    );
    for (id, address) in [
        ("41200", "横浜市港北区転居先"),
        ("41600", "横浜市港北区1600"),
        ("42500", "横浜市港北区2500"),
        ("43500", "横浜市港北区別"),
        ("43999", "横浜市港北区3999"),
    ] {
        let (status, person) = admin.get(&format!("/api/register/persons/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{id}: {person}");
        assert_eq!(person["address"], address, "{id}");
    }
    // Nothing twice, nobody lost: the whole register is the file again, unchanged.
    let (_, again) = import(&admin, csv(&next), "?dry_run=true").await;
    assert_eq!(
        (
            again["new"].clone(),
            again["unchanged"].clone(),
            again["removed"].clone()
        ),
        (json!(0), json!(4000), json!(0)),
        "{again}"
    );
}
