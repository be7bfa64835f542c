//! Building an application: settings, namespaces and their handlers (Socket.IO), or the
//! handlers of a bare Engine.IO server.

use std::fmt;
use std::sync::Arc;

use super::{EngineSocket, Socket};
use crate::config::Config;
use crate::engine::{ConnectionError, EngineMessage, Hooks, HttpResponse, ResponseHeaders};
use crate::shard::{App, EngineHandlers, EventHandler, Mode, NamespaceHandlers};
use crate::socketio::{ConnectError, DisconnectReason, Event, Handshake};
use crate::wire::http::RequestHead;

impl App {
    /// A Socket.IO application.
    pub fn builder() -> AppBuilder {
        AppBuilder::new(Config::default(), SocketIoMode(Vec::new()))
    }

    /// A bare Engine.IO application (no Socket.IO layer), at `/engine.io/` unless the config
    /// says otherwise.
    pub fn engine() -> EngineBuilder {
        let config = Config {
            path: "/engine.io/".to_owned(),
            ..Config::default()
        };
        AppBuilder::new(config, EngineMode(EngineHandlers::default()))
    }
}

/// The handlers of one namespace, as `io.of(name)` registers them in Node.
pub struct Namespace(NamespaceHandlers);

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Namespace {
    /// Runs before a client joins: the first `Err` refuses it with a CONNECT_ERROR
    /// (`io.of(nsp).use(...)` in Node).
    pub fn middleware<F>(mut self, f: F) -> Self
    where
        F: Fn(&Handshake<'_>) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        self.0.middlewares.push(Arc::new(f));
        self
    }

    /// Runs when a socket has joined (`on("connection")`).
    pub fn on_connection<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>) + Send + Sync + 'static,
    {
        self.0.on_connection = Some(Arc::new(move |shard, id| f(&mut Socket::new(shard, id))));
        self
    }

    /// Runs for each event named `event` (`socket.on(event)`).
    pub fn on<F>(mut self, event: &str, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        let handler: EventHandler = Arc::new(move |shard, id, e| f(&mut Socket::new(shard, id), e));
        self.0.events.insert(event.to_owned(), handler);
        self
    }

    /// Runs for each event that has no handler of its own (`socket.onAny`, for unhandled
    /// names only).
    pub fn on_any<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.0.on_any = Some(Arc::new(move |shard, id, e| {
            f(&mut Socket::new(shard, id), e)
        }));
        self
    }

    /// Runs when a socket is about to leave, while its rooms are still visible.
    pub fn on_disconnecting<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        self.0.on_disconnecting = Some(Arc::new(move |shard, id, r| {
            f(&mut Socket::new(shard, id), r)
        }));
        self
    }

    /// Runs when a socket has left.
    pub fn on_disconnect<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        self.0.on_disconnect = Some(Arc::new(move |shard, id, r| {
            f(&mut Socket::new(shard, id), r)
        }));
        self
    }
}

/// Builds an [`App`]: the settings and HTTP hooks every application has, and the handlers of
/// its mode, Socket.IO ([`AppBuilder`], from [`App::builder`]) or bare Engine.IO
/// ([`EngineBuilder`], from [`App::engine`]).
pub struct AppBuilder<M = SocketIoMode> {
    config: Config,
    hooks: Hooks,
    mode: M,
}

/// Builds a bare Engine.IO [`App`].
pub type EngineBuilder = AppBuilder<EngineMode>;

/// The namespaces of a Socket.IO application being built.
#[derive(Debug)]
pub struct SocketIoMode(Vec<NamespaceHandlers>);

/// The handlers of a bare Engine.IO application being built.
pub struct EngineMode(EngineHandlers);

impl fmt::Debug for EngineMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EngineMode")
    }
}

impl<M: fmt::Debug> fmt::Debug for AppBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl<M> AppBuilder<M> {
    fn new(config: Config, mode: M) -> Self {
        AppBuilder {
            config,
            hooks: Hooks::default(),
            mode,
        }
    }

    /// Replaces the settings.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Changes the settings in place.
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Answers requests outside the server's path (a page, a script); `None` gives 404.
    pub fn http<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> Option<HttpResponse> + Send + Sync + 'static,
    {
        self.hooks.http = Some(Arc::new(f));
        self
    }

