//! The application a shard serves: settings and handler tables, built once (by the builders
//! of the API, [`App::builder`] and [`App::engine`]) and shared by every shard.
//!
//! Handlers are stored type-erased, taking the shard and the id of what they act on; the API
//! wraps the user's closures into them, giving each a [`Socket`](crate::Socket) (or an
//! [`EngineSocket`](crate::EngineSocket)) over the shard. Calling them is the one call that goes
//! upward from the shard.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::Shard;
use crate::config::Config;
use crate::engine::{EngineMessage, Hooks};
use crate::id::{SessionId, SocketId};
use crate::socketio::{AckError, Args, ConnectError, DisconnectReason, Event, RoomEvent};

pub(crate) type ConnectionHandler = Arc<dyn Fn(&mut Shard, SocketId) + Send + Sync>;
pub(crate) type EventHandler = Arc<dyn Fn(&mut Shard, SocketId, Event<'_>) + Send + Sync>;
pub(crate) type DisconnectHandler =
    Arc<dyn Fn(&mut Shard, SocketId, DisconnectReason) + Send + Sync>;
/// A future of an async middleware.
pub(crate) type MiddlewareFuture = Pin<Box<dyn Future<Output = Result<(), ConnectError>>>>;
/// A synchronous namespace middleware, erased.
pub(crate) type SyncMiddleware =
    Arc<dyn Fn(&mut Shard, SocketId) -> Result<(), ConnectError> + Send + Sync>;
/// An async namespace middleware, erased: it makes the future to await.
pub(crate) type AsyncMiddleware =
    Arc<dyn Fn(&mut Shard, SocketId) -> MiddlewareFuture + Send + Sync>;
/// A namespace middleware (`io.use`), run before a socket joins.
pub(crate) enum Middleware {
    Sync(SyncMiddleware),
    Async(AsyncMiddleware),
}
/// Decides from a name and the CONNECT auth whether a dynamic namespace makes a child.
pub(crate) type MatchFn = Arc<dyn Fn(&str, &serde_json::Value) -> bool + Send + Sync>;
/// A per-packet middleware (`socket.use`): `Err` drops the packet and reports the error.
pub(crate) type PacketMiddleware =
    Arc<dyn Fn(&mut Shard, SocketId, &Event<'_>) -> Result<(), String> + Send + Sync>;
/// An "error" listener of a socket: what a per-packet middleware refused.
pub(crate) type ErrorHandler = Arc<dyn Fn(&mut Shard, SocketId, &str) + Send + Sync>;
/// A listener of what is emitted to a socket (`onAnyOutgoing`): the event and its arguments.
pub(crate) type OutgoingHandler =
    Arc<dyn Fn(&mut Shard, SocketId, &str, &serde_json::Value) + Send + Sync>;
/// A listener of a server-side event: its arguments (a JSON array) in, an answer out.
pub(crate) type ServerEventHandler =
    Arc<dyn Fn(&mut Shard, &serde_json::Value) -> Option<serde_json::Value> + Send + Sync>;
/// A listener of the room changes of a namespace on one shard (Node's adapter events).
pub(crate) type AdapterHandler = Arc<dyn Fn(&RoomEvent) + Send + Sync>;
/// What a pending acknowledgement does when it comes (or times out).
pub(crate) type AckCallback = Box<dyn FnOnce(&mut Shard, SocketId, Result<Args, AckError>)>;
pub(crate) type EngineOpenHandler = Arc<dyn Fn(&mut Shard, SessionId) + Send + Sync>;
pub(crate) type EngineMessageHandler =
    Arc<dyn Fn(&mut Shard, SessionId, EngineMessage) + Send + Sync>;
pub(crate) type EngineCloseHandler = Arc<dyn Fn(&str, DisconnectReason) + Send + Sync>;

/// A listener of one event.
pub(crate) struct Listener {
    pub(crate) handler: EventHandler,
    /// For a `once` listener: its bit in each socket's record of the ones that ran.
    pub(crate) once: Option<u32>,
}

/// How a dynamic namespace recognises the names of its children.
pub(crate) enum Matcher {
    Pattern(regex_lite::Regex),
    Function(MatchFn),
}

impl Matcher {
    pub(crate) fn matches(&self, name: &str, auth: &[u8]) -> bool {
        match self {
            Matcher::Pattern(re) => re.is_match(name),
            Matcher::Function(f) => f(name, &serde_json::from_slice(auth).unwrap_or_default()),
        }
    }
}

/// The handlers of one namespace (or of a dynamic namespace's children).
#[derive(Default)]
pub(crate) struct NamespaceHandlers {
    pub(crate) name: String,
    pub(crate) matcher: Option<Matcher>,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) on_connection: Vec<ConnectionHandler>,
    pub(crate) events: HashMap<Arc<str>, Vec<Listener>>,
    /// `once` listeners so far (each has a bit).
    pub(crate) once_count: u32,
    pub(crate) any: Vec<EventHandler>,
    pub(crate) any_outgoing: Vec<OutgoingHandler>,
    pub(crate) packet_middlewares: Vec<PacketMiddleware>,
    pub(crate) on_error: Vec<ErrorHandler>,
    pub(crate) on_disconnecting: Vec<DisconnectHandler>,
    pub(crate) on_disconnect: Vec<DisconnectHandler>,
    pub(crate) server_events: HashMap<String, Vec<ServerEventHandler>>,
    pub(crate) adapter_events: Vec<AdapterHandler>,
}

impl fmt::Debug for NamespaceHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<&Arc<str>> = self.events.keys().collect();
        events.sort();
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .field("dynamic", &self.matcher.is_some())
            .field("events", &events)
            .finish_non_exhaustive()
    }
}

