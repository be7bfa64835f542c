//! The application: settings and handlers, built once and shared by every shard.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;

use crate::config::Config;
use crate::engine_app::{EngineHandlers, EngineSocket};
use crate::payload::Args;
use crate::socket::{DisconnectReason, Socket};
use crate::wire::http::RequestHead;

/// A received event, handed to the handler registered for its name.
#[derive(Debug)]
pub struct Event<'a> {
    /// The event name.
    pub name: &'a str,
    /// The arguments after the name.
    pub args: Args,
    /// The acknowledgement id when the client asked for an acknowledgement: answer it with
    /// [`Socket::ack`].
    pub ack: Option<u64>,
}

/// What a namespace middleware sees of a connecting client.
#[derive(Debug)]
pub struct Handshake<'a> {
    /// The CONNECT packet's auth object as raw JSON (`{}` when the client sent none).
    pub auth: &'a str,
    /// Headers of the request that opened the Engine.IO session (lower-case names).
    pub headers: &'a crate::pairs::Pairs,
    /// Query parameters of that request.
    pub query: &'a crate::pairs::Pairs,
    /// Address of the client.
    pub address: SocketAddr,
}

/// A refusal from a middleware: the client gets a CONNECT_ERROR with this message and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// `err.message` on the client.
    pub message: String,
    /// `err.data` on the client, as raw JSON.
    pub data: Option<String>,
}

impl ConnectError {
    /// A refusal with a message and no data.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }
}

pub(crate) type ConnectionHandler = Arc<dyn Fn(&mut Socket<'_>) + Send + Sync>;
pub(crate) type EventHandler = Arc<dyn Fn(&mut Socket<'_>, Event<'_>) + Send + Sync>;
pub(crate) type DisconnectHandler = Arc<dyn Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync>;
pub(crate) type Middleware = Arc<dyn Fn(&Handshake<'_>) -> Result<(), ConnectError> + Send + Sync>;

/// Handlers of one namespace.
#[derive(Default)]
pub struct Namespace {
    pub(crate) name: String,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) on_connection: Option<ConnectionHandler>,
    pub(crate) events: HashMap<String, EventHandler>,
    pub(crate) on_any: Option<EventHandler>,
    pub(crate) on_disconnecting: Option<DisconnectHandler>,
    pub(crate) on_disconnect: Option<DisconnectHandler>,
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<&String> = self.events.keys().collect();
        events.sort();
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .field("events", &events)
            .finish_non_exhaustive()
    }
}

impl Namespace {
    /// Runs before a client joins: the first `Err` refuses it with a CONNECT_ERROR
    /// (`io.of(nsp).use(...)` in Node).
    pub fn middleware<F>(mut self, f: F) -> Self
    where
        F: Fn(&Handshake<'_>) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        self.middlewares.push(Arc::new(f));
        self
    }

    /// Runs when a socket has joined (`on("connection")`).
    pub fn on_connection<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>) + Send + Sync + 'static,
    {
        self.on_connection = Some(Arc::new(f));
        self
    }

    /// Runs for each event named `event` (`socket.on(event)`).
    pub fn on<F>(mut self, event: &str, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.events.insert(event.to_owned(), Arc::new(f));
        self
    }

    /// Runs for each event that has no handler of its own (`socket.onAny`, for unhandled
    /// names only).
    pub fn on_any<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.on_any = Some(Arc::new(f));
        self
    }

    /// Runs when a socket is about to leave, while its rooms are still visible.
    pub fn on_disconnecting<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        self.on_disconnecting = Some(Arc::new(f));
        self
    }

    /// Runs when a socket has left.
    pub fn on_disconnect<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        self.on_disconnect = Some(Arc::new(f));
        self
    }
}

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

pub(crate) type HttpHandler = Arc<dyn Fn(&RequestHead) -> Option<HttpResponse> + Send + Sync>;
pub(crate) type AllowRequest = Arc<dyn Fn(&RequestHead) -> bool + Send + Sync>;

pub(crate) enum Mode {
    SocketIo {
        namespaces: Vec<Namespace>,
        index: HashMap<String, usize>,
    },
    Engine(EngineHandlers),
}

/// Settings and handlers of a server; one `Arc<App>` serves every shard.
pub struct App {
    pub(crate) config: Config,
    pub(crate) mode: Mode,
    pub(crate) http: Option<HttpHandler>,
    pub(crate) allow_request: Option<AllowRequest>,
    pub(crate) path: String,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// A Socket.IO application.
    pub fn builder() -> AppBuilder {
        AppBuilder {
            config: Config::default(),
            namespaces: Vec::new(),
            http: None,
            allow_request: None,
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
            http: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn namespace(&self, index: usize) -> &Namespace {
        match &self.mode {
            Mode::SocketIo { namespaces, .. } => &namespaces[index],
            Mode::Engine(_) => unreachable!("no namespaces in a bare Engine.IO app"),
        }
    }

    pub(crate) fn namespace_count(&self) -> usize {
        match &self.mode {
            Mode::SocketIo { namespaces, .. } => namespaces.len(),
            Mode::Engine(_) => 0,
        }
    }

    pub(crate) fn namespace_index(&self, name: &str) -> Option<usize> {
        match &self.mode {
            Mode::SocketIo { index, .. } => index.get(name).copied(),
            Mode::Engine(_) => None,
        }
    }
}

/// Builds a Socket.IO [`App`].
pub struct AppBuilder {
    config: Config,
    namespaces: Vec<Namespace>,
    http: Option<HttpHandler>,
    allow_request: Option<AllowRequest>,
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
        let ns = f(Namespace {
            name: name.to_owned(),
            ..Namespace::default()
        });
        self.namespaces.retain(|n| n.name != name);
        self.namespaces.push(ns);
        self
    }

    /// Answers requests outside the server's path (a page, a script); `None` gives 404.
    pub fn http<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> Option<HttpResponse> + Send + Sync + 'static,
    {
        self.http = Some(Arc::new(f));
        self
    }

    /// Decides whether a handshake may open a session (`allowRequest` in Node): a refusal
    /// answers 403 `{"code":4,"message":"Forbidden"}` (a plain 400 for a WebSocket).
    pub fn allow_request<F>(mut self, f: F) -> Self
    where
        F: Fn(&RequestHead) -> bool + Send + Sync + 'static,
    {
        self.allow_request = Some(Arc::new(f));
        self
    }

    /// The application, ready to hand to a runtime.
    pub fn build(self) -> Arc<App> {
        let index = self
            .namespaces
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.clone(), i))
            .collect();
        let path = self.config.normalized_path();
        Arc::new(App {
            config: self.config,
            mode: Mode::SocketIo {
                namespaces: self.namespaces,
                index,
            },
            http: self.http,
            allow_request: self.allow_request,
            path,
        })
    }
}

/// Builds a bare Engine.IO [`App`].
pub struct EngineBuilder {
    config: Config,
    handlers: EngineHandlers,
    http: Option<HttpHandler>,
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
        self.handlers.on_connection = Some(Arc::new(f));
        self
    }

    /// Runs for each message.
    pub fn on_message<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut EngineSocket<'_>, crate::engine_app::EngineMessage) + Send + Sync + 'static,
    {
        self.handlers.on_message = Some(Arc::new(f));
        self
    }

    /// Runs when a session closes.
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
        self.http = Some(Arc::new(f));
        self
    }

    /// The application.
    pub fn build(self) -> Arc<App> {
        let path = self.config.normalized_path();
        Arc::new(App {
            config: self.config,
            mode: Mode::Engine(self.handlers),
            http: self.http,
            allow_request: None,
            path,
        })
    }
}