    /// Decides whether a handshake may open a session (`allowRequest` in Node): a refusal
    /// answers 403 `{"code":4,"message":"Forbidden"}` (a plain 400 for a WebSocket).
    pub fn allow_request<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> bool + Send + Sync + 'static,
    {
        self.hooks.allow_request = Some(Arc::new(f));
        self
    }

    /// Hears every request the Engine.IO server refuses with an error code, once per refusal
    /// (`io.engine.on("connection_error", …)` in Node): an unknown transport or session id, a
    /// handshake that is not a GET, a bad request, an `allow_request` refusal, an unsupported
    /// protocol revision, over polling or WebSocket alike; see [`ConnectionError`]. Refusals
    /// that Node does not report there (a malformed request, a WebSocket handshake that `ws`
    /// refuses) are not reported. Runs on the shard's thread: it must not block. A second call
    /// replaces the first hook.
    pub fn on_connection_error<F>(mut self, f: F) -> Self
    where
        F: Fn(&ConnectionError<'_>) + Send + Sync + 'static,
    {
        self.hooks.connection_error = Some(Arc::new(f));
        self
    }

    /// Adds headers to the answer that opens a session: the polling handshake's `200` and the
    /// `101` of a WebSocket handshake (`io.engine.on("initial_headers", …)` in Node). It runs
    /// before the [`headers`](AppBuilder::on_headers) hook, on the same [`ResponseHeaders`]
    /// (invalid headers are dropped). A second call replaces the first hook.
    pub fn on_initial_headers<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut ResponseHeaders, &RequestHead) + Send + Sync + 'static,
    {
        self.hooks.initial_headers = Some(Arc::new(f));
        self
    }

    /// Adds headers to every Engine.IO answer that is not an error: each polling GET and POST
    /// answered `200` (the handshake's included) and each WebSocket `101`, of a handshake or an
    /// upgrade (`io.engine.on("headers", …)` in Node); see [`ResponseHeaders`] (invalid headers
    /// are dropped). A second call replaces the first hook.
    pub fn on_headers<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut ResponseHeaders, &RequestHead) + Send + Sync + 'static,
    {
        self.hooks.headers = Some(Arc::new(f));
        self
    }

    fn finish(self, mode: Mode) -> Arc<App> {
        Arc::new(App {
            config: Arc::new(self.config),
            hooks: self.hooks,
            mode,
        })
    }
}

impl AppBuilder<SocketIoMode> {
    /// Adds a namespace (`io.of(name)`); `f` registers its handlers.
    pub fn namespace(mut self, name: &str, f: impl FnOnce(Namespace) -> Namespace) -> Self {
        let ns = f(Namespace(NamespaceHandlers {
            name: name.to_owned(),
            ..NamespaceHandlers::default()
        }));
        let namespaces = &mut self.mode.0;
        namespaces.retain(|n| n.name != name);
        namespaces.push(ns.0);
        self
    }

    /// The application, ready to hand to a runtime.
    pub fn build(mut self) -> Arc<App> {
        let namespaces = std::mem::take(&mut self.mode.0);
        self.finish(Mode::SocketIo(namespaces))
    }
}

impl AppBuilder<EngineMode> {
    /// Runs when a session opens.
    pub fn on_connection<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut EngineSocket<'_>) + Send + Sync + 'static,
    {
        self.mode.0.on_connection = Some(Arc::new(move |shard, si| {
            f(&mut EngineSocket::new(shard, si))
        }));
        self
    }

    /// Runs for each message.
    pub fn on_message<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut EngineSocket<'_>, EngineMessage) + Send + Sync + 'static,
    {
        self.mode.0.on_message = Some(Arc::new(move |shard, si, m| {
            f(&mut EngineSocket::new(shard, si), m)
        }));
        self
    }

    /// Runs when a session closes, with its id.
    pub fn on_close<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, DisconnectReason) + Send + Sync + 'static,
    {
        self.mode.0.on_close = Some(Arc::new(f));
        self
    }

    /// The application.
    pub fn build(mut self) -> Arc<App> {
        let handlers = std::mem::take(&mut self.mode.0);
        self.finish(Mode::Engine(handlers))
    }
}
