//! HTTP requests: routing (the application's own pages, CORS preflights, Engine.IO), the
//! Engine.IO handshake and its error answers, long-polling, and the WebSocket upgrade.

use std::borrow::Cow;

use bytes::{Bytes, BytesMut};

use super::conn::{AfterFlush, ConnState};
use super::hooks::EngineError;
use super::{
    ConnectionError, ConnectionErrorContext, Engine, Event, OutPacket, ResponseHeaders, Transport,
};
use crate::config::TransportKind;
use crate::id::{ConnId, SessionId};
use crate::wire::http::{self, HeadLimits, Method, ParsedHead, RequestHead};
use crate::wire::{eio, ws, Decode};

/// A response for a request outside the server's path.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: String,
    /// Body.
    pub body: Bytes,
}

/// What a request asks of the Engine.IO server, once verified: a new session, or a session's,
/// over the transport it names.
#[derive(Clone, Copy)]
enum Route {
    Handshake(TransportKind),
    Session(SessionId, TransportKind),
}

impl Engine {
    /// Parses a request head; false when more bytes are needed or the connection is done.
    pub(super) fn read_head(&mut self, ci: ConnId) -> bool {
        let cfg = &self.config;
        let limits = HeadLimits {
            max_head_bytes: cfg.max_header_size,
            max_headers: cfg.max_headers,
        };
        let c = &mut self.conns[ci];
        match http::HeadDecoder::new(limits).decode(&mut c.rbuf) {
            Ok(None) => false,
            Err(e) => {
                self.respond_plain(ci, e.status(), false);
                false
            }
            Ok(Some(ParsedHead { head, mut raw })) => {
                if let Some(owner) = self.owner_elsewhere(&head) {
                    // The owner reads the request from its first byte: the head goes back in
                    // front of the rest (contiguous, so without copying).
                    let c = &mut self.conns[ci];
                    raw.unsplit(std::mem::take(&mut c.rbuf));
                    c.rbuf = raw;
                    self.hand_over(ci, owner);
                    return false;
                }
                self.start_request(ci, Box::new(head));
                true
            }
        }
    }

    /// The other shard that owns the session a request names, if any.
    fn owner_elsewhere(&self, head: &RequestHead) -> Option<usize> {
        if self.count < 2 || !head.path.starts_with(&*self.path) {
            return None;
        }
        let sid = http::query_param(&head.query, "sid")?;
        let owner = crate::sid::shard_of(&sid)?;
        (owner != self.index && owner < self.count).then_some(owner)
    }

    /// Reads body bytes; false when more are needed.
    pub(super) fn read_body(&mut self, ci: ConnId) -> bool {
        let c = &mut self.conns[ci];
        let ConnState::Body { decoder, .. } = &mut c.state else {
            return true;
        };
        let body = match decoder.decode(&mut c.rbuf) {
            Ok(Some(body)) => body,
            Ok(None) => return false,
            Err(e) => {
                self.respond_plain(ci, e.status(), false);
                return false;
            }
        };
        let ConnState::Body { head, .. } = std::mem::replace(&mut c.state, ConnState::Head) else {
            unreachable!("checked above")
        };
        self.finish_request(ci, head, body);
        true
    }

    /// A complete head: start reading its body (none is a body of 0 bytes).
    fn start_request(&mut self, ci: ConnId, head: Box<RequestHead>) {
        let max = self.config.max_http_buffer_size;
        match http::BodyDecoder::new(&head, max) {
            Ok(decoder) => self.conns[ci].state = ConnState::Body { head, decoder },
            // Node answers 413 once the body passes the limit; the rest of it is not worth
            // reading.
            Err(e) => self.respond_plain(ci, e.status(), false),
        }
    }

