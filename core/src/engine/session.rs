//! Engine.IO sessions: open, heartbeat, the upgrade to WebSocket, packets in and out, close.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;

use super::conn::{AfterFlush, ConnState};
use super::{CloseReason, Engine, Event, OutPacket, Timer};
use crate::id::{ConnId, SessionId};
use crate::pairs::Pairs;
use crate::wire::eio::{self, Packet, PacketType};
use crate::wire::http::{self, RequestHead};
use crate::wire::ws::{self, Message};

/// The transport a session's packets go out on.
pub(crate) enum Transport {
    /// Long-polling, with the GET held for the next packets, if any.
    Polling { get: Option<ConnId> },
    /// A WebSocket connection.
    Websocket { conn: ConnId },
}

/// A WebSocket probing to take a polling session over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Upgrade {
    pub(crate) conn: ConnId,
    /// It sent `2probe` and got `3probe`.
    pub(crate) probed: bool,
}

/// The request that opened a session, as the handlers may see it.
#[derive(Debug)]
pub(crate) struct HandshakeData {
    pub(crate) headers: Pairs,
    pub(crate) query: Pairs,
    pub(crate) address: SocketAddr,
    /// The request target (path and query).
    pub(crate) url: Box<str>,
}

/// An Engine.IO session.
pub(crate) struct Session {
    pub(crate) sid: Box<str>,
    pub(crate) transport: Transport,
    /// Packets waiting for a polling GET, and the length of their payloads.
    pub(crate) queue: VecDeque<OutPacket>,
    pub(crate) queue_len: usize,
    pub(crate) upgrading: Option<Upgrade>,
    ping_due: Option<Instant>,
    pong_deadline: Option<Instant>,
    upgrade_deadline: Option<Instant>,
    /// Closing: the close packet is queued (or waits, see `close_after_queue`); the session
    /// ends once a GET takes it.
    close_deadline: Option<Instant>,
    /// Closing with packets queued: the close packet is queued once a GET has taken them, to
    /// leave in an answer of its own (as Node's engine.io waits for its buffer to drain).
    close_after_queue: bool,
    pub(crate) handshake: Box<HandshakeData>,
    /// Listed in the engine's `to_flush`.
    pub(crate) flush_pending: bool,
}

impl Session {
    /// Whether the server is closing it (waiting for a GET to take the close packet).
    pub(crate) fn is_closing(&self) -> bool {
        self.close_deadline.is_some()
    }

    /// Forgets the WebSocket probing to take the session over, if it is `conn`.
    pub(crate) fn cancel_upgrade(&mut self, conn: ConnId) {
        if self.upgrading.is_some_and(|u| u.conn == conn) {
            self.upgrading = None;
            self.upgrade_deadline = None;
        }
    }

