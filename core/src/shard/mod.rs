//! A shard: one core's world of connections, sessions, sockets, rooms and timers.
//!
//! # Driving a shard
//!
//! A shard never does I/O and never reads the clock. The runtime feeds it:
//!
//! - [`Shard::accept`] for each new TCP connection, [`Shard::receive`] with the bytes read,
//!   [`Shard::closed`] when the peer went away or an I/O error ended the connection,
//!   [`Shard::adopt`] for a connection another shard handed over,
//! - [`Shard::handle_timeout`] when the instant of [`Shard::poll_timeout`] has come,
//! - [`Shard::handle_mesh`] with each message from another shard,
//!
//! and after each input it drains the outputs until they are empty, in this order:
//!
//! 1. [`Shard::poll_mesh`]: messages for other shards;
//! 2. [`Shard::poll_transmit`] names a connection with bytes to write; write
//!    [`Shard::send_queue`] (one vectored write), then report what was written with
//!    [`Shard::advance`], until the queue lends nothing more or the socket would block (then
//!    the rest waits until the socket is writable);
//! 3. [`Shard::poll_action`]: connections to shut down, close, or hand over;
//! 4. [`Shard::poll_task`]: tasks of async handlers, to spawn on the shard's thread (a shard
//!    put in an `Rc` with [`Shard::into_shared`]; drain again after every poll of such a task);
//!
//! and then [`Shard::poll_timeout`] says when to call [`Shard::handle_timeout`] next.
//!
//! # Inside
//!
//! The shard owns the Engine.IO layer (`engine`) and the Socket.IO layer (`socketio`). An
//! input goes down to the engine; what the engine makes of it comes back up as events, which
//! the shard hands to the Socket.IO layer and to the application's handlers (`dispatch`),
//! until none is left.

mod app;
mod dispatch;
mod requests;
mod sockets;
mod task;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::rc::Weak;
use std::sync::Arc;
use std::time::Instant;

use crate::engine::{Action, Engine};
use crate::id::ConnId;
use crate::mesh::{MeshMessage, MeshPost, MeshTarget};
use crate::sid::IdGenerator;
use crate::socketio::SocketIo;

pub use app::App;
pub(crate) use app::{
    AckCallback, AllowRequestAsync, DecisionFuture, EngineHandlers, EventHandler, Listener,
    Matcher, Middleware, MiddlewareFuture, Mode, NamespaceHandlers,
};
pub(crate) use task::{local_shard, mesh_key};
pub use task::{LocalTask, SharedShard};

/// Counts of what a shard holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Open TCP connections.
    pub connections: usize,
    /// Engine.IO sessions.
    pub sessions: usize,
    /// Socket.IO sockets.
    pub sockets: usize,
}