    /// A complete request with its body.
    fn finish_request(&mut self, ci: ConnId, head: Box<RequestHead>, body: Bytes) {
        if !head.path.starts_with(&*self.path) {
            let answer = self.hooks.http.as_ref().and_then(|h| h(&head));
            match answer {
                Some(r) => {
                    let ct = r.content_type;
                    self.respond(
                        ci,
                        r.status,
                        &[("Content-Type", ct.as_str())],
                        &r.body,
                        head.keep_alive,
                        None,
                    );
                }
                None => self.respond(ci, 404, &[], b"", head.keep_alive, None),
            }
            return;
        }
        if self.preflight(ci, &head) {
            return;
        }
        let route = match self.verify(&head) {
            Ok(route) => route,
            Err(context) => return self.refuse(ci, &head, context),
        };
        if let (Route::Handshake(transport), true) = (route, self.hooks.allow_request_async) {
            // The application decides later (an async `allowRequest`): the connection keeps
            // what else it reads until then.
            let request = head.clone();
            self.conns[ci].state = ConnState::Deciding { head, transport };
            self.events.push_back(Event::Decide { conn: ci, request });
            return;
        }
        self.proceed(ci, head, body, route);
    }

    /// The application decided on a handshake parked for an async `allowRequest`: it goes
    /// on, or is refused with Node's "Forbidden" (and the message given, if any); then what
    /// the connection read meanwhile is processed.
    pub(crate) fn decided(&mut self, ci: ConnId, decision: Result<(), Option<String>>) {
        let Some(c) = self.conns.get_mut(ci) else {
            return;
        };
        let ConnState::Deciding { .. } = c.state else {
            return;
        };
        let ConnState::Deciding { head, transport } =
            std::mem::replace(&mut c.state, ConnState::Head)
        else {
            return;
        };
        match decision {
            Ok(()) => self.proceed(ci, head, Bytes::new(), Route::Handshake(transport)),
            Err(message) => {
                let context = ConnectionErrorContext::Forbidden { message };
                self.refuse(ci, &head, context);
            }
        }
        self.process(ci);
    }

    /// A verified request goes to its transport.
    fn proceed(&mut self, ci: ConnId, head: Box<RequestHead>, body: Bytes, route: Route) {
        if head.upgrade_websocket && !valid_upgrade(&head, &route) {
            // What `ws` refuses, and an upgrade to a transport that does not take one (the
            // Node server completes that handshake, then closes the socket): Node does not
            // report these.
            self.abort_upgrade(ci, "Bad request");
            return;
        }
        match route {
            Route::Handshake(transport) => {
                // Node reads the protocol revision once the transport is made, after `verify`
                // (and after `ws`).
                if http::query_param(&head.query, "EIO").as_deref() != Some("4") {
                    let context =
                        ConnectionErrorContext::UnsupportedProtocolVersion { protocol: 3 };
                    return self.refuse(ci, &head, context);
                }
                match transport {
                    TransportKind::Polling => self.polling_handshake(ci, &head),
                    TransportKind::Websocket => self.websocket_open(ci, &head, None),
                }
            }
            Route::Session(si, _) if head.upgrade_websocket => {
                self.websocket_open(ci, &head, Some(si))
            }
            Route::Session(si, _)
                if matches!(self.sessions[si].transport, Transport::Websocket { .. }) =>
            {
                // A plain request with `transport=websocket` for a session on a WebSocket: the
                // Node server never answers it; a 400 ends it here.
                self.respond(ci, 400, &[], b"", head.keep_alive, Some(&head))
            }
            Route::Session(si, _) => match head.method {
                Method::Get => self.poll_get(ci, si, head),
                Method::Post => self.poll_post(ci, si, &head, body),
                _ => self.respond(ci, 500, &[], b"", head.keep_alive, Some(&head)),
            },
        }
    }

