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

use crate::config::Parser;
use crate::socketio::{Args, Broadcast, RoomNames, SocketHandshake};

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
    /// The adapter to the other servers of a cluster, when there is one.
    fn cluster(&self) -> Option<&dyn ClusterPort> {
        None
    }

    /// The server's Socket.IO parser: what is emitted through this mesh is encoded with it.
    fn parser(&self) -> Parser {
        Parser::Json
    }
}

/// Where a server's shards tell its cluster adapter what the other servers must hear: the
/// runtime driver implements it with a channel to the adapter's task. Sending never blocks.
pub trait ClusterPort: Send + Sync + 'static {
    /// Hands `event` to the adapter.
    fn send(&self, event: ClusterEvent);

    /// Whether the adapter wants to hear of rooms made and emptied
    /// ([`ClusterEvent::Room`]); false by default.
    fn wants_rooms(&self) -> bool {
        false
    }
}

/// What the shards of a server tell its cluster adapter: what they do that other servers must
/// hear of, and the answers to what the adapter asked them on another server's behalf.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterEvent {
    /// A broadcast made on this server (not `local`), for the sockets of the other servers.
    /// With an acknowledgement, its gather waits for the cluster's part
    /// ([`Broadcast::cluster_servers`] and the calls after it).
    Broadcast {
        /// The broadcast, as the shards got it.
        broadcast: Arc<Broadcast>,
        /// The id of the socket that sent it with `socket.broadcast` (left out everywhere).
        sender: Option<Box<str>>,
    },
    /// A request made on this server about the sockets of every server (not `local`). When it
    /// waits for an answer ([`Request::wants_cluster_answer`]), the adapter gives the other
    /// servers' part with [`Request::answer_cluster`] or [`Request::fail_cluster`].
    Request(Arc<Request>),
    /// A child of a dynamic namespace exists on this server now (the static namespaces are
    /// [`App::namespace_names`](crate::App::namespace_names)): its name, and the name of the
    /// dynamic namespace it belongs to (a broadcast to that name reaches every child).
    Namespace {
        /// The child's name.
        name: Box<str>,
        /// The dynamic namespace's name (its pattern).
        parent: Box<str>,
    },
    /// A shard made a room (its first member joined) or emptied one (its last member left);
    /// only when [`ClusterPort::wants_rooms`]. A socket's own room (its id) counts too.
    Room {
        /// The namespace.
        nsp: Box<str>,
        /// The room.
        room: Box<str>,
        /// Made (true) or emptied (false).
        made: bool,
        /// When made: whether it is a socket's own room (named by its id).
        private: bool,
    },
    /// This server's sockets answered a fetch the adapter asked for with `token`.
    Fetched {
        /// The adapter's token.
        token: u64,
        /// The sockets.
        sockets: Vec<SocketInfo>,
    },
    /// This server's rooms, asked for with `token`.
    Rooms {
        /// The adapter's token.
        token: u64,
        /// The rooms.
        rooms: Vec<String>,
    },
    /// This server's server-side listeners answered an event sent with `token`.
    ServerEventAnswered {
        /// The adapter's token.
        token: u64,
        /// What the listeners answered.
        answers: Vec<serde_json::Value>,
    },
    /// A broadcast with acknowledgements sent with `token` reached this many clients.
    ClientCount {
        /// The adapter's token.
        token: u64,
        /// The clients.
        count: usize,
    },
    /// A client answered a broadcast sent with `token`.
    Ack {
        /// The adapter's token.
        token: u64,
        /// The client's answer.
        args: Args,
    },
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

