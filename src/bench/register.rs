//! `saigai-vc bench register`: imports a generated register of N people (default 1,000,000:
//! realistic Japanese names, addresses and wareki birth dates) into a fresh SQLite database
//! through the real import path (`saigai-vc import register`, a child process), as UTF-8 and
//! as CP932, and in the same run times `sqlite3 .import` of the same UTF-8 file into an
//! equivalent table (same columns, key and index, WAL and synchronous=FULL).
//!
//! The register files are generated here, in a temporary folder, and never committed.
//! Figures: the median of `--runs` wall times, peak memory of the importing process (from
//! `wait4`), and the ratios the issue sets targets for.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(clap::Args)]
pub struct RegisterArgs {
    /// People in the generated register.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Runs of each import; the median is reported.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The saigai-vc binary to measure (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
    /// The sqlite3 command-line shell used as the reference.
    #[arg(long, default_value = "sqlite3")]
    pub sqlite3: String,
    /// Measure on PostgreSQL instead (a fresh database per run on the server of this URL),
    /// against `psql \copy` of the same file into an equivalent table.
    #[arg(long)]
    pub postgres: Option<String>,
}

const SURNAMES: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("髙橋", "タカハシ"),
    ("山﨑", "ヤマザキ"),
    ("渡邊", "ワタナベ"),
    ("齋藤", "サイトウ"),
];
const GIVEN: &[(&str, &str)] = &[
    ("太郎", "ﾀﾛｳ"),
    ("花子", "ハナコ"),
    ("一郎", "イチロウ"),
    ("和子", "カズコ"),
    ("清", "キヨシ"),
    ("節子", "セツコ"),
    ("茂", "シゲル"),
    ("幸子", "サチコ"),
    ("勇", "イサム"),
    ("久子", "ヒサコ"),
    ("博", "ﾋﾛｼ"),
    ("美代子", "ミヨコ"),
    ("正雄", "マサオ"),
    ("トミ", "トミ"),
    ("ハル", "ハル"),
];
const TOWNS: &[&str] = &[
    "新横浜",
    "日吉本町",
    "大倉山",
    "菊名",
    "綱島東",
    "綱島西",
    "師岡町",
    "大豆戸町",
    "篠原町",
    "高田東",
    "新吉田町",
    "小机町",
    "鳥山町",
    "樽町",
    "箕輪町",
];
const CARE: &[&str] = &[
    "",
    "",
    "",
    "要支援1",
    "要支援２",
    "要介護1",
    "要介護2",
    "要介護３",
    "要介護4",
    "要介護5",
];
const DISABILITY: &[&str] = &[
    "",
    "",
    "",
    "",
    "視覚障害2級",
    "聴覚障害",
    "肢体不自由1級",
    "知的障害",
    "精神障害",
];
const REASONS: &[&str] = &[
    "一人暮らし",
    "高齢者のみ世帯",
    "歩行困難",
    "在宅酸素療法, 電源が必要",
    "寝たきり",
    "認知症",
];

/// One register row as a municipality exports it: wareki and Western dates mixed, kana of
/// both widths, full-width digits here and there, a quoted cell with a comma.
fn row(rng: &mut StdRng, i: usize, out: &mut String) {
    use std::fmt::Write as _;
    let (surname, surname_kana) = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let (given, given_kana) = GIVEN[rng.random_range(0..GIVEN.len())];
    let year = rng.random_range(1926..=1990);
    let month = rng.random_range(1..=12);
    let day = rng.random_range(1..=28);
    let date = match rng.random_range(0..4) {
        0 if (1927..=1988).contains(&year) => format!("昭和{}年{month}月{day}日", year - 1925),
        1 if (1927..=1988).contains(&year) => format!("S{}.{month}.{day}", year - 1925),
        2 => format!("{year}/{month}/{day}"),
        _ => format!("{year}-{month:02}-{day:02}"),
    };
    let town = TOWNS[rng.random_range(0..TOWNS.len())];
    let district = format!("{}地区", TOWNS[i % TOWNS.len()]);
    let consent = ["有", "無", "", "同意", "○"][rng.random_range(0..5)];
    let _ = write!(
        out,
        "{id},{surname} {given},{surname_kana} {given_kana},{date},{sex},222-00{post:02},横浜市港北区{town}{chome}丁目{ban}番{go}号,\
         045-{a:03}-{b:04},{district},{care},{disability},\"{reason}\",{consent},,{town}小学校,35.{lat:06},139.{lon:06},\r\n",
        id = 10_000_000 + i,
        sex = ["男", "女", "1", "2"][rng.random_range(0..4)],
        post = rng.random_range(0..100),
        chome = rng.random_range(1..10),
        ban = rng.random_range(1..40),
        go = rng.random_range(1..30),
        a = rng.random_range(100..1000),
        b = rng.random_range(0..10_000),
        care = CARE[rng.random_range(0..CARE.len())],
        disability = DISABILITY[rng.random_range(0..DISABILITY.len())],
        reason = REASONS[rng.random_range(0..REASONS.len())],
        lat = rng.random_range(400_000..560_000),
        lon = rng.random_range(580_000..680_000),
    );
}

