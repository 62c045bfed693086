//! `saigai-vc drill check FILE...` and `saigai-vc drill run FILE`: the terminal side of the
//! drills. `check` reads and checks scenarios and says what each would do; `run` plays one
//! against a server with a progress bar over drill time, a log line per call, and keys:
//! `p` Enter pauses, Enter resumes, `q` Enter (or Ctrl-C) stops. Keys are read from the
//! terminal itself (`/dev/tty`), so they work when standard input carried the password.

use std::io::{BufRead, IsTerminal, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use super::http::HttpApi;
use super::runner::{self, Clock, Control, Fired, Options, RegisterMode, Report, Summary};
use super::scenario::{Register, Scenario, format_offset};
use super::timeline::{self, Timeline};

#[derive(clap::Subcommand)]
pub enum DrillCommand {
    /// Read and check scenario files; say what each would do. Exit 1 if any has problems.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Play a scenario against a running server as a drill activation (訓練).
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    file: PathBuf,
    /// Drill time per real time: 60 plays an hour in a minute.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// The server to drill on.
    #[arg(long, env = "SAIGAI_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An admin user: the drill declares an activation and adds shelters.
    #[arg(long, env = "SAIGAI_USER", default_value = "admin")]
    user: String,
    /// Read the password from standard input (otherwise from SAIGAI_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
    /// Import the scenario's register even if it changes or removes people already on the
    /// server (a training server only).
    #[arg(long, conflicts_with = "keep_register")]
    replace_register: bool,
    /// Import no register: play against the server's register as it is.
    #[arg(long)]
    keep_register: bool,
    /// Finish after the last inject instead of waiting for the scenario's end.
    #[arg(long)]
    no_wait: bool,
}

pub async fn run(command: DrillCommand) -> anyhow::Result<()> {
    match command {
        DrillCommand::Check { files } => check(&files),
        DrillCommand::Run(args) => play(args).await,
    }
}

/// One line on what a checked scenario would do.
pub fn describe(scenario: &Scenario, timeline: &Timeline) -> String {
    let counts: Vec<String> = timeline
        .counts()
        .iter()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    let register = match &scenario.register {
        None => "register: the server's".to_string(),
        Some(Register::File { path, people, .. }) => {
            format!("register: {} ({} people)", path.display(), people.len())
        }
        Some(Register::Generated {
            count, districts, ..
        }) => format!(
            "register: {count} generated people in {}",
            districts.join("・")
        ),
    };
    format!(
        "{} — {}, {} injects, {} calls ({}); {register}; shelters {}",
        scenario.name,
        format_offset(scenario.duration),
        scenario.injects.len(),
        timeline.steps.len(),
        counts.join(", "),
        scenario.shelters.len()
    )
}

fn check(files: &[PathBuf]) -> anyhow::Result<()> {
    let mut bad = 0;
    for file in files {
        match Scenario::load(file) {
            Ok(scenario) => {
                let timeline = timeline::build(&scenario);
                println!("{}: OK: {}", file.display(), describe(&scenario, &timeline));
            }
            Err(problems) => {
                bad += 1;
                eprintln!("{problems}");
            }
        }
    }
    anyhow::ensure!(bad == 0, "{bad} of {} scenarios have problems", files.len());
    Ok(())
}

fn password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("cannot read the password from standard input")?;
        input.lines().next().unwrap_or_default().to_string()
    } else {
        std::env::var("SAIGAI_PASSWORD").unwrap_or_default()
    };
    anyhow::ensure!(
        !password.is_empty(),
        "no password: give it on standard input with --password-stdin, or in SAIGAI_PASSWORD"
    );
    Ok(password)
}

async fn play(args: RunArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.speed.is_finite() && args.speed > 0.0 && args.speed <= 100_000.0,
        "--speed is more than 0 and at most 100000"
    );
    let scenario = Scenario::load(&args.file).map_err(|problems| anyhow::anyhow!("{problems}"))?;
    let timeline = timeline::build(&scenario);
    let password = password(args.password_stdin)?;
    let api = HttpApi::login(&args.server, &args.user, &password)
        .await
        .with_context(|| format!("cannot log in to {} as {}", args.server, args.user))?;
    println!("{}", describe(&scenario, &timeline));
    println!(
        "速度 / speed ×{}: {} of drill in {}",
        args.speed,
        format_offset(scenario.duration),
        format_offset(Duration::from_secs_f64(
            scenario.duration.as_secs_f64() / args.speed
        ))
    );

    let (control, receiver) = watch::channel(Control::Run);
    let control = Arc::new(control);
    let terminal = std::io::stderr().is_terminal();
    if terminal && let Ok(tty) = std::fs::File::open("/dev/tty") {
        println!("操作 / keys: p Enter = 一時停止 pause, Enter = 再開 resume, q Enter = 終了 stop");
        let control = control.clone();
        // A blocking read of the terminal: its own thread, left behind when the drill ends.
        std::thread::spawn(move || read_keys(tty, &control));
    }
    {
        let control = control.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = control.send(Control::Stop);
            }
        });
    }
    let options = Options {
        speed: args.speed,
        register: if args.keep_register {
            RegisterMode::Keep
        } else if args.replace_register {
            RegisterMode::Replace
        } else {
            RegisterMode::Import
        },
        wait_for_end: !args.no_wait,
    };
    let report = Terminal::new(terminal, scenario.duration);
    let result = runner::run(&api, &scenario, &timeline, &options, receiver, &report).await;
    report.finish();
    let summary = result?;
    print_summary(&scenario, &summary, &args.server);
    Ok(())
}

