//! Allocations made by one broadcast to N WebSocket sockets of one shard, fed and fully
//! drained (the same setup as the `broadcast` bench). Prints, for each N, the allocations of
//! the first broadcast (buffers growing to N) and of a broadcast once warm, in total, per
//! recipient (total / N) and per extra recipient (the difference with N = 1, over N - 1).
//! The design target is zero per recipient: every recipient gets a clone of one `Bytes`.
//!
//! A counting global allocator wraps `System`; this is the only `unsafe` of the workspace
//! outside the core's audited blocks, and it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use corelay_benches::Broadcast;

/// Counts allocation calls (`alloc`, `alloc_zeroed`, `realloc`) and the bytes they asked for.
struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as this method's caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as this method's caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        CALLS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` (through `alloc` above) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through `alloc` above) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocation calls and bytes asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Allocs {
    calls: usize,
    bytes: usize,
}

/// What `f` allocated (single-threaded: nothing else runs meanwhile).
fn counted<R>(f: impl FnOnce() -> R) -> (R, Allocs) {
    let calls = CALLS.load(Ordering::Relaxed);
    let bytes = BYTES.load(Ordering::Relaxed);
    let r = f();
    let allocs = Allocs {
        calls: CALLS.load(Ordering::Relaxed) - calls,
        bytes: BYTES.load(Ordering::Relaxed) - bytes,
    };
    (r, allocs)
}

/// Allocations of the first broadcast and of a warm one (the most of a few).
fn measure(n: usize) -> (Allocs, Allocs) {
    let mut b = Broadcast::open(n);
    let expected = b.expected();
    let (written, first) = counted(|| b.run());
    assert_eq!(written, expected);
    b.check();
    let mut warm: Option<Allocs> = None;
    for _ in 0..5 {
        let (written, a) = counted(|| b.run());
        assert_eq!(written, expected);
        warm = Some(match warm {
            Some(w) if w.calls >= a.calls => w,
            _ => a,
        });
    }
    (first, warm.expect("five runs"))
}

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
