//! The mesh: what shards send each other.
//!
//! A broadcast is encoded once, by whoever emits it; every shard gets the same
//! `Arc<Broadcast>`, whose packets are the same `Bytes`, and fans it out to its own sockets.
//! Room membership never leaves a shard: rooms travel by name and each shard resolves them
//! against its own members. The mesh carries encoded bytes and names only.
//!
//! A [`Request`] (fetch the sockets of some rooms, make them join, leave or disconnect, a
//! server-side event) goes to every shard the same way; each shard answers its part into the
//! request's [`Gather`], which completes once every shard answered.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::socketio::{Broadcast, RoomNames, SocketHandshake};

/// A message from one shard (or an [`Io`](crate::Io) handle) to a shard.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum MeshMessage {
    /// Deliver a broadcast to this shard's sockets.
    Broadcast(Arc<Broadcast>),
    /// Do something to this shard's sockets and answer.
    Request(Arc<Request>),
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

/// A request to every shard about the sockets of a namespace selected by rooms.
#[derive(Debug)]
pub struct Request {
    /// The namespace (or dynamic namespace: then its children).
    pub(crate) nsp: Box<str>,
    /// Rooms (or socket ids) to select; empty for the whole namespace.
    pub(crate) rooms: RoomNames,
    /// Rooms (or socket ids) to leave out.
    pub(crate) except: RoomNames,
    pub(crate) op: Op,
}

/// What a [`Request`] does, and where its answers go.
#[derive(Debug)]
pub(crate) enum Op {
    /// Describe the selected sockets.
    Fetch(Arc<Gather<SocketInfo>>),
    /// Make them join a room; answers how many.
    Join(Box<str>, Arc<Gather<usize>>),
    /// Make them leave a room; answers how many.
    Leave(Box<str>, Arc<Gather<usize>>),
    /// Disconnect them (and their connections with `close`); answers how many.
    Disconnect(bool, Arc<Gather<usize>>),
    /// The rooms of the namespace.
    Rooms(Arc<Gather<String>>),
    /// Disconnect every socket of the namespace and forget it; answers how many left.
    Remove(Arc<Gather<usize>>),
    /// A server-side event for the namespace's listeners; with a gather, they answer.
    ServerEvent {
        name: Box<str>,
        args: serde_json::Value,
        reply: Option<Arc<Gather<serde_json::Value>>>,
    },
}

/// What [`fetch_sockets`](crate::IoOperator::fetch_sockets) learns of a socket, anywhere.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// The namespace.
    pub nsp: String,
    /// The handshake.
    pub handshake: SocketHandshake,
    /// Its rooms, its own id first.
    pub rooms: Vec<String>,
    /// Its data as JSON (`null` when none).
    pub data: serde_json::Value,
}

/// The parts of an answer, one per shard, gathered from any thread.
#[derive(Debug)]
pub struct Gather<T> {
    state: Mutex<GatherState<T>>,
}

#[derive(Debug)]
struct GatherState<T> {
    items: Vec<T>,
    /// Shards that have not answered yet.
    pending: usize,
    waker: Option<Waker>,
}

impl<T> Gather<T> {
    /// A gather waiting for `shards` answers.
    pub(crate) fn new(shards: usize) -> Arc<Gather<T>> {
        Arc::new(Gather {
            state: Mutex::new(GatherState {
                items: Vec::new(),
                pending: shards,
                waker: None,
            }),
        })
    }

    /// One shard's part.
    pub(crate) fn answer(&self, items: impl IntoIterator<Item = T>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.items.extend(items);
        state.pending = state.pending.saturating_sub(1);
        if state.pending == 0 {
            if let Some(w) = state.waker.take() {
                w.wake();
            }
        }
    }

    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.pending == 0 {
            return Poll::Ready(std::mem::take(&mut state.items));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The answer of a request, once every shard gave its part. The request is sent when it is
/// made: awaiting is only needed to see the answer. `Send`: await it anywhere.
#[derive(Debug)]
pub struct Answer<T> {
    gather: Arc<Gather<T>>,
}

impl<T> Answer<T> {
    pub(crate) fn new(gather: Arc<Gather<T>>) -> Self {
        Answer { gather }
    }
}

impl<T> Future for Answer<T> {
    type Output = Vec<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<T>> {
        self.gather.poll_done(cx)
    }
}

/// How many sockets a request reached, over every shard (the answer of `sockets_join`,
/// `sockets_leave`, `disconnect_sockets`, `remove_namespace`). The request is sent when it is
/// made: await this only to know the count. `Send`.
#[derive(Debug)]
pub struct Count(Answer<usize>);

impl Count {
    pub(crate) fn new(answer: Answer<usize>) -> Self {
        Count(answer)
    }
}

impl Future for Count {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|parts| parts.iter().sum())
    }
}
