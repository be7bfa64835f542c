//! A shard: one core's world of connections, sessions, sockets, rooms and timers.
//!
//! # Driving a shard
//!
//! A shard never does I/O and never reads the clock. The runtime shim feeds it:
//!
//! - [`Shard::accept`] for each new TCP connection, [`Shard::receive`] with the bytes read,
//!   [`Shard::closed`] when the peer went away or an I/O error ended the connection,
//! - [`Shard::handle_timeout`] when the instant of [`Shard::poll_timeout`] has come,
//!
//! and after each input it drains the outputs until they are empty:
//!
//! - [`Shard::poll_transmit`] names a connection with queued bytes; write
//!   [`Shard::send_queue`] (one vectored write), then report what was written with
//!   [`Shard::advance`]; a connection whose socket would block is retried when writable;
//! - [`Shard::poll_action`] says which connections to shut down or close;
//! - [`Shard::poll_timeout`] says when to call [`Shard::handle_timeout`] next.

mod engine;
mod http;
pub(crate) mod socketio;

use std::collections::{HashMap, VecDeque};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use slab::Slab;
use smallvec::SmallVec;

use crate::app::App;
use crate::engine::OutPacket;
use crate::payload::Args;
use crate::sid::IdGenerator;
use crate::socket::DisconnectReason;
use crate::timer::{Target, Timers};
use crate::wire::{http::RequestHead, sio, ws, Decode};

/// How long a closing connection may take to flush and to hear the peer's end.
const LINGER: Duration = Duration::from_secs(5);

/// A TCP connection of a shard. Ids of closed connections are never taken for new ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    index: u32,
    generation: u32,
}

/// What the shim must do to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// All queued bytes are written: shut down the write side and keep reading until the peer
    /// closes (its bytes go to [`Shard::receive`] as usual, and are discarded).
    Shutdown(ConnId),
    /// Close the connection now and forget the id.
    Close(ConnId),
    /// The connection carries a request for a session of shard `shard`: move the socket
    /// there and give that shard `data` (the bytes read and not yet used) with
    /// [`Shard::adopt`]. This shard has forgotten the id.
    HandOver {
        /// The connection.
        conn: ConnId,
        /// The shard that owns the session.
        shard: usize,
        /// Bytes already read from the connection, from the start of the request.
        data: Bytes,
    },
}

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

pub(crate) enum ConnState {
    /// Reading an HTTP request head.
    Head,
    /// Reading a request body (of known length, or chunked).
    Body {
        head: Box<RequestHead>,
        decoder: crate::wire::http::BodyDecoder,
    },
    /// A long-polling GET waiting for packets.
    Held {
        session: usize,
        keep_alive: bool,
        origin: Option<Box<str>>,
    },
    /// A WebSocket carrying a session, or probing to take one over.
    Ws {
        session: usize,
        decoder: ws::Decoder,
        probe: bool,
    },
    /// Waiting for its queue to be written before moving to another shard: input is kept.
    Moving,
    /// Closing: input is discarded.
    Closing,
}

/// What to do once a connection's queue is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterFlush {
    Shutdown,
    Close,
    /// Hand the connection to this shard.
    HandOver(usize),
}

pub(crate) struct Conn {
    pub(crate) generation: u32,
    pub(crate) peer: SocketAddr,
    pub(crate) rbuf: BytesMut,
    pub(crate) out: VecDeque<Bytes>,
    pub(crate) out_len: usize,
    pub(crate) ready: bool,
    pub(crate) state: ConnState,
    pub(crate) after_flush: Option<AfterFlush>,
    pub(crate) linger_until: Option<Instant>,
}

pub(crate) enum Transport {
    Polling {
        /// The held GET.
        get: Option<usize>,
    },
    Websocket {
        conn: usize,
    },
}

/// The request that opened a session, as the handlers may see it.
#[derive(Debug)]
pub(crate) struct HandshakeData {
    pub(crate) headers: crate::pairs::Pairs,
    pub(crate) query: crate::pairs::Pairs,
    pub(crate) address: SocketAddr,
}

pub(crate) struct PartialBinary {
    pub(crate) packet: sio::Packet,
    pub(crate) attachments: Vec<Bytes>,
}

