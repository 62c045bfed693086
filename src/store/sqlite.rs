//! SQLite: the default engine, one embedded file under `./data/` that a newcomer needs
//! nothing installed for.
//!
//! Durability settings are set explicitly and read back at start-up, because sqlx no longer
//! sets the journal mode for us and a silently different setting would lose acknowledged
//! writes on power loss: WAL journal, `synchronous=FULL`, foreign keys on, a busy timeout.
//!
//! Writes go through one writer connection of their own, kept open beside the pool of
//! readers, in groups that share one COMMIT (see [`Group`]); each write's turn runs on the
//! writer connection's core (see `pinning`).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{OwnedMutexGuard, watch};

use super::pinning::WriterCore;
use crate::error::AppError;

/// A group commits once it has this many writes, even with more waiting...
const GROUP_MAX_WRITES: usize = 128;
/// ...or once its first write is this old: the first writer's answer waits no longer.
const GROUP_MAX_AGE: Duration = Duration::from_millis(20);

#[derive(Debug)]
pub struct SqliteStore {
    pub pool: SqlitePool,
    /// How the writer connection is (re)opened: as the pool's connections.
    options: SqliteConnectOptions,
    /// The writer's turn. SQLite allows one writer at a time; queueing here is fair and costs
    /// no polling, where SQLite's busy handler sleeps and retries.
    writer: Arc<tokio::sync::Mutex<Group>>,
    /// Writers waiting for their turn: while there are some, the open group stays open for
    /// them (see [`WriterTurn::release`]).
    waiting: AtomicUsize,
    /// Where write turns run, beside the writer connection's thread; `None`: wherever tokio
    /// runs them.
    writer_core: Option<WriterCore>,
}

/// Group commit. With `synchronous=FULL` every COMMIT waits for the disk to flush, so one
/// commit per write caps writes at the disk's flush rate however many coordinators are
/// working. Instead, writes that queue up while one runs share a transaction: each runs in
/// its own SAVEPOINT (a failing write rolls back to it and leaves the others alone), and the
/// last in the queue commits for all. Nobody is answered before that COMMIT returns, so an
/// acknowledged write is on disk exactly as before.
#[derive(Debug, Default)]
struct Group {
    /// The writer connection, kept open between groups; `None` until opened, and after a
    /// failure left its state in doubt.
    conn: Option<SqliteConnection>,
    /// A group transaction is open on `conn`.
    open: bool,
    /// The store was closed (shutdown): no writer connection is opened again.
    closed: bool,
    /// A write's savepoint left open by a write that was cancelled half-way.
    dirty: bool,
    /// The last write's savepoint, kept (its changes stay), not yet released: the next
    /// writer's SAVEPOINT releases it in the same hand-over to the connection's thread, or the
    /// group's COMMIT does (a COMMIT releases every savepoint).
    unreleased: bool,
    writes: usize,
    opened: Option<Instant>,
    /// Tells the group's writers how its COMMIT went.
    outcome: Option<watch::Sender<Option<Result<(), GroupFailure>>>>,
}

/// The writer's turn, waited for but not yet begun (see [`SqliteStore::wait_turn`]).
pub struct Turn {
    /// Taken by [`Turn::begin`] once the write's savepoint is open.
    guard: Option<OwnedMutexGuard<Group>>,
    store: Arc<SqliteStore>,
}

/// One writer's turn in the current group: its connection is inside the group transaction,
/// inside the writer's own savepoint.
pub struct WriterTurn {
    guard: Option<OwnedMutexGuard<Group>>,
    store: Arc<SqliteStore>,
    outcome: watch::Receiver<Option<Result<(), GroupFailure>>>,
}

/// A released write waiting for its group's COMMIT (see [`Committing::committed`]).
pub struct Committing {
    outcome: Option<watch::Receiver<Option<Result<(), GroupFailure>>>>,
}

