//! What a runtime crate supplies: the [`Runtime`] trait and its [`Stream`].
//!
//! The split follows quinn's `Runtime` / `AsyncUdpSocket`: everything a shard thread does is
//! written once, in this crate, against these two traits; a runtime crate implements them with
//! its own TCP types, timers, task spawning and runtime construction, and nothing else.
//!
//! Sockets are driven by readiness on every runtime: a read lends the shard's one scratch
//! buffer for the duration of a poll only, so an idle connection holds no buffer; writes are
//! vectored writes of the core's queue, tried at once and, when the socket is full, polled
//! for writability by the connection's task.

use std::fmt;
use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// An async runtime, as the driver uses it: one instance per shard thread, running local
/// (`!Send`) tasks.
///
/// Wakers of the runtime's tasks must be wakeable from any thread (the mesh wakes a shard's
/// inbox task from other shards and from plain threads).
pub trait Runtime: Sized + 'static {
    /// The runtime's own settings (`ServerBuilder::options`); `()` when it has none.
    type Options: Default + Clone + fmt::Debug + Send + 'static;
    /// A listening socket registered with the runtime.
    type Listener: 'static;
    /// A connected socket registered with the runtime.
    type Stream: Stream;

    /// Builds a runtime on the calling thread and runs `main` on it to completion; an error
    /// when the runtime can not be built.
    fn block_on<F: Future>(options: &Self::Options, main: F) -> io::Result<F::Output>;

    /// The I/O driver of the calling thread's runtime, for reports: `"epoll"`, `"io_uring"`.
    fn io_driver() -> &'static str;

    /// Spawns a local task on the calling thread's runtime. The task is detached. A runtime
    /// may poll it within this call (glommio does): the driver calls it with the shard free.
    fn spawn(task: impl Future<Output = ()> + 'static);

    /// Completes at `deadline` (at once when it has passed).
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()>;

    /// A listener on `addr` with `SO_REUSEPORT` set, so that every shard listens on the same
    /// port ([`reuseport_listener`](crate::reuseport_listener) makes one).
    fn bind(addr: SocketAddr) -> io::Result<Self::Listener>;

    /// The address a listener is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;

    /// The next connection, with `TCP_NODELAY` set, and its peer's address.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Stream, SocketAddr)>> + '_;

    /// Registers a connection that another shard handed over.
    fn adopt(stream: std::net::TcpStream) -> io::Result<Self::Stream>;

    /// Opens a connection to `addr`, with `TCP_NODELAY` set (the cluster adapter's links to
    /// Redis).
    fn connect(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>>;
}

/// A connected TCP socket of a [`Runtime`], driven by readiness.
pub trait Stream: 'static {
    /// Reads what has arrived into `buf`: `Ready(Ok(0))` at the end of the stream; `Pending`
    /// when nothing is there, with the task woken once something is.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes what the socket takes now, without waiting: `WouldBlock` when it takes nothing.
    ///
    /// By default, [`Stream::poll_write_vectored`] polled with a waker that does nothing (the
    /// connection's task polls again with its own when this says the socket is full).
    fn try_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.poll_write_vectored(&mut cx, bufs) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// As [`Stream::try_write_vectored`], but `Pending` when the socket is full, with the task
    /// woken once it is writable.
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;

    /// Shuts the writing side down (a FIN after what was written).
    fn shutdown_write(&mut self) -> io::Result<()>;

    /// The socket, unregistered from this runtime, to move it to another shard.
    fn into_std(self) -> io::Result<std::net::TcpStream>;
}

/// The [`Stream`] of runtimes whose sockets implement tokio's I/O traits (feature `tokio-io`):
/// tokio's own, and monoio's `poll-io` streams.
#[cfg(feature = "tokio-io")]
#[derive(Debug)]
pub struct TokioIo<T>(pub T);

#[cfg(feature = "tokio-io")]
impl<T> Stream for TokioIo<T>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + std::os::fd::AsRawFd + Unpin + 'static,
{
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = tokio::io::ReadBuf::new(buf);
        std::pin::Pin::new(&mut self.0)
            .poll_read(cx, &mut buf)
            .map_ok(|()| buf.filled().len())
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn try_write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        crate::send_vectored(self.0.as_raw_fd(), bufs)
    }

    fn shutdown_write(&mut self) -> io::Result<()> {
        // A TCP shutdown completes at once.
        let mut cx = Context::from_waker(Waker::noop());
        match std::pin::Pin::new(&mut self.0).poll_shutdown(&mut cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Ok(()),
        }
    }

    fn into_std(self) -> io::Result<std::net::TcpStream> {
        // Dropping `self` afterwards unregisters and closes the runtime's own descriptor.
        crate::duplicate(&self.0)
    }
}
