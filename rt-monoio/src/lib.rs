//! corelay on monoio: one thread per shard, each with its own monoio runtime (io_uring, or
//! epoll where io_uring is missing) and its own `SO_REUSEPORT` listener, driving a
//! [`corelay_core::Shard`]. The driver (`corelay-rt`) does everything a shard thread does; this
//! crate gives it monoio's TCP types, timers and tasks. All protocol logic lives in the core.
//! The API is the one of `corelay-tokio`, plus [`DriverExt::driver`].
//!
//! ```no_run
//! use corelay_monoio::{App, Server};
//!
//! let app = App::builder()
//!     .namespace("/", |ns| {
//!         ns.on("message", |socket, event| {
//!             let _ = socket.emit("message-back", &event.args);
//!         })
//!     })
//!     .build();
//! let server = Server::builder(app).bind("127.0.0.1:3000".parse().unwrap()).start().unwrap();
//! println!("listening on http://{} ({})", server.local_addr(), server.io_driver());
//! server.wait().unwrap();
//! ```
//!
//! # Driver
//!
//! [`Driver::Auto`] (the default) runs on io_uring when the kernel offers what monoio needs and
//! falls back to epoll otherwise, with a warning (monoio's own `MONOIO_FORCE_LEGACY_DRIVER=1`
//! forces the fallback too); [`RunningServer::io_driver`] says which one runs. The environment
//! variable `CORELAY_MONOIO_DRIVER` (`auto`, `io_uring` or `legacy`) overrides the builder's
//! choice, for tests.
//!
//! # Sockets
//!
//! Connections are driven by readiness on both drivers (monoio's `poll-io`: on io_uring, an
//! epoll instance watched through the ring), so that all the connections of a shard read into
//! one scratch buffer and an idle connection holds no buffer, and the core's queue is written
//! with one vectored write, without a copy. The listener accepts through the ring.
#![deny(missing_docs)]

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use corelay_rt::TokioIo;
use monoio::net::tcp::stream_poll::TcpStreamPoll;
use monoio::net::{TcpListener, TcpStream};
use monoio::time::TimeDriver;
use monoio::{FusionDriver, FusionRuntime, IoUringDriver, LegacyDriver, RuntimeBuilder};

pub use corelay_core::*;
pub use corelay_rt::{RedisOptions, RunningServer, ServerError, ShutdownHandle};

/// The environment variable that overrides [`DriverExt::driver`].
const DRIVER_ENV: &str = "CORELAY_MONOIO_DRIVER";

/// Entry point: `Server::builder(app)`, then `bind`, `shards`, `pin_cores`,
/// [`DriverExt::driver`], `start`.
pub type Server = corelay_rt::Server<Monoio>;
/// Configures a server on monoio.
pub type ServerBuilder = corelay_rt::ServerBuilder<Monoio>;

/// The monoio runtime: one runtime per shard thread, on the chosen [`Driver`].
#[derive(Debug)]
pub struct Monoio;

/// monoio's own settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The I/O driver.
    pub driver: Driver,
}

/// The monoio setting of the builder.
pub trait DriverExt {
    /// The I/O driver ([`Driver::Auto`] by default). `CORELAY_MONOIO_DRIVER` overrides it.
    fn driver(self, driver: Driver) -> Self;
}

impl DriverExt for ServerBuilder {
    fn driver(mut self, driver: Driver) -> Self {
        self.options_mut().driver = driver;
        self
    }
}

/// The monoio I/O driver the shard threads run on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Driver {
    /// io_uring when the kernel offers what monoio needs, else epoll.
    #[default]
    Auto,
    /// io_uring only: [`corelay_rt::ServerBuilder::start`] fails where it is missing.
    IoUring,
    /// epoll (monoio's "legacy" driver).
    Legacy,
}

impl Driver {
    /// `CORELAY_MONOIO_DRIVER`, if set to `auto`, `io_uring` (or `iouring`, `uring`) or
    /// `legacy` (or `epoll`).
    fn from_env() -> Option<Driver> {
        let value = std::env::var(DRIVER_ENV).ok()?;
        match value.to_ascii_lowercase().as_str() {
            "auto" => Some(Driver::Auto),
            "io_uring" | "iouring" | "uring" => Some(Driver::IoUring),
            "legacy" | "epoll" => Some(Driver::Legacy),
            _ => {
                tracing::warn!("{DRIVER_ENV}={value:?} ignored (auto, io_uring or legacy)");
                None
            }
        }
    }
}

type Runtime = FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>;

fn runtime(driver: Driver) -> io::Result<Runtime> {
    let legacy = || RuntimeBuilder::<LegacyDriver>::new().enable_timer().build();
    Ok(match driver {
        Driver::Auto => match RuntimeBuilder::<FusionDriver>::new().enable_timer().build() {
            Ok(rt @ FusionRuntime::Uring(_)) => rt,
            Ok(rt) => {
                tracing::warn!("io_uring is not available: monoio runs on epoll");
                rt
            }
            Err(e) => {
                tracing::warn!("io_uring is not available ({e}): monoio runs on epoll");
                FusionRuntime::Legacy(legacy()?)
            }
        },
        Driver::IoUring => {
            let uring = RuntimeBuilder::<IoUringDriver>::new()
                .enable_timer()
                .build();
            FusionRuntime::Uring(
                uring.map_err(|e| {
                    io::Error::new(e.kind(), format!("io_uring is not available: {e}"))
                })?,
            )
        }
        Driver::Legacy => FusionRuntime::Legacy(legacy()?),
    })
}

impl corelay_rt::Runtime for Monoio {
    type Options = Options;
    type Listener = TcpListener;
    type Stream = TokioIo<TcpStreamPoll>;

    fn block_on<F: Future>(options: &Options, main: F) -> io::Result<F::Output> {
        let driver = Driver::from_env().unwrap_or(options.driver);
        Ok(runtime(driver)?.block_on(main))
    }

    fn io_driver() -> &'static str {
        if monoio::utils::is_legacy() {
            "epoll"
        } else {
            "io_uring"
        }
    }

    fn spawn(task: impl Future<Output = ()> + 'static) {
        drop(monoio::spawn(task));
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> {
        monoio::time::sleep_until(deadline.into())
    }

    fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::from_std(corelay_rt::reuseport_listener(addr)?)
    }

    fn local_addr(listener: &TcpListener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &TcpListener) -> io::Result<(Self::Stream, SocketAddr)> {
        let (stream, peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok((poll_io(stream)?, peer))
    }

    fn adopt(stream: std::net::TcpStream) -> io::Result<Self::Stream> {
        stream.set_nonblocking(true)?;
        poll_io(TcpStream::from_std(stream)?)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        poll_io(stream)
    }
}

/// A monoio stream in readiness ("poll-io") mode.
fn poll_io(stream: TcpStream) -> io::Result<TokioIo<TcpStreamPoll>> {
    stream.try_into_poll_io().map(TokioIo).map_err(|(e, _)| e)
}
