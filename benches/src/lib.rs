//! Shared pieces of the corelay benchmarks: request and packet fixtures, and an in-memory
//! driver of a [`Shard`](corelay_core::Shard) with WebSocket clients.
//!
//! The benchmarks themselves are in `benches/`: `codecs` (the wire codecs and the payload
//! serde), `broadcast` (one broadcast to N sockets of a shard) and `alloc` (allocations per
//! recipient of a broadcast, counted by [`counting`]; `tests/alloc.rs` asserts there are none).
//! See `README.md` for how to run them and what they measured.
//!
//! Everything here uses the public API of `corelay-core` only, as a runtime shim would.

pub mod counting;
pub mod fixtures;
pub mod sim;

pub use sim::{Broadcast, Drained, Sim};
