//! What one SQLite statement costs through sqlx, and where that cost goes: the measurement
//! behind the next step for the dispatch benchmark (issue 5; see BENCHMARKS.md).
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every statement
//! to it and the answer back through channels. Here the same one-row `UPDATE ... RETURNING`
//! runs, in one process and one pass:
//! - from a tokio task, as the server's writes do now;
//! - from a thread pinned to the same core as the connection's worker thread;
//! - from a thread pinned to the other core;
//! - on the raw handle (`lock_handle`), no hand-over at all: the reference.
//!
//! `cargo run --release --example sqlite_hop` prints the median of five rounds of each.

use std::time::Instant;

use sqlx::{Connection, SqliteConnection};

const STATEMENTS: usize = 10_000;
const ROUNDS: usize = 5;
const UPDATE: &str = "UPDATE t SET v = v + 1 WHERE id = ?1 RETURNING v";

/// Pins the calling thread to the given cores; threads it starts afterwards inherit the
/// pinning.
fn pin_to(cores: &[usize]) {
    // SAFETY: a zeroed cpu_set_t is an empty set; the calls only read the set given.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &core in cores {
            libc::CPU_SET(core, &mut set);
        }
        let done = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(done, 0, "sched_setaffinity failed");
    }
}

/// Microseconds per statement through sqlx.
async fn through_sqlx(conn: &mut SqliteConnection) -> f64 {
    let started = Instant::now();
    for _ in 0..STATEMENTS {
        let _: i64 = sqlx::query_scalar(UPDATE)
            .bind(1i64)
            .fetch_one(&mut *conn)
            .await
            .expect("update");
    }
    started.elapsed().as_secs_f64() * 1e6 / STATEMENTS as f64
}

/// Microseconds per statement on the raw handle, on the calling thread.
async fn on_raw_handle(conn: &mut SqliteConnection) -> f64 {
    use libsqlite3_sys as ffi;
    let mut handle = conn.lock_handle().await.expect("lock handle");
    let db = handle.as_raw_handle().as_ptr();
    let sql = std::ffi::CString::new(UPDATE).expect("no NUL");
    let started = Instant::now();
    // SAFETY: the handle is locked out from sqlx's worker for this block; the statement is
    // prepared, used and finalized here.
    unsafe {
        let mut statement = std::ptr::null_mut();
        let prepared =
            ffi::sqlite3_prepare_v2(db, sql.as_ptr(), -1, &mut statement, std::ptr::null_mut());
        assert_eq!(prepared, ffi::SQLITE_OK);
        for _ in 0..STATEMENTS {
            ffi::sqlite3_bind_int64(statement, 1, 1);
            assert_eq!(ffi::sqlite3_step(statement), ffi::SQLITE_ROW);
            let _ = ffi::sqlite3_column_int64(statement, 0);
            assert_eq!(ffi::sqlite3_step(statement), ffi::SQLITE_DONE);
            ffi::sqlite3_reset(statement);
        }
        ffi::sqlite3_finalize(statement);
    }
    started.elapsed().as_secs_f64() * 1e6 / STATEMENTS as f64
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(
        cores >= 2,
        "needs two cores to compare same-core and cross-core hand-overs"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let all: Vec<usize> = (0..cores).collect();
    runtime.block_on(async {
        // The connection's worker thread is started from a thread pinned to core 1, so it
        // stays there.
        let mut conn = tokio::task::block_in_place(|| {
            pin_to(&[1]);
            let conn = tokio::runtime::Handle::current()
                .block_on(SqliteConnection::connect("sqlite::memory:"));
            pin_to(&all);
            conn
        })
        .expect("connect");
        sqlx::raw_sql(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER); INSERT INTO t VALUES (1, 0)",
        )
        .execute(&mut conn)
        .await
        .expect("schema");
        let (mut task, mut same, mut other, mut raw) = (vec![], vec![], vec![], vec![]);
        for _ in 0..ROUNDS {
            task.push(through_sqlx(&mut conn).await);
            for (core, figures) in [(1, &mut same), (0, &mut other)] {
                figures.push(tokio::task::block_in_place(|| {
                    pin_to(&[core]);
                    let us = tokio::runtime::Handle::current().block_on(through_sqlx(&mut conn));
                    pin_to(&all);
                    us
                }));
            }
            raw.push(on_raw_handle(&mut conn).await);
        }
        println!(
            "one-row UPDATE ... RETURNING, {STATEMENTS} statements, median of {ROUNDS} rounds"
        );
        println!(
            "  sqlx, from a tokio task            {:6.1} us/statement",
            median(task)
        );
        println!(
            "  sqlx, pinned to the worker's core {:6.1} us/statement",
            median(same)
        );
        println!(
            "  sqlx, pinned to the other core     {:6.1} us/statement",
            median(other)
        );
        println!(
            "  raw handle, no hand-over           {:6.1} us/statement",
            median(raw)
        );
    });
}
