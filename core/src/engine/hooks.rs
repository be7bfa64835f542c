//! The application's hooks on HTTP requests, as the Node engine.io server has them: its own
//! pages, `allowRequest`, and the `connection_error`, `initial_headers` and `headers` events.
//!
//! A hook is a plain synchronous function called on the shard's thread, in the middle of an
//! input: it must not block. Hooks see wire types ([`RequestHead`]) and the small types of this
//! module; they can not reach a session.
//!
//! - `connection_error` hears every request the Engine.IO server refuses with one of Node's
//!   error codes ([`ConnectionError`]), once per refusal, whatever the transport: the JSON
//!   answer of a polling request and the plain 400 of a WebSocket upgrade alike. Refusals that
//!   Node does not report there are not reported either: malformed or oversized requests,
//!   a WebSocket handshake that `ws` refuses (bad key or version, a transport that does not
//!   upgrade), an upgrade the session can not take (it is upgrading, upgraded or closing), a
//!   second long-polling GET, a binary POST.
//! - `initial_headers` adds headers to the answer that opens a session (the polling handshake's
//!   `200`, the `101` of a WebSocket handshake); then `headers` runs on it, and on every other
//!   Engine.IO answer: each polling GET and POST answered `200`, the `101` of an upgrade. Error
//!   answers run neither, as in Node. Both edit one [`ResponseHeaders`], which keeps only
//!   valid headers: a hook can not break the response it adds to.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::TransportKind;
use crate::wire::http::{self, Method, RequestHead};

use super::HttpResponse;

/// The application's answer to requests outside the Engine.IO path (`None`: 404).
pub(crate) type HttpHandler = Arc<dyn Fn(&RequestHead) -> Option<HttpResponse> + Send + Sync>;
/// Node's `allowRequest`: whether a handshake may open a session.
pub(crate) type AllowRequest = Arc<dyn Fn(&RequestHead) -> bool + Send + Sync>;
/// Node's `connection_error` listener.
pub(crate) type ConnectionErrorHook = Arc<dyn Fn(&ConnectionError<'_>) + Send + Sync>;
/// Node's `initial_headers` or `headers` listener.
pub(crate) type HeadersHook = Arc<dyn Fn(&mut ResponseHeaders, &RequestHead) + Send + Sync>;

/// The application's hooks on HTTP requests.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    /// Node's `allowRequest`: may a handshake open a session?
    pub(crate) allow_request: Option<AllowRequest>,
    /// Whether the application decides asynchronously (the shard holds the hook).
    pub(crate) allow_request_async: bool,
    /// Answers requests outside the Engine.IO path.
    pub(crate) http: Option<HttpHandler>,
    /// Hears every refusal with an Engine.IO error code.
    pub(crate) connection_error: Option<ConnectionErrorHook>,
    /// Adds headers to the answer that opens a session.
    pub(crate) initial_headers: Option<HeadersHook>,
    /// Adds headers to every Engine.IO answer that is not an error.
    pub(crate) headers: Option<HeadersHook>,
}

impl Hooks {
    /// Runs `initial_headers` (when `initial`: the answer opens a session), then `headers`, on
    /// the headers the server would write, `base`; `None` when no hook runs (write `base`).
    pub(crate) fn response_headers(
        &self,
        base: &[(&str, &str)],
        req: &RequestHead,
        initial: bool,
    ) -> Option<ResponseHeaders> {
        let initial_hook = self.initial_headers.as_ref().filter(|_| initial);
        if initial_hook.is_none() && self.headers.is_none() {
            return None;
        }
        let mut headers = ResponseHeaders {
            list: base
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        };
        if let Some(hook) = initial_hook {
            hook(&mut headers, req);
        }
        if let Some(hook) = &self.headers {
            hook(&mut headers, req);
        }
        Some(headers)
    }
}