pub(crate) struct Session {
    pub(crate) sid: Box<str>,
    pub(crate) transport: Transport,
    /// Packets waiting for a polling GET.
    pub(crate) queue: VecDeque<OutPacket>,
    pub(crate) queue_len: usize,
    /// The WebSocket probing to take over, and whether it has been probed.
    pub(crate) upgrading: Option<(usize, bool)>,
    pub(crate) ping_due: Option<Instant>,
    pub(crate) pong_deadline: Option<Instant>,
    pub(crate) upgrade_deadline: Option<Instant>,
    pub(crate) connect_deadline: Option<Instant>,
    /// Closing: the close packet is queued; the session ends once a GET takes it.
    pub(crate) close_deadline: Option<Instant>,
    pub(crate) handshake: Box<HandshakeData>,
    pub(crate) sockets: SmallVec<[(usize, usize); 2]>,
    pub(crate) partial: Option<Box<PartialBinary>>,
    /// Listed in `State::to_flush`.
    pub(crate) flush_pending: bool,
}

pub(crate) type AckCallback =
    Box<dyn FnOnce(&mut crate::socket::Socket<'_>, Result<Args, crate::socket::AckError>)>;

pub(crate) struct PendingAck {
    pub(crate) id: u64,
    pub(crate) deadline: Instant,
    pub(crate) callback: AckCallback,
}

pub(crate) struct SocketState {
    pub(crate) generation: u32,
    pub(crate) id: Box<str>,
    pub(crate) session: usize,
    pub(crate) ns: usize,
    pub(crate) auth: Bytes,
    /// Rooms joined, with the position of this socket in each room's member list.
    pub(crate) rooms: SmallVec<[(usize, u32); 2]>,
    /// Position in the namespace's member list.
    pub(crate) ns_pos: u32,
    pub(crate) stamp: u32,
    pub(crate) next_ack: u64,
    pub(crate) acks: Vec<PendingAck>,
    pub(crate) connected: bool,
}

pub(crate) struct Room {
    pub(crate) name: Box<str>,
    pub(crate) members: Vec<usize>,
}

#[derive(Default)]
pub(crate) struct NsState {
    pub(crate) members: Vec<usize>,
    pub(crate) rooms: Slab<Room>,
    pub(crate) room_index: HashMap<Box<str>, usize>,
}

/// Everything a shard owns but its application.
pub(crate) struct State {
    pub(crate) index: usize,
    /// Shards in the server (for routing sessions to their owner).
    pub(crate) count: usize,
    pub(crate) now: Instant,
    pub(crate) ids: IdGenerator,
    pub(crate) conns: Slab<Conn>,
    pub(crate) next_generation: u32,
    pub(crate) sessions: Slab<Session>,
    pub(crate) sids: HashMap<Box<str>, usize>,
    pub(crate) sockets: Slab<SocketState>,
    pub(crate) socket_ids: HashMap<Box<str>, usize>,
    pub(crate) namespaces: Vec<NsState>,
    pub(crate) timers: Timers,
    pub(crate) ready: Vec<usize>,
    pub(crate) actions: VecDeque<Action>,
    pub(crate) stamp: u32,
    pub(crate) shutting_down: bool,
    /// Sockets that left during this input, removed once no handler can see them.
    pub(crate) graveyard: Vec<usize>,
    /// Polling sessions with a held GET and packets to send: answered once the input is
    /// handled, so that every packet it produced goes in one response.
    pub(crate) to_flush: Vec<usize>,
    /// Connections with pipelined input waiting for their turn.
    pub(crate) to_resume: Vec<usize>,
    /// Messages for other shards.
    pub(crate) mesh_out: VecDeque<(crate::mesh::MeshTarget, crate::mesh::MeshMessage)>,
    /// Sessions whose send queue passed `max_send_buffer`: closed once the input is handled.
    pub(crate) to_close: Vec<(usize, Box<str>)>,
}

/// One core's Socket.IO server, fed bytes and time by a runtime shim.
pub struct Shard {
    pub(crate) app: Arc<App>,
    pub(crate) st: State,
    pub(crate) io: Option<crate::mesh::Io>,
}

impl std::fmt::Debug for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shard")
            .field("index", &self.st.index)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Shard {
    /// Shard `index` of `count`, serving `app`.
    pub fn new(app: Arc<App>, index: usize, count: usize, now: Instant) -> Shard {
        Self::with_ids(app, index, count, now, IdGenerator::new(index))
    }

    /// As [`Shard::new`], with ids from a seeded generator (for reproducible tests).
    pub fn with_seed(app: Arc<App>, index: usize, count: usize, now: Instant, seed: u64) -> Shard {
        Self::with_ids(app, index, count, now, IdGenerator::seeded(index, seed))
    }

    fn with_ids(
        app: Arc<App>,
        index: usize,
        count: usize,
        now: Instant,
        ids: IdGenerator,
    ) -> Shard {
        let namespaces = (0..app.namespace_count())
            .map(|_| NsState::default())
            .collect();
        Shard {
            app,
            io: None,
            st: State {
                index,
                count,
                now,
                ids,
                conns: Slab::new(),
                next_generation: 0,
                sessions: Slab::new(),
                sids: HashMap::new(),
                sockets: Slab::new(),
                socket_ids: HashMap::new(),
                namespaces,
                timers: Timers::default(),
                ready: Vec::new(),
                actions: VecDeque::new(),
                stamp: 0,
                shutting_down: false,
                graveyard: Vec::new(),
                to_flush: Vec::new(),
                to_resume: Vec::new(),
                to_close: Vec::new(),
                mesh_out: VecDeque::new(),
            },
        }
    }

    /// The application this shard serves.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Counts of connections, sessions and sockets.
    pub fn stats(&self) -> Stats {
        Stats {
            connections: self.st.conns.len(),
            sessions: self.st.sessions.len(),
            sockets: self.st.sockets.len(),
        }
    }

    /// A new TCP connection from `peer`.
    pub fn accept(&mut self, now: Instant, peer: SocketAddr) -> ConnId {
        self.st.now = now;
        let generation = self.st.next_generation;
        self.st.next_generation = generation.wrapping_add(1);
        let index = self.st.conns.insert(Conn {
            generation,
            peer,
            rbuf: BytesMut::new(),
            out: VecDeque::new(),
            out_len: 0,
            ready: false,
            state: ConnState::Head,
            after_flush: None,
            linger_until: None,
        });
        if self.st.shutting_down {
            self.st.close_conn(index, AfterFlush::Close);
        }
        ConnId {
            index: index as u32,
            generation,
        }
    }

    /// A connection handed over by another shard ([`Action::HandOver`]), with the bytes that
    /// shard had read from it.
    pub fn adopt(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) -> ConnId {
        let id = self.accept(now, peer);
        self.receive(now, id, data);
        id
    }

    /// A message from another shard or an [`crate::Io`] handle.
    pub fn handle_mesh(&mut self, now: Instant, message: crate::mesh::MeshMessage) {
        self.st.now = now;
        match message {
            crate::mesh::MeshMessage::Broadcast(b) => {
                if let Some(ns) = self.app.namespace_index(&b.nsp) {
                    self.broadcast_here(ns, &b, None);
                }
            }
        }
        self.settle();
    }

    /// A message for other shards, if any.
    pub fn poll_mesh(&mut self) -> Option<(crate::mesh::MeshTarget, crate::mesh::MeshMessage)> {
        self.st.mesh_out.pop_front()
    }

    /// Gives handlers an [`crate::Io`] handle ([`crate::Socket::io`]); the shim sets it.
    pub fn set_io(&mut self, io: crate::mesh::Io) {
        self.io = Some(io);
    }

    /// This shard's index.
    pub fn index(&self) -> usize {
        self.st.index
    }

    /// Bytes read from a connection.
    pub fn receive(&mut self, now: Instant, conn: ConnId, data: &[u8]) {
        self.st.now = now;
        let Some(ci) = self.st.live(conn) else { return };
        let c = &mut self.st.conns[ci];
        if matches!(c.state, ConnState::Closing) {
            return;
        }
        c.rbuf.extend_from_slice(data);
        self.process(ci);
        // An idle connection keeps no read buffer: what was read is parsed (messages are
        // views of it that live as long as the application keeps them), the rest is freed.
        if let Some(c) = self.st.conns.get_mut(ci) {
            if c.rbuf.is_empty() && c.rbuf.capacity() > 0 {
                c.rbuf = BytesMut::new();
            }
        }
        self.settle();
    }

    /// The connection ended (the peer closed it, or an I/O error). The shim then gets a
    /// [`Action::Close`] for it.
    pub fn closed(&mut self, now: Instant, conn: ConnId) {
        self.st.now = now;
        let Some(ci) = self.st.live(conn) else { return };
        self.drop_conn(ci);
        self.settle();
    }

    /// Handles every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.st.now = now;
        while let Some(target) = self.st.timers.pop_expired(now) {
            match target {
                Target::Session(si) => self.check_session_timers(si),
                Target::Socket(sk) => self.check_ack_timers(sk),
                Target::Conn(ci) => {
                    let expired = self
                        .st
                        .conns
                        .get(ci)
                        .and_then(|c| c.linger_until)
                        .is_some_and(|t| t <= now);
                    if expired {
                        self.drop_conn(ci);
                    }
                }
            }
        }
        self.settle();
    }

    /// When [`Shard::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.st.timers.next()
    }

    /// A connection with bytes to write, if any.
    pub fn poll_transmit(&mut self) -> Option<ConnId> {
        while let Some(ci) = self.st.ready.pop() {
            if let Some(c) = self.st.conns.get_mut(ci) {
                c.ready = false;
                if !c.out.is_empty() {
                    return Some(ConnId {
                        index: ci as u32,
                        generation: c.generation,
                    });
                }
            }
        }
        None
    }

    /// Fills `slices` with the connection's queued chunks, in order, and returns how many.
    pub fn send_queue<'a>(&'a self, conn: ConnId, slices: &mut [IoSlice<'a>]) -> usize {
        let Some(ci) = self.st.live(conn) else {
            return 0;
        };
        let c = &self.st.conns[ci];
        let mut n = 0;
        for (slot, chunk) in slices.iter_mut().zip(c.out.iter()) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// Bytes queued on a connection.
    pub fn queued(&self, conn: ConnId) -> usize {
        self.st.live(conn).map_or(0, |ci| self.st.conns[ci].out_len)
    }

    /// `n` bytes of the connection's queue were written.
    pub fn advance(&mut self, conn: ConnId, mut n: usize) {
        let Some(ci) = self.st.live(conn) else { return };
        let c = &mut self.st.conns[ci];
        c.out_len -= n.min(c.out_len);
        while n > 0 {
            let Some(front) = c.out.front_mut() else {
                break;
            };
            if front.len() <= n {
                n -= front.len();
                c.out.pop_front();
            } else {
                bytes::Buf::advance(front, n);
                n = 0;
            }
        }
        if c.out.is_empty() {
            if let Some(after) = c.after_flush.take() {
                self.st.flushed_close(ci, after);
            }
        }
    }

    /// Something for the shim to do to a connection.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.st.actions.pop_front()
    }

    /// Starts a graceful shutdown: every socket leaves with "server shutting down", every
    /// session is closed, queued bytes are flushed and connections closed. New connections
    /// are closed at once. Done when [`Shard::stats`] shows no connections.
    pub fn shutdown(&mut self, now: Instant) {
        self.st.now = now;
        self.st.shutting_down = true;
        let sessions: Vec<usize> = self.st.sessions.iter().map(|(k, _)| k).collect();
        for si in sessions {
            // No new request can come: a polling session without a held GET just ends.
            self.close_session(si, DisconnectReason::ServerShuttingDown, false);
        }
        let idle: Vec<usize> = self
            .st
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.state, ConnState::Head) && c.rbuf.is_empty())
            .map(|(k, _)| k)
            .collect();
        for ci in idle {
            self.st.close_conn(ci, AfterFlush::Close);
        }
        self.settle();
    }

    /// Finishes an input: answers held GETs, resumes pipelined requests, forgets sockets
    /// that left.
    fn settle(&mut self) {
        loop {
            if let Some(si) = self.st.to_flush.pop() {
                if let Some(s) = self.st.sessions.get_mut(si) {
                    s.flush_pending = false;
                    self.flush_poll(si);
                }
                continue;
            }
            if let Some(ci) = self.st.to_resume.pop() {
                self.process(ci);
                continue;
            }
            if let Some((si, sid)) = self.st.to_close.pop() {
                if self.st.sessions.get(si).is_none_or(|s| s.sid != sid) {
                    continue;
                }
                // A reader too slow for what it is sent: Node has no bound here; corelay ends
                // the session rather than grow without limit.
                tracing::debug!("session over max_send_buffer, closing");
                self.close_session(si, DisconnectReason::TransportError, false);
                continue;
            }
            break;
        }
        self.reap();
    }

    /// Runs the state machine of a connection over its buffered input.
    fn process(&mut self, ci: usize) {
        loop {
            let Some(c) = self.st.conns.get_mut(ci) else {
                return;
            };
            match &mut c.state {
                ConnState::Head => {
                    if c.rbuf.is_empty() {
                        return;
                    }
                    if !self.read_head(ci) {
                        return;
                    }
                }
                ConnState::Body { .. } => {
                    if !self.read_body(ci) {
                        return;
                    }
                }
                ConnState::Held { .. } | ConnState::Moving => {
                    // A pipelined request waits for the held answer; keep it bounded.
                    let limit =
                        self.app.config.max_header_size + self.app.config.max_http_buffer_size;
                    if c.rbuf.len() > limit {
                        self.drop_conn(ci);
                    }
                    return;
                }
                ConnState::Ws { decoder, .. } => match decoder.decode(&mut c.rbuf) {
                    Ok(Some(msg)) => self.ws_message(ci, msg),
                    Ok(None) => return,
                    Err(e) => {
                        let code = e.close_code();
                        self.ws_failed(ci, code, DisconnectReason::TransportError);
                        return;
                    }
                },
                ConnState::Closing => {
                    c.rbuf.clear();
                    return;
                }
            }
        }
    }

    /// Forgets a connection now, ending what it carried.
    fn drop_conn(&mut self, ci: usize) {
        let Some(c) = self.st.conns.get(ci) else {
            return;
        };
        let generation = c.generation;
        match c.state {
            ConnState::Held { session, .. } => {
                if let Some(s) = self.st.sessions.get_mut(session) {
                    if let Transport::Polling { get, .. } = &mut s.transport {
                        if *get == Some(ci) {
                            *get = None;
                        }
                    }
                }
            }
            ConnState::Ws { session, probe, .. } => {
                if probe {
                    if let Some(s) = self.st.sessions.get_mut(session) {
                        if s.upgrading.is_some_and(|(p, _)| p == ci) {
                            s.upgrading = None;
                            s.upgrade_deadline = None;
                        }
                    }
                } else if self.detach_ws(session, ci) {
                    self.close_session(session, DisconnectReason::TransportClose, false);
                }
            }
            _ => {}
        }
        // POST bodies in flight belong to no session until complete, nothing else to do.
        self.st.conns.remove(ci);
        self.st.actions.push_back(Action::Close(ConnId {
            index: ci as u32,
            generation,
        }));
    }
}

