//! corelay-rt: the one driver of corelay's shards, for every runtime.
//!
//! Everything a shard thread does that is not a runtime's own mechanism lives here, once:
//! starting the shard threads and reporting start errors, pinning, the accept loop, reading
//! into the shard's [`Shard`](corelay_core::Shard), the vectored writes of what the core
//! queued, the one timer per shard, the mesh inboxes between shards (broadcasts, [`Io`]
//! handles, connections handed over to the shard that owns their session), graceful shutdown
//! and panics. A runtime crate (`corelay-tokio`, `corelay-monoio`, `corelay-glommio`)
//! implements [`Runtime`] and [`Stream`] (its TCP types, sleeping, spawning, building the
//! runtime) and re-exports [`Server`], [`ServerBuilder`] and [`RunningServer`] for its
//! runtime, so that the three have one API: a user switches by changing one dependency and one
//! `use`.
//!
//! # Behaviour, the same on every runtime
//!
//! - **Start.** [`ServerBuilder::start`] starts the shards one after the other; each builds
//!   its runtime and binds its own `SO_REUSEPORT` listener (shard 0 the address asked for, the
//!   others the address it got). It returns once every shard listens, or with the first
//!   error (`shard K: …`) after stopping the shards already started.
//! - **Pinning.** With `pin_cores(true)`, shard `i` runs on core `i` modulo the number of
//!   cores (set on the shard's thread before its runtime starts).
//! - **Accept errors** (running out of descriptors, most likely) are logged and retried after
//!   10 ms, so a full descriptor table never spins a core.
//! - **Shutdown.** [`RunningServer::shutdown`], a [`ShutdownHandle`], or dropping the server
//!   and all its handles: each shard stops accepting, the core closes every session (sockets
//!   leave with "server shutting down") and flushes what is queued; connections still open
//!   10 s later are dropped. [`RunningServer::wait`] returns once every shard has stopped.
//! - **Panics.** A panic in any task of a shard (a handler's, most likely) stops that shard at
//!   once and the others gracefully; [`RunningServer::wait`] then returns
//!   [`ServerError::Panicked`], naming the shard.
//!
//! # Example
//!
//! A runtime crate's API, generic here over any [`Runtime`]:
//!
//! ```
//! use corelay_core::App;
//! use corelay_rt::{Runtime, Server};
//!
//! fn serve<R: Runtime>() -> std::io::Result<()> {
//!     let app = App::builder().namespace("/", |ns| ns).build();
//!     let server = Server::<R>::builder(app)
//!         .bind("127.0.0.1:0".parse().unwrap())
//!         .shards(2)
//!         .start()?;
//!     println!("listening on http://{} ({})", server.local_addr(), server.io_driver());
//!     server.shutdown();
//!     server.wait().map_err(std::io::Error::other)
//! }
//! ```
#![deny(missing_docs)]

mod cluster;
#[cfg(feature = "conformance")]
pub mod conformance;
mod conn;
mod mesh;
mod runtime;
mod server;
mod shard;
mod sys;
mod task;

pub use corelay_core::Io;
pub use corelay_redis as redis;
pub use corelay_redis::adapter::AdapterConfig as RedisOptions;
#[cfg(feature = "tokio-io")]
pub use runtime::TokioIo;
pub use runtime::{Runtime, Stream};
pub use server::{RunningServer, Server, ServerBuilder, ServerError, ShutdownHandle};
pub use sys::{duplicate, reuseport_listener, send_vectored, CoreId};
