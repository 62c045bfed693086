//! Drills through the `saigai-vc drill` command, as a 社協 runs them: `drill check` on the
//! shipped scenarios and on a broken one, and `drill run` of a short scenario against a real
//! server on SQLite and PostgreSQL, checked through the API afterwards: a drill activation
//! holding what the scenario injected (and an after-action review of it), and a real
//! activation beside it left as it was.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use reqwest::StatusCode;
use saigai_vc::auth::Role;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::helpers::{PASSWORD, PATIENCE, Session, TestApp};

const BINARY: &str = env!("CARGO_BIN_EXE_saigai-vc");

crate::on_both_backends!(
    a_scenario_runs_end_to_end_into_a_drill_activation,
    a_drill_will_not_replace_a_register_it_did_not_bring,
);

/// Runs the command with `SAIGAI_PASSWORD` set to the test password: (success, output).
async fn saigai(args: &[&str]) -> (bool, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .env("SAIGAI_LOG", "warn")
        .env("SAIGAI_PASSWORD", PASSWORD)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run saigai-vc");
    let _ = child.stdin.take().unwrap().shutdown().await;
    let output = tokio::time::timeout(PATIENCE * 2, child.wait_with_output())
        .await
        .expect("finishes")
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test]
async fn drill_check_passes_every_shipped_scenario() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("drills");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut args = vec!["drill".to_string(), "check".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, output) = saigai(&args).await;
    assert!(ok, "{output}");
    for file in &files {
        assert!(
            output.contains(&format!("{}: OK", file.display())),
            "{} not reported OK:\n{output}",
            file.display()
        );
    }
}

#[tokio::test]
async fn drill_check_names_the_file_line_and_reason_of_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.toml");
    std::fs::write(
        &file,
        "name = \"壊れた訓練\"\nduration = \"1h\"\n\n[[injects]]\nat = \"90m\"\nkind = \"announcement\"\ntext = \"遅すぎる\"\n\n[[injects]]\nat = \"5m\"\nkind = \"need\"\nrequester_name = \"山田 一郎\"\naddress = \"架空市1-1\"\ncategory = \"mud\"\npeople = 2\n",
    )
    .unwrap();
    let (ok, output) = saigai(&["drill", "check", &file.display().to_string()]).await;
    assert!(!ok, "a broken scenario fails the check: {output}");
    let name = file.display().to_string();
    assert!(
        output.contains(&format!(
            "{name}:4: at = 1h30m is after the end of the drill"
        )),
        "{output}"
    );
    assert!(
        output.contains(&format!("{name}:14: unknown category \"mud\"")),
        "{output}"
    );
}

/// A register file beside the scenario: two districts, people who did and did not consent.
const REGISTER: &str = "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,情報提供同意\n\
T0001,青木 和夫,アオキ カズオ,1940/04/01,男,架空市北町1-1,045-000-0101,北地区,要介護2,有\n\
T0002,青木 和子,アオキ カズコ,1942/05/02,女,架空市北町1-1,045-000-0101,北地区,要支援1,有\n\
T0003,石井 清,イシイ キヨシ,1938/06/03,男,架空市北町2-5,045-000-0102,北地区,,有\n\
T0004,上田 トミ,ウエダ トミ,1935/07/04,女,架空市南町3-2,045-000-0103,南地区,要介護4,無\n\
T0005,遠藤 博,エンドウ ヒロシ,1945/08/05,男,架空市南町4-8,045-000-0104,南地区,,有\n";

const SCENARIO: &str = r#"
name = "結合テスト訓練"
description = "短い訓練: 全種類の注入を1回ずつ"
duration = "10m"
seed = 5
city = "架空市"

[register]
file = "register.csv"

[[shelters]]
name = "テスト地域ケアプラザ"
address = "架空市北町5-5"
capacity = 10
categories = ["elderly"]

[[injects]]
at = "0s"
kind = "announcement"
text = "【訓練】テスト訓練を開始します"

[[injects]]
at = "30s"
kind = "shelter_open"
shelter = "テスト地域ケアプラザ"
capacity = 6