/// A request the Engine.IO server refused, as Node's `connection_error` event reports it
/// (`io.engine.on("connection_error", err => …)`): the request, the error code and message of
/// the answer, and what exactly was wrong.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectionError<'a> {
    /// The request (`err.req`): method, path, query and headers.
    pub req: &'a RequestHead,
    /// The client's address (`err.req.socket.remoteAddress` in Node).
    pub address: SocketAddr,
    /// The Engine.IO error code (`err.code`), 0 to 5.
    pub code: u8,
    /// Node's message for the code (`err.message`): "Transport unknown", "Session ID
    /// unknown", "Bad handshake method", "Bad request", "Forbidden" or "Unsupported protocol
    /// version".
    pub message: &'static str,
    /// What was wrong (`err.context`).
    pub context: ConnectionErrorContext,
}

/// What was wrong with a refused request: the `context` of Node's `connection_error`, one
/// variant per object the Node server fills in. Each variant has one error code
/// ([`ConnectionErrorContext::code`]); those of code 3 ("Bad request") carry Node's `name`
/// ([`ConnectionErrorContext::name`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionErrorContext {
    /// Code 0, `{ transport }`: the `transport` query parameter (`None` when there is none)
    /// is not one of the `transports` setting.
    UnknownTransport {
        /// The `transport` query parameter.
        transport: Option<String>,
    },
    /// Code 3, `{ name: "INVALID_ORIGIN", origin }`: the `Origin` header holds a control
    /// character.
    InvalidOrigin {
        /// The `Origin` header.
        origin: String,
    },
    /// Code 1, `{ sid }`: no session has this id (it never did, or it ended).
    UnknownSid {
        /// The `sid` query parameter.
        sid: String,
    },
    /// Code 3, `{ name: "TRANSPORT_MISMATCH", transport, previousTransport }`: a request
    /// that is not an upgrade names another transport than the session's.
    TransportMismatch {
        /// The transport the request names.
        transport: TransportKind,
        /// The session's transport.
        previous_transport: TransportKind,
    },
    /// Code 3, `{ name: "PROTOCOL_MISMATCH", protocol, previousProtocol }`: a request for a
    /// session names another protocol revision than the session's (`EIO=4` is revision 4,
    /// anything else revision 3, as Node reads it).
    ProtocolMismatch {
        /// The request's revision.
        protocol: u8,
        /// The session's revision.
        previous_protocol: u8,
    },
    /// Code 2, `{ method }`: a handshake that is not a GET.
    BadHandshakeMethod {
        /// The request's method.
        method: Method,
    },
    /// Code 3, `{ name: "TRANSPORT_HANDSHAKE_ERROR" }`: a WebSocket handshake
    /// (`transport=websocket`, no `sid`) that is not an HTTP upgrade.
    TransportHandshakeError,
    /// Code 4, `{ message }`: `allow_request` refused the handshake.
    Forbidden {
        /// The refusal's message (Node's `allowRequest` may give one; corelay's
        /// `allow_request` gives none, so it is `None`).
        message: Option<String>,
    },
    /// Code 5, `{ protocol }`: a handshake for another revision than 4 (`EIO=4`).
    UnsupportedProtocolVersion {
        /// The revision asked for: 3, the revision Node reads from anything but `EIO=4`.
        protocol: u8,
    },
}

impl ConnectionErrorContext {
    /// The Engine.IO error code.
    pub fn code(&self) -> u8 {
        self.error() as u8
    }

    /// Node's message for the code.
    pub fn message(&self) -> &'static str {
        self.error().message()
    }

    /// Node's `context.name`, for the contexts that have one.
    pub fn name(&self) -> Option<&'static str> {
        match self {
            ConnectionErrorContext::InvalidOrigin { .. } => Some("INVALID_ORIGIN"),
            ConnectionErrorContext::TransportMismatch { .. } => Some("TRANSPORT_MISMATCH"),
            ConnectionErrorContext::ProtocolMismatch { .. } => Some("PROTOCOL_MISMATCH"),
            ConnectionErrorContext::TransportHandshakeError => Some("TRANSPORT_HANDSHAKE_ERROR"),
            _ => None,
        }
    }

    /// The Engine.IO error of the answer.
    pub(crate) fn error(&self) -> EngineError {
        match self {
            ConnectionErrorContext::UnknownTransport { .. } => EngineError::UnknownTransport,
            ConnectionErrorContext::UnknownSid { .. } => EngineError::UnknownSid,
            ConnectionErrorContext::BadHandshakeMethod { .. } => EngineError::BadHandshakeMethod,
            ConnectionErrorContext::InvalidOrigin { .. }
            | ConnectionErrorContext::TransportMismatch { .. }
            | ConnectionErrorContext::ProtocolMismatch { .. }
            | ConnectionErrorContext::TransportHandshakeError => EngineError::BadRequest,
            ConnectionErrorContext::Forbidden { .. } => EngineError::Forbidden,
            ConnectionErrorContext::UnsupportedProtocolVersion { .. } => {
                EngineError::UnsupportedProtocolVersion
            }
        }
    }
}