fn read_keys(tty: std::fs::File, control: &watch::Sender<Control>) {
    for line in std::io::BufReader::new(tty).lines() {
        let Ok(line) = line else { return };
        let wanted = match line.trim() {
            "p" | "P" => Control::Pause,
            "q" | "Q" => Control::Stop,
            _ => Control::Run,
        };
        if control.send(wanted).is_err() || wanted == Control::Stop {
            return;
        }
    }
}

/// The progress bar over drill time and the live log above it. Without a terminal (a
/// pipe, a log file) the bar is hidden and the log lines go to standard output.
struct Terminal {
    bar: ProgressBar,
    ticker: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Terminal {
    fn new(terminal: bool, duration: Duration) -> Terminal {
        let bar = ProgressBar::with_draw_target(
            Some(duration.as_secs().max(1)),
            if terminal {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} 訓練時間 {msg} [{bar:30}] {percent:>3}%")
        {
            bar.set_style(style);
        }
        Terminal {
            bar,
            ticker: std::sync::Mutex::new(None),
        }
    }

    fn line(&self, text: &str) {
        if self.bar.is_hidden() {
            println!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    fn finish(&self) {
        if let Some(ticker) = self.ticker.lock().ok().and_then(|mut t| t.take()) {
            ticker.abort();
        }
        self.bar.finish_and_clear();
    }
}

impl Report for Terminal {
    fn setup(&self, message: &str) {
        self.line(message);
    }

    fn started(&self, _activation_id: i64, clock: &Arc<Clock>, steps: usize) {
        self.line(&format!("開始 / started: {steps} calls to make"));
        if self.bar.is_hidden() {
            return;
        }
        let (bar, clock) = (self.bar.clone(), clock.clone());
        let total = bar.length().unwrap_or(1);
        let ticker = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                let now = clock.drill_time();
                bar.set_position(now.as_secs().min(total));
                bar.set_message(format!(
                    "+{}{}",
                    format_offset(Duration::from_secs(now.as_secs())),
                    if clock.is_paused() {
                        " 一時停止中 / paused"
                    } else {
                        ""
                    }
                ));
                bar.tick();
            }
        });
        if let Ok(mut slot) = self.ticker.lock() {
            *slot = Some(ticker);
        }
    }

    fn fired(&self, fired: &Fired, done: usize, of: usize) {
        self.line(&format!("{:>5}/{of} {}", done, runner::log_line(fired)));
    }

    fn paused(&self, paused: bool) {
        self.line(if paused {
            "一時停止 / paused (Enter で再開 / to resume)"
        } else {
            "再開 / resumed"
        });
    }
}

fn print_summary(scenario: &Scenario, summary: &Summary, server: &str) {
    println!();
    println!(
        "{}: {} (activation {})",
        if summary.stopped {
            "中断 / stopped"
        } else {
            "終了 / finished"
        },
        summary.activation_name,
        summary.activation_id
    );
    println!(
        "  訓練時間 / drill time: {}",
        format_offset(summary.drill_time)
    );
    for (kind, (ok, failed)) in &summary.by_kind {
        println!("  {kind:<16} 成功 ok {ok:>5}  失敗 failed {failed:>4}");
    }
    println!(
        "  合計 / total: {} ok, {} failed{}",
        summary.succeeded(),
        summary.failed(),
        if summary.not_played > 0 {
            format!(", {} not played", summary.not_played)
        } else {
            String::new()
        }
    );
    for failure in summary.failures.iter().take(20) {
        println!(
            "  {}:{} {}",
            scenario.file,
            failure.line,
            runner::log_line(failure)
        );
    }
    if summary.failures.len() > 20 {
        println!("  … {} more failures", summary.failures.len() - 20);
    }
    println!(
        "  画面で確認 / see it on the screens: {}/ (activation {})",
        server.trim_end_matches('/'),
        summary.activation_id
    );
}
