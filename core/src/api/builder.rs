//! Building an application: settings, namespaces and their handlers (Socket.IO), or the
//! handlers of a bare Engine.IO server.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::{EngineSocket, OwnedEvent, Socket, SocketRef};
use crate::config::Config;
use crate::engine::{ConnectionError, EngineMessage, Hooks, HttpResponse, ResponseHeaders};
use crate::shard::{
    AllowRequestAsync, App, DecisionFuture, EngineHandlers, EventHandler, Listener, Matcher,
    Middleware, MiddlewareFuture, Mode, NamespaceHandlers, Shard,
};
use crate::socketio::{ConnectError, DisconnectReason, Event, RoomEvent};
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
    /// Runs before a client joins, given its socket (not in the namespace yet: it has its
    /// id, handshake and data, and can set data): the first `Err` refuses it with a
    /// CONNECT_ERROR (`io.of(nsp).use(...)` in Node). Middlewares run in the order added.
    pub fn middleware<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>) -> Result<(), ConnectError> + Send + Sync + 'static,
    {
        let f = move |shard: &mut Shard, id| f(&mut Socket::new(shard, id));
        self.0.middlewares.push(Middleware::Sync(Arc::new(f)));
        self
    }

    /// As [`Namespace::middleware`], awaiting a future: the client waits until it is done
    /// (the socket is reached through its [`SocketRef`] meanwhile).
    pub fn middleware_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + 'static,
    {
        let f = move |shard: &mut Shard, id| -> MiddlewareFuture {
            Box::pin(f(SocketRef::new(shard, id)))
        };
        self.0.middlewares.push(Middleware::Async(Arc::new(f)));
        self
    }

    /// Runs when a socket has joined (`on("connection")`); several run in the order added.
    pub fn on_connection<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>) + Send + Sync + 'static,
    {
        let f = move |shard: &mut Shard, id| f(&mut Socket::new(shard, id));
        self.0.on_connection.push(Arc::new(f));
        self
    }

    /// As [`Namespace::on_connection`], as a task on the socket's shard.
    pub fn on_connection_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(SocketRef) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let f = move |shard: &mut Shard, id| {
            let task = f(SocketRef::new(shard, id));
            shard.spawn(task);
        };
        self.0.on_connection.push(Arc::new(f));
        self
    }

    /// Runs for each event named `event` (`socket.on(event)`); several listeners of one
    /// event run in the order added, each with the event (answer an acknowledgement once).
    pub fn on<F>(self, event: &str, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.listen(event, sync_handler(f), false)
    }

    /// As [`Namespace::on`], for the first such event of each socket only (`socket.once`).
    /// A namespace has at most 64 `once` listeners.
    pub fn once<F>(self, event: &str, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.listen(event, sync_handler(f), true)
    }

    /// As [`Namespace::on`], as a task on the socket's shard: the future gets the socket as
    /// a [`SocketRef`] and the event with its [`AckSender`](crate::AckSender), both valid
    /// across awaits. The task is spawned when the event's listeners have run (in Node an
    /// async listener runs at once up to its first `await`): its first poll comes after
    /// every synchronous listener of the event.
    pub fn on_async<F, Fut>(self, event: &str, f: F) -> Self
    where
        F: Fn(SocketRef, OwnedEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let name: Arc<str> = event.into();
        self.listen(event, async_handler(Some(name), f), false)
    }

    fn listen(mut self, event: &str, handler: EventHandler, once: bool) -> Self {
        let once = once.then(|| {
            let bit = self.0.once_count;
            assert!(bit < 64, "a namespace has at most 64 `once` listeners");
            self.0.once_count += 1;
            bit
        });
        let listener = Listener { handler, once };
        self.0
            .events
            .entry(event.into())
            .or_default()
            .push(listener);
        self
    }

    /// Runs for every event a socket receives, before its own listeners and the per-packet
    /// middlewares (`socket.onAny`); several run in the order added.
    pub fn on_any<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.0.any.push(sync_handler(f));
        self
    }

    /// As [`Namespace::on_any`], before the `on_any` listeners added so far
    /// (`socket.prependAny`).
    pub fn prepend_any<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
    {
        self.0.any.insert(0, sync_handler(f));
        self
    }

    /// As [`Namespace::on_any`], as a task on the socket's shard.
    pub fn on_any_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(SocketRef, OwnedEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        self.0.any.push(async_handler(None, f));
        self
    }

    /// Runs for every event emitted to one socket (`socket.onAnyOutgoing`), with its name
    /// and its arguments as a JSON array (binary values as their placeholders); for a
    /// broadcast too, as Node's adapter does (a volatile one included, sent or not): then the
    /// event is read back from the encoded packet, once per shard, and the listeners run
    /// after the fan-out. Acknowledgements are not events.
    pub fn on_any_outgoing<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, &str, &serde_json::Value) + Send + Sync + 'static,
    {
        let f = move |shard: &mut Shard, id, event: &str, args: &serde_json::Value| {
            f(&mut Socket::new(shard, id), event, args)
        };
        self.0.any_outgoing.push(Arc::new(f));
        self
    }

    /// Runs for every event a socket receives, before its listeners (`socket.use`): an `Err`
    /// drops the event and hands the message to the [`Namespace::on_error`] listeners.
    pub fn packet_middleware<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, &Event<'_>) -> Result<(), String> + Send + Sync + 'static,
    {
        let f =
            move |shard: &mut Shard, id, event: &Event<'_>| f(&mut Socket::new(shard, id), event);
        self.0.packet_middlewares.push(Arc::new(f));
        self
    }

    /// Runs when a per-packet middleware refused an event (`socket.on("error")`).
    pub fn on_error<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, &str) + Send + Sync + 'static,
    {
        let f = move |shard: &mut Shard, id, message: &str| f(&mut Socket::new(shard, id), message);
        self.0.on_error.push(Arc::new(f));
        self
    }

    /// Runs for each server-side event named `event` that reaches this shard
    /// ([`Io::server_side_emit`](crate::Io::server_side_emit), Node's `io.on(event)` for
    /// `serverSideEmit`), with the shard's [`Io`](crate::Io) and the arguments as a JSON
    /// array; what it returns is its answer to `server_side_emit_with_ack`.
    pub fn on_server_event<F>(mut self, event: &str, f: F) -> Self
    where
        F: Fn(Option<&crate::Io>, &serde_json::Value) -> Option<serde_json::Value>
            + Send
            + Sync
            + 'static,
    {
        let f = move |shard: &mut Shard, args: &serde_json::Value| {
            let io = crate::Io::of_shard(shard);
            f(io.as_ref(), args)
        };
        let listeners = self.0.server_events.entry(event.to_owned()).or_default();
        listeners.push(Arc::new(f));
        self
    }

    /// Runs for each change of the namespace's rooms on the shard where it happens (Node's
    /// adapter events `create-room`, `delete-room`, `join-room`, `leave-room`; as in Node, a
    /// socket's own room, named by its id, is created and joined when it connects). A room
    /// with members on two shards is created on each.
    pub fn on_room_event<F>(mut self, f: F) -> Self
    where
        F: Fn(&RoomEvent) + Send + Sync + 'static,
    {
        self.0.adapter_events.push(Arc::new(f));
        self
    }

    /// Runs when a socket is about to leave, while its rooms are still visible.
    pub fn on_disconnecting<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        let f = move |shard: &mut Shard, id, r| f(&mut Socket::new(shard, id), r);
        self.0.on_disconnecting.push(Arc::new(f));
        self
    }

    /// Runs when a socket has left.
    pub fn on_disconnect<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Socket<'_>, DisconnectReason) + Send + Sync + 'static,
    {
        let f = move |shard: &mut Shard, id, r| f(&mut Socket::new(shard, id), r);
        self.0.on_disconnect.push(Arc::new(f));
        self
    }
}

