//! The Engine.IO layer: connections, sessions and their transports (long-polling, WebSocket,
//! the upgrade between them), heartbeat, send queues and close reasons.
//!
//! It knows nothing of Socket.IO or of handlers. What it makes of its input for the layer
//! above is a queue of [`Event`]s (a session opened, a message arrived, a session closed),
//! drained with [`Engine::poll_event`]; the layer above sends with [`Engine::send`] and closes
//! with [`Engine::close_session`]. The only calls it makes upward are the application's HTTP
//! hooks ([`Hooks`], in [`hooks`]), which see wire types and the hooks' own small types only.
//!
//! After an input, the owner drains events until there are none, then calls
//! [`Engine::settle`], which answers the long-polling GETs that packets wait for (so that every
//! packet one input produced goes out in one response), resumes pipelined requests, and ends
//! sessions whose send queue passed its bound; settling can make more events, so the owner
//! loops until `settle` says it made none.

mod conn;
mod hooks;
mod http;
mod packet;
mod polling;
mod session;

use std::collections::{HashMap, VecDeque};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use crate::config::Config;
use crate::id::{ConnId, SessionId, Slots};
use crate::sid::IdGenerator;
use crate::timer::Timers;

pub(crate) use conn::Conn;
pub(crate) use hooks::Hooks;
pub use hooks::{ConnectionError, ConnectionErrorContext, ResponseHeaders};
pub use http::HttpResponse;
pub use packet::OutPacket;
pub(crate) use session::{HandshakeData, Session, Transport};

/// What the runtime must do to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// All queued bytes are written: shut down the write side and keep reading until the peer
    /// closes (its bytes go to [`Shard::receive`](crate::Shard::receive) as usual, and are
    /// discarded).
    Shutdown(ConnId),
    /// Close the connection now and forget the id.
    Close(ConnId),
    /// The connection carries a request for a session of shard `shard`: move the socket
    /// there and give that shard `data` (the bytes read and not yet used) with
    /// [`Shard::adopt`](crate::Shard::adopt). This shard has forgotten the id.
    HandOver {
        /// The connection.
        conn: ConnId,
        /// The shard that owns the session.
        shard: usize,
        /// Bytes already read from the connection, from the start of the request.
        data: Bytes,
    },
}

/// Why an Engine.IO session ended, in the words of the Node server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client did not answer a ping in time.
    PingTimeout,
    /// The connection was closed, or the client sent the close packet.
    TransportClose,
    /// The connection failed (or the client broke the protocol: a second GET, a ping).
    TransportError,
    /// The client sent something that is not Engine.IO.
    ParseError,
    /// The server closed the session.
    ForcedClose,
}

impl CloseReason {
    /// The reason string of the Node server.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ServerShuttingDown => "server shutting down",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
        }
    }
}

/// A message received on a bare Engine.IO session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineMessage {
    /// A text message (valid UTF-8).
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl EngineMessage {
    /// The text, for a text message.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            EngineMessage::Text(b) => std::str::from_utf8(b).ok(),
            EngineMessage::Binary(_) => None,
        }
    }
}

/// What the Engine.IO layer tells the layer above.
#[derive(Debug)]
pub(crate) enum Event {
    /// A session opened (its open packet is queued).
    Opened(SessionId),
    /// A message of a session: text (UTF-8) or binary. It may come after the session closed
    /// (an earlier event closed it): check [`Engine::is_open`] before acting on it.
    Message {
        session: SessionId,
        data: Bytes,
        binary: bool,
    },
    /// A session ended. It is gone, or closing: it takes no more messages either way.
    Closed {
        session: SessionId,
        sid: Box<str>,
        reason: CloseReason,
    },
    /// A handshake waits for the application's async `allowRequest`: answer with
    /// [`Engine::decided`].
    Decide {
        conn: ConnId,
        request: Box<crate::wire::http::RequestHead>,
    },
}

/// What an engine deadline belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// A session's ping, pong, upgrade and close deadlines.
    Session(SessionId),
    /// A connection's lingering close.
    Linger(ConnId),
    /// A connection whose write stopped at a write end: the rest goes in the next write.
    Resume(ConnId),
}

/// One shard's Engine.IO server.
pub(crate) struct Engine {
    config: Arc<Config>,
    /// The Engine.IO path, with one trailing slash.
    path: Box<str>,
    hooks: Hooks,
    /// This shard's index and the number of shards (to route sessions to their owner).
    index: usize,
    count: usize,
    now: Instant,
    ids: IdGenerator,
    conns: Slots<ConnId, Conn>,
    sessions: Slots<SessionId, Session>,
    sids: HashMap<Box<str>, SessionId>,
    timers: Timers<Timer>,
    /// Connections with bytes to write.
    ready: Vec<ConnId>,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    /// Polling sessions with a held GET and packets to send.
    to_flush: Vec<SessionId>,
    /// Connections with pipelined input waiting for their turn.
    to_resume: Vec<ConnId>,
    /// Sessions whose send queue passed `max_send_buffer`.
    to_close: Vec<SessionId>,
    shutting_down: bool,
}

impl Engine {
    pub(crate) fn new(
        config: Arc<Config>,
        hooks: Hooks,
        (index, count): (usize, usize),
        now: Instant,
        ids: IdGenerator,
    ) -> Engine {
        Engine {
            path: config.normalized_path().into(),
            config,
            hooks,
            index,
            count,
            now,
            ids,
            conns: Slots::default(),
            sessions: Slots::default(),
            sids: HashMap::new(),
            timers: Timers::default(),
            ready: Vec::new(),
            actions: VecDeque::new(),
            events: VecDeque::new(),
            to_flush: Vec::new(),
            to_resume: Vec::new(),
            to_close: Vec::new(),
            shutting_down: false,
        }
    }

