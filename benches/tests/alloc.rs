//! A warm broadcast makes no allocation per recipient: its allocations are a small constant,
//! the same at 1, 1 000 and 10 000 recipients (every recipient gets a clone of one `Bytes`).
//! The measurement of the `alloc` bench ([`corelay_benches::counting::measure`]); counts, not
//! times.

use corelay_benches::counting::{measure, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations a warm broadcast may make whatever the number of recipients (4 today: the
/// encode buffer, its growth, the shared header of the `Bytes`, the boxed namespace name).
const FIXED: usize = 8;

#[test]
fn a_warm_broadcast_allocates_nothing_per_recipient() {
    let (_, one) = measure(1);
    assert!(
        one.calls <= FIXED,
        "a warm broadcast to one socket made {} allocations (at most {FIXED} expected)",
        one.calls
    );
    for n in [1_000, 10_000] {
        let (_, warm) = measure(n);
        let per_recipient = (warm.calls as f64 - one.calls as f64) / (n - 1) as f64;
        assert_eq!(
            warm.calls, one.calls,
            "a warm broadcast to {n} sockets made {} allocations, to one socket {}: \
             {per_recipient:.4} per extra recipient",
            warm.calls, one.calls
        );
    }
}