/// One core's Socket.IO server, fed bytes and time by a runtime.
pub struct Shard {
    pub(crate) app: Arc<App>,
    pub(crate) engine: Engine,
    pub(crate) sio: SocketIo<AckCallback>,
    index: usize,
    count: usize,
    /// The last instant an input brought.
    pub(crate) now: Instant,
    /// How handlers reach other shards ([`crate::Io`]), when the runtime provides it.
    pub(crate) post: Option<Arc<dyn MeshPost>>,
    /// Messages for other shards.
    mesh_out: VecDeque<(MeshTarget, MeshMessage)>,
    /// Tasks of async handlers, for the runtime to spawn.
    tasks: VecDeque<LocalTask>,
    /// The shard itself, once shared ([`Shard::into_shared`]).
    this: Weak<RefCell<Shard>>,
    /// An instant and the Unix time (ms) it was, to date handshakes.
    wall: (Instant, u64),
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("index", &self.index)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Shard {
    /// Shard `index` of `count`, serving `app`.
    pub fn new(app: Arc<App>, index: usize, count: usize, now: Instant) -> Shard {
        let ids = (IdGenerator::new(index), IdGenerator::new(index));
        Self::with_ids(app, index, count, now, ids)
    }

    /// As [`Shard::new`], with ids from a seeded generator (for reproducible tests).
    pub fn with_seed(app: Arc<App>, index: usize, count: usize, now: Instant, seed: u64) -> Shard {
        let ids = (
            IdGenerator::seeded(index, seed),
            IdGenerator::seeded(index, seed.wrapping_add(1)),
        );
        Self::with_ids(app, index, count, now, ids)
    }

    fn with_ids(
        app: Arc<App>,
        index: usize,
        count: usize,
        now: Instant,
        (session_ids, socket_ids): (IdGenerator, IdGenerator),
    ) -> Shard {
        let engine = Engine::new(
            app.config.clone(),
            app.hooks.clone(),
            (index, count),
            now,
            session_ids,
        );
        let sio = SocketIo::new(app.config.clone(), app.static_namespaces(), socket_ids);
        let mut shard = Shard {
            app,
            engine,
            sio,
            index,
            count,
            now,
            post: None,
            mesh_out: VecDeque::new(),
            tasks: VecDeque::new(),
            this: Weak::new(),
            wall: (now, 0),
        };
        let namespaces: Vec<_> = shard.sio.namespaces().collect();
        namespaces
            .into_iter()
            .for_each(|ns| shard.namespace_added(ns));
        shard
    }

    /// The application this shard serves.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// This shard's index.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Counts of connections, sessions and sockets.
    pub fn stats(&self) -> Stats {
        let (connections, sessions) = self.engine.counts();
        Stats {
            connections,
            sessions,
            sockets: self.sio.len(),
        }
    }

    /// Lets handlers post to other shards ([`Socket::io`](crate::Socket::io)); the runtime
    /// sets it.
    pub fn set_mesh(&mut self, post: Arc<dyn MeshPost>) {
        self.post = Some(post);
        self.register_local();
        if self.cluster_wants_rooms() {
            let namespaces: Vec<_> = self.sio.namespaces().collect();
            namespaces.into_iter().for_each(|ns| self.sio.log_rooms(ns));
        }
    }

    /// Tells the shard what time it is on the wall clock: `at` was `unix_ms` milliseconds
    /// after the Unix epoch (handshakes carry their date, as in Node). The runtime sets it
    /// once; by default the shard's first instant is the epoch.
    pub fn set_wall_clock(&mut self, at: Instant, unix_ms: u64) {
        self.wall = (at, unix_ms);
    }

    /// The Unix time (ms) of an instant.
    pub(crate) fn wall_ms(&self, at: Instant) -> u64 {
        let (base, ms) = self.wall;
        match at.checked_duration_since(base) {
            Some(d) => ms + d.as_millis() as u64,
            None => ms.saturating_sub(base.duration_since(at).as_millis() as u64),
        }
    }

    /// The number of shards.
    pub fn count(&self) -> usize {
        self.count
    }

    /// A new TCP connection from `peer`.
    pub fn accept(&mut self, now: Instant, peer: SocketAddr) -> ConnId {
        self.now = now;
        self.engine.accept(now, peer)
    }

    /// A connection handed over by another shard ([`Action::HandOver`]), with the bytes that
    /// shard had read from it.
    pub fn adopt(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) -> ConnId {
        let id = self.accept(now, peer);
        self.receive(now, id, data);
        id
    }

    /// Bytes read from a connection.
    pub fn receive(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        self.now = now;
        self.engine.receive(now, conn, data);
        self.dispatch();
    }

    /// The connection ended (the peer closed it, or an I/O error). The runtime then gets an
    /// [`Action::Close`] for it.
    pub fn closed(&mut self, now: Instant, conn: ConnId) {
        self.now = now;
        self.engine.closed(now, conn);
        self.dispatch();
    }

    /// Handles every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        self.engine.handle_timeout(now);
        self.dispatch();
        self.socketio_timeouts(now);
        self.dispatch();
    }

    /// When [`Shard::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.engine.poll_timeout(), self.sio.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// A message from another shard or an [`Io`](crate::Io) handle.
    pub fn handle_mesh(&mut self, now: Instant, message: MeshMessage) {
        self.now = now;
        match message {
            MeshMessage::Broadcast(b) => self.deliver(&b, None),
            MeshMessage::Request(r) => self.request(&r),
        }
        self.dispatch();
    }

    /// A message for other shards, if any.
    pub fn poll_mesh(&mut self) -> Option<(MeshTarget, MeshMessage)> {
        self.mesh_out.pop_front()
    }

    /// A connection with bytes to write, if any.
    pub fn poll_transmit(&mut self) -> Option<ConnId> {
        self.engine.poll_transmit()
    }

    /// Fills `slices` with the chunks of the connection's next write, in order, and returns
    /// how many (0 when nothing is to be written now).
    pub fn send_queue<'a>(&'a self, conn: ConnId, slices: &mut [IoSlice<'a>]) -> usize {
        self.engine.send_queue(conn, slices)
    }

    /// Bytes queued on a connection.
    pub fn queued(&self, conn: ConnId) -> usize {
        self.engine.queued(conn)
    }

    /// `n` bytes of the connection's queue were written.
    pub fn advance(&mut self, conn: ConnId, n: usize) {
        self.engine.advance(conn, n);
    }

    /// Something for the runtime to do to a connection.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.engine.poll_action()
    }

    /// Starts a graceful shutdown: every socket leaves with "server shutting down", every
    /// session is closed, queued bytes are flushed and connections closed. New connections
    /// are closed at once. Done when [`Shard::stats`] shows no connections.
    pub fn shutdown(&mut self, now: Instant) {
        self.now = now;
        self.engine.shutdown(now);
        self.dispatch();
    }

    /// Sends a message to other shards.
    pub(crate) fn post_mesh(&mut self, target: MeshTarget, message: MeshMessage) {
        if self.count > 1 {
            self.mesh_out.push_back((target, message));
        }
    }
}

#[cfg(test)]
mod tests;