const HEADER: &str = "宛名番号,氏名,フリガナ,生年月日,性別,郵便番号,住所,電話番号,地区,要介護度,障害,\
                      避難支援を必要とする事由,情報提供同意,避難支援者,避難先,緯度,経度,備考\r\n";

/// Writes the register as UTF-8 and as CP932; answers both paths.
fn generate(dir: &Path, rows: usize) -> anyhow::Result<(PathBuf, PathBuf)> {
    let utf8_path = dir.join("register-utf8.csv");
    let cp932_path = dir.join("register-cp932.csv");
    let mut utf8 = std::io::BufWriter::new(std::fs::File::create(&utf8_path)?);
    let mut cp932 = std::io::BufWriter::new(std::fs::File::create(&cp932_path)?);
    let mut rng = StdRng::seed_from_u64(20261122);
    let mut chunk = String::from(HEADER);
    for i in 0..rows {
        row(&mut rng, i, &mut chunk);
        if chunk.len() > 1 << 20 || i + 1 == rows {
            utf8.write_all(chunk.as_bytes())?;
            let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&chunk);
            ensure!(!unmappable, "the generated register is not all CP932");
            cp932.write_all(&bytes)?;
            chunk.clear();
        }
    }
    utf8.flush()?;
    cp932.flush()?;
    Ok((utf8_path, cp932_path))
}

/// A finished child: wall time and its peak resident memory.
struct Measured {
    wall: Duration,
    peak_rss_kib: u64,
}

/// Runs a command to its end, reading its peak memory from `wait4` (exact, unlike polling).
fn measure(command: &mut Command) -> anyhow::Result<Measured> {
    let start = Instant::now();
    let child = command
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("cannot start the command")?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, fully written by wait4 on success.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, with valid pointers to locals.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    ensure!(
        waited == pid,
        "wait4 failed: {}",
        std::io::Error::last_os_error()
    );
    ensure!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the command failed (status {status})"
    );
    std::mem::forget(child); // already reaped
    Ok(Measured {
        wall,
        peak_rss_kib: usage.ru_maxrss as u64,
    })
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// The reference: the sqlite3 shell importing the same file into an equivalent table.
fn sqlite3_import(sqlite3: &str, file: &Path, db: &Path) -> anyhow::Result<Measured> {
    let _ = std::fs::remove_file(db);
    let schema = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
        CREATE TABLE persons (resident_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_kana TEXT, birth_date TEXT, \
        sex TEXT, postal_code TEXT, address TEXT NOT NULL, phone TEXT, district TEXT, care_level TEXT, \
        disability TEXT, support_reasons TEXT, consent TEXT, supporters TEXT, designated_shelter TEXT, \
        latitude REAL, longitude REAL, notes TEXT) WITHOUT ROWID; \
        CREATE INDEX persons_by_district ON persons (district, resident_id);";
    let status = Command::new(sqlite3)
        .arg(db)
        .arg(schema)
        .stdout(std::process::Stdio::null())
        .status()?;
    ensure!(
        status.success(),
        "sqlite3 could not create the reference table"
    );
    measure(
        Command::new(sqlite3)
            .arg(db)
            .arg(".mode csv")
            .arg(format!(".import --skip 1 {} persons", file.display())),
    )
}