    /// The earliest of its deadlines.
    fn next_deadline(&self) -> Option<Instant> {
        [
            self.ping_due,
            self.pong_deadline,
            self.upgrade_deadline,
            self.close_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Control packets, framed once.
fn control(ty: PacketType) -> OutPacket {
    OutPacket::text(ty, b"")
}

impl Engine {
    /// A new session; the caller sends the open packet, then reports [`Event::Opened`].
    pub(super) fn new_session(
        &mut self,
        head: &RequestHead,
        address: SocketAddr,
        transport: Transport,
    ) -> SessionId {
        let sid: Box<str> = self.ids.next_id().into();
        let session = Session {
            sid: sid.clone(),
            transport,
            queue: VecDeque::new(),
            queue_len: 0,
            upgrading: None,
            ping_due: Some(self.now + self.config.ping_interval),
            pong_deadline: None,
            upgrade_deadline: None,
            close_deadline: None,
            close_after_queue: false,
            handshake: Box::new(HandshakeData {
                headers: Pairs::new(head.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
                query: Pairs::new(
                    http::query_pairs(&head.query)
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                ),
                address,
                url: match head.query.is_empty() {
                    true => head.path.as_str().into(),
                    false => format!("{}?{}", head.path, head.query).into(),
                },
            }),
            flush_pending: false,
        };
        let si = self.sessions.insert(session);
        self.sids.insert(sid, si);
        self.arm_session(si);
        si
    }

    /// The open packet's JSON.
    pub(super) fn open_packet(&self, si: SessionId, upgrades: bool) -> String {
        let cfg = &self.config;
        let upgrades: &[&str] = if upgrades
            && cfg
                .transports
                .contains(&crate::config::TransportKind::Websocket)
        {
            &["websocket"]
        } else {
            &[]
        };
        eio::open_json(
            &self.sessions[si].sid,
            upgrades,
            cfg.ping_interval.as_millis() as u64,
            cfg.ping_timeout.as_millis() as u64,
            cfg.max_http_buffer_size as u64,
        )
    }

    /// Schedules the earliest deadline of a session.
    fn arm_session(&mut self, si: SessionId) {
        if let Some(at) = self.sessions.get(si).and_then(Session::next_deadline) {
            self.timers.schedule(at, Timer::Session(si));
        }
    }

    /// Handles a session's deadlines that have passed.
    pub(super) fn check_session_timers(&mut self, si: SessionId) {
        let now = self.now;
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        if s.close_deadline.is_some_and(|t| t <= now) {
            self.finish_close(si);
            return;
        }
        if s.pong_deadline.is_some_and(|t| t <= now) {
            self.close_session(si, CloseReason::PingTimeout, false);
            return;
        }
        if s.upgrade_deadline.is_some_and(|t| t <= now) {
            s.upgrade_deadline = None;
            if let Some(probe) = s.upgrading.take() {
                self.close_ws(probe.conn, None);
            }
        }
        let s = &mut self.sessions[si];
        if s.ping_due.is_some_and(|t| t <= now) {
            s.ping_due = None;
            s.pong_deadline = Some(now + self.config.ping_timeout);
            self.send(si, control(PacketType::Ping));
        }
        self.arm_session(si);
    }

    /// Sends one packet on the session's transport: straight to the WebSocket, or into the
    /// polling queue (the held GET, if any, is answered once the input is handled). A session
    /// whose queue passes `max_send_buffer` is closed once the input is handled. Every send,
    /// broadcasts included, goes through here.
    pub(crate) fn send(&mut self, si: SessionId, packet: OutPacket) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        let queued = match s.transport {
            Transport::Websocket { conn } => self.push_out(conn, packet.into_ws_frame()),
            Transport::Polling { get } => {
                s.queue_len += packet.payload_len();
                s.queue.push_back(packet);
                if get.is_some() && !s.flush_pending {
                    s.flush_pending = true;
                    self.to_flush.push(si);
                }
                s.queue_len
            }
        };
        if queued > self.config.max_send_buffer
            && !self.to_close.contains(&si)
            && self.sessions.get(si).is_some_and(|s| !s.is_closing())
        {
            self.to_close.push(si);
        }
    }

    /// Sends a packet that the client must receive in a write of its own (a WebSocket frame
    /// written by itself; what is sent after it goes in the next write). Node writes a
    /// Socket.IO CONNECT answer this way, and scripted clients reading one message per wait
    /// rely on it.
    pub(crate) fn send_alone(&mut self, si: SessionId, packet: OutPacket) {
        self.send(si, packet);
        if let Some(Transport::Websocket { conn }) = self.sessions.get(si).map(|s| &s.transport) {
            let conn = *conn;
            self.end_write(conn);
        }
    }

    /// Answers a held GET with a noop, so that a client upgrading can stop polling.
    pub(super) fn send_noop(&mut self, si: SessionId) {
        self.send(si, control(PacketType::Noop));
    }

    /// A packet from the client on the session's active transport (or, with `probe`, on the
    /// WebSocket probing to take it over).
    pub(super) fn engine_packet(&mut self, si: SessionId, packet: Packet, probe: Option<ConnId>) {
        if let Some(ci) = probe {
            self.probe_packet(si, ci, packet);
            return;
        }
        match packet {
            Packet::Pong(_) => {
                let now = self.now;
                let s = &mut self.sessions[si];
                if s.pong_deadline.take().is_some() {
                    s.ping_due = Some(now + self.config.ping_interval);
                    self.arm_session(si);
                }
            }
            Packet::Ping(_) => {
                // Protocol 4 servers ping; a client ping is an error.
                self.close_session(si, CloseReason::TransportError, false);
            }
            Packet::Close => {
                // Node answers a held GET with a noop (not the close packet) and forgets the
                // session: later requests with its id get "Session ID unknown".
                if matches!(
                    self.sessions[si].transport,
                    Transport::Polling { get: Some(_) }
                ) {
                    self.answer_held_alone(si, control(PacketType::Noop));
                }
                self.close_session(si, CloseReason::TransportClose, false);
            }
            Packet::Message(data) => self.message(si, data, false),
            Packet::BinaryMessage(data) => self.message(si, data, true),
            Packet::Open | Packet::Upgrade | Packet::Noop => {}
        }
    }

    /// A message for the layer above (which drops it if the session closed in the meantime:
    /// see [`Engine::is_open`]).
    fn message(&mut self, session: SessionId, data: Bytes, binary: bool) {
        self.events.push_back(Event::Message {
            session,
            data,
            binary,
        });
    }

    /// A WebSocket starts probing to take over a polling session.
    pub(super) fn start_upgrade(&mut self, si: SessionId, ci: ConnId) {
        let at = self.now + self.config.upgrade_timeout;
        let s = &mut self.sessions[si];
        s.upgrading = Some(Upgrade {
            conn: ci,
            probed: false,
        });
        s.upgrade_deadline = Some(at);
        self.arm_session(si);
    }

    fn probe_packet(&mut self, si: SessionId, ci: ConnId, packet: Packet) {
        match packet {
            Packet::Ping(data) if data.as_ref() == b"probe" => {
                let pong = OutPacket::text(PacketType::Pong, b"probe");
                self.push_out(ci, pong.into_ws_frame());
                let s = &mut self.sessions[si];
                if let Some(up) = &mut s.upgrading {
                    up.probed = true;
                }
                if matches!(s.transport, Transport::Polling { get: Some(_) }) {
                    self.send_noop(si);
                }
            }
            Packet::Upgrade => self.finish_upgrade(si, ci),
            _ => {
                // Anything else during the probe cancels the upgrade.
                self.sessions[si].cancel_upgrade(ci);
                self.close_ws(ci, None);
            }
        }
    }

    /// Answers the held GET of a session with `packet` alone; what is queued stays queued.
    fn answer_held_alone(&mut self, si: SessionId, packet: OutPacket) {
        let s = &mut self.sessions[si];
        let queued = std::mem::take(&mut s.queue);
        let queued_len = std::mem::take(&mut s.queue_len);
        s.queue.push_back(packet);
        self.flush_poll(si);
        let s = &mut self.sessions[si];
        s.queue = queued;
        s.queue_len = queued_len;
    }

    /// The client sent `5`: the WebSocket carries the session from now on.
    fn finish_upgrade(&mut self, si: SessionId, ci: ConnId) {
        if matches!(
            self.sessions[si].transport,
            Transport::Polling { get: Some(_) }
        ) {
            // The GET still held gets a lone noop; the queue moves to the WebSocket.
            self.answer_held_alone(si, control(PacketType::Noop));
        }
        let s = &mut self.sessions[si];
        s.upgrading = None;
        s.upgrade_deadline = None;
        s.transport = Transport::Websocket { conn: ci };
        s.queue_len = 0;
        let queued: Vec<OutPacket> = s.queue.drain(..).collect();
        let closing = s.is_closing();
        if let ConnState::Ws { probe, .. } = &mut self.conns[ci].state {
            *probe = false;
        }
        for p in queued {
            self.push_out(ci, p.into_ws_frame());
        }
        if closing {
            self.finish_close(si);
        }
    }

    /// A message (or control frame) from a WebSocket.
    pub(super) fn ws_message(&mut self, ci: ConnId, msg: Message) {
        let ConnState::Ws {
            session: Some(session),
            probe,
            ..
        } = self.conns[ci].state
        else {
            return;
        };
        let probe = probe.then_some(ci);
        let packet = match msg {
            Message::Ping(data) => {
                let frame = ws::encode_frame(ws::OpCode::Pong, &data);
                self.push_out(ci, frame);
                return;
            }
            Message::Pong(_) => return,
            Message::Close(code) => {
                let code = code.map(|(c, _)| c);
                if probe.is_none() && self.detach_ws(session, ci) {
                    self.close_session(session, CloseReason::TransportClose, false);
                }
                self.close_ws(ci, Some(code.unwrap_or(ws::close_code::NORMAL)));
                return;
            }
            Message::Text(text) => eio::decode_text(text),
            Message::Binary(data) => Ok(Packet::BinaryMessage(data)),
        };
        match packet {
            Ok(p) => {
                if self.sessions.contains(session) {
                    self.engine_packet(session, p, probe);
                }
            }
            Err(_) => {
                if probe.is_some() {
                    self.close_ws(ci, None);
                } else {
                    self.close_session(session, CloseReason::ParseError, false);
                }
            }
        }
    }

    /// A WebSocket protocol error: close it with `code`; the session it carried ends.
    pub(super) fn ws_failed(&mut self, ci: ConnId, code: u16, reason: CloseReason) {
        let ConnState::Ws {
            session: Some(session),
            probe,
            ..
        } = self.conns[ci].state
        else {
            self.close_ws(ci, Some(code));
            return;
        };
        if !probe {
            if self.detach_ws(session, ci) {
                self.close_session(session, reason, false);
            }
        } else if let Some(s) = self.sessions.get_mut(session) {
            s.cancel_upgrade(ci);
        }
        self.close_ws(ci, Some(code));
    }

    /// Detaches a WebSocket from the session it carries, so that closing the session does
    /// not write to it; false when it carried none.
    pub(super) fn detach_ws(&mut self, si: SessionId, ci: ConnId) -> bool {
        let carried = matches!(self.sessions.get(si),
            Some(Session { transport: Transport::Websocket { conn }, .. }) if *conn == ci);
        if carried {
            if let ConnState::Ws { session, .. } = &mut self.conns[ci].state {
                *session = None;
            }
        }
        carried
    }

    /// Sends a close frame (with `code`, or empty) and closes the WebSocket connection.
    pub(super) fn close_ws(&mut self, ci: ConnId, code: Option<u16>) {
        match self.conns.get(ci) {
            Some(c) if !c.is_closing() => {}
            _ => return,
        }
        let frame = match code {
            Some(code) => ws::encode_close(code, ""),
            None => ws::encode_frame(ws::OpCode::Close, b""),
        };
        self.push_out(ci, frame);
        self.close_conn(ci, AfterFlush::Shutdown);
    }

    /// Ends a session: the layer above hears [`Event::Closed`], the transport is closed. With
    /// `graceful` (a close the server chose), a polling session keeps its queued packets for
    /// the next GET and the close packet for the GET after them (the next one when nothing is
    /// queued), for at most `close_timeout`: a client reading the close packet in the answer
    /// that carries the last packets may act on the close first.
    pub(crate) fn close_session(&mut self, si: SessionId, reason: CloseReason, graceful: bool) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        if s.is_closing() {
            if !graceful {
                self.finish_close(si);
            }
            return;
        }
        self.events.push_back(Event::Closed {
            session: si,
            sid: s.sid.clone(),
            reason,
        });
        if let Some(probe) = s.upgrading.take() {
            s.upgrade_deadline = None;
            self.close_ws(probe.conn, None);
        }
        let s = &mut self.sessions[si];
        match s.transport {
            Transport::Websocket { conn } => {
                let carried = matches!(self.conns.get(conn),
                    Some(c) if matches!(c.state, ConnState::Ws { session: Some(s), .. } if s == si));
                if carried {
                    self.close_ws(conn, None);
                }
                self.remove_session(si);
            }
            Transport::Polling { get } => {
                if graceful || get.is_some() {
                    s.close_deadline = Some(self.now + self.config.close_timeout);
                    s.ping_due = None;
                    s.pong_deadline = None;
                    self.arm_session(si);
                    let s = &mut self.sessions[si];
                    if s.queue.is_empty() {
                        self.send(si, control(PacketType::Close));
                    } else {
                        s.close_after_queue = true;
                    }
                } else {
                    self.remove_session(si);
                }
            }
        }
    }

    /// A GET took the packets queued before the close: the close packet goes next.
    pub(super) fn queue_close_after_queue(&mut self, si: SessionId) {
        if let Some(s) = self.sessions.get_mut(si).filter(|s| s.close_after_queue) {
            s.close_after_queue = false;
            self.send(si, control(PacketType::Close));
        }
    }

    /// The close packet left with a GET (or the wait for one ended): forget the session.
    pub(super) fn finish_close(&mut self, si: SessionId) {
        // The wait ended before a GET took the queue: the close packet follows it anyway.
        self.queue_close_after_queue(si);
        let Some(s) = self.sessions.get(si) else {
            return;
        };
        if let Transport::Polling { get: Some(ci) } = s.transport {
            // Still held: answer it with what is queued (which ends with the close).
            if !s.queue.is_empty() {
                self.flush_poll(si);
                return;
            }
            self.close_conn(ci, AfterFlush::Close);
        }
        self.remove_session(si);
    }

    fn remove_session(&mut self, si: SessionId) {
        if let Some(s) = self.sessions.remove(si) {
            self.sids.remove(&s.sid);
        }
    }
}