impl SqliteStore {
    /// Waits for the writer's turn. Waiting is async and runs anywhere; what the turn does
    /// runs through [`SqliteStore::on_writer_core`].
    pub async fn wait_turn(self: &Arc<Self>) -> Turn {
        let waiting = Waiting::count(self);
        let guard = self.writer.clone().lock_owned().await;
        waiting.served();
        Turn {
            guard: Some(guard),
            store: self.clone(),
        }
    }

    /// Runs a write's turn on the writer connection's core when the server pins it, else
    /// as any other future (see `pinning`).
    pub async fn on_writer_core<F: Future>(&self, turn: F) -> F::Output {
        WriterCore::run(self.writer_core, turn).await
    }

    /// Opens the writer connection on the writer core, so that its worker thread lives
    /// there (a thread inherits its parent's pinning).
    async fn open_writer(&self) -> Result<SqliteConnection, sqlx::Error> {
        self.on_writer_core(SqliteConnection::connect_with(&self.options))
            .await
    }
}

impl Turn {
    /// Opens this write's savepoint, joining the open group or opening a new one.
    pub async fn begin(mut self) -> Result<WriterTurn, AppError> {
        let guard = self.guard.as_mut().expect("begun once");
        settle(guard).await;
        if guard.closed {
            return Err(AppError::Unavailable);
        }
        if guard.conn.is_none() {
            // Reopened after a failure: from inside the turn, so on the writer core when the
            // turn runs there.
            guard.conn = Some(SqliteConnection::connect_with(&self.store.options).await?);
        }
        // Each statement is a round trip to the connection's thread, so what opens this
        // write goes in one: the group's BEGIN, or the last write's RELEASE, with this
        // write's SAVEPOINT. A failure fails the whole group, whose writers all wait for it.
        let opening = match (guard.open, guard.unreleased) {
            (false, _) => "BEGIN IMMEDIATE; SAVEPOINT write",
            (true, true) => "RELEASE write; SAVEPOINT write",
            (true, false) => "SAVEPOINT write",
        };
        if !guard.open {
            guard.open = true;
            guard.writes = 0;
            guard.opened = Some(Instant::now());
            guard.outcome = Some(watch::channel(None).0);
        }
        let conn = guard.conn.as_mut().expect("opened above");
        if let Err(err) = sqlx::raw_sql(opening).execute(&mut *conn).await {
            fail_group(guard, &err).await;
            return Err(err.into());
        }
        guard.unreleased = false;
        guard.dirty = true;
        guard.writes += 1;
        let outcome = guard
            .outcome
            .as_ref()
            .expect("an open group has an outcome")
            .subscribe();
        Ok(WriterTurn {
            guard: self.guard.take(),
            store: self.store.clone(),
            outcome,
        })
    }
}

impl Drop for Turn {
    /// A turn dropped before its savepoint opened (cancelled, or refused) may hold a group
    /// that waits for it: the group is committed without it.
    fn drop(&mut self) {
        if let Some(guard) = self.guard.take() {
            drop(guard);
            close_abandoned_group(self.store.clone());
        }
    }
}

/// Rolls back a savepoint a cancelled write left behind.
async fn settle(group: &mut Group) {
    if group.dirty
        && group.open
        && let Some(conn) = group.conn.as_mut()
    {
        let undone = sqlx::raw_sql("ROLLBACK TO write; RELEASE write")
            .execute(&mut *conn)
            .await;
        if let Err(err) = undone {
            fail_group(group, &err).await;
        }
    }
    group.dirty = false;
}

/// Why a group was not committed, as each of its writers is told: a full disk is worth
/// telling apart (507, an administrator must act) from a database that is unavailable (503).
#[derive(Clone, Debug)]
struct GroupFailure {
    message: String,
    disk_full: bool,
}

/// Ends the group without committing: every write in it is told it failed.
async fn fail_group(group: &mut Group, err: &sqlx::Error) {
    let why = GroupFailure {
        message: err.to_string(),
        disk_full: crate::error::is_disk_full(err),
    };
    if let Some(mut conn) = group.conn.take() {
        if group.open {
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut conn).await;
        }
        // A connection whose transaction state is in doubt is closed (dropping it ends its
        // worker thread) and a fresh one opened for the next group.
        drop(conn);
    }
    group.open = false;
    group.unreleased = false;
    if let Some(outcome) = group.outcome.take() {
        let _ = outcome.send(Some(Err(why)));
    }
    group.dirty = false;
}

