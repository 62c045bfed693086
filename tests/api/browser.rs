//! The page in a real browser: headless Chromium (Debian's `chromium`, driven through
//! `chromedriver` with fantoccini).
//!
//! - The board: a coordinator logs in, sees the drill banner, and sees an announcement posted
//!   through the API appear without a reload; then posts one from the page that a websocket
//!   terminal receives.
//! - 名簿取込: an admin uploads a register CSV, sees the preview (new people, the invalid
//!   row's line) and imports the valid rows.
//! - 施設登録: an admin uploads a facility list, sees the preview name the invalid line, imports
//!   the valid rows and finds the new shelter in the registry list (categories in words); then
//!   edits its capacity through the form, after the server refused a longitude by name.
//! - 安否確認: a coordinator marks a person evacuated in the sweep list; a wall screen's
//!   websocket receives `safety_recorded`, and a colleague's check appears in the list live.
//! - 福祉避難所: a coordinator finds a person, takes the suggested shelter and assigns them; the
//!   shelter operator's open page lists them without a reload; the operator records the
//!   arrival and the coordinator's list of that shelter and board card follow, again without
//!   a reload. An admin previews and confirms a district plan, places someone in a full
//!   shelter with a reason, and the operator records a transfer to hospital.
//! - 災害VC: a coordinator checks a returning volunteer in with a scanned card and Enter, and two
//!   first-timers through the form from the keyboard (one enrolled at the counter is told they
//!   cannot go out); a wall screen (`board` role) counts them live; the coordinator forms a team
//!   for an urgent need, sends it out, records its return and report, and the wall follows each
//!   step (活動中, back, off the board, shovels back in stock) without a reload and without a name.
//! - ニーズ受付: a need taken in by keyboard is warned of the same phone (typed in full-width)
//!   before saving; another need is marked 調査済 with a note that shows in its history.
//!
//! Elements are found by the ids listed at the top of `web/app.js`. Nothing sleeps: every
//! wait is fantoccini polling for an element (a selector that matches only once the page
//! shows the expected state, e.g. `:not([hidden])` or an attribute value).

use std::process::Stdio;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use saigai_vc::auth::Role;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, PASSWORD, PATIENCE, TestApp, skip};

type Steps = Result<(), fantoccini::error::CmdError>;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver on a free port, killed when dropped.
struct Driver {
    _process: Child,
    url: String,
}

async fn start_driver() -> Option<Driver> {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        skip(
            "browser test",
            "Debian's chromium and chromium-driver are not installed",
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut process = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    // chromedriver says when it listens: wait for that line rather than sleeping.
    let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("started successfully") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "chromedriver started");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some(Driver {
        _process: process,
        url: format!("http://127.0.0.1:{port}"),
    })
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            // The flags Chromium needs as root on a closed network (see the env notes).
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,900", "--lang=ja", format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_sees_an_announcement_appear_live_and_posts_one() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    app.user("coordinator1", Role::Coordinator).await;
    let activation = admin.open_activation("水害訓練", "drill").await;

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        page.goto(&app.url("/")).await?;
        let wait = || page.wait().at_most(PATIENCE).every(Duration::from_millis(50));
        wait().for_element(Locator::Css("#login-username")).await?.send_keys("coordinator1").await?;
        page.find(Locator::Css("#login-password")).await?.send_keys(PASSWORD).await?;
        page.find(Locator::Css("#login-submit")).await?.click().await?;
        wait().for_element(Locator::Css("#conn-state[data-state='open']")).await?;

        let banner = page.find(Locator::Css("#drill-banner")).await?;
        assert!(banner.is_displayed().await?, "the drill banner is shown for a drill");
        assert!(banner.text().await?.contains("訓練"), "the banner says 訓練");

        // Mark this page load: a reload would lose the mark.
        page.execute("window.__sameLoad = true;", vec![]).await?;
        admin.announce(activation, "午後の受付は14時で締め切ります").await;
        let item = wait()
            .for_element(Locator::XPath("//li[contains(@class,'announcement')][contains(., '午後の受付は14時で締め切ります')]"))
            .await?;
        assert!(item.is_displayed().await?);
        let same_load = page.execute("return window.__sameLoad === true;", vec![]).await?;
        assert_eq!(same_load, json!(true), "the announcement arrived without a reload");
        let count = page.find(Locator::Css("#count-announcements")).await?.text().await?;
        assert_eq!(count.trim(), "1", "the count updated live");

        // The other direction: the page posts, a websocket terminal receives.
        let mut terminal = admin.board(activation, None).await;
        let snapshot = terminal.next().await;
        page.find(Locator::Css("#announce-text")).await?.send_keys("資機材の返却は17時まで").await?;
        page.find(Locator::Css("#announce-submit")).await?.click().await?;
        let event = terminal.next().await;
        assert_eq!(event["type"], "announcement_posted");
        assert_eq!(event["seq"], snapshot["seq"].as_i64().unwrap() + 1);
        assert_eq!(event["data"]["text"], "資機材の返却は17時まで");
        assert_eq!(event["by"], "coordinator1");
        wait().for_element(Locator::XPath("//li[contains(@class,'announcement')][contains(., '資機材の返却は17時まで')]")).await?;

        let png = page.screenshot().await?;
        let _ = std::fs::write(std::env::temp_dir().join("saigai-vc-board.png"), png);
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");
}

