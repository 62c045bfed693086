//! Password hashing with argon2id, run on the blocking thread pool and limited to a few at a
//! time: each hash takes tens of milliseconds of CPU and memory, and a burst of logins must
//! not starve the async threads that serve the board.
//!
//! Two semaphores: `permits` (one per core) is how many hashes run at once, so a login flood
//! cannot take the blocking pool's threads or more than a core each; `admitted` bounds how
//! many may wait for a permit besides. A login beyond that is answered 503 with `Retry-After`
//! at once instead of queueing without end (its client would time out anyway, and every
//! waiter holds a request's memory).

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::AppError;

/// How many hashes may wait per core, beyond those running: about a second's worth.
const WAITING_PER_CORE: usize = 8;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
}

fn argon2() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params"),
    )
}

impl Default for Hasher {
    fn default() -> Self {
        // One hash per core at most keeps memory at ~19 MiB per permit.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::with_capacity(cores, cores * WAITING_PER_CORE)
    }
}

impl Hasher {
    /// `running` hashes at once, `waiting` more queued for a turn.
    pub fn with_capacity(running: usize, waiting: usize) -> Hasher {
        Hasher {
            permits: Arc::new(Semaphore::new(running.max(1))),
            admitted: Arc::new(Semaphore::new(running.max(1) + waiting)),
        }
    }

    /// Runs `work` on the blocking pool when a permit is free; `Busy` (503) when the queue is
    /// already full.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> Result<T, AppError> {
        let _admitted = self.admitted.try_acquire().map_err(|_| AppError::Busy)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing task failed: {e}")))?
            .map_err(AppError::Internal)
    }

    pub async fn hash(&self, password: String) -> Result<String, AppError> {
        self.run(move || hash_now(&password)).await
    }

    /// True when `password` matches the stored PHC string. With no stored hash (no such
    /// user) it is checked against a decoy, so both answers take as long.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, AppError> {
        self.run(move || {
            let stored: &str = match &stored {
                Some(hash) => hash,
                None => decoy_hash(),
            };
            let parsed = PasswordHash::new(stored)
                .map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
            Ok(argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }
}

/// Hashes synchronously: for the command line, where nothing else is waiting.
pub fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| anyhow::anyhow!("cannot encode salt: {e}"))?;
    let hash = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("cannot hash: {e}"))?;
    Ok(hash.to_string())
}

/// A hash of a password nobody knows, verified against when a username does not exist so
/// that a login's timing does not tell which usernames exist. Made on first use, on the
/// blocking pool (inside `verify`), never on an async thread.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_now("decoy password that no account has").expect("hashing works"))
}