[[injects]]
at = "1m"
kind = "need"
requester_name = "青木 和子"
phone = "045-000-0101"
address = "架空市北町1-1"
district = "北地区"
category = "mud_removal"
description = "床下浸水"
people = 3
priority = "high"
urgent = true
resident_id = "T0001"

[[injects]]
at = "2m"
kind = "need"
count = 3
over = "2m"
districts = ["北地区", "南地区"]
category = "furniture_removal"

[[injects]]
at = "2m"
kind = "volunteers"
count = 5
over = "3m"
uninsured = 0.4

[[injects]]
at = "3m"
kind = "safety"
resident_id = "T0004"
status = "needs_help"
note = "訓練: 電話"

[[injects]]
at = "4m"
kind = "safety"
district = "北地区"
count = 2
over = "1m"
status = "safe_at_home"

[[injects]]
at = "6m"
kind = "register_import"
seed = 9
count = 3
districts = ["南地区"]

[[injects]]
at = "7m"
kind = "shelter_full"
shelter = "テスト地域ケアプラザ"

[[injects]]
at = "9m"
kind = "shelter_close"
shelter = "テスト地域ケアプラザ"

[[injects]]
at = "9m30s"
kind = "announcement"
text = "【訓練】テスト訓練を終了します"
"#;

fn write_scenario(dir: &Path) -> PathBuf {
    std::fs::write(dir.join("register.csv"), REGISTER).unwrap();
    let file = dir.join("test-drill.toml");
    std::fs::write(&file, SCENARIO).unwrap();
    file
}

async fn get_ok(session: &Session, path: &str) -> Value {
    let (status, body) = session.get(path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

async fn a_scenario_runs_end_to_end_into_a_drill_activation(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    // A real activation with a record of its own, running beside the drill.
    let real = admin.open_activation("実災害 大雨", "real").await;
    admin.announce(real, "実際のお知らせ").await;

    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path());
    let server = app.url("");
    let (ok, output) = saigai(&[
        "drill",
        "run",
        &file.display().to_string(),
        "--server",
        &server,
        "--user",
        "drill-admin",
        "--speed",
        "600",
        "--no-wait",
    ])
    .await;
    assert!(ok, "{output}");
    assert!(output.contains("18 ok, 0 failed"), "{output}");
    assert!(
        output.contains("[line 28] ニーズ受付"),
        "a live log line per call: {output}"
    );

    // The drill's activation: a drill, named after the scenario.
    let activations = get_ok(&admin, "/api/activations").await;
    let drills: Vec<&Value> = activations
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["name"]
                .as_str()
                .unwrap_or("")
                .starts_with("結合テスト訓練")
        })
        .collect();
    assert_eq!(drills.len(), 1, "{activations}");
    let drill = drills[0];
    assert_eq!(drill["kind"], "drill");
    let id = drill["id"].as_i64().unwrap();
    let a = format!("/api/activations/{id}");

    let announcements = get_ok(&admin, &format!("{a}/announcements")).await;
    let texts: Vec<&str> = announcements
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["text"].as_str())
        .collect();
    assert_eq!(
        texts,
        vec![
            "【訓練】テスト訓練を終了します",
            "【訓練】テスト訓練を開始します"
        ]
    );

    let needs = get_ok(&admin, &format!("{a}/needs")).await;
    let needs = needs.as_array().unwrap();
    assert_eq!(needs.len(), 4, "one written, three generated: {needs:?}");
    let written = needs
        .iter()
        .find(|n| n["urgent"] == true)
        .expect("the urgent need");
    assert_eq!(written["resident_id"], "T0001");
    assert_eq!(written["category"], "mud_removal");
    assert_eq!(
        needs
            .iter()
            .filter(|n| n["category"] == "furniture_removal")
            .count(),
        3
    );

    let volunteers = get_ok(&admin, &format!("{a}/volunteers?today=true")).await;
    let volunteers = volunteers.as_array().unwrap();
    assert_eq!(volunteers.len(), 5);
    assert!(volunteers.iter().all(|v| v["checked_in_today"] == true));

    // Safety: one named person, two of the north district swept.
    let safety = get_ok(&admin, &format!("{a}/safety")).await;
    let count_of = |district: &str, status: &str| {
        safety
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["district"] == district)
            .map_or(0, |d| d["by_status"][status].as_i64().unwrap_or(0))
    };
    assert_eq!(count_of("南地区", "needs_help"), 1, "{safety}");
    assert_eq!(count_of("北地区", "safe_at_home"), 2, "{safety}");

    // The shelter: made in the registry, opened, full, closed.
    let shelters = get_ok(&admin, &format!("{a}/shelters")).await;
    let shelter = shelters
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "テスト地域ケアプラザ")
        .expect("the scenario's shelter");
    assert_eq!(shelter["status"], "closed");
    assert_eq!(shelter["capacity"], 0, "full with nobody in it");

    // The register: the file's five people and the three imported later, nobody removed.
    let persons = get_ok(&admin, "/api/register/persons").await;
    assert_eq!(persons.as_array().unwrap().len(), 8, "{persons}");

    // Its after-action review: the run is known by its scenario file's stem, and the figures
    // are what the scenario did.
    assert_eq!(drill["scenario"], "test-drill");
    assert_eq!(drill["speed"], 600.0, "the speed it was played at: {drill}");
    let review = get_ok(&admin, &format!("{a}/review")).await;
    let f = &review["figures"];
    assert_eq!(f["needs"]["received"], 4, "{f}");
    assert_eq!(f["volunteers"]["checked_in"], 5, "{f}");
    assert_eq!(
        (
            &f["safety"]["register_total"],
            &f["safety"]["confirmed_at_end"]
        ),
        (&serde_json::json!(8), &serde_json::json!(3)),
        "five from the file, three imported later; three confirmed: {f}"
    );
    assert!(
        f["safety"]["milestones"][0]["seconds"].is_i64(),
        "3 of 5 is past half before the later import: {f}"
    );
    assert_eq!(f["shelters"][0]["name"], "テスト地域ケアプラザ", "{f}");
    assert!(f["timeline"]["rows"].as_array().unwrap().len() >= 8, "{f}");
    assert!(
        review["charts"]["safety"]
            .as_str()
            .unwrap()
            .starts_with("<svg")
    );
    assert_eq!(review["comparison"].as_array().unwrap().len(), 1);

    // The real activation: as it was.
    let real_announcements =
        get_ok(&admin, &format!("/api/activations/{real}/announcements")).await;
    assert_eq!(real_announcements.as_array().unwrap().len(), 1);
    let real_needs = get_ok(&admin, &format!("/api/activations/{real}/needs")).await;
    assert_eq!(real_needs, serde_json::json!([]));
    let real_volunteers = get_ok(&admin, &format!("/api/activations/{real}/volunteers")).await;
    assert_eq!(real_volunteers, serde_json::json!([]));
}

