//! The `saigai-vc` command: parse the command line, set up logging, open the store (which
//! runs the migrations), then serve or run a one-off command. Everything else lives in the
//! library crate.

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use saigai_vc::auth::{Role, users};
use saigai_vc::events::Actor;
use saigai_vc::{AppState, Settings, Store};
use tracing_subscriber::EnvFilter;

const DEFAULT_DATABASE: &str = "sqlite://data/saigai-vc.db";

#[derive(Parser)]
#[command(
    name = "saigai-vc",
    version,
    about = "災害ボランティアセンター運営システム / disaster volunteer centre server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(Serve),
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Import data: `import register FILE` loads the municipality's register CSV.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Check the audit log's hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run a benchmark and print its figures.
    #[command(subcommand)]
    Bench(saigai_vc::bench::BenchCommand),
    /// Drills (訓練): `drill check FILE...` checks scenarios, `drill run FILE` plays one.
    #[command(subcommand)]
    Drill(saigai_vc::drills::DrillCommand),
    /// Back up the database to FILE while the server keeps serving (SQLite: a checked copy;
    /// PostgreSQL: a pg_dump custom archive for pg_restore). Never overwrites FILE.
    Backup {
        file: std::path::PathBuf,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(clap::Args)]
struct Database {
    /// sqlite://PATH or just PATH (default, created on first start), or
    /// postgres://USER@HOST/DB.
    #[arg(long, env = "SAIGAI_DATABASE_URL", default_value = DEFAULT_DATABASE)]
    database: String,
}

#[derive(clap::Args)]
struct Serve {
    /// Address to listen on. Use 0.0.0.0:8080 to let the centre's other terminals connect.
    #[arg(long, env = "SAIGAI_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    database: Database,
    /// Create a demo drill activation (デモ訓練) to try the board with.
    #[arg(long)]
    demo: bool,
    /// How long a login lasts, in hours.
    #[arg(long, env = "SAIGAI_SESSION_HOURS", default_value_t = 16)]
    session_hours: u64,
    /// Seconds between websocket pings; a terminal silent for two is disconnected.
    #[arg(long, env = "SAIGAI_PING_SECONDS", default_value_t = 20)]
    ping_seconds: u64,
    /// Extra origins allowed to open the board websocket (a reverse proxy's public URL).
    #[arg(
        long = "allowed-origin",
        env = "SAIGAI_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    allowed_origins: Vec<String>,
    /// Mark the session cookie Secure (serve over HTTPS through a proxy).
    #[arg(long, env = "SAIGAI_SECURE_COOKIE")]
    secure_cookie: bool,
    /// A folder of the council's own drill scenarios (*.toml), offered on the web page
    /// beside the shipped ones.
    #[arg(long = "drills", env = "SAIGAI_DRILLS_DIR")]
    drills_dir: Option<std::path::PathBuf>,
    /// A reverse proxy (nginx) whose X-Forwarded-For names the client, for the login limits.
    /// Repeat it or separate with commas; without it the header is ignored.
    #[arg(
        long = "trusted-proxy",
        env = "SAIGAI_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<std::net::IpAddr>,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import the support-needed register (避難行動要支援者名簿) from a CSV file.
    Register {
        file: std::path::PathBuf,
        /// Check and report only; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Commit the valid rows of a file that has invalid ones.
        #[arg(long)]
        allow_invalid: bool,
        /// auto, utf-8 or cp932.
        #[arg(long, default_value = "auto")]
        encoding: String,
        /// A TOML file renaming the municipality's own headers ([columns] "header" = "field").
        #[arg(long)]
        mapping: Option<std::path::PathBuf>,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole chain; exit 1 if a row was altered or removed.
    Verify {
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: Role,
        /// The welfare shelter a shelter_operator runs.
        #[arg(long)]
        shelter: Option<i64>,
        /// Read the password from standard input (required: never on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: Database,
    },
    /// Set a user's password (read from standard input) and end their sessions.
    Passwd {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        database: Database,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("SAIGAI_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Serve(serve) => run_server(serve).await,
            Command::User(command) => run_user(command).await,
            Command::Import(command) => run_import(command).await,
            Command::Audit(AuditCommand::Verify { database }) => {
                let store = Store::open_existing(&database.database).await?;
                let broken = saigai_vc::audit::verify(&store)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                store.close().await;
                match broken {
                    None => {
                        println!("audit log intact");
                        Ok(())
                    }
                    Some(id) => anyhow::bail!("audit log broken at entry {id}: altered or removed"),
                }
            }
            Command::Bench(command) => saigai_vc::bench::run(command).await,
            Command::Drill(command) => saigai_vc::drills::cli::run(command).await,
            Command::Backup { file, database } => {
                let backup = saigai_vc::backup::run(&database.database, &file).await?;
                println!(
                    "backup written: {} ({} bytes; {})",
                    backup.file.display(),
                    backup.bytes,
                    backup.checked
                );
                Ok(())
            }
        }
    })
}

