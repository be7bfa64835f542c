//! Deadline hints: a min-heap of (instant, target).
//!
//! Each entity (session, socket, connection) keeps its own deadlines; the heap only says when
//! to look at it again. A hint that no longer matches (the deadline moved, the entity is gone
//! or its slot was reused) is harmless: looking at an entity whose deadlines have not passed
//! does nothing. So nothing is ever removed from the heap before it expires. Each layer keeps
//! the hints of its own entities; the shard's [`poll_timeout`](crate::Shard::poll_timeout) is
//! the earliest of them, so a runtime holds one sleep per shard whatever the number of sessions.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Deadline hints for targets of type `T`.
#[derive(Debug)]
pub(crate) struct Timers<T> {
    heap: BinaryHeap<Reverse<(Instant, T)>>,
}

impl<T: Ord> Default for Timers<T> {
    fn default() -> Self {
        Timers {
            heap: BinaryHeap::new(),
        }
    }
}

impl<T: Ord + Copy> Timers<T> {
    /// Asks to look at `target` at `at`.
    pub(crate) fn schedule(&mut self, at: Instant, target: T) {
        self.heap.push(Reverse((at, target)));
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes one target whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<T> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse((_, t))| t),
            _ => None,
        }
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
        timers.schedule(t0 + Duration::from_secs(3), 3);
        timers.schedule(t0 + Duration::from_secs(1), 1);
        timers.schedule(t0 + Duration::from_secs(2), 2);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(timers.pop_expired(t0), None);
        let now = t0 + Duration::from_secs(2);
        assert_eq!(timers.pop_expired(now), Some(1));
        assert_eq!(timers.pop_expired(now), Some(2));
        assert_eq!(timers.pop_expired(now), None);
        assert_eq!(timers.next(), Some(t0 + Duration::from_secs(3)));
    }
}
