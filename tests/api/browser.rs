//! The board page in a real browser: headless Chromium (Debian's `chromium`, driven through
//! `chromedriver` with fantoccini) logs in, sees the drill banner, and sees an announcement
//! posted through the API appear without a reload; then posts one from the page that a
//! websocket terminal receives.

use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use saigai_vc::auth::Role;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{Backend, PASSWORD, PATIENCE, TestApp, skip};

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
