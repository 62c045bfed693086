//! Login limits: failed logins are counted per account and per client address, and once
//! either count reaches its limit within the window, further attempts are refused with 429
//! `{"error":"too_many_attempts","retry_after":S}` and `Retry-After: S` **before** the password
//! is hashed, so a guesser gets neither answers nor CPU time. A successful login forgives the
//! account's failures (not the address's: one good account must not launder guesses at others).
//!
//! The counts live in the database (`login_failures`), not in each server's memory. Behind
//! nginx several instances share one database and the balancer spreads a guesser's attempts
//! over all of them: per-instance counters would multiply the allowance by the number of
//! instances, and a restart (or a crash the guesser provokes) would forgive everything. A
//! login is rare next to the board's traffic, so the one read before and the one write after a
//! failure cost nothing that matters. Keys are stored hashed: the table lists neither the
//! usernames people mistyped nor their addresses.
//!
//! A window opens at an account's (or address's) first failure and is fixed from then on:
//! attempts refused with 429 are not counted, so hammering a locked account does not keep it
//! locked for longer, and the lock ends `window` after the first failure. Concurrent attempts
//! on one account take turns within an instance ([`Turns`]), so each sees the failures of the
//! ones before it: at most the limit is checked per window, plus one per extra instance.
//!
//! The client address is the socket's peer, or, when that peer is a proxy listed in
//! `--trusted-proxy`, the last address in `X-Forwarded-For` that is not a trusted proxy. A
//! header from anyone else is ignored: otherwise a guesser would name a new address each try.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tokio::sync::{Mutex, MutexGuard};

use crate::app::AppState;
use crate::error::AppError;
use crate::store::{Store, Timestamp, on_pool, write_tx};

/// How many failures are allowed, and over how long.
#[derive(Clone, Copy, Debug)]
pub struct LoginLimits {
    /// Failures on one account within `window` before its logins are refused.
    pub per_account: i64,
    /// Failures from one client address within `window`, whatever the accounts.
    pub per_address: i64,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        // Five tries cover a tired person's typos; twenty per address lets a centre behind one
        // NAT address have a bad morning without locking everyone out.
        LoginLimits {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(600),
        }
    }
}

/// The client a request comes from, as the login limits count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Absent when the router is served without connect info (a test calling it directly).
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        Ok(ClientAddress(peer.map(|peer| {
            client_ip(peer, &forwarded, &state.settings.trusted_proxies)
        })))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy, in which case the
/// rightmost `X-Forwarded-For` entry that is not a trusted proxy (entries to its left were
/// written by the client and may be anything).
pub fn client_ip(peer: IpAddr, forwarded_for: &str, trusted: &[IpAddr]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut client = peer;
    for entry in forwarded_for.rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            // An entry we cannot read ends the walk: trust nothing further left.
            break;
        };
        client = canonical(ip);
        if !trusted.contains(&client) {
            break;
        }
    }
    client
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The two counters one login attempt touches.
pub struct Keys {
    account: String,
    address: String,
}

impl Keys {
    pub fn new(username: &str, client: ClientAddress) -> Keys {
        let address = match client.0 {
            // An IPv6 client controls a whole /64: count the prefix, not the address.
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            Some(v4) => v4.to_string(),
            None => "unknown".to_string(),
        };
        Keys {
            account: super::token_hash(&format!("account:{username}")),
            address: super::token_hash(&format!("address:{address}")),
        }
    }

    /// Which stripe of [`Turns`] this account's attempts queue on.
    fn stripe(&self) -> usize {
        usize::from_str_radix(&self.account[..4], 16).unwrap_or(0) % STRIPES
    }
}

const STRIPES: usize = 64;

/// Attempts on one account wait for each other within this instance, so that a burst of
/// concurrent guesses is checked one after another against the recorded failures instead of
/// all passing the check before the first failure is written. Striped by account hash: no map
/// to clean up, and two accounts sharing a stripe only means two logins wait a hash's time.
pub struct Turns {
    stripes: Box<[Mutex<()>]>,
}

impl Default for Turns {
    fn default() -> Self {
        Turns {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }
}

impl Turns {
    pub async fn take(&self, keys: &Keys) -> MutexGuard<'_, ()> {
        self.stripes[keys.stripe()].lock().await
    }
}

#[derive(sqlx::FromRow)]
struct Counted {
    key_hash: String,
    window_start: Timestamp,
    failures: i64,
}