async fn run_server(args: Serve) -> anyhow::Result<()> {
    if let Some(dir) = &args.drills_dir {
        anyhow::ensure!(
            dir.is_dir(),
            "--drills {}: not a folder of drill scenarios",
            dir.display()
        );
    }
    let store = Store::open(&args.database.database).await?;
    let first_admin_password = users::ensure_first_admin(&store).await?;
    if args.demo {
        saigai_vc::demo::ensure(&store).await?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    print_welcome(address, first_admin_password.as_deref(), args.demo);
    let settings = Settings {
        session_ttl: Duration::from_secs(args.session_hours.max(1) * 3600),
        ping_interval: Duration::from_secs(args.ping_seconds.max(1)),
        allowed_origins: args.allowed_origins,
        secure_cookie: args.secure_cookie,
        drills_dir: args.drills_dir,
        trusted_proxies: args.trusted_proxies,
        ..Settings::default()
    };
    tracing::info!(%address, database = ?store.engine(), "serving");
    saigai_vc::run(
        listener,
        AppState::new(store, settings),
        saigai_vc::app::shutdown_signal(),
    )
    .await
}

fn print_welcome(address: SocketAddr, first_admin_password: Option<&str>, demo: bool) {
    let host = if address.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        address.ip().to_string()
    };
    println!();
    println!("saigai-vc 起動しました / started");
    println!(
        "  ブラウザで開く / open:  http://{host}:{}/",
        address.port()
    );
    match first_admin_password {
        Some(password) => {
            println!("  管理者 / admin user:    admin");
            println!("  パスワード / password:  {password}");
            println!("  (この表示は一度だけです。控えてください / shown only once: write it down)");
        }
        None => println!(
            "  管理者のパスワードは初回起動時に表示済みです / the admin password was shown at first start\n  \
             (再設定 / reset: saigai-vc user passwd admin --password-stdin)"
        ),
    }
    if demo {
        println!("  デモ訓練を用意しました / a demo drill activation is ready");
    }
    if address.ip().is_loopback() {
        println!(
            "  他の端末から使うには / for other terminals: --listen 0.0.0.0:{}",
            address.port()
        );
    }
    println!();
}

async fn run_user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            shelter,
            password_stdin: _,
            database,
        } => {
            let password = read_password()?;
            let store = Store::open(&database.database).await?;
            let new = users::NewUser {
                username: &name,
                role,
                shelter_id: shelter,
                password: &password,
            };
            users::add(&store, new)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("added user {name} ({})", role.as_str());
            store.close().await;
        }
        UserCommand::Passwd {
            name,
            password_stdin: _,
            database,
        } => {
            let password = read_password()?;
            let store = Store::open_existing(&database.database).await?;
            users::set_password(&store, &name, &password)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("password of {name} changed; their sessions were ended");
            store.close().await;
        }
    }
    Ok(())
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let password = input.lines().next().unwrap_or_default().to_string();
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    Ok(password)
}

/// `import register`: the same parser and commit as the web import, with a progress display
/// and the report printed as a person reads it.
async fn run_import(command: ImportCommand) -> anyhow::Result<()> {
    use saigai_vc::register::{commit, import};
    let ImportCommand::Register {
        file,
        dry_run,
        allow_invalid,
        encoding,
        mapping,
        database,
    } = command;
    let source =
        std::fs::File::open(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let size = source.metadata()?.len();
    // A bar over the file while it is checked, then again while one transaction writes it.
    let progress = indicatif::ProgressBar::new(size);
    progress.set_style(indicatif::ProgressStyle::with_template(
        "{spinner} {elapsed_precise} [{bar:40}] {percent:>3}% {msg}",
    )?);
    progress.enable_steady_tick(Duration::from_millis(120));
    let mapping = match mapping {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(import::parse_mapping(&text)?)
        }
        None => None,
    };
    let bar = progress.clone();
    let options = import::ImportOptions {
        encoding: saigai_vc::register::encoding_choice(Some(&encoding))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        mapping,
        progress: import::Progress::new(move |done, _total| bar.set_position(done)),
        ..import::ImportOptions::default()
    };
    progress.set_message(format!("検査中 / checking {size} bytes"));
    let register =
        tokio::task::spawn_blocking(move || import::RegisterFile::open(source, &options)).await??;
    progress.set_position(0);
    progress.set_message(format!("書き込み中 / writing {} rows", register.rows()));
    let store = Store::open(&database.database).await?;
    let actor = Actor {
        user_id: None,
        name: format!("cli:{}", whoami()),
    };
    let result = commit::import(&store, register, dry_run, allow_invalid, &actor).await;
    store.close().await;
    progress.finish_and_clear();
    let (report, _events) = result.map_err(|e| anyhow::anyhow!("{e}"))?;
    // Which file it went into, so a mistyped --database (a new, empty database) shows at once.
    if let Ok((saigai_vc::store::Engine::Sqlite, url)) =
        saigai_vc::store::locate(&database.database)
        && let Some(path) = url.strip_prefix("sqlite://")
    {
        println!("database: {path}");
    }
    println!("encoding: {}  rows: {}", report.encoding, report.rows);
    println!(
        "新規 new: {}  更新 updated: {}  変更なし unchanged: {}  削除扱い removed: {}  不正 invalid: {}",
        report.new,
        report.updated.len(),
        report.unchanged,
        report.removed,
        report.invalid.len()
    );
    for person in &report.updated {
        println!(
            "  更新 {} (line {}): {}",
            person.resident_id,
            person.line,
            person.fields.join(", ")
        );
    }
    for cell in &report.invalid {
        println!(
            "  不正 line {} column {}: {:?} — {}",
            cell.line, cell.column, cell.value, cell.reason
        );
    }
    if !report.unmapped_columns.is_empty() {
        println!(
            "取り込まれない列 / unmapped columns: {}",
            report.unmapped_columns.join(", ")
        );
    }
    if let Some(message) = &report.message {
        println!("{message}");
    }
    match (dry_run, report.committed) {
        (true, _) => println!("dry run: nothing was changed"),
        (false, true) => println!(
            "取込完了 / committed (import {})",
            report.import_id.unwrap_or_default()
        ),
        (false, false) => anyhow::bail!("nothing was imported"),
    }
    Ok(())
}

/// The operating-system user running the command, for the audit log.
fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into())
}