/// A synchronous event handler, erased.
fn sync_handler<F>(f: F) -> EventHandler
where
    F: Fn(&mut Socket<'_>, Event<'_>) + Send + Sync + 'static,
{
    Arc::new(move |shard, id, e| f(&mut Socket::new(shard, id), e))
}

/// An async event handler, erased: it makes the task and queues it on the shard.
fn async_handler<F, Fut>(name: Option<Arc<str>>, f: F) -> EventHandler
where
    F: Fn(SocketRef, OwnedEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    Arc::new(move |shard, id, e| {
        let event = OwnedEvent::new(shard, id, name.as_ref(), e);
        let task = f(SocketRef::new(shard, id), event);
        shard.spawn(task);
    })
}

/// Builds an [`App`]: the settings and HTTP hooks every application has, and the handlers of
/// its mode, Socket.IO ([`AppBuilder`], from [`App::builder`]) or bare Engine.IO
/// ([`EngineBuilder`], from [`App::engine`]).
pub struct AppBuilder<M = SocketIoMode> {
    config: Config,
    hooks: Hooks,
    mode: M,
    allow_request_async: Option<AllowRequestAsync>,
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
            allow_request_async: None,
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

    /// As [`AppBuilder::allow_request`], awaited (Node's `allowRequest` calling back later,
    /// e.g. after a lookup): the handshake waits on its connection meanwhile, as a task on
    /// the shard's thread. `Err` refuses with 403 `{"code":4,"message":…}` (the message
    /// given, or "Forbidden"), a plain 400 for a WebSocket. It runs after
    /// [`AppBuilder::allow_request`], if both are set.
    pub fn allow_request_async<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(RequestHead) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Option<String>>> + 'static,
    {
        let f = move |head| -> DecisionFuture { Box::pin(f(head)) };
        self.allow_request_async = Some(Arc::new(f));
        self.hooks.allow_request_async = true;
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
            allow_request_async: self.allow_request_async,
        })
    }
}

