//! The mesh: what shards send each other.
//!
//! A broadcast is encoded once, by whoever emits it; every shard gets the same
//! `Arc<Broadcast>`, whose packets are the same `Bytes`, and fans it out to its own sockets.
//! Room membership never leaves a shard: rooms travel by name and each shard resolves them
//! against its own members. The mesh carries encoded bytes and names only.

use std::sync::Arc;

use crate::socketio::Broadcast;

/// A message from one shard (or an [`Io`](crate::Io) handle) to a shard.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MeshMessage {
    /// Deliver a broadcast to this shard's sockets.
    Broadcast(Arc<Broadcast>),
}

/// Where a shard's outgoing mesh message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeshTarget {
    /// Every shard but the sender.
    Others,
    /// One shard.
    Shard(usize),
}

/// Carries mesh messages to shards: implemented by the runtime driver with its own channels
/// and wake-ups.
pub trait MeshPost: Send + Sync + 'static {
    /// Number of shards.
    fn shards(&self) -> usize;
    /// Delivers `message` to shard `shard` and wakes it.
    fn post(&self, shard: usize, message: MeshMessage);
}
