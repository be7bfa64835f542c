//! Engine.IO sessions: open, heartbeat, the upgrade to WebSocket, packets in and out, close.

use bytes::Bytes;

use super::{AfterFlush, ConnState, HandshakeData, Session, Shard, Transport};
use crate::app::Mode;
use crate::engine::OutPacket;
use crate::pairs::Pairs;
use crate::socket::DisconnectReason;
use crate::timer::Target;
use crate::wire::eio::{self, Packet, PacketType};
use crate::wire::http::{self, RequestHead};
use crate::wire::ws::{self, Message};

/// Control packets, framed once.
fn control(ty: PacketType) -> OutPacket {
    OutPacket::text(ty, b"")
}

impl Shard {
    /// A new session; the caller sends the open packet, then calls `session_opened`.
    pub(super) fn new_session(
        &mut self,
        head: &RequestHead,
        address: std::net::SocketAddr,
        transport: Transport,
    ) -> usize {
        let sid: Box<str> = self.st.ids.next_id().into();
        let cfg = &self.app.config;
        let now = self.st.now;
        let connect_deadline = match self.app.mode {
            Mode::SocketIo { .. } => Some(now + cfg.connect_timeout),
            Mode::Engine(_) => None,
        };
        let session = Session {
            sid: sid.clone(),
            transport,
            queue: Default::default(),
            queue_len: 0,
            upgrading: None,
            ping_due: Some(now + cfg.ping_interval),
            pong_deadline: None,
            upgrade_deadline: None,
            connect_deadline,
            close_deadline: None,
            handshake: Box::new(HandshakeData {
                headers: Pairs::new(head.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
                query: Pairs::new(
                    http::query_pairs(&head.query)
                        .iter()
                        .map(|(n, v)| (n.as_str(), v.as_str())),
                ),
                address,
            }),
            sockets: Default::default(),
            partial: None,
            flush_pending: false,
        };
        let si = self.st.sessions.insert(session);
        self.st.sids.insert(sid, si);
        self.arm_session(si);
        si
    }

    /// The open packet's JSON.
    pub(super) fn open_packet(&self, si: usize, upgrades: bool) -> String {
        let cfg = &self.app.config;
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
            &self.st.sessions[si].sid,
            upgrades,
            cfg.ping_interval.as_millis() as u64,
            cfg.ping_timeout.as_millis() as u64,
            cfg.max_http_buffer_size as u64,
        )
    }

    /// Runs the application's open hook of a bare Engine.IO session.
    pub(super) fn session_opened(&mut self, si: usize) {
        if let Mode::Engine(_) = self.app.mode {
            self.engine_app_open(si);
        }
    }

