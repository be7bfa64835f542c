//! Allocations made by one broadcast to N WebSocket sockets of one shard, fed and fully
//! drained (the same setup as the `broadcast` bench). Prints, for each N, the allocations of
//! the first broadcast (buffers growing to N) and of a broadcast once warm, in total, per
//! recipient (total / N) and per extra recipient (the difference with N = 1, over N - 1).
//! The design target is zero per recipient: every recipient gets a clone of one `Bytes`;
//! `tests/alloc.rs` asserts it with the same measurement ([`corelay_benches::counting`]).

use corelay_benches::counting::{measure, Allocs, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

fn main() {
    // The same sizes under `cargo test --benches` (a debug build: about a second).
    let sizes = [1, 1_000, 10_000];
    println!("allocations of one broadcast (42[\"b\",<64 B>] in, one frame to each socket out)");
    println!(
        "{:>7} | {:>11} {:>11} | {:>10} {:>11} {:>13} {:>15}",
        "N",
        "first calls",
        "first bytes",
        "warm calls",
        "warm bytes",
        "calls / N",
        "per extra rcpt"
    );
    let mut base: Option<Allocs> = None;
    for n in sizes {
        let (first, warm) = measure(n);
        let base = *base.get_or_insert(warm);
        let marginal = if n > 1 {
            format!(
                "{:.4}",
                (warm.calls as f64 - base.calls as f64) / (n - 1) as f64
            )
        } else {
            "-".to_owned()
        };
        println!(
            "{:>7} | {:>11} {:>11} | {:>10} {:>11} {:>13.4} {:>15}",
            n,
            first.calls,
            first.bytes,
            warm.calls,
            warm.bytes,
            warm.calls as f64 / n as f64,
            marginal
        );
    }
}