    /// Open connections and sessions.
    pub(crate) fn counts(&self) -> (usize, usize) {
        (self.conns.len(), self.sessions.len())
    }

    /// A new TCP connection from `peer`.
    pub(crate) fn accept(&mut self, now: Instant, peer: SocketAddr) -> ConnId {
        self.now = now;
        let id = self.conns.insert(Conn::new(peer));
        if self.shutting_down {
            self.close_conn(id, conn::AfterFlush::Close);
        }
        id
    }

    /// Bytes read from a connection.
    pub(crate) fn receive(&mut self, now: Instant, id: ConnId, data: &[u8]) {
        self.now = now;
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        if c.is_closing() {
            return;
        }
        c.rbuf.extend_from_slice(data);
        self.process(id);
        // An idle connection keeps no read buffer: what was read is parsed (messages are
        // views of it that live as long as the application keeps them), the rest is freed.
        if let Some(c) = self.conns.get_mut(id) {
            c.release_read_buffer();
        }
    }

    /// The connection ended (the peer closed it, or an I/O error).
    pub(crate) fn closed(&mut self, now: Instant, id: ConnId) {
        self.now = now;
        self.drop_conn(id);
    }

    /// Handles every engine deadline at or before `now`.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        while let Some(timer) = self.timers.pop_expired(now) {
            match timer {
                Timer::Session(si) => self.check_session_timers(si),
                Timer::Linger(ci) => {
                    if self.conns.get(ci).is_some_and(|c| c.lingered(now)) {
                        self.drop_conn(ci);
                    }
                }
                Timer::Resume(ci) => self.resume_writes(ci),
            }
        }
    }

    /// The earliest engine deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next event for the layer above.
    pub(crate) fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Finishes an input once its events are handled: answers held GETs, resumes pipelined
    /// requests, ends sessions over their send bound. True when this made more events.
    pub(crate) fn settle(&mut self) -> bool {
        loop {
            if let Some(si) = self.to_flush.pop() {
                if let Some(s) = self.sessions.get_mut(si) {
                    s.flush_pending = false;
                    self.flush_poll(si);
                }
                continue;
            }
            if let Some(ci) = self.to_resume.pop() {
                self.process(ci);
                continue;
            }
            if let Some(si) = self.to_close.pop() {
                if self.sessions.contains(si) {
                    // A reader too slow for what it is sent: Node has no bound here; corelay
                    // ends the session rather than grow without limit.
                    tracing::debug!("session over max_send_buffer, closing");
                    self.close_session(si, CloseReason::TransportError, false);
                }
                continue;
            }
            return !self.events.is_empty();
        }
    }

    /// A connection with bytes to write, if any.
    pub(crate) fn poll_transmit(&mut self) -> Option<ConnId> {
        while let Some(ci) = self.ready.pop() {
            if let Some(c) = self.conns.get_mut(ci) {
                c.ready = false;
                if c.has_writable() {
                    return Some(ci);
                }
            }
        }
        None
    }

    /// Fills `slices` with the chunks of the connection's next write, in order; how many.
    pub(crate) fn send_queue<'a>(&'a self, id: ConnId, slices: &mut [IoSlice<'a>]) -> usize {
        self.conns.get(id).map_or(0, |c| c.send_queue(slices))
    }

    /// Bytes queued on a connection.
    pub(crate) fn queued(&self, id: ConnId) -> usize {
        self.conns.get(id).map_or(0, |c| c.out_len)
    }

    /// `n` bytes of the connection's queue were written.
    pub(crate) fn advance(&mut self, id: ConnId, n: usize) {
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        if c.advance(n) {
            // A write end was reached: the rest waits for the next turn of the event loop.
            self.timers.schedule(self.now, Timer::Resume(id));
        }
        if let Some(after) = c.flushed() {
            self.flushed_close(id, after);
        }
    }

    /// Something for the runtime to do to a connection.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Closes every session (`ServerShuttingDown`) and idle connection; new connections are
    /// closed at once. Queued bytes are still written.
    pub(crate) fn shutdown(&mut self, now: Instant) {
        self.now = now;
        self.shutting_down = true;
        for si in self.sessions.keys_where(|_| true) {
            // No new request can come: a polling session without a held GET just ends.
            self.close_session(si, CloseReason::ServerShuttingDown, false);
        }
        for ci in self.conns.keys_where(Conn::is_idle) {
            self.close_conn(ci, conn::AfterFlush::Close);
        }
    }

    /// The request that opened a session.
    pub(crate) fn handshake(&self, si: SessionId) -> Option<&HandshakeData> {
        self.sessions.get(si).map(|s| &*s.handshake)
    }

    /// The id of a session.
    pub(crate) fn sid(&self, si: SessionId) -> Option<&str> {
        self.sessions.get(si).map(|s| &*s.sid)
    }

    /// Whether a session takes messages and packets (it exists and is not closing).
    pub(crate) fn is_open(&self, si: SessionId) -> bool {
        self.sessions.get(si).is_some_and(|s| !s.is_closing())
    }

    /// Whether a session's transport can take a packet now (Node's `transport.writable`):
    /// a polling GET is waiting, or the WebSocket has nothing queued.
    pub(crate) fn writable(&self, si: SessionId) -> bool {
        match self.sessions.get(si).filter(|s| !s.is_closing()) {
            Some(s) => match s.transport {
                Transport::Polling { get } => get.is_some(),
                Transport::Websocket { conn } => self.queued(conn) == 0,
            },
            None => false,
        }
    }
}
