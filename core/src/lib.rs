//! corelay-core: the runtime-free protocol core of corelay.
#![forbid(unsafe_code)]

pub mod app;
pub mod config;
mod engine;
pub mod engine_app;
pub mod mesh;
pub mod pairs;
pub mod payload;
pub mod shard;
pub mod sid;
pub mod socket;
mod timer;
pub mod wire;

pub use app::{
    App, AppBuilder, ConnectError, EngineBuilder, Event, Handshake, HttpResponse, Namespace,
};
pub use config::{Config, Cookie, Cors, TransportKind};
pub use engine::OutPacket;
pub use engine_app::{EngineMessage, EngineSocket};
pub use mesh::{Io, IoOperator, MeshMessage, MeshPost, MeshTarget};
pub use pairs::Pairs;
pub use payload::{Args, Binary};
pub use shard::{Action, ConnId, Shard, Stats};
pub use socket::{AckError, DisconnectReason, EmitError, Operator, Socket};
