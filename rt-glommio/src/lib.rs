//! corelay on glommio: one `LocalExecutor` per shard thread, each with its own `SO_REUSEPORT`
//! listener, driving a [`corelay_core::Shard`]. The shim only moves bytes and sleeps; all
//! protocol logic lives in the core. Switching from `corelay-tokio` is a change of one
//! dependency and one `use`.
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
//! server.wait();
//! ```
//!
//! # Requirements: Linux, io_uring and locked memory
//!
//! glommio runs on io_uring (Linux 5.8 or later) and refuses to start an executor when the
//! locked-memory limit (`RLIMIT_MEMLOCK`) is below 512 KiB. Each shard registers 64 KiB of
//! buffers with each of its three rings, about 192 KiB of pinned memory per shard, counted
//! against the same limit unless the process has `CAP_IPC_LOCK` (past the limit glommio skips
//! the registration and still runs). Recent systemd-based systems default to 8 MiB; older ones
//! to 64 KiB, which is too low: [`ServerBuilder::start`] then fails with an error that names
//! the limit. Raise it with `ulimit -l 1024` (or more, in the shell that starts the server),
//! `LimitMEMLOCK=1M` in a systemd unit, `--ulimit memlock=1048576` for Docker, or a `memlock`
//! line in `/etc/security/limits.conf`.
//!
//! # I/O
//!
//! glommio's sockets read with a non-blocking `recv` and, when nothing is there, wait for
//! readiness with an io_uring poll: no buffer is lent to the kernel while a connection is
//! idle. So, as on tokio, every connection of a shard reads into one scratch buffer of the
//! shard, and the core keeps only an incomplete tail. Writes are one vectored `sendmsg` of the
//! core's queue; when the socket is full the connection waits for writability through glommio.
//!
//! # Shards
//!
//! The kernel spreads connections over the shards' listeners. Each shard has an inbox that any
//! thread may fill (mesh messages from other shards or an [`Io`] handle, connections handed
//! over by the core's session routing, the shutdown); posting wakes the shard's executor
//! through glommio's cross-thread waker (an eventfd), so no shard ever polls.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::io::{AsyncRead, AsyncWrite};
use glommio::net::{TcpListener, TcpStream};
use glommio::timer::Timer;
use glommio::{GlommioError, LocalExecutorBuilder, Placement};
use nix::errno::Errno;
use nix::sys::resource::{getrlimit, Resource};
use nix::sys::socket::{self as sock, MsgFlags, SockaddrStorage};

pub use corelay_core::*;
use corelay_rt::{Launch, Settings};

/// How long a shutdown may take before the remaining connections are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Size of the read buffer shared by all connections of a shard.
const SCRATCH: usize = 64 * 1024;
/// Chunks handed to one vectored write.
const IOV: usize = 1024;
/// Reads of one connection before it yields to the other tasks.
const READ_BUDGET: usize = 16;
/// Memory each executor registers with io_uring. glommio uses it for file I/O only (sockets
/// read into the shim's buffers), so the minimum it takes is enough.
const IO_MEMORY: usize = 64 * 1024;

/// Entry point: configure, then start.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A server for `app`.
    pub fn builder(app: Arc<App>) -> ServerBuilder {
        ServerBuilder::new(app)
    }
}

/// Configures a server on glommio: `bind`, `shards`, `pin_cores`, then `start`.
pub type ServerBuilder = corelay_rt::ServerBuilder<Glommio>;
pub use corelay_rt::{RunningServer, ShutdownHandle};

/// The glommio runtime: one `LocalExecutor` per shard thread.
#[derive(Debug)]
pub struct Glommio;

impl Launch for Glommio {
    type Options = ();