/// Refuses with 429 when the account or the address has used up its failures.
pub async fn check(store: &Store, keys: &Keys, limits: &LoginLimits) -> Result<(), AppError> {
    let now = Timestamp::now();
    let window = window_micros(limits);
    let rows: Vec<Counted> = on_pool!(store, pool => {
        sqlx::query_as(
            "SELECT key_hash, window_start, failures FROM login_failures \
             WHERE key_hash IN ($1, $2) AND window_start > $3",
        )
        .bind(&keys.account)
        .bind(&keys.address)
        .bind(Timestamp(now.0 - window))
        .fetch_all(pool)
        .await?
    });
    let retry_after = rows
        .iter()
        .filter(|row| {
            let limit = if row.key_hash == keys.account {
                limits.per_account
            } else {
                limits.per_address
            };
            row.failures >= limit
        })
        .map(|row| {
            let ends = row.window_start.0 + window;
            // Whole seconds, rounded up, and never 0: "retry now" would be refused again.
            ((ends - now.0).max(0) as u64).div_ceil(1_000_000).max(1)
        })
        .max();
    match retry_after {
        Some(seconds) => {
            tracing::info!(retry_after = seconds, "login refused: too many failures");
            Err(AppError::TooManyAttempts {
                retry_after: seconds,
            })
        }
        None => Ok(()),
    }
}

/// Counts a failed attempt against the account and the address, opening a new window where
/// the last one has ended, and sweeps counters whose window is over.
pub async fn record_failure(
    store: &Store,
    keys: &Keys,
    limits: &LoginLimits,
) -> Result<(), AppError> {
    let now = Timestamp::now();
    let expired = Timestamp(now.0 - window_micros(limits));
    write_tx!(store, tx => {
        for key in [&keys.account, &keys.address] {
            // Both SET expressions read the row as it was, so the window and the count reset
            // together.
            sqlx::query(
                "INSERT INTO login_failures (key_hash, window_start, failures) VALUES ($1, $2, 1) \
                 ON CONFLICT (key_hash) DO UPDATE SET \
                 failures = CASE WHEN login_failures.window_start <= $3 THEN 1 ELSE login_failures.failures + 1 END, \
                 window_start = CASE WHEN login_failures.window_start <= $3 THEN $2 ELSE login_failures.window_start END",
            )
            .bind(key)
            .bind(now)
            .bind(expired)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM login_failures WHERE window_start <= $1")
            .bind(expired)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// A successful login forgives the account's failures.
pub async fn forgive_account(store: &Store, keys: &Keys) -> Result<(), AppError> {
    on_pool!(store, pool => {
        sqlx::query("DELETE FROM login_failures WHERE key_hash = $1")
            .bind(&keys.account)
            .execute(pool)
            .await?;
    });
    Ok(())
}

fn window_micros(limits: &LoginLimits) -> i64 {
    i64::try_from(limits.window.as_micros()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_is_the_peer_unless_the_peer_is_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let client: IpAddr = "203.0.113.7".parse().unwrap();
        let cases = [
            (
                "untrusted peer: header ignored",
                client,
                "198.51.100.1",
                vec![],
                client,
            ),
            (
                "trusted proxy: last entry",
                proxy,
                "198.51.100.1, 203.0.113.7",
                vec![proxy],
                client,
            ),
            (
                "trusted proxy, no header: the proxy",
                proxy,
                "",
                vec![proxy],
                proxy,
            ),
            (
                "chain of trusted proxies skipped",
                proxy,
                "203.0.113.7, 10.0.0.3",
                vec![proxy, "10.0.0.3".parse().unwrap()],
                client,
            ),
            (
                "garbage ends the walk",
                proxy,
                "203.0.113.7, junk",
                vec![proxy],
                proxy,
            ),
            (
                "v4-mapped v6 peer",
                "::ffff:203.0.113.7".parse().unwrap(),
                "",
                vec![],
                client,
            ),
        ];
        for (case, peer, header, trusted, expected) in cases {
            assert_eq!(client_ip(peer, header, &trusted), expected, "{case}");
        }
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_prefix() {
        let a = Keys::new("x", ClientAddress(Some("2001:db8:1:2::1".parse().unwrap())));
        let b = Keys::new(
            "x",
            ClientAddress(Some("2001:db8:1:2:ffff::9".parse().unwrap())),
        );
        let c = Keys::new("x", ClientAddress(Some("2001:db8:1:3::1".parse().unwrap())));
        assert_eq!(a.address, b.address);
        assert_ne!(a.address, c.address);
    }
}