/// What a [`Request`] asks, as an adapter reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum RequestKind<'a> {
    /// Describe the selected sockets (`fetch_sockets`).
    Fetch,
    /// Make them join a room (`sockets_join`).
    Join(&'a str),
    /// Make them leave a room (`sockets_leave`).
    Leave(&'a str),
    /// Disconnect them, and their connections when `true` (`disconnect_sockets`).
    Disconnect(bool),
    /// The namespace's rooms (`all_rooms`).
    Rooms,
    /// A server-side event (`server_side_emit`): its name and arguments, and whether it waits
    /// for answers.
    ServerEvent {
        /// The event.
        name: &'a str,
        /// Its arguments, a JSON array.
        args: &'a serde_json::Value,
        /// Whether the sender waits for the listeners' answers.
        with_ack: bool,
    },
    /// Removing the namespace (never sent to a cluster).
    Remove,
}

impl Request {
    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// The rooms (or socket ids) that select the sockets; empty for all.
    pub fn rooms(&self) -> &[Box<str>] {
        &self.rooms
    }

    /// The rooms (or socket ids) left out.
    pub fn except(&self) -> &[Box<str>] {
        &self.except
    }

    /// What it asks.
    pub fn kind(&self) -> RequestKind<'_> {
        match &self.op {
            Op::Fetch(_) => RequestKind::Fetch,
            Op::Join(room, _) => RequestKind::Join(room),
            Op::Leave(room, _) => RequestKind::Leave(room),
            Op::Disconnect(close, _) => RequestKind::Disconnect(*close),
            Op::Rooms(_) => RequestKind::Rooms,
            Op::Remove(_) => RequestKind::Remove,
            Op::ServerEvent { name, args, reply } => RequestKind::ServerEvent {
                name,
                args,
                with_ack: reply.is_some(),
            },
        }
    }

    /// Whether the asker waits for the other servers' part of the answer.
    pub fn wants_cluster_answer(&self) -> bool {
        match &self.op {
            Op::Fetch(g) => g.cluster,
            Op::Rooms(g) => g.cluster,
            Op::ServerEvent { reply, .. } => reply.as_ref().is_some_and(|g| g.cluster),
            _ => false,
        }
    }

    /// The other servers' part: the sockets (for a fetch), rooms (for `all_rooms`) or answers
    /// (for a server-side event) they sent. Anything else, or a second call, is ignored.
    pub fn answer_cluster(&self, part: ClusterPart) {
        match (&self.op, part) {
            (Op::Fetch(g), ClusterPart::Sockets(items)) => g.answer_cluster(items, None),
            (Op::Rooms(g), ClusterPart::Rooms(items)) => g.answer_cluster(items, None),
            (Op::ServerEvent { reply: Some(g), .. }, ClusterPart::Answers(items)) => {
                g.answer_cluster(items, None)
            }
            _ => {}
        }
    }

    /// The other servers did not all answer: the asker gets `error` (and, for a server-side
    /// event, the answers that came).
    pub fn fail_cluster(&self, error: RequestError) {
        match &self.op {
            Op::Fetch(g) => g.answer_cluster(Vec::new(), Some(error)),
            Op::Rooms(g) => g.answer_cluster(Vec::new(), Some(error)),
            Op::ServerEvent { reply: Some(g), .. } => g.answer_cluster(Vec::new(), Some(error)),
            _ => {}
        }
    }
}

/// The other servers' part of a request's answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClusterPart {
    /// Fetched sockets.
    Sockets(Vec<SocketInfo>),
    /// Room names.
    Rooms(Vec<String>),
    /// Server-side listeners' answers.
    Answers(Vec<serde_json::Value>),
}

/// A request across a cluster failed: not every server answered in time. The message is
/// Node's (`timeout reached while waiting for fetchSockets response`, ...).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    /// What Node's adapter says.
    pub message: String,
    /// For a server-side event, the answers that came.
    pub responses: Vec<serde_json::Value>,
}

impl RequestError {
    /// An error with Node's `message` and no answers.
    pub fn new(message: impl Into<String>) -> Self {
        RequestError {
            message: message.into(),
            responses: Vec::new(),
        }
    }
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

/// Called with every part once a gather is complete (instead of waking a future).
type OnDone<T> = Box<dyn FnOnce(Vec<T>) + Send>;

/// The parts of an answer, one per shard (and one for the other servers of a cluster),
/// gathered from any thread.
pub struct Gather<T> {
    state: Mutex<GatherState<T>>,
    /// Whether one of the parts is the cluster's.
    pub(crate) cluster: bool,
}

impl<T> std::fmt::Debug for Gather<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gather")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

struct GatherState<T> {
    items: Vec<T>,
    /// Parts not given yet.
    pending: usize,
    /// Whether the cluster's part was given.
    cluster_done: bool,
    error: Option<RequestError>,
    waker: Option<Waker>,
    on_done: Option<OnDone<T>>,
}

impl<T> Gather<T> {
    /// A gather waiting for `shards` answers, and the cluster's when `cluster`.
    pub(crate) fn new(shards: usize, cluster: bool) -> Arc<Gather<T>> {
        Self::make(shards, cluster, None)
    }