/// The handlers of a bare Engine.IO application.
#[derive(Default)]
pub(crate) struct EngineHandlers {
    pub(crate) on_connection: Option<EngineOpenHandler>,
    pub(crate) on_message: Option<EngineMessageHandler>,
    pub(crate) on_close: Option<EngineCloseHandler>,
}

/// What an application speaks above Engine.IO.
pub(crate) enum Mode {
    /// Socket.IO, with its namespaces (by [`NsId`]).
    SocketIo(Vec<NamespaceHandlers>),
    /// Bare Engine.IO messages.
    Engine(EngineHandlers),
}

/// The future of an async `allow_request`: `Err` refuses, with a message or Node's
/// "Forbidden".
pub(crate) type DecisionFuture = Pin<Box<dyn Future<Output = Result<(), Option<String>>>>>;
/// Node's `allowRequest`, awaited.
pub(crate) type AllowRequestAsync =
    Arc<dyn Fn(crate::wire::http::RequestHead) -> DecisionFuture + Send + Sync>;

/// Settings and handlers of a server; one `Arc<App>` serves every shard.
pub struct App {
    pub(crate) config: Arc<Config>,
    pub(crate) hooks: Hooks,
    pub(crate) mode: Mode,
    pub(crate) allow_request_async: Option<AllowRequestAsync>,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The handlers of namespaces, by tag (their index).
    fn namespaces(&self) -> &[NamespaceHandlers] {
        match &self.mode {
            Mode::SocketIo(namespaces) => namespaces,
            Mode::Engine(_) => &[],
        }
    }

    /// The handlers tagged `tag`.
    pub(crate) fn handlers(&self, tag: u32) -> Option<&NamespaceHandlers> {
        self.namespaces().get(tag as usize)
    }

    /// The namespaces that exist from the start, with their tags.
    /// The names of the namespaces a server has from its start (not the dynamic ones, whose
    /// children come with their first client): a cluster adapter subscribes to them.
    pub fn namespace_names(&self) -> Vec<String> {
        let all = self.namespaces().iter();
        all.filter(|n| n.matcher.is_none())
            .map(|n| n.name.clone())
            .collect()
    }

    /// The name a namespace (or dynamic namespace) was built with.
    pub(crate) fn name_of(&self, tag: u32) -> &str {
        self.namespaces()
            .get(tag as usize)
            .map_or("", |n| n.name.as_str())
    }

    pub(crate) fn static_namespaces(&self) -> Vec<(Arc<str>, u32)> {
        let all = self.namespaces().iter().enumerate();
        all.filter(|(_, n)| n.matcher.is_none())
            .map(|(i, n)| (n.name.as_str().into(), i as u32))
            .collect()
    }

    /// The tag of the dynamic namespace a new name belongs to, if any (the first that
    /// matches, in the order they were added).
    pub(crate) fn match_dynamic(&self, name: &str, auth: &[u8]) -> Option<u32> {
        let all = self.namespaces().iter().enumerate();
        all.filter_map(|(i, n)| Some((i, n.matcher.as_ref()?)))
            .find(|(_, m)| m.matches(name, auth))
            .map(|(i, _)| i as u32)
    }

    /// The tag of the namespace (or dynamic namespace) named `name` when it was built.
    pub(crate) fn tag_of(&self, name: &str) -> Option<u32> {
        let mut all = self.namespaces().iter();
        all.position(|n| n.name == name).map(|i| i as u32)
    }

    /// The handlers of a bare Engine.IO application.
    pub(crate) fn engine_handlers(&self) -> Option<&EngineHandlers> {
        match &self.mode {
            Mode::Engine(h) => Some(h),
            Mode::SocketIo(_) => None,
        }
    }
}
