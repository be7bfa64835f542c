//! The application a shard serves: settings and handler tables, built once (by the builders
//! of the API, [`App::builder`] and [`App::engine`]) and shared by every shard.
//!
//! Handlers are stored type-erased, taking the shard and the id of what they act on; the API
//! wraps the user's closures into them, giving each a [`Socket`](crate::Socket) (or an
//! [`EngineSocket`](crate::EngineSocket)) over the shard. Calling them is the one call that goes
//! upward from the shard.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::Shard;
use crate::config::Config;
use crate::engine::{EngineMessage, Hooks};
use crate::id::{NsId, SessionId, SocketId};
use crate::socketio::{AckError, Args, ConnectError, DisconnectReason, Event, Handshake};

pub(crate) type ConnectionHandler = Arc<dyn Fn(&mut Shard, SocketId) + Send + Sync>;
pub(crate) type EventHandler = Arc<dyn Fn(&mut Shard, SocketId, Event<'_>) + Send + Sync>;
pub(crate) type DisconnectHandler =
    Arc<dyn Fn(&mut Shard, SocketId, DisconnectReason) + Send + Sync>;
pub(crate) type Middleware = Arc<dyn Fn(&Handshake<'_>) -> Result<(), ConnectError> + Send + Sync>;
/// What a pending acknowledgement does when it comes (or times out).
pub(crate) type AckCallback = Box<dyn FnOnce(&mut Shard, SocketId, Result<Args, AckError>)>;
pub(crate) type EngineOpenHandler = Arc<dyn Fn(&mut Shard, SessionId) + Send + Sync>;
pub(crate) type EngineMessageHandler =
    Arc<dyn Fn(&mut Shard, SessionId, EngineMessage) + Send + Sync>;
pub(crate) type EngineCloseHandler = Arc<dyn Fn(&str, DisconnectReason) + Send + Sync>;

/// The handlers of one namespace.
#[derive(Default)]
pub(crate) struct NamespaceHandlers {
    pub(crate) name: String,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) on_connection: Option<ConnectionHandler>,
    pub(crate) events: HashMap<String, EventHandler>,
    pub(crate) on_any: Option<EventHandler>,
    pub(crate) on_disconnecting: Option<DisconnectHandler>,
    pub(crate) on_disconnect: Option<DisconnectHandler>,
}

impl fmt::Debug for NamespaceHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut events: Vec<&String> = self.events.keys().collect();
        events.sort();
        f.debug_struct("Namespace")
            .field("name", &self.name)
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

/// Settings and handlers of a server; one `Arc<App>` serves every shard.
pub struct App {
    pub(crate) config: Arc<Config>,
    pub(crate) hooks: Hooks,
    pub(crate) mode: Mode,
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

    /// The handlers of a namespace.
    pub(crate) fn namespace(&self, ns: NsId) -> Option<&NamespaceHandlers> {
        match &self.mode {
            Mode::SocketIo(namespaces) => namespaces.get(ns.index()),
            Mode::Engine(_) => None,
        }
    }

    /// The names of the namespaces, by [`NsId`].
    pub(crate) fn namespace_names(&self) -> Vec<Box<str>> {
        match &self.mode {
            Mode::SocketIo(namespaces) => {
                namespaces.iter().map(|n| n.name.as_str().into()).collect()
            }
            Mode::Engine(_) => Vec::new(),
        }
    }

    /// The handlers of a bare Engine.IO application.
    pub(crate) fn engine_handlers(&self) -> Option<&EngineHandlers> {
        match &self.mode {
            Mode::Engine(h) => Some(h),
            Mode::SocketIo(_) => None,
        }
    }
}
