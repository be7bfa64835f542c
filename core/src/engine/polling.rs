//! Long-polling: the held GET, the POST of packets, and the answer with every queued packet.

use bytes::{Bytes, BytesMut};

use super::conn::{AfterFlush, ConnState};
use super::{CloseReason, Engine, ResponseHeaders, Transport};
use crate::id::{ConnId, SessionId};
use crate::wire::eio;
use crate::wire::http::{self, RequestHead};

impl Engine {
    /// A long-polling GET: answered now when packets wait, else held.
    pub(super) fn poll_get(&mut self, ci: ConnId, si: SessionId, head: Box<RequestHead>) {
        // The `cors` package sets its headers when the request comes (an origin function is
        // asked once).
        let cors = self.cors_headers(&head);
        let s = &mut self.sessions[si];
        let Transport::Polling { get, .. } = &mut s.transport else {
            unreachable!("verify routes only polling sessions here")
        };
        if get.is_some() {
            // A second GET while one is held: Node answers 400 and closes the session.
            self.respond(ci, 400, &[], b"", head.keep_alive, Some(&head));
            self.close_session(si, CloseReason::TransportError, false);
            return;
        }
        *get = Some(ci);
        self.conns[ci].state = ConnState::Held {
            session: si,
            keep_alive: head.keep_alive,
            cors,
            head: self.hooks.headers.is_some().then_some(head),
        };
        let probed = s.upgrading.is_some_and(|u| u.probed);
        if !s.queue.is_empty() {
            self.flush_poll(si);
        } else if probed {
            self.send_noop(si);
        }
    }

    /// A long-polling POST: the body's packets go to the session; the answer is `ok`.
    pub(super) fn poll_post(&mut self, ci: ConnId, si: SessionId, head: &RequestHead, body: Bytes) {
        let keep_alive = head.keep_alive;
        let binary = head
            .content_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("application/octet-stream"));
        if binary {
            self.respond(ci, 400, &[], b"", keep_alive, Some(head));
            self.close_session(si, CloseReason::TransportError, false);
            return;
        }
        let mut packets = Vec::new();
        let max_packets = self.config.max_packets_per_payload;
        let decoded = eio::decode_payload(body, max_packets, &mut packets);
        self.respond_hooked(ci, &[("Content-Type", "text/html")], b"ok", head, false);
        for p in packets {
            if !self.sessions.contains(si) {
                return;
            }
            self.engine_packet(si, p, None);
        }
        if decoded.is_err() && self.sessions.contains(si) {
            self.close_session(si, CloseReason::ParseError, false);
        }
    }

    /// Answers the held GET of a session with every queued packet.
    pub(super) fn flush_poll(&mut self, si: SessionId) {
        let s = &mut self.sessions[si];
        let Transport::Polling { get, .. } = &mut s.transport else {
            return;
        };
        let Some(ci) = get.take() else { return };
        let mut chunks: Vec<Bytes> = Vec::with_capacity(s.queue.len() * 2);
        let mut len = 0;
        let mut closes = false;
        for (i, p) in s.queue.drain(..).enumerate() {
            if i > 0 {
                chunks.push(Bytes::from_static(&[eio::SEPARATOR]));
                len += 1;
            }
            let chunk = if p.is_binary() {
                let mut b = BytesMut::with_capacity(1 + p.payload_len().div_ceil(3) * 4);
                eio::write_base64_packet(&mut b, &p.payload());
                b.freeze()
            } else {
                let payload = p.payload();
                closes |= payload.as_ref() == b"1";
                payload
            };
            len += chunk.len();
            chunks.push(chunk);
        }
        s.queue_len = 0;
        let ConnState::Held {
            keep_alive,
            cors,
            head: request,
            ..
        } = std::mem::replace(&mut self.conns[ci].state, ConnState::Head)
        else {
            unreachable!("a session's GET is a held connection")
        };
        let mut head = BytesMut::with_capacity(256);
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", "text/plain; charset=UTF-8")];
        headers.extend(cors.iter().map(|(k, v)| (*k, v.as_str())));
        let hooked = request
            .as_deref()
            .and_then(|r| self.hooks.response_headers(&headers, r, false));
        let headers = hooked.as_ref().map_or(headers, ResponseHeaders::pairs);
        http::write_response_head(&mut head, 200, &headers, Some(len), keep_alive);
        self.push_out(ci, head.freeze());
        for chunk in chunks {
            self.push_out(ci, chunk);
        }
        if !keep_alive {
            self.close_conn(ci, AfterFlush::Shutdown);
        }
        if closes && self.sessions[si].is_closing() {
            self.finish_close(si);
        } else {
            self.queue_close_after_queue(si);
        }
        if keep_alive && self.conns.get(ci).is_some_and(|c| !c.rbuf.is_empty()) {
            self.to_resume.push(ci);
        }
    }
}
