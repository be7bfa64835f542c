//! Building an application: settings, namespaces and their handlers (Socket.IO), or the
//! handlers of a bare Engine.IO server.

use std::fmt;
use std::sync::Arc;

use super::{EngineSocket, Socket};
use crate::config::Config;
use crate::engine::{EngineMessage, Hooks, HttpResponse};
use crate::shard::{App, EngineHandlers, EventHandler, Mode, NamespaceHandlers};
use crate::socketio::{ConnectError, DisconnectReason, Event, Handshake};
use crate::wire::http::RequestHead;

impl App {
    /// A Socket.IO application.
    pub fn builder() -> AppBuilder {
        AppBuilder {
            config: Config::default(),
            namespaces: Vec::new(),
            hooks: Hooks::default(),
        }
    }

    /// A bare Engine.IO application (no Socket.IO layer), at `/engine.io/` unless the config
    /// says otherwise.
    pub fn engine() -> EngineBuilder {
        let config = Config {
            path: "/engine.io/".to_owned(),
            ..Config::default()
        };
        EngineBuilder {
            config,
            handlers: EngineHandlers::default(),
            hooks: Hooks::default(),
        }
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
        self.0.on_any = Some(Arc::new(move |shard, id, e| f(&mut Socket::new(shard, id), e)));
        self
    }

    /// Runs when a socket is about to leave, while its rooms are still visible.
    pub fn on_disconnecting<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        self.0.on_disconnecting =
            Some(Arc::new(move |shard, id, r| f(&mut Socket::new(shard, id), r)));
        self
    }

    /// Runs when a socket has left.
    pub fn on_disconnect<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        self.0.on_disconnect = Some(Arc::new(move |shard, id, r| f(&mut Socket::new(shard, id), r)));
        self
    }
}

/// Builds a Socket.IO [`App`].
pub struct AppBuilder {
    config: Config,
    namespaces: Vec<NamespaceHandlers>,
    hooks: Hooks,
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("config", &self.config)
            .field("namespaces", &self.namespaces)
            .finish_non_exhaustive()
    }
}

impl AppBuilder {
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

    /// Adds a namespace (`io.of(name)`); `f` registers its handlers.
    pub fn namespace(mut self, name: &str, f: impl FnOnce(Namespace) -> Namespace) -> Self {
        let ns = f(Namespace(NamespaceHandlers {
            name: name.to_owned(),
            ..NamespaceHandlers::default()
        }));
        self.namespaces.retain(|n| n.name != name);
        self.namespaces.push(ns.0);
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

    /// The application, ready to hand to a runtime.
    pub fn build(self) -> Arc<App> {
        Arc::new(App {
            config: Arc::new(self.config),
            hooks: self.hooks,
            mode: Mode::SocketIo(self.namespaces),
        })
    }
}

/// Builds a bare Engine.IO [`App`].
pub struct EngineBuilder {
    config: Config,
    handlers: EngineHandlers,
    hooks: Hooks,
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// Changes the settings in place.
    pub fn configure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(&mut self.config);
        self
    }

    /// Runs when a session opens.
    pub fn on_connection<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut EngineSocket<'_>) + Send + Sync + 'static,
    {
        self.handlers.on_connection =
            Some(Arc::new(move |shard, si| f(&mut EngineSocket::new(shard, si))));
        self
    }

    /// Runs for each message.
    pub fn on_message<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut EngineSocket<'_>, EngineMessage) + Send + Sync + 'static,
    {
        self.handlers.on_message =
            Some(Arc::new(move |shard, si, m| f(&mut EngineSocket::new(shard, si), m)));
        self
    }

    /// Runs when a session closes, with its id.
    pub fn on_close<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, DisconnectReason) + Send + Sync + 'static,
    {
        self.handlers.on_close = Some(Arc::new(f));
        self
    }

    /// Answers requests outside the server's path.
    pub fn http<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> Option<HttpResponse> + Send + Sync + 'static,
    {
        self.hooks.http = Some(Arc::new(f));
        self
    }

    /// The application.
    pub fn build(self) -> Arc<App> {
        Arc::new(App {
            config: Arc::new(self.config),
            hooks: self.hooks,
            mode: Mode::Engine(self.handlers),
        })
    }
}
