//! Counting allocations: a global allocator wrapping `System` that counts, per thread and only
//! while asked to, the allocation calls (`alloc`, `alloc_zeroed`, `realloc`) and the bytes they
//! ask for; and [`measure`], the allocations of one broadcast to N WebSocket sockets of one
//! shard (the setup and feed-and-drain of the `broadcast` bench).
//!
//! A binary opts in with `#[global_allocator] static GLOBAL: Counting = Counting;` (the `alloc`
//! bench prints the figures, `tests/alloc.rs` asserts zero allocations per recipient). Without
//! it nothing is counted, and [`measure`] panics rather than report zero.
//!
//! Counting is per thread: a test harness' other threads (output capture, other tests) never
//! land in a measurement. This module holds the only `unsafe` of the crate; every method of
//! the allocator forwards to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::Broadcast;

/// The counting global allocator (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

thread_local! {
    // `const` and free of `Drop`: no lazy initialisation and no destructor, so reading them
    // inside the allocator never allocates.
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static CALLS: Cell<usize> = const { Cell::new(0) };
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn note(bytes: usize) {
    if ACTIVE.try_with(Cell::get).unwrap_or(false) {
        let _ = CALLS.try_with(|c| c.set(c.get() + 1));
        let _ = BYTES.try_with(|b| b.set(b.get() + bytes));
    }
}

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are thread-locals without destructors and never
// allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as this method's caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: same contract as this method's caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: `ptr` was allocated by `System` (through `alloc` above) with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` (through `alloc` above) with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocation calls and bytes asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allocs {
    /// `alloc`, `alloc_zeroed` and `realloc` calls.
    pub calls: usize,
    /// Bytes those calls asked for (a `realloc` counts its new size).
    pub bytes: usize,
}

/// Counts the allocations of the thread that started it, until [`Counter::stop`].
#[derive(Debug)]
pub struct Counter {
    start: Allocs,
    was: bool,
}

impl Counter {
    /// Starts counting on this thread.
    pub fn start() -> Counter {
        let start = Allocs {
            calls: CALLS.with(Cell::get),
            bytes: BYTES.with(Cell::get),
        };
        let was = ACTIVE.with(|a| a.replace(true));
        Counter { start, was }
    }

    /// What this thread allocated since [`Counter::start`] (zero unless [`Counting`] is the
    /// global allocator). Call it on the thread that started it.
    pub fn stop(self) -> Allocs {
        ACTIVE.with(|a| a.set(self.was));
        Allocs {
            calls: CALLS.with(Cell::get) - self.start.calls,
            bytes: BYTES.with(Cell::get) - self.start.bytes,
        }
    }
}

/// What `f` allocated on this thread (zero unless [`Counting`] is the global allocator).
pub fn counted<R>(f: impl FnOnce() -> R) -> (R, Allocs) {
    let counter = Counter::start();
    let r = f();
    (r, counter.stop())
}

/// Whether [`Counting`] is the global allocator of this binary.
pub fn installed() -> bool {
    let (_, a) = counted(|| drop(std::hint::black_box(Box::new(0u64))));
    a.calls > 0
}

/// The allocations of one broadcast to `n` sockets: of the first one after setup (buffers
/// growing to `n`), and of a warm one (the most of five). Each broadcast's bytes are checked.
///
/// # Panics
///
/// When [`Counting`] is not the global allocator (every count would be zero).
pub fn measure(n: usize) -> (Allocs, Allocs) {
    assert!(
        installed(),
        "counting allocations needs `#[global_allocator] static GLOBAL: Counting = Counting;`"
    );
    let mut b = Broadcast::open(n);
    let expected = b.expected();
    let (written, first) = counted(|| b.run());
    assert_eq!(written, expected);
    b.check();
    let mut warm = Allocs::default();
    for _ in 0..5 {
        let (written, a) = counted(|| b.run());
        assert_eq!(written, expected);
        if a.calls >= warm.calls {
            warm = a;
        }
    }
    (first, warm)
}