    /// Schedules the earliest deadline of a session.
    pub(super) fn arm_session(&mut self, si: usize) {
        let s = &self.st.sessions[si];
        let next = [
            s.ping_due,
            s.pong_deadline,
            s.upgrade_deadline,
            s.connect_deadline,
            s.close_deadline,
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(at) = next {
            self.st.timers.schedule(at, Target::Session(si));
        }
    }

    /// Handles a session's deadlines that have passed.
    pub(super) fn check_session_timers(&mut self, si: usize) {
        let now = self.st.now;
        let Some(s) = self.st.sessions.get_mut(si) else {
            return;
        };
        if s.close_deadline.is_some_and(|t| t <= now) {
            self.finish_close(si);
            return;
        }
        if s.pong_deadline.is_some_and(|t| t <= now) {
            self.close_session(si, DisconnectReason::PingTimeout, false);
            return;
        }
        if s.connect_deadline.is_some_and(|t| t <= now) {
            s.connect_deadline = None;
            // No namespace joined in time: the Node server closes the connection.
            self.close_session(si, DisconnectReason::ForcedServerClose, true);
            return;
        }
        if s.upgrade_deadline.is_some_and(|t| t <= now) {
            s.upgrade_deadline = None;
            if let Some((probe, _)) = s.upgrading.take() {
                self.close_ws(probe, None);
            }
        }
        let s = &mut self.st.sessions[si];
        if s.ping_due.is_some_and(|t| t <= now) {
            s.ping_due = None;
            s.pong_deadline = Some(now + self.app.config.ping_timeout);
            self.send_packet(si, control(PacketType::Ping));
        }
        if self.st.sessions.contains(si) {
            self.arm_session(si);
        }
    }

    /// Sends one packet on the session's transport.
    pub(crate) fn send_packet(&mut self, si: usize, packet: OutPacket) {
        self.st
            .sink(self.app.config.max_send_buffer)
            .send(si, packet);
    }

    /// Answers a held GET with a noop, so that a client upgrading can stop polling.
    pub(super) fn send_noop(&mut self, si: usize) {
        self.send_packet(si, control(PacketType::Noop));
    }

    /// A packet from the client on the session's active transport (or, with `probe`, on the
    /// WebSocket probing to take it over).
    pub(super) fn engine_packet(&mut self, si: usize, packet: Packet, probe: Option<usize>) {
        if let Some(ci) = probe {
            self.probe_packet(si, ci, packet);
            return;
        }
        match packet {
            Packet::Pong(_) => {
                let now = self.st.now;
                let s = &mut self.st.sessions[si];
                if s.pong_deadline.take().is_some() {
                    s.ping_due = Some(now + self.app.config.ping_interval);
                    self.arm_session(si);
                }
            }
            Packet::Ping(_) => {
                // Protocol 4 servers ping; a client ping is an error.
                self.close_session(si, DisconnectReason::TransportError, false);
            }
            Packet::Close => self.close_session(si, DisconnectReason::TransportClose, false),
            Packet::Message(text) => self.app_message(si, text, false),
            Packet::BinaryMessage(data) => self.app_message(si, data, true),
            Packet::Open | Packet::Upgrade | Packet::Noop => {}
        }
    }

    /// A message for the layer above Engine.IO.
    fn app_message(&mut self, si: usize, data: Bytes, binary: bool) {
        match self.app.mode {
            Mode::SocketIo { .. } => self.sio_message(si, data, binary),
            Mode::Engine(_) => self.engine_app_message(si, data, binary),
        }
    }

    /// A WebSocket starts probing to take over a polling session.
    pub(super) fn start_upgrade(&mut self, si: usize, ci: usize) {
        let at = self.st.now + self.app.config.upgrade_timeout;
        let s = &mut self.st.sessions[si];
        s.upgrading = Some((ci, false));
        s.upgrade_deadline = Some(at);
        self.arm_session(si);
    }

    fn probe_packet(&mut self, si: usize, ci: usize, packet: Packet) {
        match packet {
            Packet::Ping(data) if data.as_ref() == b"probe" => {
                let pong = OutPacket::text(PacketType::Pong, b"probe");
                self.st.push_out(ci, pong.ws_frame().clone());
                if let Some(up) = &mut self.st.sessions[si].upgrading {
                    up.1 = true;
                }
                let held = matches!(
                    self.st.sessions[si].transport,
                    Transport::Polling { get: Some(_), .. }
                );
                if held {
                    self.send_noop(si);
                }
            }
            Packet::Upgrade => self.finish_upgrade(si, ci),
            _ => {
                // Anything else during the probe cancels the upgrade.
                let s = &mut self.st.sessions[si];
                s.upgrading = None;
                s.upgrade_deadline = None;
                self.close_ws(ci, None);
            }
        }
    }

    /// The client sent `5`: the WebSocket carries the session from now on.
    fn finish_upgrade(&mut self, si: usize, ci: usize) {
        let held = match &self.st.sessions[si].transport {
            Transport::Polling { get, .. } => *get,
            Transport::Websocket { .. } => None,
        };
        if held.is_some() {
            // Answer the GET still held with a lone noop; the queue moves to the WebSocket.
            let s = &mut self.st.sessions[si];
            let queued = std::mem::take(&mut s.queue);
            s.queue.push_back(control(PacketType::Noop));
            self.flush_poll(si);
            self.st.sessions[si].queue = queued;
        }
        let s = &mut self.st.sessions[si];
        s.upgrading = None;
        s.upgrade_deadline = None;
        s.transport = Transport::Websocket { conn: ci };
        s.queue_len = 0;
        let queued: Vec<OutPacket> = s.queue.drain(..).collect();
        if let ConnState::Ws { probe, .. } = &mut self.st.conns[ci].state {
            *probe = false;
        }
        let closing = s.close_deadline.is_some();
        for p in queued {
            self.st.push_out(ci, p.ws_frame().clone());
        }
        if closing {
            self.finish_close(si);
        }
    }

    /// A message (or control frame) from a WebSocket.
    pub(super) fn ws_message(&mut self, ci: usize, msg: Message) {
        let ConnState::Ws { session, probe, .. } = self.st.conns[ci].state else {
            return;
        };
        let probe = probe.then_some(ci);
        let packet = match msg {
            Message::Ping(data) => {
                let frame = ws::encode_frame(ws::OpCode::Pong, &data);
                self.st.push_out(ci, frame);
                return;
            }
            Message::Pong(_) => return,
            Message::Close(code) => {
                let code = code.map(|(c, _)| c);
                if probe.is_none() && self.detach_ws(session, ci) {
                    self.close_session(session, DisconnectReason::TransportClose, false);
                }
                self.close_ws(ci, Some(code.unwrap_or(ws::close_code::NORMAL)));
                return;
            }
            Message::Text(text) => eio::decode_text(text),
            Message::Binary(data) => Ok(Packet::BinaryMessage(data)),
        };
        match packet {
            Ok(p) => {
                if self.st.sessions.contains(session) {
                    self.engine_packet(session, p, probe);
                }
            }
            Err(_) => {
                if probe.is_some() {
                    self.close_ws(ci, None);
                } else {
                    self.close_session(session, DisconnectReason::ParseError, false);
                }
            }
        }
    }

    /// A WebSocket protocol error: close it with `code`; the session it carried ends.
    pub(super) fn ws_failed(&mut self, ci: usize, code: u16, reason: DisconnectReason) {
        let ConnState::Ws { session, probe, .. } = self.st.conns[ci].state else {
            return;
        };
        if !probe {
            if self.detach_ws(session, ci) {
                self.close_session(session, reason, false);
            }
        } else if let Some(s) = self.st.sessions.get_mut(session) {
            s.upgrading = None;
            s.upgrade_deadline = None;
        }
        self.close_ws(ci, Some(code));
    }

    /// Detaches a WebSocket from the session it carries, so that closing the session does
    /// not write to it; false when it carried none.
    pub(super) fn detach_ws(&mut self, si: usize, ci: usize) -> bool {
        let carried = matches!(self.st.sessions.get(si),
            Some(Session { transport: Transport::Websocket { conn }, .. }) if *conn == ci);
        if carried {
            if let ConnState::Ws { session, .. } = &mut self.st.conns[ci].state {
                *session = usize::MAX;
            }
        }
        carried
    }

    /// Sends a close frame (with `code`, or empty) and closes the WebSocket connection.
    pub(super) fn close_ws(&mut self, ci: usize, code: Option<u16>) {
        let Some(c) = self.st.conns.get(ci) else {
            return;
        };
        if matches!(c.state, ConnState::Closing) {
            return;
        }
        let frame = match code {
            Some(code) => ws::encode_close(code, ""),
            None => ws::encode_frame(ws::OpCode::Close, b""),
        };
        self.st.push_out(ci, frame);
        self.st.close_conn(ci, AfterFlush::Shutdown);
    }

    /// Ends a session: its sockets leave with `reason`, its transport is closed. With
    /// `graceful` (a close the server chose), a polling session keeps its queued packets and
    /// the close packet for the next GET, for at most `close_timeout`.
    pub(crate) fn close_session(&mut self, si: usize, reason: DisconnectReason, graceful: bool) {
        let Some(s) = self.st.sessions.get(si) else {
            return;
        };
        if s.close_deadline.is_some() {
            if !graceful {
                self.finish_close(si);
            }
            return;
        }
        self.sio_session_closed(si, reason);
        if let Mode::Engine(_) = self.app.mode {
            self.engine_app_close(si, reason);
        }
        let Some(s) = self.st.sessions.get_mut(si) else {
            return;
        };
        if let Some((probe, _)) = s.upgrading.take() {
            self.close_ws(probe, None);
        }
        let s = &mut self.st.sessions[si];
        match s.transport {
            Transport::Websocket { conn } => {
                let alive = matches!(self.st.conns.get(conn),
                    Some(c) if matches!(c.state, ConnState::Ws { session, .. } if session == si));
                if alive {
                    self.close_ws(conn, None);
                }
                self.remove_session(si);
            }
            Transport::Polling { get, .. } => {
                if graceful || get.is_some() {
                    let at = self.st.now + self.app.config.close_timeout;
                    s.close_deadline = Some(at);
                    s.ping_due = None;
                    s.pong_deadline = None;
                    s.connect_deadline = None;
                    self.arm_session(si);
                    self.send_packet(si, control(PacketType::Close));
                } else {
                    self.remove_session(si);
                }
            }
        }
    }

    /// The close packet left with a GET (or the wait for one ended): forget the session.
    pub(super) fn finish_close(&mut self, si: usize) {
        if let Some(s) = self.st.sessions.get(si) {
            if let Transport::Polling { get: Some(ci), .. } = s.transport {
                // Still held: answer it with what is queued (which ends with the close).
                if !s.queue.is_empty() {
                    self.flush_poll(si);
                    return;
                }
                self.st.close_conn(ci, AfterFlush::Close);
            }
            self.remove_session(si);
        }
    }

    fn remove_session(&mut self, si: usize) {
        if let Some(s) = self.st.sessions.try_remove(si) {
            self.st.sids.remove(&s.sid);
        }
    }
}

impl super::State {
    /// The sending side of the state.
    pub(crate) fn sink(&mut self, limit: usize) -> Sink<'_> {
        Sink {
            sessions: &mut self.sessions,
            conns: &mut self.conns,
            ready: &mut self.ready,
            to_flush: &mut self.to_flush,
            to_close: &mut self.to_close,
            limit,
        }
    }
}

