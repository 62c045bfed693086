//! Several server instances on one PostgreSQL database: how an event committed through one
//! instance reaches the terminals connected to every other.
//!
//! The events table is the source of truth. Each writing transaction also runs
//! `pg_notify('saigai_events', 'ACTIVATION:SEQ')` ([`Notify`]); PostgreSQL delivers it to every
//! listening session only when the transaction commits, and never the record itself (the
//! payload is the seq; board events carry no personal data, but the table is what counts).
//! Each instance's relay listens, reads the events it has not yet published from the table
//! and hands them to its hub, which drops the ones it already had from its own writers and
//! keeps `seq` order.
//!
//! On SQLite there are no notifications; [`poll`] does the catch-up alone, for commands that
//! write beside a running server.
//!
//! Notifications can be lost (the listening connection drops, the database restarts). So the
//! relay also catches up from the table after every reconnection and every few seconds,
//! comparing each watched activation's `last_seq` with what its hub has published: a missed
//! notification delays an event by at most that interval, and never loses it.

use std::collections::BTreeMap;
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};

use crate::store::{Store, on_pool};
use tokio_util::sync::CancellationToken;

use super::{Event, EventRow, Hub};

/// The LISTEN/NOTIFY channel of committed events.
pub const CHANNEL: &str = "saigai_events";

/// How often the relay compares the table with its hub even without notifications.
const CATCH_UP_EVERY: Duration = Duration::from_secs(3);

/// How long to wait before listening again after the connection failed.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// The most events read from the table at once per activation.
const READ_LIMIT: i64 = 1000;

/// Tells other instances that an event was written. A no-op on SQLite (one process owns the
/// file); `pg_notify` on PostgreSQL, inside the writing transaction.
pub trait Notify {
    fn notify_event(
        &mut self,
        activation_id: i64,
        seq: i64,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

impl Notify for sqlx::SqliteConnection {
    async fn notify_event(&mut self, _activation_id: i64, _seq: i64) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

impl Notify for sqlx::PgConnection {
    async fn notify_event(&mut self, activation_id: i64, seq: i64) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("{activation_id}:{seq}"))
            .execute(self)
            .await
            .map(|_| ())
    }
}

/// Parses a notification's payload.
fn parse(payload: &str) -> Option<(i64, i64)> {
    let (activation, seq) = payload.split_once(':')?;
    Some((activation.parse().ok()?, seq.parse().ok()?))
}

/// SQLite: one server owns the file, but a command run beside it (`saigai-vc import register`
/// while serving) writes events too. No notifications there: the same catch-up from the table,
/// every few seconds, brings them to the terminals.
pub async fn poll(store: Store, hub: Hub, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(CATCH_UP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => catch_up(&store, &hub).await,
        }
    }
}

/// PostgreSQL: runs until `shutdown`, listening, relaying, catching up, and reconnecting on
/// its own.
pub async fn listen(store: Store, hub: Hub, shutdown: CancellationToken) {
    let Store::Postgres(pg) = &store else {
        return poll(store, hub, shutdown).await;
    };
    let pool: PgPool = pg.pool.clone();
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            () = shutdown.cancelled() => return,
            result = listener => match result {
                Ok(listener) => listener,
                Err(err) => {
                    tracing::warn!(error = %err, "event relay cannot listen; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(RETRY_AFTER) => continue,
                    }
                }
            },
        };
        tracing::info!("event relay listening");
        // Whatever was committed while we were not listening.
        catch_up(&store, &hub).await;
        let mut tick = tokio::time::interval(CATCH_UP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => catch_up(&store, &hub).await,
                received = listener.try_recv() => match received {
                    Ok(Some(first)) => {
                        // Everything already waiting, handled as one batch: one read per
                        // activation however many writes there were.
                        let mut newest: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
                        let batch = std::iter::once(first).chain(std::iter::from_fn(|| listener.next_buffered()));
                        for notification in batch {
                            if let Some((activation, seq)) = parse(notification.payload()) {
                                let range = newest.entry(activation).or_insert((seq, seq));
                                range.0 = range.0.min(seq);
                                range.1 = range.1.max(seq);
                            }
                        }
                        for (activation, (lowest, highest)) in newest {
                            relay(&store, &hub, activation, lowest, highest).await;
                        }
                    }
                    Ok(None) => {
                        // The connection dropped and was re-established: notifications in
                        // between are lost, the table is not.
                        tracing::warn!("event relay reconnected");
                        catch_up(&store, &hub).await;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "event relay lost its connection");
                        break;
                    }
                },
            }
        }
    }
}

/// Publishes what the hub lacks of `activation` up to `highest`, reading from the table.
async fn relay(store: &Store, hub: &Hub, activation: i64, lowest: i64, highest: i64) {
    if !hub.is_watched(activation) {
        return;
    }
    let after = match hub.published(activation) {
        Some(published) if published >= highest => return,
        Some(published) => published,
        // Nothing published here yet: start from the first event notified; terminals fill
        // anything before it from the table themselves.
        None => lowest - 1,
    };
    publish_after(store, hub, activation, after).await;
}

async fn publish_after(store: &Store, hub: &Hub, activation: i64, mut after: i64) {
    loop {
        let rows: Result<Vec<EventRow>, sqlx::Error> = on_pool!(store, pool => {
            sqlx::query_as(
                "SELECT activation_id, seq, type, payload, actor, at FROM events \
                 WHERE activation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(activation)
            .bind(after)
            .bind(READ_LIMIT)
            .fetch_all(pool)
            .await
        });
        let rows = match rows {
            Ok(rows) => rows,
            Err(err) => {
                tracing::warn!(error = %err, activation, "event relay cannot read events");
                return;
            }
        };
        let full = rows.len() as i64 == READ_LIMIT;
        let events: Vec<Event> = rows.into_iter().map(Event::from).collect();
        if let Some(last) = events.last() {
            after = last.seq;
        }
        hub.publish(&events);
        if !full {
            return;
        }
    }
}

/// Compares every watched activation's counter with its hub and reads what is missing.
async fn catch_up(store: &Store, hub: &Hub) {
    for (activation, published) in hub.watched() {
        let Some(published) = published else {
            continue;
        };
        let last: Result<Option<i64>, sqlx::Error> = on_pool!(store, pool => {
            sqlx::query_scalar("SELECT last_seq FROM activations WHERE id = $1")
                .bind(activation)
                .fetch_optional(pool)
                .await
        });
        match last {
            Ok(Some(last)) if last > published => {
                publish_after(store, hub, activation, published).await;
            }
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "event relay cannot catch up");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_are_activation_and_seq() {
        assert_eq!(super::parse("12:345"), Some((12, 345)));
        assert_eq!(super::parse("12"), None);
        assert_eq!(super::parse("a:1"), None);
    }
}
