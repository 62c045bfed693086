//! Runs each SQLite write's turn on one core, the core of the writer connection's thread.
//!
//! sqlx runs a SQLite connection on a worker thread of its own and hands it every statement
//! through a channel: each statement wakes that thread, and its answer wakes the writer
//! again. When the two threads sit on different cores every wake-up crosses cores, which on
//! the machines measured costs ~110 µs per statement against ~25 µs on one core
//! (`examples/sqlite_hop.rs`, BENCHMARKS.md, session 6). A dispatch update is about 14
//! statements, so the crossings alone held the dispatch benchmark to ~650 writes/s, under the
//! disk's own commit rate.
//!
//! So the writer connection is opened from a thread pinned to one core (its worker thread
//! inherits the pinning), and each write's turn, from its savepoint to its release, runs to
//! completion on a thread pinned to that same core, through `block_in_place`: tokio hands the
//! worker's other tasks to another thread meanwhile, and the writer's turn is never more
//! than one thread at a time (writers hold the writer's lock throughout). Waiting for the
//! turn and for the group's COMMIT stays async and unpinned.
//!
//! Pinning is skipped where it cannot help or cannot work: one core, a current-thread
//! runtime (the unit tests'), systems other than Linux, or `SAIGAI_SQLITE_WRITER_CORE=off`.

use std::future::Future;

use tokio::runtime::{Handle, RuntimeFlavor};

/// The environment variable that picks the writer's core: a CPU number, or `off`.
pub const WRITER_CORE_VAR: &str = "SAIGAI_SQLITE_WRITER_CORE";

/// The core write turns run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterCore(usize);

impl WriterCore {
    /// The core named by [`WRITER_CORE_VAR`], or by default the last core this process may
    /// run on (the first tends to take the network's interrupts). `None` when pinning is off,
    /// the process has one core, or the named core is not one it may run on.
    pub fn choose() -> Option<WriterCore> {
        let allowed = affinity::allowed_cores()?;
        let core = match std::env::var(WRITER_CORE_VAR) {
            Ok(value) if value.trim().eq_ignore_ascii_case("off") => return None,
            Ok(value) => match value.trim().parse::<usize>() {
                Ok(core) if allowed.contains(&core) => core,
                _ => {
                    tracing::warn!(
                        value = %value,
                        allowed = ?allowed,
                        "{WRITER_CORE_VAR} is not `off` or a core this process may run on; not pinning the SQLite writer"
                    );
                    return None;
                }
            },
            Err(_) if allowed.len() < 2 => return None,
            Err(_) => *allowed.last()?,
        };
        tracing::info!(core, "SQLite write turns run on one core");
        Some(WriterCore(core))
    }

    /// Runs `turn` to completion on the calling thread pinned to `core`, then gives the
    /// thread back its cores; without a core, or outside a multi-thread runtime, awaits it
    /// as usual.
    pub async fn run<F: Future>(core: Option<WriterCore>, turn: F) -> F::Output {
        let multi_thread = Handle::try_current()
            .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
        match core {
            Some(WriterCore(core)) if multi_thread => tokio::task::block_in_place(|| {
                // If pinning fails (the process's cores changed under it), the turn still
                // runs, unpinned.
                let _pinned = affinity::Pinned::to(core);
                Handle::current().block_on(turn)
            }),
            _ => turn.await,
        }
    }
}

#[cfg(target_os = "linux")]
mod affinity {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;

    /// The cores the calling thread may run on.
    pub fn allowed_cores() -> Option<Vec<usize>> {
        let set = sched_getaffinity(Pid::from_raw(0)).ok()?;
        Some(
            (0..CpuSet::count())
                .filter(|&core| set.is_set(core).unwrap_or(false))
                .collect(),
        )
    }

    /// The calling thread pinned to one core until dropped, when it gets its cores back.
    pub struct Pinned {
        before: CpuSet,
    }

    impl Pinned {
        pub fn to(core: usize) -> Option<Pinned> {
            let before = sched_getaffinity(Pid::from_raw(0)).ok()?;
            let mut only = CpuSet::new();
            only.set(core).ok()?;
            sched_setaffinity(Pid::from_raw(0), &only).ok()?;
            Some(Pinned { before })
        }
    }

    impl Drop for Pinned {
        fn drop(&mut self) {
            if let Err(err) = sched_setaffinity(Pid::from_raw(0), &self.before) {
                // The thread stays on the writer's core: slower for what it runs next,
                // never wrong.
                tracing::warn!(error = %err, "could not unpin a thread from the writer's core");
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod affinity {
    pub fn allowed_cores() -> Option<Vec<usize>> {
        None
    }

    pub struct Pinned;

    impl Pinned {
        pub fn to(_core: usize) -> Option<Pinned> {
            None
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// A turn runs on the writer's core, and the thread that ran it gets its cores back.
    #[test]
    fn a_turn_runs_on_the_writer_core_and_the_thread_is_unpinned_after() {
        let allowed = affinity::allowed_cores().expect("affinity");
        if allowed.len() < 2 {
            // As the integration tests' `skip`: CI forbids skipping.
            assert_ne!(
                std::env::var("SAIGAI_REQUIRE_ALL").as_deref(),
                Ok("1"),
                "needs two cores and SAIGAI_REQUIRE_ALL=1 forbids skipping"
            );
            eprintln!("SKIPPED pinning: needs two cores to tell pinned from unpinned");
            return;
        }
        let core = *allowed.last().expect("cores");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (during, after) = runtime.block_on(async {
            let during = WriterCore::run(Some(WriterCore(core)), async {
                affinity::allowed_cores().expect("affinity")
            })
            .await;
            (during, affinity::allowed_cores().expect("affinity"))
        });
        assert_eq!(during, vec![core]);
        assert_eq!(after, allowed);
    }

    /// On a current-thread runtime, where `block_in_place` would panic, the turn runs as an
    /// ordinary future.
    #[tokio::test]
    async fn a_current_thread_runtime_runs_the_turn_unpinned() {
        let allowed = affinity::allowed_cores().expect("affinity");
        let during = WriterCore::run(Some(WriterCore(0)), async {
            affinity::allowed_cores().expect("affinity")
        })
        .await;
        assert_eq!(during, allowed);
    }
}