/// Commits the group if nobody else is waiting to join it, or it is full or old enough.
async fn maybe_commit(group: &mut Group, waiting: usize) {
    let due = waiting == 0
        || group.writes >= GROUP_MAX_WRITES
        || group.opened.is_some_and(|o| o.elapsed() >= GROUP_MAX_AGE);
    if !due || !group.open {
        return;
    }
    let conn = group
        .conn
        .as_mut()
        .expect("an open group has its connection");
    match sqlx::raw_sql("COMMIT").execute(&mut *conn).await {
        Ok(_) => {
            group.open = false;
            group.unreleased = false;
            if let Some(outcome) = group.outcome.take() {
                let _ = outcome.send(Some(Ok(())));
            }
        }
        Err(err) => fail_group(group, &err).await,
    }
}

impl WriterTurn {
    /// The connection to write through, inside the group transaction and this write's
    /// savepoint.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        self.guard
            .as_mut()
            .and_then(|g| g.conn.as_mut())
            .expect("a turn holds the open group")
    }

    /// Ends this write's turn: keeps its changes (`ok`) or rolls them back to its savepoint,
    /// and commits the group when it is this write's job. The next writer may go on once this
    /// returns; [`Committing::committed`] then waits for the group's COMMIT.
    pub async fn release(mut self, ok: bool) -> Committing {
        let mut guard = self.guard.take().expect("released once");
        if guard.open
            && let Some(conn) = guard.conn.as_mut()
        {
            if ok {
                // Released by the next writer's SAVEPOINT or the group's COMMIT.
                guard.unreleased = true;
            } else if let Err(err) = sqlx::raw_sql("ROLLBACK TO write; RELEASE write")
                .execute(&mut *conn)
                .await
            {
                fail_group(&mut guard, &err).await;
            }
        }
        guard.dirty = false;
        maybe_commit(&mut guard, self.store.waiting.load(Ordering::SeqCst)).await;
        drop(guard);
        Committing {
            outcome: ok.then(|| self.outcome.clone()),
        }
    }
}

impl Committing {
    /// Waits until the group is committed: a kept write is answered only once the group's
    /// COMMIT returned, so it is as durable as with a commit of its own. `Err` when the group
    /// could not be committed: nothing of this write was kept. A write rolled back to its
    /// savepoint has nothing to wait for.
    pub async fn committed(self) -> Result<(), AppError> {
        let Some(mut outcome) = self.outcome else {
            return Ok(());
        };
        let outcome = outcome
            .wait_for(Option::is_some)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the write group ended unanswered")))?
            .clone();
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(why)) if why.disk_full => {
                tracing::error!(error = %why.message, "group commit failed: the disk is full");
                Err(AppError::DiskFull)
            }
            Some(Err(why)) => {
                tracing::warn!(error = %why.message, "group commit failed");
                Err(AppError::Unavailable)
            }
            None => unreachable!("waited for Some"),
        }
    }
}

impl Drop for WriterTurn {
    /// A write cancelled half-way (its task dropped) leaves its savepoint open: the next
    /// writer rolls it back. If no writer is coming, a task does it and commits the group, so
    /// the writes before it are not left waiting.
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        drop(guard);
        close_abandoned_group(self.store.clone());
    }
}

/// A writer counted among those waiting for the turn (see [`SqliteStore::waiting`]) until it
/// gets the turn or is cancelled: a request whose client went away stops waiting without
/// getting it. Counted by a guard, since a count left behind by a cancelled writer would keep
/// every group open for a writer that never comes.
struct Waiting {
    store: Arc<SqliteStore>,
    served: bool,
}

