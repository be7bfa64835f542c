//! One timer structure per shard: a min-heap of deadline hints.
//!
//! Each entity (session, socket, connection) keeps its own deadlines; the heap only says when
//! to look at it again. A hint that no longer matches (the deadline moved, the entity is gone
//! or its slot was reused) is harmless: looking at an entity whose deadlines have not passed
//! does nothing. So nothing is ever removed from the heap before it expires.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What a deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// An Engine.IO session (ping, pong, upgrade, connect and close deadlines).
    Session(usize),
    /// A socket's pending acknowledgements.
    Socket(usize),
    /// A connection's lingering close.
    Conn(usize),
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Target)>>,
}

impl Timers {
    /// Asks to look at `target` at `at`.
    pub(crate) fn schedule(&mut self, at: Instant, target: Target) {
        self.heap.push(Reverse((at, target)));
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes one target whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<Target> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, t))| t),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_in_deadline_order_and_only_expired() {
        let t0 = Instant::now();
        let mut timers = Timers::default();
        timers.schedule(t0 + Duration::from_secs(3), Target::Session(3));
        timers.schedule(t0 + Duration::from_secs(1), Target::Socket(1));
        timers.schedule(t0 + Duration::from_secs(2), Target::Conn(2));
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(timers.pop_expired(t0), None);
        let now = t0 + Duration::from_secs(2);
        assert_eq!(timers.pop_expired(now), Some(Target::Socket(1)));
        assert_eq!(timers.pop_expired(now), Some(Target::Conn(2)));
        assert_eq!(timers.pop_expired(now), None);
        assert_eq!(timers.len(), 1);
    }
}