impl AppBuilder<SocketIoMode> {
    /// Adds a namespace (`io.of(name)`); `f` registers its handlers.
    pub fn namespace(self, name: &str, f: impl FnOnce(Namespace) -> Namespace) -> Self {
        self.add_namespace(name, None, f)
    }

    /// Adds a dynamic namespace (`io.of(/pattern/)`): every name the regular expression
    /// matches becomes a child namespace when a client first connects to it, with the
    /// handlers `f` registers; a broadcast from [`Io::of`](crate::Io::of) with `pattern`
    /// reaches every child. Names that a plain namespace has are never children.
    ///
    /// # Panics
    ///
    /// If `pattern` is not a valid regular expression (`regex-lite` syntax).
    pub fn dynamic_namespace(self, pattern: &str, f: impl FnOnce(Namespace) -> Namespace) -> Self {
        let re = regex_lite::Regex::new(pattern)
            .unwrap_or_else(|e| panic!("invalid namespace pattern {pattern:?}: {e}"));
        self.add_namespace(pattern, Some(Matcher::Pattern(re)), f)
    }

    /// As [`AppBuilder::dynamic_namespace`], with a function deciding from the name and the
    /// CONNECT auth object (`io.of((name, auth, next) => ...)`); `key` names it for
    /// [`Io::of`](crate::Io::of).
    pub fn dynamic_namespace_fn<M>(
        self,
        key: &str,
        matches: M,
        f: impl FnOnce(Namespace) -> Namespace,
    ) -> Self
    where
        M: Fn(&str, &serde_json::Value) -> bool + Send + Sync + 'static,
    {
        self.add_namespace(key, Some(Matcher::Function(Arc::new(matches))), f)
    }

    fn add_namespace(
        mut self,
        name: &str,
        matcher: Option<Matcher>,
        f: impl FnOnce(Namespace) -> Namespace,
    ) -> Self {
        let ns = f(Namespace(NamespaceHandlers {
            name: name.to_owned(),
            matcher,
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