    /// A gather of `shards` answers that hands them to `on_done` once complete.
    pub(crate) fn with_callback(
        shards: usize,
        on_done: impl FnOnce(Vec<T>) + Send + 'static,
    ) -> Arc<Gather<T>> {
        Self::make(shards, false, Some(Box::new(on_done)))
    }

    fn make(shards: usize, cluster: bool, on_done: Option<OnDone<T>>) -> Arc<Gather<T>> {
        let gather = Arc::new(Gather {
            state: Mutex::new(GatherState {
                items: Vec::new(),
                pending: shards + usize::from(cluster),
                cluster_done: false,
                error: None,
                waker: None,
                on_done,
            }),
            cluster,
        });
        // Nothing to wait for: complete at once.
        if shards == 0 && !cluster {
            gather.part(Vec::new(), None);
        }
        gather
    }

    /// One shard's part.
    pub(crate) fn answer(&self, items: impl IntoIterator<Item = T>) {
        self.part(items, None);
    }

    /// The cluster's part (once).
    fn answer_cluster(&self, items: Vec<T>, error: Option<RequestError>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !self.cluster || state.cluster_done {
            return;
        }
        state.cluster_done = true;
        drop(state);
        self.part(items, error);
    }

    fn part(&self, items: impl IntoIterator<Item = T>, error: Option<RequestError>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.items.extend(items);
        if error.is_some() {
            state.error = error;
        }
        state.pending = state.pending.saturating_sub(1);
        if state.pending > 0 {
            return;
        }
        if let Some(w) = state.waker.take() {
            w.wake();
        }
        if let Some(on_done) = state.on_done.take() {
            let items = std::mem::take(&mut state.items);
            drop(state);
            on_done(items);
        }
    }

    /// Every part once complete: the items, and the error if a part failed.
    fn poll_done(&self, cx: &mut Context<'_>) -> Poll<(Vec<T>, Option<RequestError>)> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.pending == 0 {
            let items = std::mem::take(&mut state.items);
            return Poll::Ready((items, state.error.take()));
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// The answer of a request, once every shard (and, in a cluster, every other server) gave its
/// part: an error when another server did not answer in time. The request is sent when it is
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
    type Output = Result<Vec<T>, RequestError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.gather.poll_done(cx).map(|(items, error)| match error {
            Some(error) => Err(error),
            None => Ok(items),
        })
    }
}

/// The answers of [`Io::server_side_emit_with_ack`](crate::Io::server_side_emit_with_ack):
/// every shard's and every other server's, or the error of a server that did not answer in
/// time, carrying every answer that came (this server's shards' included). `Send`.
#[derive(Debug)]
pub struct ServerAnswers(Answer<serde_json::Value>);

impl ServerAnswers {
    pub(crate) fn new(answer: Answer<serde_json::Value>) -> Self {
        ServerAnswers(answer)
    }
}

impl Future for ServerAnswers {
    type Output = Result<Vec<serde_json::Value>, RequestError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0
            .gather
            .poll_done(cx)
            .map(|(mut items, error)| match error {
                Some(mut error) => {
                    items.append(&mut error.responses);
                    error.responses = items;
                    Err(error)
                }
                None => Ok(items),
            })
    }
}

/// How many sockets a request reached, over every shard of this server (the answer of
/// `sockets_join`, `sockets_leave`, `disconnect_sockets`, `remove_namespace`). In a cluster
/// the other servers do it too, without answering (as Node's adapters): the count is this
/// server's. The request is sent when it is made: await this only to know the count. `Send`.
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
            .map(|parts| parts.map_or(0, |parts| parts.iter().sum()))
    }
}
