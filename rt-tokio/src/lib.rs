//! corelay on tokio: one current-thread runtime per shard, each with its own `SO_REUSEPORT`
//! listener, driving a [`corelay_core::Shard`]. The driver (`corelay-rt`) does everything a
//! shard thread does; this crate gives it tokio's TCP types, timers and tasks. All protocol
//! logic lives in the core.
//!
//! ```no_run
//! use corelay_tokio::{App, Server};
//!
//! let app = App::builder()
//!     .namespace("/", |ns| {
//!         ns.on("message", |socket, event| {
//!             let _ = socket.emit("message-back", &event.args);
//!         })
//!     })
//!     .build();
//! let server = Server::builder(app).bind("127.0.0.1:3000".parse().unwrap()).start().unwrap();
//! println!("listening on http://{}", server.local_addr());
//! server.wait().unwrap();
//! ```
//!
//! Handlers run on the shard thread that owns the socket, inside a `LocalSet`.
#![deny(missing_docs)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use corelay_rt::TokioIo;

pub use corelay_core::*;
pub use corelay_rt::{RedisOptions, RunningServer, ServerError, ShutdownHandle};

/// Entry point: `Server::builder(app)`, then `bind`, `shards`, `pin_cores`, `start`.
pub type Server = corelay_rt::Server<Tokio>;
/// Configures a server on tokio.
pub type ServerBuilder = corelay_rt::ServerBuilder<Tokio>;

/// The tokio runtime: a current-thread runtime and a `LocalSet` per shard, on epoll.
#[derive(Debug)]
pub struct Tokio;

impl corelay_rt::Runtime for Tokio {
    type Options = ();
    type Listener = tokio::net::TcpListener;
    type Stream = TokioIo<tokio::net::TcpStream>;

    fn block_on<F: Future>(_: &(), main: F) -> io::Result<F::Output> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let local = tokio::task::LocalSet::new();
        let output = local.block_on(&rt, main);
        drop(local);
        Ok(output)
    }

    fn io_driver() -> &'static str {
        "epoll"
    }

    fn spawn(task: impl Future<Output = ()> + 'static) {
        drop(tokio::task::spawn_local(task));
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> {
        tokio::time::sleep_until(deadline.into())
    }

    fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::from_std(corelay_rt::reuseport_listener(addr)?)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Stream, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok((TokioIo(stream), peer))
    }

    fn adopt(stream: std::net::TcpStream) -> io::Result<Self::Stream> {
        tokio::net::TcpStream::from_std(stream).map(TokioIo)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(TokioIo(stream))
    }
}

/// The README's code, compiled by `cargo test --doc` (its example uses this crate).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
