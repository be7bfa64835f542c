//! What applications touch: the builders of an [`App`](crate::App), the [`Socket`] a handler
//! acts on, broadcast operators, and the [`Io`] handle for any thread.
//!
//! Everything here is a thin face over the shard: a handler gets a [`Socket`] that borrows the
//! shard owning the socket, and whatever it does (emit, join, broadcast, disconnect) is done
//! there, on that thread, without a lock.

mod ack;
mod builder;
mod cluster;
mod engine_socket;
mod io;
mod operator;
mod remote;
mod socket;
mod socket_ref;

pub use ack::{AckFuture, AckSender, BroadcastAckFuture};
pub use builder::{AppBuilder, EngineBuilder, EngineMode, Namespace, SocketIoMode};
pub use cluster::{Inbound, Selection};
pub use engine_socket::EngineSocket;
pub use io::Io;
pub use operator::{
    AllRooms, BroadcastOperator, FetchSockets, IoOperator, Local, Operator, Reach, Remote,
};
pub use remote::RemoteSocket;
pub use socket::Socket;
pub use socket_ref::{OwnedEvent, SocketRef};