    /// The checks of the Node server's `verify`, in its order; a refusal says what was wrong,
    /// as Node's `connection_error` does.
    fn verify(&self, head: &RequestHead) -> Result<Route, ConnectionErrorContext> {
        let cfg = &self.config;
        let name = http::query_param(&head.query, "transport");
        let known = name
            .as_deref()
            .and_then(TransportKind::from_name)
            .filter(|t| cfg.transports.contains(t));
        let Some(transport) = known else {
            let transport = name.map(Cow::into_owned);
            return Err(ConnectionErrorContext::UnknownTransport { transport });
        };
        if let Some(origin) = &head.origin {
            if !http::is_valid_header_value(origin) {
                let origin = origin.clone();
                return Err(ConnectionErrorContext::InvalidOrigin { origin });
            }
        }
        // Node's `if (sid)`: an empty `sid` is no sid.
        if let Some(sid) = http::query_param(&head.query, "sid").filter(|s| !s.is_empty()) {
            let Some(&si) = self.sids.get(sid.as_ref()) else {
                let sid = sid.into_owned();
                return Err(ConnectionErrorContext::UnknownSid { sid });
            };
            let previous_transport = match self.sessions[si].transport {
                Transport::Polling { .. } => TransportKind::Polling,
                Transport::Websocket { .. } => TransportKind::Websocket,
            };
            if !head.upgrade_websocket && previous_transport != transport {
                return Err(ConnectionErrorContext::TransportMismatch {
                    transport,
                    previous_transport,
                });
            }
            // Node's revision: 4 for `EIO=4`, 3 for anything else; every session here is a
            // revision 4 one.
            if http::query_param(&head.query, "EIO").as_deref() != Some("4") {
                return Err(ConnectionErrorContext::ProtocolMismatch {
                    protocol: 3,
                    previous_protocol: 4,
                });
            }
            return Ok(Route::Session(si, transport));
        }
        if head.method != Method::Get {
            let method = head.method;
            return Err(ConnectionErrorContext::BadHandshakeMethod { method });
        }
        if transport == TransportKind::Websocket && !head.upgrade_websocket {
            return Err(ConnectionErrorContext::TransportHandshakeError);
        }
        if let Some(allow) = &self.hooks.allow_request {
            if !allow(head) {
                return Err(ConnectionErrorContext::Forbidden { message: None });
            }
        }
        Ok(Route::Handshake(transport))
    }

    /// Refuses a request with one of Node's Engine.IO errors, reported to the
    /// `connection_error` hook: the JSON error, or for an upgrade a plain 400 with the
    /// message, and the socket closes.
    fn refuse(&mut self, ci: ConnId, head: &RequestHead, context: ConnectionErrorContext) {
        let error = context.error();
        // Node answers with the message an `allowRequest` refusal gave, if any.
        let message: Box<str> = match &context {
            ConnectionErrorContext::Forbidden {
                message: Some(message),
            } => message.as_str().into(),
            _ => error.message().into(),
        };
        if let Some(hook) = &self.hooks.connection_error {
            hook(&ConnectionError {
                req: head,
                address: self.conns[ci].peer,
                code: error as u8,
                message: error.message(),
                context,
            });
        }
        if head.upgrade_websocket {
            self.abort_upgrade(ci, &message);
        } else {
            self.engine_error(ci, head, error, &message);
        }
    }

    /// A new session over long-polling: the open packet is the answer.
    fn polling_handshake(&mut self, ci: ConnId, head: &RequestHead) {
        let peer = self.conns[ci].peer;
        let si = self.new_session(head, peer, Transport::Polling { get: None });
        let open = self.open_packet(si, self.config.allow_upgrades);
        let mut body = BytesMut::with_capacity(open.len() + 1);
        body.extend_from_slice(b"0");
        body.extend_from_slice(open.as_bytes());
        let cookie = self.cookie(si);
        let mut headers = vec![("Content-Type", "text/plain; charset=UTF-8")];
        headers.extend(cookie.as_deref().map(|c| ("Set-Cookie", c)));
        self.respond_hooked(ci, &headers, &body, head, true);
        self.events.push_back(Event::Opened(si));
    }