fn saigai_import(binary: &Path, file: &Path, db: &Path) -> anyhow::Result<Measured> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    measure(
        Command::new(binary)
            .args(["import", "register"])
            .arg(file)
            .args(["--database", &format!("sqlite://{}", db.display())])
            .env("SAIGAI_LOG", "warn"),
    )
}

/// A fresh database on the server of `server` (a postgres:// URL), made and dropped with psql.
fn pg_database(server: &str, name: &str, create: bool) -> anyhow::Result<String> {
    let sql = if create {
        format!("CREATE DATABASE \"{name}\"")
    } else {
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")
    };
    let status = Command::new("psql")
        .args([server, "-qc", &sql])
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run psql (Debian: apt-get install postgresql-client)")?;
    ensure!(status.success(), "psql: {sql} failed");
    let mut url = url::Url::parse(server).context("--postgres is not a URL")?;
    url.set_path(name);
    Ok(url.to_string())
}

/// saigai-vc's import through COPY against `psql \copy` of the same UTF-8 file, each into a
/// fresh database, interleaved, medians.
fn run_postgres(
    server: &str,
    file: &Path,
    binary: &Path,
    args: &RegisterArgs,
) -> anyhow::Result<()> {
    let (mut ours, mut theirs, mut peak) = (vec![], vec![], 0u64);
    for run in 1..=args.runs.max(1) {
        let name = format!("saigai_bench_register_{}_{run}", std::process::id());
        let url = pg_database(server, &name, true)?;
        // The schema first (migrations run when the store opens), outside the timing.
        let status = Command::new(binary)
            .args(["audit", "verify", "--database", &url])
            .env("SAIGAI_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .status()?;
        ensure!(status.success(), "could not migrate the bench database");
        let a = measure(
            Command::new(binary)
                .args(["import", "register"])
                .arg(file)
                .args(["--database", &url])
                .env("SAIGAI_LOG", "warn"),
        )?;
        pg_database(server, &name, false)?;
        let reference = format!("{name}_ref");
        let url = pg_database(server, &reference, true)?;
        let schema = "CREATE TABLE persons (resident_id TEXT PRIMARY KEY, name TEXT NOT NULL, name_kana TEXT, \
            birth_date TEXT, sex TEXT, postal_code TEXT, address TEXT NOT NULL, phone TEXT, district TEXT, care_level TEXT, \
            disability TEXT, support_reasons TEXT, consent TEXT, supporters TEXT, designated_shelter TEXT, \
            latitude DOUBLE PRECISION, longitude DOUBLE PRECISION, notes TEXT); \
            CREATE INDEX persons_by_district ON persons (district, resident_id);";
        let status = Command::new("psql")
            .args([url.as_str(), "-qc", schema])
            .stdout(std::process::Stdio::null())
            .status()?;
        ensure!(
            status.success(),
            "psql could not create the reference table"
        );
        let b = measure(Command::new("psql").args([
            url.as_str(),
            "-qc",
            &format!(
                "\\copy persons FROM '{}' WITH (FORMAT csv, HEADER true)",
                file.display()
            ),
        ]))?;
        pg_database(server, &reference, false)?;
        println!(
            "  run {run}: saigai-vc {:.2} s; psql \\copy {:.2} s",
            a.wall.as_secs_f64(),
            b.wall.as_secs_f64()
        );
        peak = peak.max(a.peak_rss_kib);
        ours.push(a.wall);
        theirs.push(b.wall);
    }
    let (u, p) = (median(ours), median(theirs));
    let ratio = u.as_secs_f64() / p.as_secs_f64();
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    println!(
        "| figure (median of {} runs) | value | target |",
        args.runs.max(1)
    );
    println!("|---|---|---|");
    println!(
        "| saigai-vc import on PostgreSQL, UTF-8 | {:.2} s | |",
        u.as_secs_f64()
    );
    println!(
        "| psql \\copy, UTF-8 (reference) | {:.2} s | |",
        p.as_secs_f64()
    );
    println!(
        "| saigai-vc / psql \\copy | {ratio:.2}× | ≤ 1.5× {} |",
        verdict(ratio <= 1.5)
    );
    println!(
        "| peak memory of the import | {:.0} MB | |",
        peak as f64 / 1024.0
    );
    Ok(())
}

pub async fn run(args: RegisterArgs) -> anyhow::Result<()> {
    let binary = match &args.binary {
        Some(b) => b.clone(),
        None => std::env::current_exe()?,
    };
    if args.postgres.is_none()
        && Command::new(&args.sqlite3)
            .arg("-version")
            .output()
            .is_err()
    {
        bail!("the reference needs the sqlite3 shell (Debian: apt-get install sqlite3)");
    }
    let dir = std::env::temp_dir().join(format!("saigai-bench-register-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result =
        tokio::task::spawn_blocking(move || run_in(&dir, &binary, &args).map(|()| dir)).await?;
    if let Ok(dir) = &result {
        let _ = std::fs::remove_dir_all(dir);
    }
    result.map(|_| ())
}

fn run_in(dir: &Path, binary: &Path, args: &RegisterArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let (utf8, cp932) = generate(dir, args.rows)?;
    if let Some(server) = &args.postgres {
        println!(
            "register: {} rows generated in {:.1} s",
            args.rows,
            started.elapsed().as_secs_f64()
        );
        return run_postgres(server, &utf8, binary, args);
    }
    let size = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    };
    println!(
        "register: {} rows generated in {:.1} s (UTF-8 {:.0} MB, CP932 {:.0} MB)",
        args.rows,
        started.elapsed().as_secs_f64(),
        size(&utf8),
        size(&cp932)
    );
    let db = dir.join("bench.db");
    let reference = dir.join("reference.db");
    let (mut ours_utf8, mut ours_cp932, mut theirs, mut peak) = (vec![], vec![], vec![], 0u64);
    for run in 1..=args.runs.max(1) {
        // Interleaved, so that a slower moment of the machine touches every column alike.
        let a = saigai_import(binary, &utf8, &db)?;
        let b = saigai_import(binary, &cp932, &db)?;
        let c = sqlite3_import(&args.sqlite3, &utf8, &reference)?;
        println!(
            "  run {run}: saigai-vc UTF-8 {:.2} s, CP932 {:.2} s; sqlite3 .import {:.2} s",
            a.wall.as_secs_f64(),
            b.wall.as_secs_f64(),
            c.wall.as_secs_f64()
        );
        peak = peak.max(a.peak_rss_kib).max(b.peak_rss_kib);
        ours_utf8.push(a.wall);
        ours_cp932.push(b.wall);
        theirs.push(c.wall);
    }
    let (u, c, s) = (median(ours_utf8), median(ours_cp932), median(theirs));
    let ratio = u.as_secs_f64() / s.as_secs_f64();
    let cp_ratio = c.as_secs_f64() / u.as_secs_f64();
    let per_100k = u.as_secs_f64() * 100_000.0 / args.rows as f64;
    let peak_mb = peak as f64 / 1024.0;
    let verdict = |ok: bool| if ok { "PASS" } else { "FAIL" };
    println!();
    println!(
        "| figure (median of {} runs) | value | target |",
        args.runs.max(1)
    );
    println!("|---|---|---|");
    println!("| saigai-vc import, UTF-8 | {:.2} s | |", u.as_secs_f64());
    println!("| saigai-vc import, CP932 | {:.2} s | |", c.as_secs_f64());
    println!(
        "| sqlite3 .import, UTF-8 (reference) | {:.2} s | |",
        s.as_secs_f64()
    );
    println!(
        "| saigai-vc / sqlite3 | {ratio:.2}× | ≤ 2.0× {} |",
        verdict(ratio <= 2.0)
    );
    println!(
        "| CP932 / UTF-8 | {cp_ratio:.2}× | ≤ 1.15× {} |",
        verdict(cp_ratio <= 1.15)
    );
    println!(
        "| peak memory of the import | {peak_mb:.0} MB | ≤ 256 MB {} |",
        verdict(peak_mb <= 256.0)
    );
    println!(
        "| time per 100,000 rows | {per_100k:.2} s | ≤ 1 s {} |",
        verdict(per_100k <= 1.0)
    );
    Ok(())
}