impl Waiting {
    fn count(store: &Arc<SqliteStore>) -> Waiting {
        store.waiting.fetch_add(1, Ordering::SeqCst);
        Waiting {
            store: store.clone(),
            served: false,
        }
    }

    fn served(mut self) {
        self.served = true;
    }
}

impl Drop for Waiting {
    /// A writer cancelled while waiting may be the one the last write left its group open
    /// for: the group is committed without it.
    fn drop(&mut self) {
        self.store.waiting.fetch_sub(1, Ordering::SeqCst);
        if !self.served {
            close_abandoned_group(self.store.clone());
        }
    }
}

/// After a writer was cancelled: rolls back what it left and commits the group, unless other
/// writers are still coming to join it.
fn close_abandoned_group(store: Arc<SqliteStore>) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            let mut group = store.writer.lock().await;
            settle(&mut group).await;
            maybe_commit(&mut group, store.waiting.load(Ordering::SeqCst)).await;
        });
    }
}

/// How often the WAL is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the WAL in the background. SQLite's automatic checkpoint runs inside the
/// COMMIT that crosses 1,000 pages: that commit then copies and flushes the pages for
/// everyone's group, and every write queued behind it waits (the tail of the dispatch
/// benchmark's latencies). A PASSIVE checkpoint on a connection of its own takes no writer
/// lock, so writes go on while it copies. Ends when the pool is closed.
async fn checkpoints(pool: SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        let done = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        if let Err(err) = done {
            if pool.is_closed() {
                return;
            }
            tracing::warn!(error = %err, "WAL checkpoint failed; trying again");
        }
    }
}

