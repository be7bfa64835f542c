//! A TCP connection: what is read from it (an HTTP request, a WebSocket), its send queue, and
//! how it ends (closed, shut down, or handed over to another shard).

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};

use super::{Action, CloseReason, Engine, Timer, Transport};
use crate::id::{ConnId, SessionId};
use crate::wire::http::{BodyDecoder, RequestHead};
use crate::wire::{ws, Decode};

/// How long a closing connection may take to flush and to hear the peer's end.
const LINGER: Duration = Duration::from_secs(5);

/// What a connection carries now.
pub(crate) enum ConnState {
    /// Reading an HTTP request head.
    Head,
    /// Reading a request body (of known length, or chunked).
    Body {
        head: Box<RequestHead>,
        decoder: BodyDecoder,
    },
    /// A long-polling GET waiting for packets; its head is kept for the `headers` hook only.
    Held {
        session: SessionId,
        keep_alive: bool,
        /// The headers of the `cors` setting for the answer.
        cors: Vec<(&'static str, String)>,
        head: Option<Box<RequestHead>>,
    },
    /// A WebSocket carrying a session (or probing to take one over, with `probe`); `None`
    /// once the session it carried has let it go.
    Ws {
        session: Option<SessionId>,
        decoder: ws::Decoder,
        probe: bool,
    },
    /// Waiting for its queue to be written before moving to another shard: input is kept.
    Moving,
    /// A handshake waiting for the application's async `allowRequest`: input is kept.
    Deciding {
        head: Box<RequestHead>,
        transport: crate::config::TransportKind,
    },
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

/// A TCP connection of the shard.
pub(crate) struct Conn {
    pub(crate) peer: SocketAddr,
    /// Read and not yet used (an idle connection holds no allocation here).
    pub(crate) rbuf: BytesMut,
    /// Chunks to write, and their total length.
    out: VecDeque<Bytes>,
    pub(crate) out_len: usize,
    /// Listed in the engine's ready list.
    pub(crate) ready: bool,
    /// Chunks at the front of `out` that end the current write (a packet that must be written
    /// by itself); `parked` once they are written, until the next turn of the event loop.
    write_end: Option<usize>,
    parked: bool,
    pub(crate) state: ConnState,
    after_flush: Option<AfterFlush>,
    linger_until: Option<Instant>,
}

impl Conn {
    pub(crate) fn new(peer: SocketAddr) -> Conn {
        Conn {
            peer,
            rbuf: BytesMut::new(),
            out: VecDeque::new(),
            out_len: 0,
            ready: false,
            write_end: None,
            parked: false,
            state: ConnState::Head,
            after_flush: None,
            linger_until: None,
        }
    }

    pub(crate) fn is_closing(&self) -> bool {
        matches!(self.state, ConnState::Closing)
    }

    /// Between requests, nothing read.
    pub(crate) fn is_idle(&self) -> bool {
        matches!(self.state, ConnState::Head) && self.rbuf.is_empty()
    }

    /// Frees the read buffer when everything read was used.
    pub(crate) fn release_read_buffer(&mut self) {
        if self.rbuf.is_empty() && self.rbuf.capacity() > 0 {
            self.rbuf = BytesMut::new();
        }
    }

    /// Whether its lingering close is over.
    pub(crate) fn lingered(&self, now: Instant) -> bool {
        self.linger_until.is_some_and(|t| t <= now)
    }

    /// Whether there is something to write now.
    pub(crate) fn has_writable(&self) -> bool {
        !self.out.is_empty() && !self.parked
    }

    /// Lends the chunks of the next write.
    pub(crate) fn send_queue<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        if self.parked {
            return 0;
        }
        let limit = self.write_end.unwrap_or(usize::MAX);
        let mut n = 0;
        for (slot, chunk) in slices.iter_mut().zip(self.out.iter().take(limit)) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// `n` bytes were written; true when a write end was reached with more left to write.
    pub(crate) fn advance(&mut self, mut n: usize) -> bool {
        self.out_len -= n.min(self.out_len);
        let mut popped = 0;
        while n > 0 {
            let Some(front) = self.out.front_mut() else {
                break;
            };
            if front.len() <= n {
                n -= front.len();
                self.out.pop_front();
                popped += 1;
            } else {
                front.advance(n);
                n = 0;
            }
        }
        match self.write_end {
            Some(end) if end <= popped => {
                self.write_end = None;
                self.parked = !self.out.is_empty();
                self.parked
            }
            Some(end) => {
                self.write_end = Some(end - popped);
                false
            }
            None => false,
        }
    }

    /// What to do now that the queue is empty, if anything.
    pub(crate) fn flushed(&mut self) -> Option<AfterFlush> {
        if self.out.is_empty() {
            self.after_flush.take()
        } else {
            None
        }
    }
}

impl Engine {
    /// Queues bytes on a connection; the bytes now queued there.
    pub(super) fn push_out(&mut self, ci: ConnId, bytes: Bytes) -> usize {
        let Some(c) = self.conns.get_mut(ci) else {
            return 0;
        };
        if c.is_closing() && c.after_flush.is_none() && c.out.is_empty() {
            return 0;
        }
        c.out_len += bytes.len();
        c.out.push_back(bytes);
        if !c.ready && !c.parked {
            c.ready = true;
            self.ready.push(ci);
        }
        c.out_len
    }

    /// What is queued on a connection so far ends a write: what comes after goes in the next
    /// one, at the next turn of the event loop.
    pub(super) fn end_write(&mut self, ci: ConnId) {
        if let Some(c) = self.conns.get_mut(ci) {
            if c.write_end.is_none() && !c.out.is_empty() {
                c.write_end = Some(c.out.len());
            }
        }
    }

    /// The next turn after a write end: the rest of the queue may be written.
    pub(super) fn resume_writes(&mut self, ci: ConnId) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        if !c.parked {
            return;
        }
        c.parked = false;
        if !c.out.is_empty() && !c.ready {
            c.ready = true;
            self.ready.push(ci);
        }
    }

    /// Runs the state machine of a connection over its buffered input.
    pub(super) fn process(&mut self, ci: ConnId) {
        loop {
            let Some(c) = self.conns.get_mut(ci) else {
                return;
            };
            match &mut c.state {
                ConnState::Head => {
                    if c.rbuf.is_empty() || !self.read_head(ci) {
                        return;
                    }
                }
                ConnState::Body { .. } => {
                    if !self.read_body(ci) {
                        return;
                    }
                }
                ConnState::Held { .. } | ConnState::Moving | ConnState::Deciding { .. } => {
                    // A pipelined request waits for the held answer; keep it bounded.
                    let limit = self.config.max_header_size + self.config.max_http_buffer_size;
                    if c.rbuf.len() > limit {
                        self.drop_conn(ci);
                    }
                    return;
                }
                ConnState::Ws { decoder, .. } => match decoder.decode(&mut c.rbuf) {
                    Ok(Some(msg)) => self.ws_message(ci, msg),
                    Ok(None) => return,
                    Err(e) => {
                        self.ws_failed(ci, e.close_code(), CloseReason::TransportError);
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
    pub(super) fn drop_conn(&mut self, ci: ConnId) {
        let Some(c) = self.conns.get(ci) else {
            return;
        };
        match c.state {
            ConnState::Held { session, .. } => {
                if let Some(s) = self.sessions.get_mut(session) {
                    if let Transport::Polling { get } = &mut s.transport {
                        if *get == Some(ci) {
                            *get = None;
                        }
                    }
                }
            }
            ConnState::Ws {
                session: Some(session),
                probe,
                ..
            } => {
                if probe {
                    if let Some(s) = self.sessions.get_mut(session) {
                        s.cancel_upgrade(ci);
                    }
                } else if self.detach_ws(session, ci) {
                    self.close_session(session, CloseReason::TransportClose, false);
                }
            }
            _ => {}
        }
        // POST bodies in flight belong to no session until complete, nothing else to do.
        self.conns.remove(ci);
        self.actions.push_back(Action::Close(ci));
    }

    /// Closes a connection once its queue is written: `Shutdown` lingers for the peer's end.
    pub(super) fn close_conn(&mut self, ci: ConnId, how: AfterFlush) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        c.state = ConnState::Closing;
        c.rbuf = BytesMut::new();
        if c.linger_until.is_none() {
            let at = self.now + LINGER;
            c.linger_until = Some(at);
            self.timers.schedule(at, Timer::Linger(ci));
        }
        if c.out.is_empty() {
            self.flushed_close(ci, how);
        } else {
            c.after_flush = Some(how);
        }
    }

    pub(super) fn flushed_close(&mut self, ci: ConnId, how: AfterFlush) {
        match how {
            AfterFlush::Shutdown => self.actions.push_back(Action::Shutdown(ci)),
            AfterFlush::Close => {
                self.conns.remove(ci);
                self.actions.push_back(Action::Close(ci));
            }
            AfterFlush::HandOver(shard) => {
                if let Some(c) = self.conns.remove(ci) {
                    self.actions.push_back(Action::HandOver {
                        conn: ci,
                        shard,
                        data: c.rbuf.freeze(),
                    });
                }
            }
        }
    }

    /// Gives a connection, with everything read from it, to the shard that owns its session,
    /// once what it already owes its client (an earlier response) is written.
    pub(super) fn hand_over(&mut self, ci: ConnId, shard: usize) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        if c.out.is_empty() {
            self.flushed_close(ci, AfterFlush::HandOver(shard));
        } else {
            c.state = ConnState::Moving;
            c.after_flush = Some(AfterFlush::HandOver(shard));
        }
    }
}