    /// Starts the shard threads, each binding its listener. The first shard binds the given
    /// address, the others its actual address (so that port 0 gives one port for all).
    fn launch(app: Arc<App>, settings: &Settings, _: &()) -> io::Result<RunningServer> {
        let count = settings.shards;
        let mesh = Arc::new(Mesh {
            inboxes: (0..count)
                .map(|_| Mutex::new((Some(Vec::new()), None)))
                .collect(),
        });
        let mut threads = Vec::with_capacity(count);
        let mut addr = settings.addr;
        for index in 0..count {
            let (ready_tx, ready_rx) = mpsc::sync_channel(1);
            let (app, mesh2, pin) = (app.clone(), mesh.clone(), settings.pin);
            let spawned = std::thread::Builder::new()
                .name(format!("corelay-shard-{index}"))
                .spawn(move || run_shard(app, index, count, addr, pin, mesh2, ready_tx));
            let ready = match spawned {
                Ok(t) => {
                    threads.push(t);
                    ready_rx
                        .recv()
                        .unwrap_or_else(|_| Err(io::Error::other("shard panicked")))
                }
                Err(e) => Err(e),
            };
            match ready {
                Ok(bound) => addr = bound,
                Err(e) => {
                    mesh.stop();
                    threads.into_iter().for_each(|t| drop(t.join()));
                    return Err(e);
                }
            }
        }
        let stop_mesh = mesh.clone();
        let stop = Arc::new(move || stop_mesh.stop());
        Ok(RunningServer::new(addr, threads, Io::new(mesh), stop))
    }
}

/// What crosses to a shard's thread.
#[derive(Debug)]
enum Envelope {
    Mesh(MeshMessage),
    /// A connection handed over by another shard, with the bytes it had read.
    Conn(std::net::TcpStream, SocketAddr, Bytes),
    Stop,
}

/// A shard's inbox (`None` once the shard has stopped), and the waker of its inbox task.
type Inbox = Mutex<(Option<Vec<Envelope>>, Option<Waker>)>;