    /// A valid WebSocket request: a new session, or a probe to upgrade session `si`.
    fn websocket_open(&mut self, ci: ConnId, head: &RequestHead, si: Option<SessionId>) {
        let max = self.config.max_http_buffer_size;
        let (si, new) = match si {
            None => {
                let peer = self.conns[ci].peer;
                (
                    self.new_session(head, peer, Transport::Websocket { conn: ci }),
                    true,
                )
            }
            Some(si) => (si, false),
        };
        let accept = ws::accept_key(head.ws_key.as_deref().unwrap_or_default());
        // The `cors` package's headers, which Node keeps for the `101`; no cookie (Node's
        // WebSocket transport never emits the `headers` event that adds it).
        let cors = self.cors_headers(head);
        let extra: Vec<(&str, &str)> = cors.iter().map(|(k, v)| (*k, v.as_str())).collect();
        // Node's `ws` emits `headers` for every `101`, the engine `initial_headers` with it for
        // a handshake.
        let hooked = self.hooks.response_headers(&extra, head, new);
        let extra = hooked.as_ref().map_or(extra, ResponseHeaders::pairs);
        let mut out = BytesMut::new();
        ws::write_handshake_response(&mut out, &accept, &extra);
        self.push_out(ci, out.freeze());
        match new {
            true => {
                self.conns[ci].state = ConnState::Ws {
                    session: Some(si),
                    decoder: ws::Decoder::new(max),
                    probe: false,
                };
                let open = self.open_packet(si, false);
                let packet = OutPacket::text(eio::PacketType::Open, open.as_bytes());
                self.push_out(ci, packet.into_ws_frame());
                self.events.push_back(Event::Opened(si));
            }
            false => {
                self.conns[ci].state = ConnState::Ws {
                    session: Some(si),
                    decoder: ws::Decoder::new(max),
                    probe: true,
                };
                let s = &self.sessions[si];
                let refuse = !self.config.allow_upgrades
                    || s.upgrading.is_some()
                    || matches!(s.transport, Transport::Websocket { .. })
                    || s.is_closing();
                if refuse {
                    // The Node server completes the handshake, then closes the socket.
                    self.close_ws(ci, None);
                    return;
                }
                self.start_upgrade(si, ci);
            }
        }
    }

    /// The `Set-Cookie` value for a new session, when the `cookie` setting asks for one.
    fn cookie(&self, si: SessionId) -> Option<String> {
        let cookie = self.config.cookie.as_ref()?;
        Some(cookie.header(&self.sessions[si].sid))
    }

    /// Answers a preflight as the `cors` package does (when the setting allows its origin
    /// and does not pass preflights on); false when `head` goes on to the server.
    fn preflight(&mut self, ci: ConnId, head: &RequestHead) -> bool {
        let Some(cors) = &self.config.cors else {
            return false;
        };
        if head.method != Method::Options || cors.preflight_continue {
            return false;
        }
        let status = cors.options_success_status;
        let headers = self.cors_headers(head);
        if headers.is_empty() {
            return false;
        }
        if head.upgrade_websocket {
            // Node's stand-in response of an upgrade destroys the socket when it ends.
            self.close_conn(ci, AfterFlush::Shutdown);
        } else {
            self.answer(ci, status, &[], b"", head.keep_alive, &headers, None);
        }
        true
    }

    /// The headers of the `cors` setting for an answer to `head` (none without the setting,
    /// or for an origin it refuses outright).
    pub(super) fn cors_headers(&self, head: &RequestHead) -> Vec<(&'static str, String)> {
        let Some(cors) = &self.config.cors else {
            return Vec::new();
        };
        let preflight = head.method == Method::Options;
        // Node joins repeated headers with ", ".
        let requested: Vec<&str> = head.header_all("access-control-request-headers").collect();
        let requested = (!requested.is_empty()).then(|| requested.join(", "));
        cors.headers(preflight, head.origin.as_deref(), requested.as_deref())
            .unwrap_or_default()
    }

