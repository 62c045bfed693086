//! `saigai-vc backup FILE`: a consistent copy of the whole database, taken while the server
//! keeps serving.
//!
//! SQLite: `VACUUM INTO` reads one snapshot inside a read transaction (in WAL mode writers
//! go on meanwhile) and writes a compact, self-contained database file: every write committed
//! before the copy's transaction began is in it, none committed after. PostgreSQL: `pg_dump
//! --format=custom`, which also reads one snapshot; restore it with `pg_restore`.
//!
//! Either way the copy is written to a temporary name beside FILE, synced, checked (SQLite:
//! `PRAGMA integrity_check`; PostgreSQL: `pg_restore --list` reads the archive through) and
//! only then linked to FILE, which must not exist: a backup never overwrites another, and a
//! crash half-way leaves no file that looks like a finished backup.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{Context, bail, ensure};
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;

use crate::store::Engine;

/// What a finished backup reports.
#[derive(Debug)]
pub struct Backup {
    pub file: PathBuf,
    pub bytes: u64,
    /// How the copy was checked, in words.
    pub checked: &'static str,
}

/// Writes a backup of the database at `url` to `file`, which must not exist yet.
pub async fn run(url: &str, file: &Path) -> anyhow::Result<Backup> {
    if file.exists() {
        bail!(
            "{} exists already: a backup never overwrites one; choose a new name",
            file.display()
        );
    }
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    ensure!(
        dir.is_dir(),
        "the folder {} does not exist; create it first",
        dir.display()
    );
    let name = file
        .file_name()
        .with_context(|| format!("{} is not a file name", file.display()))?;
    let partial = dir.join(format!(
        ".{}.partial-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    // Whatever happens below, no half-written copy is left behind.
    let _cleanup = RemoveOnDrop(partial.clone());
    let checked = match crate::store::locate(url)? {
        (Engine::Postgres, url) => pg_dump(&url, &partial).await?,
        (Engine::Sqlite, url) => sqlite_copy(&url, &partial).await?,
    };
    std::fs::File::open(&partial)?.sync_all()?;
    // A hard link fails if FILE appeared meanwhile, where a rename would replace it.
    std::fs::hard_link(&partial, file)
        .with_context(|| format!("cannot write {} (does it exist now?)", file.display()))?;
    std::fs::remove_file(&partial)?;
    // The new name is durable only once its directory is synced.
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(Backup {
        file: file.to_path_buf(),
        bytes: std::fs::metadata(file)?.len(),
        checked,
    })
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn sqlite_copy(url: &str, partial: &Path) -> anyhow::Result<&'static str> {
    // A plain connection, not `Store::open`: a backup must not run migrations on what it
    // copies, nor create a database that is not there.
    let options = SqliteConnectOptions::from_str(url)
        .context("invalid SQLite database URL")?
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30));
    let path = options.get_filename().to_path_buf();
    ensure!(path.exists(), "no database at {}", path.display());
    let mut conn = options
        .connect()
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let target = partial
        .to_str()
        .context("the backup's path is not valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(&mut conn)
        .await
        .context("VACUUM INTO failed")?;
    drop(conn);
    let mut copy = SqliteConnectOptions::new()
        .filename(partial)
        .read_only(true)
        .connect()
        .await
        .context("cannot open the copy")?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut copy)
        .await?;
    ensure!(
        check == "ok",
        "the copy failed its integrity check: {check}"
    );
    Ok("PRAGMA integrity_check: ok")
}

async fn pg_dump(url: &str, partial: &Path) -> anyhow::Result<&'static str> {
    // The password goes to pg_dump in its environment, not on a command line `ps` shows.
    let mut parsed = url::Url::parse(url).context("invalid PostgreSQL URL")?;
    let password = parsed
        .password()
        .map(percent_decode)
        .filter(|p| !p.is_empty());
    let _ = parsed.set_password(None);
    let mut command = tokio::process::Command::new("pg_dump");
    command
        .args(["--format=custom", "--no-password", "--file"])
        .arg(partial)
        .arg("--dbname")
        .arg(parsed.as_str())
        .stdin(std::process::Stdio::null());
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let status = match command.status().await {
        Ok(status) => status,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "pg_dump is not installed: install the PostgreSQL client tools of the server's \
             version (Debian: apt install postgresql-client) and try again"
        ),
        Err(e) => return Err(e).context("cannot run pg_dump"),
    };
    ensure!(
        status.success(),
        "pg_dump failed ({status}); see its message above"
    );
    // Reads the archive's table of contents through: a truncated dump fails here.
    match tokio::process::Command::new("pg_restore")
        .arg("--list")
        .arg(partial)
        .stdout(std::process::Stdio::null())
        .status()
        .await
    {
        Ok(status) => {
            ensure!(
                status.success(),
                "pg_restore cannot read the dump ({status})"
            );
            Ok("pg_restore --list: readable")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok("pg_dump: exit 0"),
        Err(e) => Err(e).context("cannot run pg_restore"),
    }
}

/// Undoes a URL's percent-encoding (`%40` is `@`), as PostgreSQL reads the password.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_url_password_is_decoded_as_postgresql_reads_it() {
        assert_eq!(super::percent_decode("p%40ss%2Fw+rd%"), "p@ss/w+rd%");
    }
}
