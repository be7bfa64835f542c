//! What applications touch: the builders of an [`App`](crate::App), the [`Socket`] a handler
//! acts on, broadcast operators, and the [`Io`] handle for any thread.
//!
//! Everything here is a thin face over the shard: a handler gets a [`Socket`] that borrows the
//! shard owning the socket, and whatever it does (emit, join, broadcast, disconnect) is done
//! there, on that thread, without a lock.

mod builder;
mod engine_socket;
mod io;
mod operator;
mod socket;

pub use builder::{AppBuilder, EngineBuilder, EngineMode, Namespace, SocketIoMode};
pub use engine_socket::EngineSocket;
pub use io::Io;
pub use operator::{BroadcastOperator, IoOperator, Local, Operator, Reach, Remote};
pub use socket::Socket;