/// The shards' inboxes. glommio wakers may be woken from any thread (through the executor's
/// eventfd), so posting wakes the shard and nothing polls.
#[derive(Debug)]
struct Mesh {
    inboxes: Vec<Inbox>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Mesh {
    fn deliver(&self, shard: usize, envelope: Envelope) {
        let Some(inbox) = self.inboxes.get(shard) else {
            return;
        };
        let mut inbox = lock(inbox);
        // A stopped shard drops what comes (a handed-over socket closes).
        let Some(queue) = inbox.0.as_mut() else {
            return;
        };
        queue.push(envelope);
        let waker = inbox.1.take();
        drop(inbox);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn stop(&self) {
        (0..self.inboxes.len()).for_each(|k| self.deliver(k, Envelope::Stop));
    }
}

impl MeshPost for Mesh {
    fn shards(&self) -> usize {
        self.inboxes.len()
    }

    fn post(&self, shard: usize, message: MeshMessage) {
        self.deliver(shard, Envelope::Mesh(message));
    }
}

/// A wake-up within one shard: set once, taken by the next poll.
#[derive(Default)]
struct Signal {
    set: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Signal {
    fn notify(&self) {
        self.set.set(true);
        if let Some(w) = self.waker.borrow().as_ref() {
            w.wake_by_ref();
        }
    }

    fn poll(&self, cx: &Context<'_>) -> Poll<()> {
        let mut waker = self.waker.borrow_mut();
        if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *waker = Some(cx.waker().clone());
        }
        if self.set.replace(false) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// glommio refuses to start an executor below this locked-memory limit.
const MIN_MEMLOCK: u64 = 512 * 1024;

/// The error `start` reports when a shard's executor can not start.
fn executor_error(index: usize, e: GlommioError<()>) -> io::Error {
    let e = io::Error::from(e);
    let limit = getrlimit(Resource::RLIMIT_MEMLOCK).map_or(u64::MAX, |(soft, _)| soft);
    if limit < MIN_MEMLOCK
        || e.raw_os_error() == Some(Errno::ENOMEM as i32)
        || e.to_string().contains("MemLock")
    {
        return io::Error::other(format!(
            "shard {index}: glommio can not start: the locked-memory limit RLIMIT_MEMLOCK \
             (`ulimit -l`) is {} KiB, glommio needs at least {} KiB for its io_uring rings and \
             buffers; raise it with `ulimit -l 1024` (or more) in the shell that starts the \
             server, `LimitMEMLOCK=1M` in a systemd unit, or `memlock` in \
             /etc/security/limits.conf ({e})",
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
    io::Error::new(e.kind(), format!("shard {index}: {why}: {e}"))
}

fn run_shard(
    app: Arc<App>,
    index: usize,
    count: usize,
    addr: SocketAddr,
    pin: bool,
    mesh: Arc<Mesh>,
    ready: mpsc::SyncSender<io::Result<SocketAddr>>,
) {
    let placement = match glommio::CpuSet::online() {
        Ok(cpus) if pin && !cpus.is_empty() => {
            Placement::Fixed(cpus.iter().nth(index % cpus.len()).map_or(0, |c| c.cpu))
        }
        _ => Placement::Unbound,
    };
    let executor = LocalExecutorBuilder::new(placement)
        .name(&format!("corelay-shard-{index}"))
        .io_memory(IO_MEMORY)
        .make();
    let executor = match executor {
        Ok(ex) => ex,
        Err(e) => {
            let _ = ready.send(Err(executor_error(index, e)));
            return;
        }
    };
    executor.run(async {
        let bound = TcpListener::bind(addr).and_then(|l| Ok((l.local_addr()?, l)));
        let listener = match bound.map_err(io::Error::from) {
            Ok((bound, l)) => {
                let _ = ready.send(Ok(bound));
                l
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let mut shard = Shard::new(app, index, count, Instant::now());
        shard.set_io(Io::new(mesh.clone()));
        let driver = Rc::new(Driver {
            shard: RefCell::new(shard),
            conns: RefCell::new(HashMap::new()),
            scratch: RefCell::new(vec![0; SCRATCH]),
            timer: Signal::default(),
            armed: Cell::new(None),
            mesh: mesh.clone(),
            stop: Signal::default(),
            stopping: Cell::new(false),
            drained: Signal::default(),
        });
        glommio::spawn_local(timer_task(driver.clone())).detach();
        glommio::spawn_local(inbox_task(driver.clone())).detach();
        accept_loop(&driver, &listener).await;
        drop(listener);
        // Graceful shutdown: let the core close everything, then wait for the connections.
        driver.stopping.set(true);
        driver.shard.borrow_mut().shutdown(Instant::now());
        driver.drive();
        let mut grace = Timer::new(SHUTDOWN_GRACE);
        poll_fn(|cx| match driver.drained.poll(cx) {
            Poll::Ready(()) => Poll::Ready(()),
            Poll::Pending => Pin::new(&mut grace).poll(cx).map(drop),
        })
        .await;
    });
    *lock(&mesh.inboxes[index]) = (None, None);
}

async fn accept_loop(driver: &Rc<Driver>, listener: &TcpListener) {
    loop {
        let mut accept = pin!(listener.accept());
        let accepted = poll_fn(|cx| match driver.stop.poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => accept.as_mut().poll(cx).map(Some),
        })
        .await;
        let stream = match accepted {
            None => return,
            Some(Ok(stream)) => stream,
            Some(Err(e)) => {
                // Out of descriptors, most likely: give the connections a moment to end.
                tracing::warn!("accept: {e}");
                Timer::new(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(peer) = stream.peer_addr() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let id = driver.shard.borrow_mut().accept(Instant::now(), peer);
        driver.register(id, stream, peer);
        driver.drive();
    }
}

/// Feeds the core what other threads sent this shard.
async fn inbox_task(driver: Rc<Driver>) {
    let index = driver.shard.borrow().index();
    let mut batch = Vec::new();
    loop {
        poll_fn(|cx| {
            let mut inbox = lock(&driver.mesh.inboxes[index]);
            match inbox.0.as_mut() {
                Some(queue) if !queue.is_empty() => {
                    std::mem::swap(queue, &mut batch);
                    Poll::Ready(())
                }
                _ => {
                    inbox.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        for envelope in batch.drain(..) {
            match envelope {
                Envelope::Mesh(message) => {
                    driver
                        .shard
                        .borrow_mut()
                        .handle_mesh(Instant::now(), message);
                }
                Envelope::Conn(stream, peer, data) => {
                    let stream = TcpStream::from(socket2_glommio::Socket::from(stream));
                    let id = driver.shard.borrow_mut().adopt(Instant::now(), peer, &data);
                    driver.register(id, stream, peer);
                }
                Envelope::Stop => driver.stop.notify(),
            }
        }
        driver.drive();
    }
}

/// A second descriptor of a glommio socket, owned apart from it, to move the connection to
/// another shard's executor (glommio 0.9 can not give its descriptor away).
#[allow(unsafe_code)]
fn detach(stream: &TcpStream) -> io::Result<std::net::TcpStream> {
    // SAFETY: `stream` owns the descriptor and outlives this borrow, which only duplicates it.
    let fd = unsafe { BorrowedFd::borrow_raw(stream.as_raw_fd()) };
    Ok(fd.try_clone_to_owned()?.into())
}

/// The per-shard state of the shim: the core, and the sockets by connection id.
struct Driver {
    shard: RefCell<Shard>,
    conns: RefCell<HashMap<ConnId, Rc<ConnIo>>>,
    scratch: RefCell<Vec<u8>>,
    /// Wakes the timer task when the core's deadline moved earlier than `armed`.
    timer: Signal,
    armed: Cell<Option<Instant>>,
    mesh: Arc<Mesh>,
    /// Set by the inbox when the server shuts down.
    stop: Signal,
    stopping: Cell<bool>,
    /// Set once the shard has no connections left during a shutdown.
    drained: Signal,
}

struct ConnIo {
    /// The descriptor of `stream`, for vectored writes and shutdown.
    fd: RawFd,
    stream: RefCell<TcpStream>,
    peer: SocketAddr,
    /// A write would block: wait for writability, then write the rest.
    blocked: Cell<bool>,
    closed: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl ConnIo {
    fn wake(&self) {
        if let Some(w) = self.waker.borrow().as_ref() {
            w.wake_by_ref();
        }
    }
}

impl Driver {
    /// Starts serving a connection the core knows as `id`.
    fn register(self: &Rc<Self>, id: ConnId, stream: TcpStream, peer: SocketAddr) {
        let io = Rc::new(ConnIo {
            fd: stream.as_raw_fd(),
            stream: RefCell::new(stream),
            peer,
            blocked: Cell::new(false),
            closed: Cell::new(false),
            waker: RefCell::new(None),
        });
        self.conns.borrow_mut().insert(id, io.clone());
        let driver = self.clone();
        glommio::spawn_local(async move { poll_fn(|cx| driver.poll_conn(id, &io, cx)).await })
            .detach();
    }

    /// Drains every output of the core.
    fn drive(&self) {
        loop {
            let mut progress = false;
            loop {
                let next = self.shard.borrow_mut().poll_mesh();
                let Some((target, message)) = next else { break };
                progress = true;
                let me = self.shard.borrow().index();
                for k in corelay_rt::recipients(target, me, self.mesh.inboxes.len()) {
                    self.mesh.post(k, message.clone());
                }
            }
            loop {
                let next = self.shard.borrow_mut().poll_transmit();
                let Some(id) = next else { break };
                progress = true;
                self.write(id);
            }
            loop {
                let next = self.shard.borrow_mut().poll_action();
                let Some(action) = next else { break };
                progress = true;
                match action {
                    Action::Shutdown(id) => {
                        if let Some(io) = self.conns.borrow().get(&id) {
                            let _ = sock::shutdown(io.fd, sock::Shutdown::Write);
                        }
                    }
                    Action::Close(id) => {
                        if let Some(io) = self.conns.borrow_mut().remove(&id) {
                            io.closed.set(true);
                            io.wake();
                        }
                    }
                    Action::HandOver { conn, shard, data } => {
                        let Some(io) = self.conns.borrow_mut().remove(&conn) else {
                            continue;
                        };
                        match detach(&io.stream.borrow()) {
                            Ok(s) => self.mesh.deliver(shard, Envelope::Conn(s, io.peer, data)),
                            Err(e) => tracing::warn!("hand-over to shard {shard}: {e}"),
                        }
                        io.closed.set(true);
                        io.wake();
                    }
                }
            }
            if !progress {
                break;
            }
        }
        let next = self.shard.borrow().poll_timeout();
        if let Some(t) = next {
            if self.armed.get().is_none_or(|armed| t < armed) {
                self.timer.notify();
            }
        }
        if self.stopping.get() && self.shard.borrow().stats().connections == 0 {
            self.drained.notify();
        }
    }

    /// Writes a connection's queue until it is empty or the socket would block.
    fn write(&self, id: ConnId) {
        let Some(io) = self.conns.borrow().get(&id).cloned() else {
            return;
        };
        if io.blocked.get() {
            return;
        }
        loop {
            let result = {
                let shard = self.shard.borrow();
                let mut slices = [IoSlice::new(&[]); IOV];
                let n = shard.send_queue(id, &mut slices);
                if n == 0 {
                    return;
                }
                let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
                sock::sendmsg::<SockaddrStorage>(io.fd, &slices[..n], &[], flags, None)
            };
            match result {
                Ok(n) => self.shard.borrow_mut().advance(id, n),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    io.blocked.set(true);
                    io.wake();
                    return;
                }
                Err(_) => {
                    self.shard.borrow_mut().closed(Instant::now(), id);
                    return;
                }
            }
        }
    }

    /// The peer closed the connection, or an I/O error ended it.
    fn end(&self, id: ConnId, io: &ConnIo) {
        self.shard.borrow_mut().closed(Instant::now(), id);
        self.conns.borrow_mut().remove(&id);
        io.closed.set(true);
        self.drive();
    }

    /// The task of one connection: waits for writability while its socket is full, and reads.
    /// Buffers are lent to glommio only for the duration of a poll (sockets are readiness-based
    /// underneath), so the shard's scratch buffer serves every connection.
    fn poll_conn(&self, id: ConnId, io: &ConnIo, cx: &mut Context<'_>) -> Poll<()> {
        {
            let mut waker = io.waker.borrow_mut();
            if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *waker = Some(cx.waker().clone());
            }
        }
        for _ in 0..READ_BUDGET {
            if io.closed.get() {
                return Poll::Ready(());
            }
            if io.blocked.get() {
                // One plain write of the head of the queue: glommio waits for writability.
                let wrote = {
                    let shard = self.shard.borrow();
                    let mut head = [IoSlice::new(&[])];
                    if shard.send_queue(id, &mut head) == 0 {
                        Poll::Ready(Ok(0))
                    } else {
                        Pin::new(&mut *io.stream.borrow_mut()).poll_write(cx, &head[0])
                    }
                };
                match wrote {
                    Poll::Ready(Ok(n)) => {
                        io.blocked.set(false);
                        self.shard.borrow_mut().advance(id, n);
                        self.write(id);
                        self.drive();
                        continue;
                    }
                    Poll::Ready(Err(_)) => {
                        self.end(id, io);
                        continue;
                    }
                    Poll::Pending => {}
                }
            }
            let read = {
                let mut scratch = self.scratch.borrow_mut();
                let polled = Pin::new(&mut *io.stream.borrow_mut()).poll_read(cx, &mut scratch);
                match polled {
                    Poll::Ready(Ok(n)) if n > 0 => {
                        self.shard
                            .borrow_mut()
                            .receive(Instant::now(), id, &scratch[..n]);
                        true
                    }
                    Poll::Ready(_) => false,
                    Poll::Pending => return Poll::Pending,
                }
            };
            if read {
                self.drive();
            } else {
                self.end(id, io);
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The shard's one sleep: until the core's next deadline, or until an input moves it earlier.
async fn timer_task(driver: Rc<Driver>) {
    loop {
        let next = driver.shard.borrow().poll_timeout();
        driver.armed.set(next);
        let mut sleep = next.map(|at| Timer::new(at.saturating_duration_since(Instant::now())));
        let fired = poll_fn(|cx| {
            if driver.timer.poll(cx).is_ready() {
                return Poll::Ready(false);
            }
            match sleep.as_mut() {
                Some(t) => Pin::new(t).poll(cx).map(|_| true),
                None => Poll::Pending,
            }
        })
        .await;
        if fired {
            driver.shard.borrow_mut().handle_timeout(Instant::now());
            driver.drive();
        }
    }
}

/// Runs an example application (see `corelay-examples`) on glommio.
#[doc(hidden)]
pub fn serve_example(
    app: Arc<App>,
    addr: SocketAddr,
    shards: usize,
    wait: impl FnOnce(SocketAddr),
) {
    corelay_rt::serve_example::<Glommio>(app, addr, shards, wait)
}