impl SqliteStore {
    pub async fn connect(url: &str) -> anyhow::Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| "invalid SQLite database URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // No connection checkpoints as part of a commit: `checkpoints` does it beside the
            // writers (see there).
            .pragma("wal_autocheckpoint", "0");
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the database folder {}", dir.display()))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .context("cannot open the SQLite database")?;
        let store = SqliteStore {
            pool,
            options,
            writer: Arc::new(tokio::sync::Mutex::new(Group::default())),
            waiting: AtomicUsize::new(0),
            writer_core: WriterCore::choose(),
        };
        store.check_settings().await?;
        let writer = store
            .open_writer()
            .await
            .context("cannot open the SQLite writer connection")?;
        store.writer.lock().await.conn = Some(writer);
        tokio::spawn(checkpoints(store.pool.clone()));
        Ok(store)
    }

    /// Commits what is pending, closes the writer connection and then the pool: the last
    /// connection to close checkpoints the WAL into the database file.
    pub async fn close(&self) {
        let mut group = self.writer.lock().await;
        settle(&mut group).await;
        maybe_commit(&mut group, 0).await;
        group.closed = true;
        if let Some(conn) = group.conn.take()
            && let Err(err) = conn.close().await
        {
            tracing::warn!(error = %err, "closing the SQLite writer connection failed");
        }
        drop(group);
        self.pool.close().await;
    }

    /// Reads the durability pragmas back: a connection that did not get them must not serve.
    async fn check_settings(&self) -> anyhow::Result<()> {
        let mut conn = self.pool.acquire().await?;
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?;
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await?;
        ensure!(
            journal.eq_ignore_ascii_case("wal"),
            "SQLite journal_mode is {journal}, expected wal"
        );
        ensure!(
            synchronous == 2,
            "SQLite synchronous is {synchronous}, expected 2 (FULL)"
        );
        ensure!(foreign_keys == 1, "SQLite foreign_keys is off");
        ensure!(busy_timeout > 0, "SQLite busy_timeout is not set");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use tokio::sync::oneshot;
    use tokio::task::JoinHandle;

    use crate::error::AppError;
    use crate::store::{Store, write_tx};

    /// A write that comes after shutdown closed the store is refused (503), instead of
    /// opening a writer connection again behind the closed pool.
    #[tokio::test]
    async fn a_write_after_close_is_refused() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("closed.db").display());
        let store = Store::open(&url).await.expect("open");
        store.close().await;
        let written: Result<(), AppError> = async {
            write_tx!(&store, tx => {
                sqlx::query("SELECT 1").execute(&mut *tx).await?;
            });
            Ok(())
        }
        .await;
        assert!(matches!(written, Err(AppError::Unavailable)), "{written:?}");
    }

    /// A fresh database with a table of marks for the tests' writes.
    async fn store_with_marks() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let url = format!("sqlite://{}", dir.path().join("marks.db").display());
        let store = Store::open(&url).await.expect("open");
        sqlx::query("CREATE TABLE marks (mark TEXT NOT NULL)")
            .execute(&sqlite(&store).pool)
            .await
            .expect("table");
        (dir, store)
    }

    fn sqlite(store: &Store) -> &super::SqliteStore {
        match store {
            Store::Sqlite(s) => s,
            Store::Postgres(_) => unreachable!("a sqlite URL opens SQLite"),
        }
    }

    /// A write of `mark` that holds the writer's turn until told to go on.
    async fn hold_turn(
        store: &Store,
        mark: &'static str,
    ) -> (JoinHandle<Result<(), AppError>>, oneshot::Sender<()>) {
        let (inside, is_inside) = oneshot::channel::<()>();
        let (go, gone) = oneshot::channel::<()>();
        let store = store.clone();
        let write = tokio::spawn(async move {
            write_tx!(&store, tx => {
                sqlx::query("INSERT INTO marks VALUES ($1)").bind(mark).execute(&mut *tx).await?;
                let _ = inside.send(());
                let _ = gone.await;
            });
            Ok(())
        });
        is_inside.await.expect("the write holds the turn");
        (write, go)
    }

    /// A write of `mark`, refused after writing when `refuse`; returns once it waits for
    /// the turn.
    async fn queue_write(
        store: &Store,
        mark: &'static str,
        refuse: bool,
    ) -> JoinHandle<Result<(), AppError>> {
        let write = tokio::spawn({
            let store = store.clone();
            async move {
                write_tx!(&store, tx => {
                    sqlx::query("INSERT INTO marks VALUES ($1)").bind(mark).execute(&mut *tx).await?;
                    if refuse {
                        return Err(AppError::conflict("refused", "refused after writing"));
                    }
                });
                Ok(())
            }
        });
        while sqlite(store).waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        write
    }

    /// Writes that queue up share one group (one COMMIT), and each keeps or loses its own
    /// changes: a write refused after writing leaves the one before it in the group intact.
    #[tokio::test]
    async fn writes_in_one_group_keep_or_lose_their_own_changes() {
        let (_dir, store) = store_with_marks().await;
        let (first, go) = hold_turn(&store, "kept").await;
        let second = queue_write(&store, "refused", true).await;
        // The first write ends while the second waits, so the group stays open for it.
        go.send(()).expect("the first write is waiting");
        let first = first.await.expect("first write");
        let second = second.await.expect("second write");
        assert!(first.is_ok(), "{first:?}");
        assert!(
            matches!(second, Err(AppError::Conflict { .. })),
            "{second:?}"
        );
        let marks: Vec<String> = sqlx::query_scalar("SELECT mark FROM marks")
            .fetch_all(&sqlite(&store).pool)
            .await
            .expect("marks");
        assert_eq!(marks, vec!["kept".to_string()]);
    }

    /// A writer whose request is dropped while it waits for the turn (the client went away)
    /// must not leave the write ahead of it waiting for a COMMIT that never comes.
    #[tokio::test]
    async fn a_writer_cancelled_while_waiting_leaves_no_write_unanswered() {
        let (_dir, store) = store_with_marks().await;
        let (first, go) = hold_turn(&store, "kept").await;
        let second = queue_write(&store, "cancelled", false).await;
        second.abort();
        assert!(second.await.expect_err("aborted").is_cancelled());
        go.send(()).expect("the first write is waiting");
        let answered = tokio::time::timeout(Duration::from_secs(10), first).await;
        assert!(
            matches!(answered, Ok(Ok(Ok(())))),
            "the first write was answered: {answered:?}"
        );
    }
}