    /// An Engine.IO error: status 400 (403 for Forbidden) with the JSON body.
    fn engine_error(&mut self, ci: ConnId, head: &RequestHead, e: EngineError, message: &str) {
        let status = if e == EngineError::Forbidden {
            403
        } else {
            400
        };
        let body = eio::error_json(e as u8, message);
        self.respond(
            ci,
            status,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
            head.keep_alive,
            Some(head),
        );
    }

    /// A refused WebSocket upgrade: a plain 400 with the message, then the socket closes.
    fn abort_upgrade(&mut self, ci: ConnId, message: &str) {
        let mut out = BytesMut::new();
        http::write_response(
            &mut out,
            400,
            &[("Content-type", "text/html")],
            message.as_bytes(),
            false,
        );
        self.push_out(ci, out.freeze());
        self.close_conn(ci, AfterFlush::Shutdown);
    }

    /// An answer with no body and `Connection: close`, for requests that can not be read.
    pub(super) fn respond_plain(&mut self, ci: ConnId, status: u16, keep_alive: bool) {
        self.respond(ci, status, &[], b"", keep_alive, None);
    }

    /// Writes a whole answer, with the CORS headers for `request` (an Engine.IO request);
    /// closes the connection after it unless `keep_alive`.
    pub(super) fn respond(
        &mut self,
        ci: ConnId,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        keep_alive: bool,
        request: Option<&RequestHead>,
    ) {
        let cors = request.map(|h| self.cors_headers(h)).unwrap_or_default();
        self.answer(ci, status, headers, body, keep_alive, &cors, None);
    }

    /// Writes a `200` answer to an Engine.IO request `head`, as [`Engine::respond`] does,
    /// with what the header hooks make of its headers (`initial`: the answer opens a session).
    pub(super) fn respond_hooked(
        &mut self,
        ci: ConnId,
        headers: &[(&str, &str)],
        body: &[u8],
        head: &RequestHead,
        initial: bool,
    ) {
        let cors = self.cors_headers(head);
        let hooked = Some((head, initial));
        self.answer(ci, 200, headers, body, head.keep_alive, &cors, hooked);
    }

    /// Writes an answer with `headers` and the `cors` ones, passed through the header hooks
    /// when `hooked` names the request (and whether the answer opens a session).
    #[allow(clippy::too_many_arguments)]
    fn answer(
        &mut self,
        ci: ConnId,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        keep_alive: bool,
        cors: &[(&'static str, String)],
        hooked: Option<(&RequestHead, bool)>,
    ) {
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        all.extend(cors.iter().map(|(k, v)| (*k, v.as_str())));
        let changed =
            hooked.and_then(|(head, initial)| self.hooks.response_headers(&all, head, initial));
        let all = changed.as_ref().map_or(all, ResponseHeaders::pairs);
        self.write_answer(ci, status, &all, body, keep_alive);
    }

    /// Writes a whole answer with exactly these headers; closes the connection after it
    /// unless `keep_alive`.
    fn write_answer(
        &mut self,
        ci: ConnId,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        keep_alive: bool,
    ) {
        let mut out = BytesMut::with_capacity(160 + body.len());
        http::write_response(&mut out, status, headers, body, keep_alive);
        self.push_out(ci, out.freeze());
        if let Some(c) = self.conns.get_mut(ci) {
            if !matches!(c.state, ConnState::Closing) {
                c.state = ConnState::Head;
            }
        }
        if !keep_alive {
            self.close_conn(ci, AfterFlush::Shutdown);
        }
    }
}

/// Whether `ws` takes a WebSocket request (a GET with a well-formed key, version 13 or 8),
/// and its transport is one that upgrades.
fn valid_upgrade(head: &RequestHead, route: &Route) -> bool {
    let key_ok = head
        .ws_key
        .as_deref()
        .is_some_and(|k| k.len() == 24 && k.ends_with("=="));
    let version_ok = matches!(head.ws_version.as_deref(), Some("13") | Some("8"));
    let transport = match route {
        Route::Handshake(t) | Route::Session(_, t) => *t,
    };
    head.method == Method::Get && key_ok && version_ok && transport == TransportKind::Websocket
}
