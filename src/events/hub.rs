//! The in-process fan-out of committed events to board terminals, one broadcast channel per
//! activation.
//!
//! Each event is serialised once into a [`Frame`] whose text is shared (reference-counted) by
//! every terminal, so fan-out to thousands of sockets costs no per-terminal serialisation.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::broadcast;

use super::Event;

/// How long the hub holds events back waiting for a missing predecessor before it releases
/// them and lets terminals fill the gap from the database.
const GAP_WAIT: Duration = Duration::from_millis(250);

/// One event ready to send: its `seq` and its wire text.
#[derive(Clone, Debug)]
pub struct Frame {
    pub seq: i64,
    pub text: Utf8Bytes,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    // A std mutex, not tokio's: it is held only for map updates and never across an await.
    channels: Mutex<HashMap<i64, Channel>>,
}

struct Channel {
    sender: broadcast::Sender<Frame>,
    /// The highest seq broadcast so far; `None` until the first event after start-up.
    published: Option<i64>,
    /// Committed events waiting for a predecessor, by seq.
    held: BTreeMap<i64, Frame>,
    /// Whether a release after GAP_WAIT is already scheduled.
    release_scheduled: bool,
    /// The latest snapshot message read for this activation, while no newer event has been
    /// published: a wall of terminals reconnecting after a network blip shares one read.
    snapshot: Option<Frame>,
}

impl Hub {
    /// `capacity` is how many events a terminal may fall behind before it is resynchronised
    /// with a fresh snapshot.
    pub fn new(capacity: usize) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                capacity: capacity.max(1),
                channels: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Subscribes to an activation's live events. Subscribe before reading the snapshot or
    /// the replay from the database, so that nothing committed in between is missed.
    pub fn subscribe(&self, activation_id: i64) -> broadcast::Receiver<Frame> {
        let mut channels = self.inner.channels.lock().expect("hub lock poisoned");
        self.channel(&mut channels, activation_id)
            .sender
            .subscribe()
    }

    /// Number of terminals subscribed to an activation.
    pub fn terminals(&self, activation_id: i64) -> usize {
        let channels = self.inner.channels.lock().expect("hub lock poisoned");
        channels
            .get(&activation_id)
            .map_or(0, |c| c.sender.receiver_count())
    }

    /// The highest seq broadcast for an activation, if any since start-up.
    pub fn published(&self, activation_id: i64) -> Option<i64> {
        let channels = self.inner.channels.lock().expect("hub lock poisoned");
        channels.get(&activation_id).and_then(|c| c.published)
    }

    /// Whether anyone here is watching an activation (a terminal, or a cached snapshot that a
    /// newer event must invalidate).
    pub fn is_watched(&self, activation_id: i64) -> bool {
        let channels = self.inner.channels.lock().expect("hub lock poisoned");
        channels
            .get(&activation_id)
            .is_some_and(|c| c.sender.receiver_count() > 0 || c.snapshot.is_some())
    }

    /// The watched activations with the highest seq broadcast for each.
    pub fn watched(&self) -> Vec<(i64, Option<i64>)> {
        let channels = self.inner.channels.lock().expect("hub lock poisoned");
        channels
            .iter()
            .filter(|(_, c)| c.sender.receiver_count() > 0 || c.snapshot.is_some())
            .map(|(id, c)| (*id, c.published))
            .collect()
    }