/// Logs `username` in on the page and waits until the board's websocket is live.
async fn log_in(page: &Client, app: &TestApp, username: &str) -> Steps {
    page.goto(&app.url("/")).await?;
    let wait = page
        .wait()
        .at_most(PATIENCE)
        .every(Duration::from_millis(50));
    wait.for_element(Locator::Css("#login-username"))
        .await?
        .send_keys(username)
        .await?;
    page.find(Locator::Css("#login-password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    page.find(Locator::Css("#login-submit"))
        .await?
        .click()
        .await?;
    page.wait()
        .at_most(PATIENCE)
        .every(Duration::from_millis(50))
        .for_element(Locator::Css("#conn-state[data-state='open']"))
        .await?;
    Ok(())
}

/// Saves what the page shows on a laptop (1280x900) and a portrait tablet (768x1024).
async fn screenshots(page: &Client, name: &str) -> Steps {
    for (width, height, device) in [(1280, 900, "laptop"), (768, 1024, "tablet")] {
        page.set_window_size(width, height).await?;
        let png = page.screenshot().await?;
        let file = std::env::temp_dir().join(format!("saigai-vc-{name}-{device}.png"));
        let _ = std::fs::write(file, png);
    }
    page.set_window_size(1280, 900).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_uploads_a_register_previews_it_and_commits() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    admin.open_activation("名簿取込訓練", "drill").await;

    // Three fictional people; the second has no name, so line 3 is invalid.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("meibo.csv");
    std::fs::write(
        &csv_path,
        "宛名番号,氏名,フリガナ,住所,地区,情報提供同意\r\n\
         3001,港北 春子,コウホク ハルコ,横浜市港北区日吉1-1,日吉,有\r\n\
         3002,,ナナシ ゴンベエ,横浜市港北区日吉2-2,日吉,有\r\n\
         3003,日吉 夏男,ヒヨシ ナツオ,横浜市港北区日吉3-3,日吉,無\r\n",
    )
    .unwrap();

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        log_in(&page, &app, "admin1").await?;
        let wait = || {
            page.wait()
                .at_most(PATIENCE)
                .every(Duration::from_millis(50))
        };
        page.find(Locator::Css("#tab-import"))
            .await?
            .click()
            .await?;
        wait()
            .for_element(Locator::Css("#import-view:not([hidden])"))
            .await?;
        let hash = page.execute("return location.hash;", vec![]).await?;
        assert!(
            hash.as_str().unwrap().contains("view=import"),
            "the tab is in the URL: {hash}"
        );

        // Choosing the file runs the preview (a dry run).
        page.find(Locator::Css("#import-file"))
            .await?
            .send_keys(csv_path.to_str().unwrap())
            .await?;
        wait()
            .for_element(Locator::Css("#import-report:not([hidden]) #import-new"))
            .await?;
        let new = page.find(Locator::Css("#import-new")).await?.text().await?;
        assert_eq!(new.trim(), "2", "two new people in the preview");
        let line = wait()
            .for_element(Locator::Css("#import-invalid-body td.line"))
            .await?
            .text()
            .await?;
        assert_eq!(
            line.trim(),
            "3",
            "the invalid row is line 3 (the header is line 1)"
        );
        let column = page
            .find(Locator::Css("#import-invalid-body td.column"))
            .await?
            .text()
            .await?;
        assert_eq!(column.trim(), "氏名");
        let commit = page.find(Locator::Css("#import-commit")).await?;
        assert!(
            !commit.is_enabled().await?,
            "取り込む is disabled while there are invalid rows"
        );
        let (_, people) = admin.get("/api/register/persons").await;
        assert_eq!(
            people.as_array().unwrap().len(),
            0,
            "a preview stores nothing"
        );
        screenshots(&page, "import-preview").await?;

        // Import the valid rows, through the confirm step.
        page.find(Locator::Css("#import-commit-valid"))
            .await?
            .click()
            .await?;
        wait()
            .for_element(Locator::Css(
                "#import-confirm:not([hidden]) #import-confirm-yes",
            ))
            .await?
            .click()
            .await?;
        let done = wait()
            .for_element(Locator::Css("#import-done:not([hidden])"))
            .await?;
        assert!(done.text().await?.contains("取込完了"));
        let id = page
            .find(Locator::Css("#import-done-id"))
            .await?
            .text()
            .await?;
        assert!(id.contains("取込番号"), "the import id is shown: {id}");
        screenshots(&page, "import-done").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");

    let (_, people) = admin.get("/api/register/persons").await;
    let mut ids: Vec<&str> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["resident_id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["3001", "3003"], "the two valid rows are stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_a_facility_list_and_edits_a_shelter_in_the_registry() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    admin.open_activation("施設登録訓練", "drill").await;

    // Two fictional facilities; the second's 定員 is not a number, so line 3 is invalid.
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("shisetsu.csv");
    std::fs::write(
        &csv_path,
        "施設名,住所,定員,受入対象,設備\r\n\
         港北ケアセンター,横浜市港北区日吉4-4,30,高齢者、認知症,車いす対応、多目的トイレ\r\n\
         日吉福祉会館,横浜市港北区日吉5-5,たくさん,高齢者,エレベーター\r\n",
    )
    .unwrap();

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        log_in(&page, &app, "admin1").await?;
        page.find(Locator::Css("#tab-registry"))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css("#registry-view:not([hidden]) #registry-empty:not([hidden])"))
            .await?;

        // Choosing the file runs the preview (a dry run).
        page.find(Locator::Css("#registry-import-file"))
            .await?
            .send_keys(csv_path.to_str().unwrap())
            .await?;
        patiently(&page)
            .for_element(Locator::Css("#registry-import-report:not([hidden]) #registry-import-new"))
            .await?;
        assert_eq!(text_of(&page, "#registry-import-new").await?, "1", "one new shelter");
        assert_eq!(text_of(&page, "#registry-import-invalid-count").await?, "1");
        let line = text_of(&page, "#registry-import-invalid-body td.line").await?;
        assert_eq!(line, "3", "the invalid row is line 3 (the header is line 1)");
        assert_eq!(text_of(&page, "#registry-import-invalid-body td.column").await?, "定員");
        assert_eq!(text_of(&page, "#registry-import-invalid-body td.value").await?, "たくさん");
        let commit = page.find(Locator::Css("#registry-import-commit")).await?;
        assert!(
            !commit.is_enabled().await?,
            "取り込む is disabled while there are invalid rows"
        );
        let (_, shelters) = admin.get("/api/shelters").await;
        assert_eq!(shelters.as_array().unwrap().len(), 0, "a preview stores nothing");

        // Import the valid rows, through the confirm step; the list follows.
        page.find(Locator::Css("#registry-import-commit-valid"))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css(
                "#registry-import-confirm:not([hidden]) #registry-import-confirm-yes",
            ))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css("#registry-import-done:not([hidden])"))
            .await?;
        let row = "#registry-list li.registry-shelter[data-name='港北ケアセンター']";
        patiently(&page).for_element(Locator::Css(row)).await?;
        let categories = text_of(&page, &format!("{row} .registry-categories")).await?;
        assert!(
            categories.contains("高齢者") && categories.contains("認知症"),
            "categories in words: {categories}"
        );
        let facilities = text_of(&page, &format!("{row} .registry-facilities")).await?;
        assert!(facilities.contains("車いす対応"), "facilities in words: {facilities}");
        assert!(
            page.find(Locator::Css("#registry-list li[data-name='日吉福祉会館']"))
                .await
                .is_err(),
            "the invalid row was not imported"
        );
        screenshots(&page, "registry-imported").await?;

        // Edit: the server refuses a longitude out of range and names it; then the capacity.
        page.find(Locator::Css(&format!("{row} .registry-edit-btn")))
            .await?
            .click()
            .await?;
        let capacity = patiently(&page)
            .for_element(Locator::Css("#registry-form-card:not([hidden]) #registry-capacity"))
            .await?;
        assert_eq!(capacity.prop("value").await?.as_deref(), Some("30"));
        page.find(Locator::Css("#registry-latitude"))
            .await?
            .send_keys("35.55")
            .await?;
        let longitude = page.find(Locator::Css("#registry-longitude")).await?;
        longitude.send_keys("239.64").await?;
        page.find(Locator::Css("#registry-submit")).await?.click().await?;
        patiently(&page)
            .for_element(Locator::Css("#registry-longitude-error:not([hidden])"))
            .await?;
        let focused = page.execute("return document.activeElement.id;", vec![]).await?;
        assert_eq!(focused, json!("registry-longitude"), "the field the server named has the focus");
        longitude.clear().await?;
        longitude.send_keys("139.64").await?;
        capacity.clear().await?;
        capacity.send_keys("45").await?;
        capacity
            .send_keys(&char::from(Key::Enter).to_string())
            .await?;
        patiently(&page)
            .for_element(Locator::Css(
                "#registry-list li.registry-shelter[data-name='港北ケアセンター'][data-capacity='45']",
            ))
            .await?;
        assert!(text_of(&page, "#registry-done").await?.contains("港北ケアセンター"));
        screenshots(&page, "registry-edited").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");

    let (_, shelters) = admin.get("/api/shelters").await;
    let shelters = shelters.as_array().unwrap();
    assert_eq!(shelters.len(), 1, "only the valid row is stored");
    assert_eq!(shelters[0]["name"], "港北ケアセンター");
    assert_eq!(
        shelters[0]["capacity"], 45,
        "the capacity edited in the form"
    );
    assert_eq!(shelters[0]["longitude"], 139.64);
    assert_eq!(shelters[0]["categories"], json!(["elderly", "dementia"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_marks_a_person_safe_in_the_sweep_list_and_a_wall_screen_updates() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    app.user("coordinator1", Role::Coordinator).await;
    let wall = app.user("wall1", Role::Board).await;
    let csv = "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,障害,避難支援者,避難先,情報提供同意\r\n\
        4001,大倉 梅子,オオクラ ウメコ,昭和12年4月1日,女,横浜市港北区大倉山1-1-1,045-000-1001,大倉山,要介護3,,大倉 一郎（長男）,大倉山地域ケアプラザ,有\r\n\
        4002,太尾 松男,フトオ マツオ,昭和20年8月1日,男,横浜市港北区大倉山2-2-2,045-000-1002,大倉山,,視覚障害,,,同意\r\n\
        4003,樽町 竹子,タルマチ タケコ,昭和18年1月1日,女,横浜市港北区大倉山3-3-3,045-000-1003,大倉山,要支援2,,,,無\r\n\
        4004,綱島 桃子,ツナシマ モモコ,昭和30年5月5日,女,横浜市港北区綱島東1-1,045-000-1004,綱島,,,,,有\r\n";
    let (status, report) = admin
        .post_bytes("/api/register/imports", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true, "{report}");
    let activation = admin.open_activation("地震訓練", "drill").await;

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        log_in(&page, &app, "coordinator1").await?;
        let wait = || {
            page.wait()
                .at_most(PATIENCE)
                .every(Duration::from_millis(50))
        };
        assert!(
            page.find_all(Locator::Css("#tab-import:not([hidden])"))
                .await?
                .is_empty(),
            "a coordinator has no import tab"
        );
        page.find(Locator::Css("#tab-sweep")).await?.click().await?;
        wait()
            .for_element(Locator::Css(
                "#sweep-districts button[data-district='大倉山']",
            ))
            .await?
            .click()
            .await?;
        let row = "li.person[data-resident-id='4001']";
        wait().for_element(Locator::Css(row)).await?;
        wait()
            .for_element(Locator::Css("li.person[data-resident-id='4002']"))
            .await?;
        assert!(
            page.find_all(Locator::Css("li.person[data-resident-id='4003']"))
                .await?
                .is_empty(),
            "a coordinator does not see a person who did not consent, in a drill"
        );
        let hash = page.execute("return location.hash;", vec![]).await?;
        assert!(
            hash.as_str().unwrap().contains("view=sweep"),
            "the tab is in the URL: {hash}"
        );
        let tel = page
            .find(Locator::Css(&format!("{row} a.tel")))
            .await?
            .attr("href")
            .await?;
        assert_eq!(tel.as_deref(), Some("tel:0450001001"));

        // A wall screen watches the board while the coordinator taps 避難済.
        let mut terminal = wall.board(activation, None).await;
        let snapshot = terminal.next().await;
        assert_eq!(snapshot["type"], "snapshot");
        page.find(Locator::Css(&format!("{row} .person-note")))
            .await?
            .send_keys("娘さんの車で避難")
            .await?;
        page.find(Locator::Css(&format!(
            "{row} button[data-status='evacuated']"
        )))
        .await?
        .click()
        .await?;
        let event = terminal.next().await;
        assert_eq!(event["type"], "safety_recorded", "{event}");
        assert_eq!(event["seq"], snapshot["seq"].as_i64().unwrap() + 1);
        assert_eq!(event["data"]["to"], "evacuated");
        assert_eq!(event["data"]["from"], "unconfirmed");
        assert_eq!(event["data"]["district"], "大倉山");
        assert_eq!(event["by"], "coordinator1");
        assert!(
            !event.to_string().contains("大倉 梅子"),
            "the event names nobody: {event}"
        );
        let badge = wait()
            .for_element(Locator::Css(&format!(
                "{row}[data-status='evacuated']:not(.is-pending) .status-badge"
            )))
            .await?;
        assert_eq!(badge.text().await?.trim(), "避難済");

        // A colleague's check elsewhere appears in the list without a reload.
        let (status, body) = admin
            .post(
                &format!("/api/activations/{activation}/safety"),
                json!({ "resident_id": "4002", "status": "needs_help", "note": "玄関で転倒" }),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        wait()
            .for_element(Locator::Css(
                "li.person[data-resident-id='4002'][data-status='needs_help'] .status-badge",
            ))
            .await?;
        let chip = page
            .find(Locator::Css(
                "#sweep-districts button[data-district='大倉山'] .chip-count",
            ))
            .await?;
        assert!(
            chip.text().await?.contains('1'),
            "one left unconfirmed in 大倉山"
        );

        // The history of the person, with the note.
        page.find(Locator::Css(&format!("{row} .history-btn")))
            .await?
            .click()
            .await?;
        let item = wait()
            .for_element(Locator::Css(&format!(
                "{row} .history-list li.history-item"
            )))
            .await?;
        assert!(item.text().await?.contains("娘さんの車で避難"));
        screenshots(&page, "sweep").await?;
        terminal.close().await;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");
}

/// Polls `page` for the patience limit (for tests that drive two pages).
fn patiently(page: &Client) -> fantoccini::wait::Wait<'_> {
    page.wait()
        .at_most(PATIENCE)
        .every(Duration::from_millis(50))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_assigns_a_person_and_the_operator_records_the_arrival_live() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    app.user("coordinator1", Role::Coordinator).await;
    let shelter = app.shelter("大倉山地域ケアプラザ", 5).await;
    app.operator("operator1", shelter).await;
    let csv = "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,障害,情報提供同意\r\n\
        5001,大倉 梅子,オオクラ ウメコ,昭和12年4月1日,女,横浜市港北区大倉山1-1-1,045-000-2001,大倉山,要介護3,,有\r\n\
        5002,太尾 松男,フトオ マツオ,昭和20年8月1日,男,横浜市港北区大倉山2-2-2,045-000-2002,大倉山,,視覚障害,有\r\n";
    let (status, report) = admin
        .post_bytes("/api/register/imports", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true, "{report}");
    let activation = admin.open_activation("福祉避難所開設訓練", "drill").await;
    let (status, opened) = admin
        .post(
            &format!("/api/activations/{activation}/shelters/{shelter}/open"),
            json!({}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{opened}");

    let coordinator_profile = tempfile::tempdir().unwrap();
    let operator_profile = tempfile::tempdir().unwrap();
    let coordinator = browser(&driver, coordinator_profile.path()).await;
    let operator = browser(&driver, operator_profile.path()).await;
    let card = format!("li.shelter-card[data-shelter-id='{shelter}']");
    let suggestion = format!(
        "li.suggestion[data-shelter-id='{shelter}'][data-available='true'] button.assign-btn:not([disabled])"
    );
    let result = async {
        // The operator starts on their shelter's list, which is empty, and sees no register.
        log_in(&operator, &app, "operator1").await?;
        patiently(&operator)
            .for_element(Locator::Css(
                "#arrivals-view:not([hidden]) #arrivals-empty:not([hidden])",
            ))
            .await?;
        for tab in ["#tab-sweep", "#tab-import", "#tab-shelters"] {
            assert!(
                operator
                    .find_all(Locator::Css(&format!("{tab}:not([hidden])")))
                    .await?
                    .is_empty(),
                "an operator has no {tab}"
            );
        }
        let name = operator
            .find(Locator::Css("#arrivals-shelter-name"))
            .await?
            .text()
            .await?;
        assert_eq!(name.trim(), "大倉山地域ケアプラザ");
        operator
            .execute("window.__sameLoad = true;", vec![])
            .await?;

        // The coordinator's board shows the open shelter with nobody in it yet.
        log_in(&coordinator, &app, "coordinator1").await?;
        coordinator
            .execute("window.__sameLoad = true;", vec![])
            .await?;
        patiently(&coordinator)
            .for_element(Locator::Css(&format!(
                "{card}[data-status='open'][data-assigned='0'][data-arrived='0'][data-free='5']"
            )))
            .await?;

        // Search, choose, take the suggestion.
        coordinator
            .find(Locator::Css("#tab-shelters"))
            .await?
            .click()
            .await?;
        patiently(&coordinator)
            .for_element(Locator::Css("#shelters-view:not([hidden]) #assign-q"))
            .await?
            .send_keys("オオクラ")
            .await?;
        coordinator
            .find(Locator::Css("#assign-search"))
            .await?
            .click()
            .await?;
        patiently(&coordinator)
            .for_element(Locator::Css(
                "li.candidate[data-resident-id='5001'] button.pick-btn",
            ))
            .await?
            .click()
            .await?;
        assert!(
            coordinator
                .find_all(Locator::Css("li.candidate[data-resident-id='5002']"))
                .await?
                .is_empty(),
            "the search found only the person asked for"
        );
        patiently(&coordinator)
            .for_element(Locator::Css(&suggestion))
            .await?
            .click()
            .await?;
        let done = patiently(&coordinator)
            .for_element(Locator::Css("#assign-done:not([hidden])"))
            .await?
            .text()
            .await?;
        assert!(
            done.contains("大倉 梅子") && done.contains("大倉山地域ケアプラザ"),
            "the assignment is confirmed: {done}"
        );
        patiently(&coordinator)
            .for_element(Locator::XPath(
                "//ol[@id='assign-history']/li[contains(., '大倉山地域ケアプラザ')]",
            ))
            .await?;
        screenshots(&coordinator, "shelters-assign").await?;
        // The coordinator keeps the shelter's people open while the operator works.
        coordinator
            .find(Locator::Css(&format!(
                "li.shelter-row[data-shelter-id='{shelter}'] button.shelter-people-btn"
            )))
            .await?
            .click()
            .await?;
        patiently(&coordinator)
            .for_element(Locator::Css(
                "li.assigned-person[data-resident-id='5001'][data-status='assigned']",
            ))
            .await?;

        // The operator's page lists the person without a reload.
        let row = "li.arrival[data-resident-id='5001']";
        patiently(&operator)
            .for_element(Locator::Css(&format!("{row}[data-status='assigned']")))
            .await?;
        let same_load = operator
            .execute("return window.__sameLoad === true;", vec![])
            .await?;
        assert_eq!(
            same_load,
            json!(true),
            "the person arrived without a reload"
        );
        let tel = operator
            .find(Locator::Css(&format!("{row} a.tel")))
            .await?
            .attr("href")
            .await?;
        assert_eq!(tel.as_deref(), Some("tel:0450002001"));
        let badge = operator
            .find(Locator::Css(&format!("{row} .status-badge")))
            .await?
            .text()
            .await?;
        assert_eq!(badge.trim(), "受入予定");

        // The operator records the arrival.
        operator
            .find(Locator::Css(&format!(
                "{row} button.arrival-btn[data-status='arrived']"
            )))
            .await?
            .click()
            .await?;
        let badge = patiently(&operator)
            .for_element(Locator::Css(&format!(
                "{row}[data-status='arrived']:not(.is-pending) .status-badge"
            )))
            .await?;
        assert_eq!(badge.text().await?.trim(), "到着");
        screenshots(&operator, "shelters-arrivals").await?;
        patiently(&coordinator)
            .for_element(Locator::Css(
                "li.assigned-person[data-resident-id='5001'][data-status='arrived']",
            ))
            .await?;

        // The coordinator's board card counts the arrival, without a reload.
        coordinator
            .find(Locator::Css("#tab-board"))
            .await?
            .click()
            .await?;
        let arrived = patiently(&coordinator)
            .for_element(Locator::Css(&format!(
                "{card}[data-assigned='0'][data-arrived='1']"
            )))
            .await?;
        assert!(arrived.is_displayed().await?, "the card is on the board");
        for (class, expected) in [
            ("num-arrived", "1"),
            ("num-assigned", "0"),
            ("num-free", "4"),
        ] {
            let shown = coordinator
                .find(Locator::Css(&format!("{card} .{class}")))
                .await?
                .text()
                .await?;
            assert_eq!(shown.trim(), expected, "the card's {class}");
        }
        let same_load = coordinator
            .execute("return window.__sameLoad === true;", vec![])
            .await?;
        assert_eq!(
            same_load,
            json!(true),
            "the board counted it without a reload"
        );
        screenshots(&coordinator, "shelters-board").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = coordinator.close().await;
    let _ = operator.close().await;
    result.expect("browser steps");

    let (_, active) = admin
        .get(&format!("/api/activations/{activation}/assignments"))
        .await;
    assert_eq!(
        active,
        json!([{ "resident_id": "5001", "shelter_id": shelter, "status": "arrived" }]),
        "one person, arrived"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_plans_a_district_overrides_a_full_shelter_and_the_operator_records_a_transfer() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    let small = app.shelter("さくら苑", 1).await;
    let plaza = app.shelter("大倉山地域ケアプラザ", 2).await;
    app.operator("operator1", plaza).await;
    let csv = "宛名番号,氏名,フリガナ,生年月日,性別,住所,電話番号,地区,要介護度,障害,情報提供同意\r\n\
        6001,大倉 一子,オオクラ イチコ,昭和10年1月1日,女,横浜市港北区大倉山1-1,045-000-3001,大倉山,要介護1,,有\r\n\
        6002,大倉 二郎,オオクラ ジロウ,昭和11年2月2日,男,横浜市港北区大倉山2-2,045-000-3002,大倉山,要介護2,,有\r\n\
        6003,大倉 三子,オオクラ ミツコ,昭和12年3月3日,女,横浜市港北区大倉山3-3,045-000-3003,大倉山,要支援1,,有\r\n\
        6004,綱島 四郎,ツナシマ シロウ,昭和13年4月4日,男,横浜市港北区綱島東4-4,045-000-3004,綱島,要介護4,,有\r\n";
    let (status, report) = admin
        .post_bytes("/api/register/imports", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{report}");
    let activation = admin.open_activation("一括割当訓練", "drill").await;
    for shelter in [small, plaza] {
        let (status, opened) = admin
            .post(
                &format!("/api/activations/{activation}/shelters/{shelter}/open"),
                json!({}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{opened}");
    }

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        log_in(&page, &app, "admin1").await?;
        page.find(Locator::Css("#tab-shelters"))
            .await?
            .click()
            .await?;

        // 大倉山 as a plan: three people, three places; nothing is written before 確定.
        patiently(&page)
            .for_element(Locator::Css("#plan-district option[value='大倉山']"))
            .await?
            .click()
            .await?;
        page.find(Locator::Css("#plan-preview"))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css("#plan-result:not([hidden]) #plan-confirm"))
            .await?;
        let rows = page.find_all(Locator::Css("#plan-body tr.plan-row")).await?;
        assert_eq!(rows.len(), 3, "everyone in 大倉山 is placed in the plan");
        let (_, active) = admin
            .get(&format!("/api/activations/{activation}/assignments"))
            .await;
        assert_eq!(active, json!([]), "a plan assigns nobody");
        screenshots(&page, "shelters-plan").await?;
        page.find(Locator::Css("#plan-confirm"))
            .await?
            .click()
            .await?;
        let done = patiently(&page)
            .for_element(Locator::Css("#plan-done:not([hidden])"))
            .await?
            .text()
            .await?;
        assert!(done.contains('3'), "three confirmed: {done}");

        // Both shelters are full now: the admin places 6004 in さくら苑 anyway, with a reason.
        patiently(&page)
            .for_element(Locator::Css(&format!(
                "li.shelter-card[data-shelter-id='{small}'][data-free='0']"
            )))
            .await?;
        page.find(Locator::Css("#assign-district option[value='綱島']"))
            .await?
            .click()
            .await?;
        page.find(Locator::Css("#assign-search"))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css(
                "li.candidate[data-resident-id='6004'] button.pick-btn",
            ))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css(&format!(
                "li.suggestion[data-shelter-id='{small}'][data-available='false'] button.assign-btn:not([disabled])"
            )))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css(
                "#assign-override:not([hidden]) #assign-override-reason",
            ))
            .await?
            .send_keys("家族の付き添いがあり、さくら苑が受入可と回答")
            .await?;
        screenshots(&page, "shelters-override").await?;
        page.find(Locator::Css("#assign-override-yes"))
            .await?
            .click()
            .await?;
        patiently(&page)
            .for_element(Locator::Css("#assign-done:not([hidden])"))
            .await?;
        let over = patiently(&page)
            .for_element(Locator::Css(&format!(
                "li.shelter-card.is-over[data-shelter-id='{small}'] .num-over"
            )))
            .await?
            .prop("textContent")
            .await?;
        // The board panel is behind another tab here: read the text, shown or not.
        assert_eq!(
            over.as_deref().map(str::trim),
            Some("超過 1"),
            "the board says the shelter is over"
        );

        // The operator of the plaza records that one of their two went to hospital.
        page.find(Locator::Css("#logout")).await?.click().await?;
        log_in(&page, &app, "operator1").await?;
        let row = patiently(&page)
            .for_element(Locator::Css("#arrivals-list li.arrival[data-status='assigned']"))
            .await?;
        let resident = row.attr("data-resident-id").await?.expect("a resident id");
        let rows = page.find_all(Locator::Css("#arrivals-list li.arrival")).await?;
        assert_eq!(rows.len(), 2, "the plaza's two people are listed");
        let row = format!("li.arrival[data-resident-id='{resident}']");
        page.find(Locator::Css(&format!(
            "{row} button.arrival-btn[data-status='transferred']"
        )))
        .await?
        .click()
        .await?;
        patiently(&page)
            .for_element(Locator::Css(&format!(
                "{row} .transfer-box:not([hidden]) button.destination-btn[data-destination='hospital']"
            )))
            .await?
            .click()
            .await?;
        page.find(Locator::Css(&format!("{row} .arrival-note")))
            .await?
            .send_keys("発熱のため救急搬送")
            .await?;
        screenshots(&page, "shelters-transfer").await?;
        page.find(Locator::Css(&format!(
            "{row} button[data-action='transfer-yes']"
        )))
        .await?
        .click()
        .await?;
        let update = patiently(&page)
            .for_element(Locator::Css(&format!(
                "{row}[data-status='transferred']:not(.is-pending) .arrival-updates li"
            )))
            .await?
            .text()
            .await?;
        assert!(
            update.contains("病院") && update.contains("発熱のため救急搬送"),
            "the record says where and why: {update}"
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");

    let (_, history) = admin
        .get(&format!(
            "/api/activations/{activation}/assignments?resident_id=6004"
        ))
        .await;
    assert_eq!(history[0]["shelter_id"], small, "{history}");
    assert_eq!(
        history[0]["override_reason"], "家族の付き添いがあり、さくら苑が受入可と回答",
        "{history}"
    );
}

/// Moves a volunteer's check-in of today to a day long past: they come back as a returning
/// volunteer (registered, not checked in today).
async fn as_if_registered_on_an_earlier_day(app: &TestApp, volunteer: i64) {
    let moved = saigai_vc::on_pool!(&app.store, pool => {
        sqlx::query("UPDATE checkins SET day = '2000-01-01' WHERE volunteer_id = $1")
            .bind(volunteer)
            .execute(pool)
            .await
            .expect("move the check-in")
            .rows_affected()
    });
    assert_eq!(moved, 1, "one check-in moved");
}

/// The text of an element, shown or not (a panel behind another tab still holds it).
async fn text_of(page: &Client, css: &str) -> Result<String, fantoccini::error::CmdError> {
    let text = page
        .find(Locator::Css(css))
        .await?
        .prop("textContent")
        .await?;
    Ok(text.unwrap_or_default().trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_checks_volunteers_in_and_sends_a_team_out_while_a_wall_screen_follows() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coordinator1", Role::Coordinator).await;
    app.user("wall", Role::Board).await;
    let activation = admin.open_activation("水害訓練", "drill").await;
    let a = format!("/api/activations/{activation}");
    let (status, shovels) = coordinator
        .post(
            &format!("{a}/equipment"),
            json!({ "name": "スコップ", "total": 5 }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{shovels}");
    let shovels = shovels["id"].as_i64().unwrap();
    let (status, need) = coordinator
        .post(
            &format!("{a}/needs"),
            json!({
                "requester_name": "山本 花子", "phone": "045-111-2222", "address": "港北区大倉山1-2-3",
                "district": "大倉山", "category": "mud_removal", "description": "床下の泥出し",
                "people_needed": 2, "skills_needed": ["driving"], "priority": "high", "urgent": true
            }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{need}");
    let need = need["need"]["id"].as_i64().unwrap();
    // 佐々木 came yesterday: registered, with a card, not checked in today.
    let (status, returning) = coordinator
        .post(
            &format!("{a}/volunteers"),
            json!({
                "name": "佐々木 一郎", "name_kana": "ササキ イチロウ", "phone": "090-1111-2222",
                "skills": ["driving"], "insurance": { "joined": true, "plan": "disaster" }
            }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{returning}");
    let returning_id = returning["volunteer"]["id"].as_i64().unwrap();
    let code = returning["volunteer"]["card_code"]
        .as_str()
        .unwrap()
        .to_string();
    as_if_registered_on_an_earlier_day(&app, returning_id).await;

    let wall_profile = tempfile::tempdir().unwrap();
    let desk_profile = tempfile::tempdir().unwrap();
    let wall = browser(&driver, wall_profile.path()).await;
    let desk = browser(&driver, desk_profile.path()).await;
    let need_card = format!("li.need-card[data-need-id='{need}']");
    let enter = char::from(Key::Enter);
    let result = async {
        // The wall screen: nobody checked in yet, the need waiting, urgent.
        log_in(&wall, &app, "wall").await?;
        patiently(&wall)
            .for_element(Locator::Css(&format!(
                "#dispatch-needs section.need-group[data-status='received'] {need_card}.is-urgent"
            )))
            .await?;
        assert_eq!(text_of(&wall, "#vc-checked-in").await?, "0");
        wall.execute("window.__sameLoad = true;", vec![]).await?;

        // The desk: the tab puts the keyboard in the one input; a scanned card and Enter.
        log_in(&desk, &app, "coordinator1").await?;
        desk.find(Locator::Css("#tab-desk")).await?.click().await?;
        patiently(&desk)
            .for_element(Locator::Css("#desk-view:not([hidden]) #desk-lookup"))
            .await?;
        let focused = desk
            .execute("return document.activeElement.id;", vec![])
            .await?;
        assert_eq!(focused, json!("desk-lookup"), "the desk tab focuses the lookup");
        desk.active_element()
            .await?
            .send_keys(&format!("SAIGAIVC:{code}{enter}"))
            .await?;
        let title = patiently(&desk)
            .for_element(Locator::Css(
                "#desk-result:not([hidden])[data-kind='checked_in'] #desk-result-title",
            ))
            .await?
            .text()
            .await?;
        assert!(title.contains("佐々木 一郎"), "the result names them: {title}");
        assert_eq!(text_of(&desk, "#desk-result-code").await?, code);
        assert!(
            desk.find_all(Locator::Css("#desk-result-warnings li"))
                .await?
                .is_empty(),
            "insured: no warning"
        );
        let card = desk
            .find(Locator::Css("#desk-card-link"))
            .await?
            .attr("href")
            .await?;
        assert_eq!(
            card.as_deref(),
            Some(format!("/volunteers/card?activation={activation}&volunteer={returning_id}").as_str())
        );
        let after = desk
            .execute(
                "return [document.activeElement.id, document.getElementById('desk-lookup').value];",
                vec![],
            )
            .await?;
        assert_eq!(after, json!(["desk-lookup", ""]), "ready for the next person");

        // The wall counts them without a reload.
        patiently(&wall)
            .for_element(Locator::XPath(
                "//dd[@id='vc-checked-in'][normalize-space(.)='1']",
            ))
            .await?;
        assert_eq!(text_of(&wall, "#vc-waiting").await?, "1");

        // A first visit through the form, from the keyboard; Enter in the last field sends it.
        desk.find(Locator::Css("#vol-name"))
            .await?
            .send_keys("高橋 二郎")
            .await?;
        desk.find(Locator::Css("#vol-phone"))
            .await?
            .send_keys("080-3333-4444")
            .await?;
        desk.find(Locator::Css("#vol-skill-chainsaw"))
            .await?
            .send_keys(" ")
            .await?;
        desk.find(Locator::Css("#vol-ins-joined"))
            .await?
            .send_keys(" ")
            .await?;
        desk.find(Locator::Css("#vol-ins-plan-disaster"))
            .await?
            .send_keys(" ")
            .await?;
        desk.find(Locator::Css("#vol-group"))
            .await?
            .send_keys(&format!("港北ボランティア会{enter}"))
            .await?;
        let title = patiently(&desk)
            .for_element(Locator::Css(
                "#desk-result[data-kind='registered'] #desk-result-title",
            ))
            .await?
            .text()
            .await?;
        assert!(title.contains("高橋 二郎"), "{title}");
        let new_code = text_of(&desk, "#desk-result-code").await?;
        assert_eq!(new_code.len(), 6, "a card code is shown: {new_code}");
        assert_eq!(
            desk.find(Locator::Css("#vol-name")).await?.prop("value").await?,
            Some(String::new()),
            "the form is cleared"
        );

        // Enrolled at the counter: checked in, and told plainly they cannot go out today.
        desk.find(Locator::Css("#vol-name"))
            .await?
            .send_keys("新井 三郎")
            .await?;
        desk.find(Locator::Css("#vol-ins-enrol"))
            .await?
            .send_keys(" ")
            .await?;
        desk.find(Locator::Css("#vol-phone"))
            .await?
            .send_keys(&format!("070-5555-6666{enter}"))
            .await?;
        let warning = patiently(&desk)
            .for_element(Locator::Css(
                "#desk-result.has-warnings[data-kind='registered'] #desk-result-warnings li",
            ))
            .await?
            .text()
            .await?;
        assert!(warning.contains("明日から"), "{warning}");
        patiently(&desk)
            .for_element(Locator::Css(
                "#desk-today li.desk-volunteer[data-state='waiting'] .vol-ins-badge[data-insured='false']",
            ))
            .await?;
        screenshots(&desk, "desk").await?;
        patiently(&wall)
            .for_element(Locator::XPath(
                "//dd[@id='vc-checked-in'][normalize-space(.)='3']",
            ))
            .await?;

        // Matching: the need, 佐々木 as leader, 高橋 as member, two shovels, orientation done.
        desk.find(Locator::Css("#tab-matching")).await?.click().await?;
        patiently(&desk)
            .for_element(Locator::Css(&format!(
                "li.match-need[data-need-id='{need}'] button.match-pick-btn"
            )))
            .await?
            .click()
            .await?;
        let row = |id: i64| format!("#team-members tr.member-option[data-volunteer-id='{id}']");
        patiently(&desk)
            .for_element(Locator::Css(&format!("{} input.leader-radio", row(returning_id))))
            .await?
            .click()
            .await?;
        let rows = desk
            .find_all(Locator::Css("#team-members tr.member-option"))
            .await?;
        assert_eq!(rows.len(), 3, "the three waiting volunteers are offered");
        let uninsured = desk
            .find_all(Locator::Css("#team-members tr.member-option.is-uninsured"))
            .await?;
        assert_eq!(uninsured.len(), 1, "新井 is marked 保険なし");
        let second = desk
            .find(Locator::XPath(
                "//tbody[@id='team-members']/tr[contains(., '高橋 二郎')]//input[contains(@class,'member-check')]",
            ))
            .await?;
        second.click().await?;
        desk.find(Locator::Css(&format!(
            "li.equipment-option[data-equipment-id='{shovels}'] input.equipment-qty"
        )))
        .await?
        .send_keys("2")
        .await?;
        desk.find(Locator::Css("#team-vehicle"))
            .await?
            .send_keys("軽トラ")
            .await?;
        desk.find(Locator::Css("#team-orientation"))
            .await?
            .click()
            .await?;
        let count = text_of(&desk, "#team-count").await?;
        assert!(count.contains("選択 2人"), "{count}");
        screenshots(&desk, "matching-form").await?;
        desk.find(Locator::Css("#team-submit")).await?.click().await?;
        let formed = patiently(&desk)
            .for_element(Locator::Css("#teams-formed li.team-row[data-status='formed']"))
            .await?;
        let team = formed.attr("data-team-id").await?.expect("a team id");
        let team_row = format!("li.team-row[data-team-id='{team}']");
        let team_card = format!("li.team-card[data-team-id='{team}']");
        patiently(&wall)
            .for_element(Locator::Css(&format!("{team_card}[data-status='formed']")))
            .await?;

        // 送り出し: Enter on the focused button (focus went to it when the team was formed).
        let focused = desk
            .execute(
                "return document.activeElement.classList.contains('team-dispatch-btn');",
                vec![],
            )
            .await?;
        assert_eq!(focused, json!(true), "the new team's 送り出し has the focus");
        desk.active_element().await?.send_keys(&enter.to_string()).await?;
        patiently(&desk)
            .for_element(Locator::Css(&format!(
                "#teams-dispatched {team_row}[data-status='dispatched'] button.team-return-btn"
            )))
            .await?;
        screenshots(&desk, "matching-teams").await?;

        // The wall shows the team out, the need at work, two volunteers out: no reload.
        let badge = patiently(&wall)
            .for_element(Locator::Css(&format!(
                "{team_card}[data-status='dispatched'] .team-status-badge"
            )))
            .await?
            .text()
            .await?;
        assert_eq!(badge.trim(), "活動中");
        let elapsed = text_of(&wall, &format!("{team_card} .team-elapsed")).await?;
        assert!(elapsed.contains("出発から"), "{elapsed}");
        patiently(&wall)
            .for_element(Locator::Css(&format!(
                "section.need-group[data-status='dispatched'] {need_card}"
            )))
            .await?;
        assert_eq!(text_of(&wall, "#vc-out").await?, "2");
        assert_eq!(text_of(&wall, "#vc-waiting").await?, "1");
        let stock = wall
            .find(Locator::Css(&format!(
                "li.equipment-item[data-equipment-id='{shovels}']"
            )))
            .await?
            .attr("data-available")
            .await?;
        assert_eq!(stock.as_deref(), Some("3"), "two shovels went out");
        let same_load = wall
            .execute("return window.__sameLoad === true;", vec![])
            .await?;
        assert_eq!(same_load, json!(true), "the wall followed without a reload");
        let source = wall.source().await?;
        for secret in ["佐々木", "高橋", "山本", "1111-2222", "045-111"] {
            assert!(!source.contains(secret), "{secret} is on the wall screen");
        }
        wall.execute(
            "document.getElementById('dispatch-board').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshots(&wall, "matching-board").await?;

        // 帰着 with the return check (everyone counted, a near miss), then the report: the team
        // leaves the board and the shovels are back in stock.
        desk.find(Locator::Css(&format!("{team_row} button.team-return-btn")))
            .await?
            .click()
            .await?;
        patiently(&desk)
            .for_element(Locator::Css(&format!(
                "{team_row} form.team-return-form:not([hidden]) input.return-all-back[value='yes']"
            )))
            .await?
            .click()
            .await?;
        desk.find(Locator::Css(&format!("{team_row} textarea.return-near-misses")))
            .await?
            .send_keys("床が抜けかけていた")
            .await?;
        desk.find(Locator::Css(&format!("{team_row} button.return-submit")))
            .await?
            .click()
            .await?;
        patiently(&desk)
            .for_element(Locator::Css(&format!(
                "#teams-returned {team_row}[data-status='returned'] button.team-report-btn"
            )))
            .await?
            .click()
            .await?;
        patiently(&wall)
            .for_element(Locator::Css(&format!("{team_card}[data-status='returned']")))
            .await?;
        let back = desk
            .find(Locator::Css(&format!(
                "{team_row} .report-equipment li[data-equipment-id='{shovels}'] input.equipment-qty"
            )))
            .await?
            .prop("value")
            .await?;
        assert_eq!(back.as_deref(), Some("2"), "what went out is assumed back");
        desk.find(Locator::Css(&format!("{team_row} input.report-hours")))
            .await?
            .clear()
            .await?;
        desk.find(Locator::Css(&format!("{team_row} input.report-hours")))
            .await?
            .send_keys("3")
            .await?;
        desk.find(Locator::Css(&format!("{team_row} textarea.report-notes")))
            .await?
            .send_keys("床下の泥出し完了")
            .await?;
        screenshots(&desk, "matching-report").await?;
        desk.find(Locator::Css(&format!("{team_row} button.report-submit")))
            .await?
            .click()
            .await?;
        let done = patiently(&desk)
            .for_element(Locator::Css("#teams-done:not([hidden])"))
            .await?
            .text()
            .await?;
        assert!(done.contains("1班"), "{done}");
        patiently(&wall)
            .for_element(Locator::Css(&format!(
                "#dispatch-teams-empty:not([hidden]), li.equipment-item[data-equipment-id='{shovels}'][data-available='5']"
            )))
            .await?;
        patiently(&wall)
            .for_element(Locator::Css(&format!(
                "li.equipment-item[data-equipment-id='{shovels}'][data-available='5']"
            )))
            .await?;
        assert!(
            wall.find_all(Locator::Css(&team_card)).await?.is_empty(),
            "a reported team leaves the board"
        );
        patiently(&wall)
            .for_element(Locator::Css(&format!(
                "section.need-group[data-status='reported'] {need_card}"
            )))
            .await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = wall.close().await;
    let _ = desk.close().await;
    result.expect("browser steps");

    let (_, teams) = coordinator.get(&format!("{a}/teams?status=closed")).await;
    let team = &teams[0];
    assert_eq!(team["need_id"], need, "{team}");
    assert_eq!(team["leader_id"], returning_id, "{team}");
    assert_eq!(team["vehicle"], "軽トラ", "{team}");
    assert_eq!(team["members"].as_array().unwrap().len(), 2, "{team}");
    assert_eq!(team["equipment"][0]["issued"], 2, "{team}");
    assert_eq!(team["equipment"][0]["returned"], 2, "{team}");
    assert_eq!(team["return_check"]["all_back"], true, "{team}");
    assert_eq!(
        team["return_check"]["near_misses"], "床が抜けかけていた",
        "{team}"
    );
    assert_eq!(team["report"]["hours"], 3.0, "{team}");
    assert_eq!(team["report"]["outcome"], "done", "{team}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_takes_a_need_in_warned_of_the_same_phone_and_marks_one_surveyed() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coordinator1", Role::Coordinator).await;
    let activation = admin.open_activation("水害訓練", "drill").await;
    let (status, first) = coordinator
        .post(
            &format!("/api/activations/{activation}/needs"),
            json!({
                "requester_name": "山本 花子", "phone": "045-111-2222", "address": "港北区大倉山1-2-3",
                "district": "大倉山", "category": "mud_removal", "people_needed": 3
            }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{first}");
    let first = first["need"]["id"].as_i64().unwrap();

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let enter = char::from(Key::Enter);
    let result = async {
        log_in(&page, &app, "coordinator1").await?;
        page.find(Locator::Css("#tab-needs")).await?.click().await?;
        patiently(&page)
            .for_element(Locator::Css(&format!(
                "#needs-list li.need-row[data-need-id='{first}'][data-status='received']"
            )))
            .await?;
        // The caller gives the same number, written another way: warned before saving.
        page.active_element().await?.send_keys("山本 太郎").await?;
        page.find(Locator::Css("#need-phone"))
            .await?
            .send_keys("０４５－１１１－２２２２")
            .await?;
        let warning = patiently(&page)
            .for_element(Locator::Css("#need-dups:not([hidden]) #need-dups-text"))
            .await?
            .text()
            .await?;
        assert!(
            warning.contains("同じ電話番号／住所の受付があります") && warning.contains(&format!("#{first}")),
            "{warning}"
        );
        page.find(Locator::Css("#need-address"))
            .await?
            .send_keys("港北区大倉山1-2-3 2階")
            .await?;
        page.find(Locator::Css("#need-category option[value='furniture_removal']"))
            .await?
            .click()
            .await?;
        page.find(Locator::Css("#need-care")).await?.send_keys(" ").await?;
        screenshots(&page, "needs-intake").await?;
        page.find(Locator::Css("#need-district"))
            .await?
            .send_keys(&format!("大倉山{enter}"))
            .await?;
        let done = patiently(&page)
            .for_element(Locator::Css("#need-done:not([hidden])"))
            .await?
            .text()
            .await?;
        assert!(done.contains(&format!("#{first}")), "the duplicate is named again: {done}");
        let focused = page
            .execute("return document.activeElement.id;", vec![])
            .await?;
        assert_eq!(focused, json!("need-requester"), "ready for the next call");
        let new_row = patiently(&page)
            .for_element(Locator::XPath(
                "//ul[@id='needs-list']/li[contains(@class,'need-row')][contains(., '山本 太郎')]",
            ))
            .await?;
        assert!(new_row.text().await?.contains("要配慮"));

        // By hand: received -> surveyed, with a note, and the history shows it.
        let row = format!("li.need-row[data-need-id='{first}']");
        page.find(Locator::Css(&format!("{row} .need-note")))
            .await?
            .send_keys("現地確認済")
            .await?;
        page.find(Locator::Css(&format!(
            "{row} button.need-status-btn[data-status='surveyed']"
        )))
        .await?
        .click()
        .await?;
        patiently(&page)
            .for_element(Locator::Css(&format!(
                "{row}[data-status='surveyed']:not(.is-pending)"
            )))
            .await?;
        page.find(Locator::Css(&format!("{row} .need-history-btn")))
            .await?
            .click()
            .await?;
        let item = patiently(&page)
            .for_element(Locator::XPath(&format!(
                "//li[@data-need-id='{first}']//ol[contains(@class,'history-list')]/li[contains(., '現地確認済')]"
            )))
            .await?
            .text()
            .await?;
        assert!(item.contains("調査済"), "{item}");
        screenshots(&page, "needs-list").await?;
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");
}

/// 訓練: an admin starts a scenario from the page (the council's broken file is listed with
/// its problem and cannot be chosen), follows the run to its end, shows the new drill on the
/// board (banner, and the drill's announcement), then deletes the drill from the page after
/// a confirmation that names it; a real activation is never offered for deletion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_starts_a_drill_from_the_page_shows_it_on_the_board_and_deletes_it() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = crate::drill_control::spawn(Backend::Sqlite)
        .await
        .expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    let real = admin.open_activation("実災害 大雨", "real").await;

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let mut drill = None;
    let result = async {
        log_in(&page, &app, "admin1").await?;
        page.find(Locator::Css("#tab-drills")).await?.click().await?;
        patiently(&page)
            .for_element(Locator::Css(
                "#drills-scenarios li.drill-scenario[data-key='broken'][data-problems='1'] input:disabled",
            ))
            .await?;
        assert!(
            text_of(&page, "li.drill-scenario[data-key='broken'] .drill-scenario-problems")
                .await?
                .contains("broken.toml:5:"),
            "the broken file's problem is shown with its line"
        );
        assert!(
            text_of(&page, "li.drill-scenario[data-key='flood-ward']").await?.contains("浸水"),
            "a shipped scenario is listed"
        );
        page.find(Locator::Css("li.drill-scenario[data-key='short'] input"))
            .await?
            .click()
            .await?;
        page.find(Locator::Css("#drills-speed option[value='600']"))
            .await?
            .click()
            .await?;
        page.find(Locator::Css("#drills-start")).await?.click().await?;
        let confirm = patiently(&page)
            .for_element(Locator::Css("#drills-start-confirm:not([hidden])"))
            .await?;
        let text = confirm.text().await?;
        assert!(
            text.contains("画面から始める短い訓練") && text.contains("600×"),
            "the confirmation names the scenario and the speed: {text}"
        );
        page.find(Locator::Css("#drills-start-yes")).await?.click().await?;
        patiently(&page)
            .for_element(Locator::Css("#drills-started:not([hidden])"))
            .await?;
        // The run is followed on the page to its end: every call made.
        patiently(&page)
            .for_element(Locator::Css("#drills-runs li.drill-run[data-state='finished']"))
            .await?;
        let numbers = text_of(&page, "li.drill-run .drill-run-numbers").await?;
        assert!(numbers.contains("7/7"), "{numbers}");
        let log = text_of(&page, "li.drill-run .drill-run-log").await?;
        assert!(log.contains("ニーズ受付"), "the run's log: {log}");

        let (_, activations) = admin.get("/api/activations").await;
        let id = activations
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == "drill")
            .and_then(|a| a["id"].as_i64())
            .expect("the drill activation");
        drill = Some(id);

        // Switch the board to the new drill: the banner and the drill's announcement.
        page.find(Locator::Css("#drills-show-board")).await?.click().await?;
        patiently(&page)
            .for_element(Locator::Css("#tab-board[aria-selected='true']"))
            .await?;
        patiently(&page)
            .for_element(Locator::Css("#drill-banner:not([hidden])"))
            .await?;
        patiently(&page)
            .for_element(Locator::XPath(
                "//*[@id='announcements']//p[contains(., '画面から開始した訓練です')]",
            ))
            .await?;
        let selected = page
            .find(Locator::Css("#activation-select"))
            .await?
            .prop("value")
            .await?;
        assert_eq!(selected, Some(id.to_string()));
        screenshots(&page, "drill-started-board").await?;

        // Delete it from the drills view; the real activation has no delete button.
        page.find(Locator::Css("#tab-drills")).await?.click().await?;
        let delete = patiently(&page)
            .for_element(Locator::Css(&format!(
                "#drills-activations li.drill-activation[data-activation-id='{id}'] button[data-action='delete']"
            )))
            .await?;
        assert!(
            page.find_all(Locator::Css(&format!(
                "#drills-activations li[data-activation-id='{real}']"
            )))
            .await?
            .is_empty(),
            "a real activation is never offered for deletion"
        );
        page.execute(
            "document.getElementById('drills-runs').scrollIntoView();",
            vec![],
        )
        .await?;
        screenshots(&page, "drills-view").await?;
        delete.click().await?;
        let confirm = patiently(&page)
            .for_element(Locator::Css("#drills-delete-confirm:not([hidden])"))
            .await?;
        let text = confirm.text().await?;
        assert!(text.contains("画面から始める短い訓練"), "the confirmation names the drill: {text}");
        page.find(Locator::Css("#drills-delete-yes")).await?.click().await?;
        patiently(&page)
            .for_element(Locator::Css("#drills-activations-empty:not([hidden])"))
            .await?;
        assert!(
            page.find_all(Locator::Css(&format!("#activation-select option[value='{id}']")))
                .await?
                .is_empty(),
            "the deleted drill left the activation list"
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");

    let (_, activations) = admin.get("/api/activations").await;
    let ids: Vec<i64> = activations
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_i64())
        .collect();
    assert_eq!(
        ids,
        vec![real],
        "the drill {drill:?} is gone, the real one kept"
    );
}

/// 振り返り: a coordinator opens the review tab of a drill with data and sees its figures and
/// the server's SVG charts, and the 印刷 link to the printable page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_sees_the_review_of_a_drill_with_its_figures_and_charts() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    let admin = app.user("admin1", Role::Admin).await;
    let coordinator = app.user("coordinator1", Role::Coordinator).await;
    let (status, drill) = admin
        .post(
            "/api/activations",
            json!({ "name": "振り返り表示訓練", "kind": "drill", "scenario": "browser-review", "speed": 24 }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{drill}");
    let a = format!("/api/activations/{}", drill["id"]);
    let csv = "宛名番号,氏名,住所,地区,情報提供同意\r\n\
        8001,表示 一郎,架空市北町1-1,北地区,有\r\n\
        8002,表示 二子,架空市北町2-2,北地区,有\r\n";
    let (status, report) = admin
        .post_bytes("/api/register/imports", csv.as_bytes().to_vec())
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{report}");
    let (status, body) = coordinator
        .post(
            &format!("{a}/safety"),
            json!({ "resident_id": "8001", "status": "safe_at_home" }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let (status, body) = coordinator
        .post(
            &format!("{a}/volunteers"),
            json!({ "name": "表示 ボランティア", "phone": "090-8000-0001",
                    "insurance": { "joined": true, "plan": "disaster" } }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let (status, body) = coordinator
        .post(
            &format!("{a}/needs"),
            json!({ "requester_name": "表示 依頼", "address": "架空市北町3-3", "district": "北地区",
                    "category": "mud_removal", "people_needed": 2, "priority": "high" }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    let shelter = app.shelter("表示ケアプラザ", 4).await;
    let (status, body) = coordinator
        .post(&format!("{a}/shelters/{shelter}/open"), json!({}))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (status, body) = coordinator
        .post(
            &format!("{a}/assignments"),
            json!({ "resident_id": "8002", "shelter_id": shelter, "reason": "訓練" }),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        log_in(&page, &app, "coordinator1").await?;
        let wait = || {
            page.wait()
                .at_most(PATIENCE)
                .every(Duration::from_millis(50))
        };
        page.find(Locator::Css("#tab-review"))
            .await?
            .click()
            .await?;
        wait()
            .for_element(Locator::Css("#review-body:not([hidden])"))
            .await?;
        let heading = text_of(&page, "#review-heading").await?;
        assert!(
            heading.contains("×24 で再生：時間はすべて実時間です"),
            "a drill played at ×24 says its times are real times: {heading}"
        );
        let figure =
            |name: &str| format!("#review-summary .review-figure[data-figure='{name}'] dd");
        assert_eq!(text_of(&page, &figure("register")).await?, "2人");
        assert_eq!(text_of(&page, &figure("confirmed")).await?, "1人");
        assert_eq!(text_of(&page, &figure("needs-open")).await?, "1件");
        assert_eq!(text_of(&page, &figure("volunteers")).await?, "1人");
        // 1 of 2 is half the register: 50 % reached, 90 % not.
        assert_ne!(text_of(&page, &figure("confirm-50")).await?, "未達");
        assert_eq!(text_of(&page, &figure("confirm-90")).await?, "未達");
        // The charts are the server's SVG, drawn in the page.
        page.find(Locator::Css("#review-chart-safety svg path"))
            .await?;
        page.find(Locator::Css("#review-chart-checkins svg rect[height]"))
            .await?;
        let shelter_chart =
            format!("#review-chart-shelters .review-chart[data-shelter-id='{shelter}'] svg");
        let title = text_of(&page, &format!("{shelter_chart} title")).await;
        assert!(title.is_ok(), "the shelter's chart is drawn");
        page.find(Locator::Css(
            "#review-timeline tr[data-kind='need_received']",
        ))
        .await?;
        page.find(Locator::Css("#review-comparison-body tr.is-this-run"))
            .await?;
        let print = page.find(Locator::Css("#review-print")).await?;
        let href = print.attr("href").await?.unwrap_or_default();
        assert!(href.ends_with(&format!("{a}/review/page")), "{href}");
        let body = page
            .find(Locator::Css("#review-body"))
            .await?
            .text()
            .await?;
        assert!(
            !body.contains("表示 一郎") && !body.contains("表示 依頼"),
            "no names: {body}"
        );
        screenshots(&page, "review").await?;
        page.execute(
            "document.getElementById('review-chart-safety').scrollIntoView();",
            vec![],
        )
        .await?;
        let png = page.screenshot().await?;
        let _ = std::fs::write(
            std::env::temp_dir().join("saigai-vc-review-charts.png"),
            png,
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");
}

/// Someone guessing at the login page is stopped after five wrong passwords, and the page says
/// in words how long to wait, not an error code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_says_when_an_account_is_locked_after_wrong_passwords() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite");
    app.user("coordinator1", Role::Coordinator).await;

    let profile = tempfile::tempdir().unwrap();
    let page = browser(&driver, profile.path()).await;
    let result = async {
        page.goto(&app.url("/")).await?;
        let wait = || {
            page.wait()
                .at_most(PATIENCE)
                .every(Duration::from_millis(50))
        };
        wait()
            .for_element(Locator::Css("#login-username"))
            .await?
            .send_keys("coordinator1")
            .await?;
        for attempt in 1..=6 {
            let password = page.find(Locator::Css("#login-password")).await?;
            password.clear().await?;
            password.send_keys(&format!("wrong-{attempt}")).await?;
            // Cleared first, so the wait below sees this attempt's answer, not the last one's.
            page.execute(
                "document.getElementById('login-error').textContent = '';",
                vec![],
            )
            .await?;
            page.find(Locator::Css("#login-submit"))
                .await?
                .click()
                .await?;
            let expected = if attempt <= 5 {
                "違います"
            } else {
                "秒後"
            };
            wait()
                .for_element(Locator::XPath(&format!(
                    "//*[@id='login-error'][contains(., '{expected}')]"
                )))
                .await?;
        }
        let message = page
            .find(Locator::Css("#login-error"))
            .await?
            .text()
            .await?;
        assert!(
            !message.contains("too_many_attempts"),
            "words, not a code: {message}"
        );
        Ok::<_, fantoccini::error::CmdError>(())
    }
    .await;
    let _ = page.close().await;
    result.expect("browser steps");
}