async fn a_drill_will_not_replace_a_register_it_did_not_bring(app: TestApp) {
    let admin = app.user("drill-admin", Role::Admin).await;
    let real_register = "宛名番号,氏名,住所,地区\n900001,本物 一郎,架空市本町1-1,本町地区\n";
    let (status, body) = admin
        .post_bytes("/api/register/imports", real_register.as_bytes().to_vec())
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let dir = tempfile::tempdir().unwrap();
    let file = write_scenario(dir.path());
    let server = app.url("");
    let file = file.display().to_string();
    let args = [
        "drill",
        "run",
        &file,
        "--server",
        &server,
        "--user",
        "drill-admin",
        "--speed",
        "600",
        "--no-wait",
    ];
    let (ok, output) = saigai(&args).await;
    assert!(!ok, "{output}");
    assert!(output.contains("mark 1 people removed"), "{output}");
    let activations = get_ok(&admin, "/api/activations").await;
    assert_eq!(activations, serde_json::json!([]), "no drill was declared");
    let persons = get_ok(&admin, "/api/register/persons").await;
    assert_eq!(persons.as_array().unwrap().len(), 1);
    assert_eq!(persons[0]["removed"], false);

    // Told to keep the server's register, the drill plays without importing any.
    let mut keep = args.to_vec();
    keep.push("--keep-register");
    let (ok, output) = saigai(&keep).await;
    assert!(ok, "{output}");
    let persons = get_ok(&admin, "/api/register/persons").await;
    assert_eq!(persons.as_array().unwrap().len(), 1, "{persons}");
    assert_eq!(persons[0]["removed"], false);
}