    /// Hands committed events to the terminals. Call only after the transaction committed.
    pub fn publish(&self, events: &[Event]) {
        let mut schedule = Vec::new();
        {
            let mut channels = self.inner.channels.lock().expect("hub lock poisoned");
            for event in events {
                let frame = Frame {
                    seq: event.seq,
                    text: Utf8Bytes::from(event.to_wire()),
                };
                let channel = self.channel(&mut channels, event.activation_id);
                if channel.published.is_some_and(|p| frame.seq <= p) {
                    continue;
                }
                channel.held.insert(frame.seq, frame);
            }
            let touched: Vec<i64> = {
                let mut ids: Vec<i64> = events.iter().map(|e| e.activation_id).collect();
                ids.dedup();
                ids
            };
            for id in touched {
                let Some(channel) = channels.get_mut(&id) else {
                    continue;
                };
                channel.release_in_order();
                if !channel.held.is_empty() && !channel.release_scheduled {
                    channel.release_scheduled = true;
                    schedule.push(id);
                }
            }
        }
        for activation_id in schedule {
            let hub = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GAP_WAIT).await;
                hub.release_held(activation_id);
            });
        }
    }

    /// Releases whatever is still held for an activation, gap or not: terminals fill the gap
    /// from the event table.
    fn release_held(&self, activation_id: i64) {
        let mut channels = self.inner.channels.lock().expect("hub lock poisoned");
        if let Some(channel) = channels.get_mut(&activation_id) {
            channel.release_scheduled = false;
            let held = std::mem::take(&mut channel.held);
            for (seq, frame) in held {
                channel.published = Some(seq);
                channel.drop_stale_snapshot(seq);
                let _ = channel.sender.send(frame);
            }
        }
    }

    fn channel<'a>(
        &self,
        channels: &'a mut HashMap<i64, Channel>,
        activation_id: i64,
    ) -> &'a mut Channel {
        channels.entry(activation_id).or_insert_with(|| Channel {
            sender: broadcast::channel(self.inner.capacity).0,
            published: None,
            held: BTreeMap::new(),
            release_scheduled: false,
            snapshot: None,
        })
    }

    /// A snapshot message read earlier that is still the newest state published.
    pub fn cached_snapshot(&self, activation_id: i64) -> Option<Frame> {
        let channels = self.inner.channels.lock().expect("hub lock poisoned");
        channels
            .get(&activation_id)
            .and_then(|c| c.snapshot.clone())
    }

    /// Keeps a snapshot for the next terminal, unless events after it were already published.
    /// Any snapshot is a true board as of its seq, so a stale one would still be correct (the
    /// terminal then catches up from the event table); this only avoids the extra work.
    pub fn cache_snapshot(&self, activation_id: i64, snapshot: Frame) {
        let mut channels = self.inner.channels.lock().expect("hub lock poisoned");
        let channel = self.channel(&mut channels, activation_id);
        let newest = channel.snapshot.as_ref().map_or(i64::MIN, |s| s.seq);
        if channel.published.is_none_or(|p| snapshot.seq >= p) && snapshot.seq >= newest {
            channel.snapshot = Some(snapshot);
        }
    }
}

impl Channel {
    fn drop_stale_snapshot(&mut self, published: i64) {
        if self.snapshot.as_ref().is_some_and(|s| s.seq < published) {
            self.snapshot = None;
        }
    }

    /// Broadcasts held events while they follow on from the last one published.
    fn release_in_order(&mut self) {
        while let Some(entry) = self.held.first_entry() {
            let seq = *entry.key();
            // The first event seen after start-up has no known predecessor: start from it.
            // A terminal that needs earlier ones reads them from the database.
            let next = self.published.map_or(seq, |p| p + 1);
            if seq != next {
                break;
            }
            let frame = entry.remove();
            self.published = Some(seq);
            self.drop_stale_snapshot(seq);
            // No receivers is not an error: nobody is watching this activation right now.
            let _ = self.sender.send(frame);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Timestamp;

    fn event(seq: i64) -> Event {
        Event {
            activation_id: 1,
            seq,
            kind: "t".into(),
            at: Timestamp(0),
            by: "x".into(),
            payload: "{}".into(),
        }
    }

    #[tokio::test]
    async fn events_reaching_the_hub_out_of_order_are_broadcast_in_seq_order() {
        let hub = Hub::new(16);
        let mut rx = hub.subscribe(1);
        hub.publish(&[event(1)]);
        hub.publish(&[event(3)]);
        hub.publish(&[event(2)]);
        hub.publish(&[event(2)]); // a duplicate is dropped
        hub.publish(&[event(4)]);
        let seqs: Vec<i64> = (0..4)
            .map(|_| rx.try_recv().expect("an event").seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3, 4]);
        assert!(rx.try_recv().is_err(), "nothing more, no duplicate");
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_that_never_fills_is_released_after_a_short_wait() {
        let hub = Hub::new(16);
        let mut rx = hub.subscribe(1);
        hub.publish(&[event(1)]);
        hub.publish(&[event(3)]);
        assert_eq!(rx.recv().await.unwrap().seq, 1);
        assert!(rx.try_recv().is_err(), "3 is held while 2 may still come");
        // Time is paused: this advances the clock past GAP_WAIT without sleeping.
        assert_eq!(rx.recv().await.unwrap().seq, 3);
    }
}
