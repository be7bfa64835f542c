//! corelay on glommio: one `LocalExecutor` per shard thread, each with its own `SO_REUSEPORT`
//! listener, driving a [`corelay_core::Shard`]. The driver (`corelay-rt`) does everything a
//! shard thread does; this crate gives it glommio's TCP types, timers and tasks. All protocol
//! logic lives in the core. Switching from `corelay-tokio` is a change of one dependency and
//! one `use`.
//!
//! ```no_run
//! use corelay_glommio::{App, Server};
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
//! # Requirements: Linux, io_uring and locked memory
//!
//! glommio runs on io_uring (Linux 5.8 or later) and refuses to start an executor when the
//! locked-memory limit (`RLIMIT_MEMLOCK`) is below 512 KiB. Each shard registers 64 KiB of
//! buffers with each of its three rings, about 192 KiB of pinned memory per shard, counted
//! against the same limit unless the process has `CAP_IPC_LOCK` (past the limit glommio skips
//! the registration and still runs). Recent systemd-based systems default to 8 MiB; older ones
//! to 64 KiB, which is too low: `start()` then fails with an error that names the limit. Raise
//! it with `ulimit -l 1024` (or more, in the shell that starts the server), `LimitMEMLOCK=1M`
//! in a systemd unit, `--ulimit memlock=1048576` for Docker, or a `memlock` line in
//! `/etc/security/limits.conf`.
//!
//! # Sockets
//!
//! glommio's sockets read with a non-blocking `recv` and, when nothing is there, wait for
//! readiness with an io_uring poll, so all the connections of a shard read into one scratch
//! buffer. Writes are one vectored `sendmsg` of the core's queue; when the socket is full,
//! glommio polls for writability.
#![deny(missing_docs)]

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_lite::io::{AsyncRead, AsyncWrite};
use glommio::net::{TcpListener, TcpStream};
use glommio::{GlommioError, LocalExecutorBuilder, Placement};
use nix::errno::Errno;
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::socket as sock;

pub use corelay_core::*;
pub use corelay_rt::{RedisOptions, RunningServer, ServerError, ShutdownHandle};

/// Memory each executor registers with io_uring. glommio uses it for file I/O only (sockets
/// read into the driver's buffer), so the minimum it takes is enough.
const IO_MEMORY: usize = 64 * 1024;
/// glommio refuses to start an executor below this locked-memory limit.
const MIN_MEMLOCK: u64 = 512 * 1024;

/// Entry point: `Server::builder(app)`, then `bind`, `shards`, `pin_cores`, `start`.
pub type Server = corelay_rt::Server<Glommio>;
/// Configures a server on glommio.
pub type ServerBuilder = corelay_rt::ServerBuilder<Glommio>;

/// The glommio runtime: one `LocalExecutor` per shard thread, on io_uring. Shards are pinned
/// by the driver (`pin_cores`), not by glommio's placement.
#[derive(Debug)]
pub struct Glommio;

/// Why an executor can not start, naming the locked-memory limit when it is the cause.
fn executor_error(e: GlommioError<()>) -> io::Error {
    let e = io::Error::from(e);
    let limit = getrlimit(Resource::RLIMIT_MEMLOCK).map_or(u64::MAX, |(soft, _)| soft);
    if limit < MIN_MEMLOCK
        || e.raw_os_error() == Some(Errno::ENOMEM as i32)
        || e.to_string().contains("MemLock")
    {
        return io::Error::other(format!(
            "glommio can not start: the locked-memory limit RLIMIT_MEMLOCK (`ulimit -l`) is {} \
             KiB, glommio needs at least {} KiB for its io_uring rings and buffers; raise it \
             with `ulimit -l 1024` (or more) in the shell that starts the server, \
             `LimitMEMLOCK=1M` in a systemd unit, or `memlock` in /etc/security/limits.conf \
             ({e})",
            limit / 1024,
            MIN_MEMLOCK / 1024
        ));
    }
    let why = match e.raw_os_error() {
        Some(n) if n == Errno::EPERM as i32 || n == Errno::ENOSYS as i32 => {
            "io_uring is unavailable (kernel older than 5.8, sysctl kernel.io_uring_disabled, \
             or a seccomp profile)"
        }
        _ => "glommio executor failed",
    };
    io::Error::new(e.kind(), format!("{why}: {e}"))
}

impl corelay_rt::Runtime for Glommio {
    type Options = ();
    type Listener = TcpListener;
    type Stream = Stream;

    fn block_on<F: Future>(_: &(), main: F) -> io::Result<F::Output> {
        let executor = LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(IO_MEMORY)
            .make()
            .map_err(executor_error)?;
        Ok(executor.run(main))
    }

    fn io_driver() -> &'static str {
        "io_uring"
    }

    fn spawn(task: impl Future<Output = ()> + 'static) {
        glommio::spawn_local(task).detach();
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> {
        let timer = glommio::timer::Timer::new(deadline.saturating_duration_since(Instant::now()));
        async move {
            timer.await;
        }
    }

    fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        Ok(TcpListener::bind(addr)?)
    }

    fn local_addr(listener: &TcpListener) -> io::Result<SocketAddr> {
        Ok(listener.local_addr()?)
    }

    async fn accept(listener: &TcpListener) -> io::Result<(Stream, SocketAddr)> {
        let stream = listener.accept().await?;
        stream.set_nodelay(true)?;
        let peer = stream.peer_addr()?;
        Ok((Stream::new(stream), peer))
    }

    fn adopt(stream: std::net::TcpStream) -> io::Result<Stream> {
        Ok(Stream::new(TcpStream::from(socket2_glommio::Socket::from(
            stream,
        ))))
    }

    async fn connect(addr: SocketAddr) -> io::Result<Stream> {
        let stream = TcpStream::connect(addr).await.map_err(io::Error::from)?;
        stream.set_nodelay(true).map_err(io::Error::from)?;
        Ok(Stream::new(stream))
    }
}

/// A glommio TCP stream, as the driver uses it.
#[derive(Debug)]
pub struct Stream {
    stream: TcpStream,
    /// Its descriptor, for vectored writes and shutdown.
    fd: RawFd,
}

impl Stream {
    fn new(stream: TcpStream) -> Stream {
        let fd = stream.as_raw_fd();
        Stream { stream, fd }
    }
}

impl corelay_rt::Stream for Stream {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }

    fn try_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        corelay_rt::send_vectored(self.fd, bufs)
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.try_write_vectored(bufs) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                // glommio's own write of the first chunk polls for writability.
                let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
                Pin::new(&mut self.stream).poll_write(cx, first)
            }
            done => Poll::Ready(done),
        }
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        sock::shutdown(self.fd, sock::Shutdown::Write).map_err(io::Error::from)
    }

    fn into_std(self) -> io::Result<std::net::TcpStream> {
        corelay_rt::duplicate(&self.stream)
    }
}