/// Where packets go: the parts of the shard state that sending touches, borrowed apart from
/// the rest so that a broadcast can walk rooms and sockets while it sends. Every send path,
/// broadcasts included, goes through [`Sink::send`].
pub(crate) struct Sink<'a> {
    pub(crate) sessions: &'a mut slab::Slab<Session>,
    pub(crate) conns: &'a mut slab::Slab<super::Conn>,
    pub(crate) ready: &'a mut Vec<usize>,
    pub(crate) to_flush: &'a mut Vec<usize>,
    pub(crate) to_close: &'a mut Vec<(usize, Box<str>)>,
    /// `max_send_buffer`.
    pub(crate) limit: usize,
}

impl Sink<'_> {
    /// Sends a packet on a session's transport: straight to the WebSocket, or into the polling
    /// queue (then the held GET, if any, is answered once the input is handled). A session
    /// whose queue passes the limit is closed once the input is handled.
    pub(crate) fn send(&mut self, si: usize, packet: OutPacket) {
        let Some(s) = self.sessions.get_mut(si) else {
            return;
        };
        let queued = match s.transport {
            Transport::Websocket { conn } => {
                super::push_out(self.conns, self.ready, conn, packet.ws_frame().clone());
                self.conns.get(conn).map_or(0, |c| c.out_len)
            }
            Transport::Polling { get, .. } => {
                s.queue_len += packet.payload_len();
                s.queue.push_back(packet);
                if get.is_some() && !s.flush_pending {
                    s.flush_pending = true;
                    self.to_flush.push(si);
                }
                s.queue_len
            }
        };
        if queued > self.limit
            && s.close_deadline.is_none()
            && !self.to_close.iter().any(|(k, _)| *k == si)
        {
            self.to_close.push((si, s.sid.clone()));
        }
    }
}