impl State {
    /// The slab index of a live connection id.
    pub(crate) fn live(&self, conn: ConnId) -> Option<usize> {
        let ci = conn.index as usize;
        match self.conns.get(ci) {
            Some(c) if c.generation == conn.generation => Some(ci),
            _ => None,
        }
    }

    /// Queues bytes on a connection.
    pub(crate) fn push_out(&mut self, ci: usize, bytes: Bytes) {
        push_out(&mut self.conns, &mut self.ready, ci, bytes);
    }

    /// Closes a connection once its queue is written: `Shutdown` lingers for the peer's end.
    pub(crate) fn close_conn(&mut self, ci: usize, how: AfterFlush) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        c.state = ConnState::Closing;
        c.rbuf = BytesMut::new();
        if c.linger_until.is_none() {
            let at = self.now + LINGER;
            c.linger_until = Some(at);
            self.timers.schedule(at, Target::Conn(ci));
        }
        if c.out.is_empty() {
            self.flushed_close(ci, how);
        } else {
            c.after_flush = Some(how);
        }
    }

    fn flushed_close(&mut self, ci: usize, how: AfterFlush) {
        let c = &self.conns[ci];
        let id = ConnId {
            index: ci as u32,
            generation: c.generation,
        };
        match how {
            AfterFlush::Shutdown => self.actions.push_back(Action::Shutdown(id)),
            AfterFlush::Close => {
                self.conns.remove(ci);
                self.actions.push_back(Action::Close(id));
            }
            AfterFlush::HandOver(shard) => {
                let c = self.conns.remove(ci);
                let data = c.rbuf.freeze();
                self.actions.push_back(Action::HandOver {
                    conn: id,
                    shard,
                    data,
                });
            }
        }
    }

    /// Gives a connection, with everything read from it, to the shard that owns its session,
    /// once what it already owes its client (an earlier response) is written.
    pub(crate) fn hand_over(&mut self, ci: usize, shard: usize) {
        let c = &mut self.conns[ci];
        if c.out.is_empty() {
            self.flushed_close(ci, AfterFlush::HandOver(shard));
        } else {
            c.state = ConnState::Moving;
            c.after_flush = Some(AfterFlush::HandOver(shard));
        }
    }
}

/// Queues bytes on a connection (a free function so that callers can hold other fields).
pub(crate) fn push_out(conns: &mut Slab<Conn>, ready: &mut Vec<usize>, ci: usize, bytes: Bytes) {
    let Some(c) = conns.get_mut(ci) else { return };
    if matches!(c.state, ConnState::Closing) && c.after_flush.is_none() && c.out.is_empty() {
        return;
    }
    c.out_len += bytes.len();
    c.out.push_back(bytes);
    if !c.ready {
        c.ready = true;
        ready.push(ci);
    }
}

#[cfg(test)]
mod tests;
