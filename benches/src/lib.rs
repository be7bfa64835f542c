//! Shared pieces of the corelay benchmarks: request and packet fixtures, and a broadcast to
//! N WebSocket sockets of a shard driven in memory by the core's simulated-time harness.
//!
//! The benchmarks themselves are in `benches/`: `codecs` (the wire codecs and the payload
//! serde), `broadcast` (one broadcast to N sockets of a shard) and `alloc` (allocations per
//! recipient of a broadcast, counted by [`counting`]; `tests/alloc.rs` asserts there are none).
//! See `README.md` for how to run them and what they measured.
//!
//! Everything here uses the public API of `corelay-core` only, as a runtime would.

#![deny(missing_docs)]

pub mod counting;
pub mod fixtures;
pub mod handlers;
pub mod sim;

pub use corelay_core::sim::{Drained, Sim};
pub use sim::Broadcast;