/// Engine.IO HTTP error codes and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineError {
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}

impl EngineError {
    /// Node's message.
    pub(crate) fn message(self) -> &'static str {
        match self {
            EngineError::UnknownTransport => "Transport unknown",
            EngineError::UnknownSid => "Session ID unknown",
            EngineError::BadHandshakeMethod => "Bad handshake method",
            EngineError::BadRequest => "Bad request",
            EngineError::Forbidden => "Forbidden",
            EngineError::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }
}

/// The headers of an Engine.IO answer that the `initial_headers` and `headers` hooks edit: the
/// headers object of Node's events. It holds the headers the server would write but those
/// that frame the answer (so a hook sees `Content-Type`, `Set-Cookie`, the CORS headers, and
/// may replace them), and only valid headers: a name that is not a token, a value with CR, LF
/// or another control character, or a name the server writes itself (`Content-Length`,
/// `Transfer-Encoding`, `Connection`, `Upgrade`, `Sec-WebSocket-*`) is dropped with a warning.
/// Names are matched ASCII case-insensitively, and written as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHeaders {
    list: Vec<(String, String)>,
}

impl ResponseHeaders {
    /// No headers.
    pub fn new() -> ResponseHeaders {
        ResponseHeaders::default()
    }

    /// Sets header `name` to `value`, in place of every header of that name
    /// (`headers[name] = value` in Node). False when the header is dropped (see
    /// [`ResponseHeaders`]); the headers are unchanged then.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> bool {
        let (name, value) = (name.into(), value.into());
        if !allowed(&name, &value) {
            return false;
        }
        // In place of the first of that name (the others before it keep their places).
        let at = self
            .list
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(&name));
        self.list.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.list
            .insert(at.unwrap_or(self.list.len()), (name, value));
        true
    }

    /// Adds a header after the others, keeping those of the same name (several
    /// `Set-Cookie`, as an array value in Node). False when it is dropped (see
    /// [`ResponseHeaders`]).
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) -> bool {
        let (name, value) = (name.into(), value.into());
        if !allowed(&name, &value) {
            return false;
        }
        self.list.push((name, value));
        true
    }

    /// Removes every header named `name`; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.list.len();
        self.list.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.list.len() != before
    }

    /// The value of the first header named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every header named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.list
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every header, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// How many headers.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The headers as the response writers take them.
    pub(crate) fn pairs(&self) -> Vec<(&str, &str)> {
        self.iter().collect()
    }
}

/// Whether a hook's header may go in an answer; warns when not.
fn allowed(name: &str, value: &str) -> bool {
    if !http::is_valid_header_name(name) {
        tracing::warn!(name = ?name, "a header hook's header has an invalid name: dropped");
        return false;
    }
    if !http::is_valid_header_value(value) {
        tracing::warn!(name, "a header hook's header has an invalid value: dropped");
        return false;
    }
    let framing = [
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
    ]
    .iter()
    .any(|f| name.eq_ignore_ascii_case(f))
        || name
            .get(..14)
            .is_some_and(|p| p.eq_ignore_ascii_case("sec-websocket-"));
    if framing {
        tracing::warn!(
            name,
            "a header hook can not set a header the server writes: dropped"
        );
        return false;
    }
    true
}
