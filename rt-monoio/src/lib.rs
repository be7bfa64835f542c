//! corelay on monoio: one thread per shard, each with its own monoio runtime (io_uring, or
//! epoll where io_uring is missing) and its own `SO_REUSEPORT` listener, driving a
//! [`corelay_core::Shard`]. The shim only moves bytes and sleeps; all protocol logic lives in
//! the core. The API is the one of `corelay-tokio`, plus [`ServerBuilder::driver`].
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
//! println!("listening on http://{}", server.local_addr());
//! server.wait();
//! ```
//!
//! # Driver
//!
//! [`Driver::Auto`] (the default) runs on io_uring when the kernel offers what monoio needs and
//! falls back to epoll otherwise (monoio's own `MONOIO_FORCE_LEGACY_DRIVER=1` forces the
//! fallback too). The environment variable `CORELAY_MONOIO_DRIVER` (`auto`, `io_uring` or
//! `legacy`) overrides the builder's choice, for tests.
//!
//! # Buffers
//!
//! A completion-based read needs a buffer the kernel owns while the read is in flight, so each
//! connection has one: 4 KiB, doubled while reads fill it (up to 64 KiB, for large messages),
//! back to 4 KiB after a small read. Writes copy the queued chunks (at most 64 KiB at a time)
//! into a buffer borrowed from a per-shard pool for the duration of the write, so an idle
//! connection holds no write buffer.
//!
//! # Threads
//!
//! Other threads reach a shard through its door: an inbox of mesh messages and connections
//! handed over, and a socket pair whose bytes wake the shard and whose end tells it to stop.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream as StdUnixStream;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use corelay_rt::{Launch, Settings};
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent};
use monoio::io::{Canceller, OwnedReadHalf, OwnedWriteHalf, Splitable};
use monoio::net::{TcpListener, TcpStream, UnixStream};
use monoio::time::TimeDriver;
use monoio::{FusionDriver, FusionRuntime, IoUringDriver, LegacyDriver, RuntimeBuilder};

pub use corelay_core::*;

/// How long a shutdown may take before the remaining connections are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Read buffer of a connection: its usual size, and its bound while large messages arrive.
const READ_MIN: usize = 4 * 1024;
const READ_MAX: usize = 64 * 1024;
/// Bytes copied for one write, and chunks looked at for them.
const WRITE_MAX: usize = 64 * 1024;
const IOV: usize = 1024;
/// Write buffers a shard keeps for reuse.
const POOL: usize = 16;
/// The environment variable that overrides [`ServerBuilder::driver`].
const DRIVER_ENV: &str = "CORELAY_MONOIO_DRIVER";

type Runtime = FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>;

/// Entry point: configure, then start.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A server for `app`.
    pub fn builder(app: Arc<App>) -> ServerBuilder {
        ServerBuilder::new(app)
    }
}

/// Configures a server on monoio: `bind`, `shards`, `pin_cores`, [`DriverExt::driver`], then
/// `start`.
pub type ServerBuilder = corelay_rt::ServerBuilder<Monoio>;
pub use corelay_rt::{RunningServer, ShutdownHandle};

/// The monoio runtime: one runtime per shard thread, on the chosen [`Driver`].
#[derive(Debug)]
pub struct Monoio;

/// monoio's own settings.
#[derive(Debug, Default)]
pub struct Options {
    driver: Driver,
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
    /// io_uring only: [`ServerBuilder::start`] fails where it is missing.
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

    fn runtime(self) -> io::Result<Runtime> {
        let legacy = || RuntimeBuilder::<LegacyDriver>::new().enable_timer().build();
        let uring = || {
            RuntimeBuilder::<IoUringDriver>::new()
                .enable_timer()
                .build()
        };
        Ok(match self {
            Driver::Auto => match RuntimeBuilder::<FusionDriver>::new().enable_timer().build() {
                Ok(rt) => rt,
                Err(_) => FusionRuntime::Legacy(legacy()?),
            },
            Driver::IoUring => FusionRuntime::Uring(uring()?),
            Driver::Legacy => FusionRuntime::Legacy(legacy()?),
        })
    }
}

impl Launch for Monoio {
    type Options = Options;

    /// Fails if a shard can not build its runtime (e.g. [`Driver::IoUring`] without io_uring).
    fn launch(app: Arc<App>, settings: &Settings, options: &Options) -> io::Result<RunningServer> {
        let driver = Driver::from_env().unwrap_or(options.driver);
        let (local_addr, listeners) =
            corelay_rt::reuseport_listeners(settings.addr, settings.shards)?;
        let count = listeners.len();
        let mut doors = Vec::with_capacity(count);
        let mut ears = Vec::with_capacity(count);
        for _ in 0..count {
            let (bell, ear) = StdUnixStream::pair()?;
            bell.set_nonblocking(true)?;
            ear.set_nonblocking(true)?;
            doors.push(Door {
                inbox: Mutex::new(Some(Vec::new())),
                bell,
            });
            ears.push(ear);
        }
        let mesh = Arc::new(Mesh { doors });
        // From here on, an early return drops `stop`, which stops the shards already started.
        let stop = Stop(mesh.clone());
        let cores = corelay_rt::shard_cores(settings.pin, count);
        let mut threads = Vec::with_capacity(count);
        let (ready, started) = mpsc::channel();
        for (((index, listener), ear), core) in
            listeners.into_iter().enumerate().zip(ears).zip(cores)
        {
            let setup = ShardSetup {
                app: app.clone(),
                index,
                count,
                listener,
                ear,
                mesh: mesh.clone(),
                driver,
                ready: ready.clone(),
                core,
            };
            let t = std::thread::Builder::new()
                .name(format!("corelay-shard-{index}"))
                .spawn(move || run_shard(setup))?;
            threads.push(t);
        }
        drop(ready);
        // Dropping the server and every handle stops the shards too.
        let server = RunningServer::new(
            local_addr,
            threads,
            Io::new(mesh),
            Arc::new(move || stop.0.stop()),
        );
        for _ in 0..count {
            let result = started
                .recv()
                .unwrap_or_else(|_| Err(io::Error::other("shard died")));
            if let Err(e) = result {
                server.shutdown();
                server.wait();
                return Err(e);
            }
        }
        Ok(server)
    }
}

#[derive(Debug)]
struct Stop(Arc<Mesh>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// What crosses to a shard's thread: mesh messages and connections handed over.
#[derive(Debug)]
enum Envelope {
    Mesh(MeshMessage),
    Conn(std::net::TcpStream, SocketAddr, Bytes),
}

/// The shards' doors.
#[derive(Debug)]
struct Mesh {
    doors: Vec<Door>,
}

/// How other threads reach a shard: envelopes wait in `inbox` (`None` once the shard stopped)
/// and a byte on `bell` wakes the shard, which reads the other end of the pair; shutting
/// `bell` down tells the shard to stop.
#[derive(Debug)]
struct Door {
    inbox: Mutex<Option<Vec<Envelope>>>,
    bell: StdUnixStream,
}

impl Mesh {
    fn send(&self, shard: usize, envelope: Envelope) {
        let Some(door) = self.doors.get(shard) else {
            return;
        };
        let mut guard = door.inbox.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(inbox) = guard.as_mut() else { return };
        inbox.push(envelope);
        // The shard takes the whole inbox at each wake-up: one byte per batch is enough (and
        // a full socket buffer means a wake-up is pending anyway). Rung under the lock, so
        // never after `close`.
        if inbox.len() == 1 {
            let _ = (&door.bell).write(&[1]);
        }
    }

    /// Takes a shard's envelopes.
    fn take(&self, shard: usize) -> Vec<Envelope> {
        let mut guard = self.doors[shard]
            .inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        guard.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Drops a shard's envelopes and refuses new ones; `stop` also tells the shard to stop.
    fn close(&self, shard: usize, stop: bool) {
        let door = &self.doors[shard];
        *door.inbox.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if stop {
            let _ = door.bell.shutdown(Shutdown::Write);
        }
    }

    fn stop(&self) {
        for shard in 0..self.doors.len() {
            self.close(shard, true);
        }
    }
}

impl MeshPost for Mesh {
    fn shards(&self) -> usize {
        self.doors.len()
    }

    fn post(&self, shard: usize, message: MeshMessage) {
        self.send(shard, Envelope::Mesh(message));
    }
}

struct ShardSetup {
    app: Arc<App>,
    index: usize,
    count: usize,
    listener: std::net::TcpListener,
    ear: StdUnixStream,
    mesh: Arc<Mesh>,
    driver: Driver,
    ready: mpsc::Sender<io::Result<()>>,
    core: Option<corelay_rt::CoreId>,
}

fn run_shard(setup: ShardSetup) {
    let ShardSetup {
        app,
        index,
        count,
        listener,
        ear,
        mesh,
        driver,
        ready,
        core,
    } = setup;
    corelay_rt::pin_current(core);
    let mut rt = match driver.runtime() {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let name = if matches!(rt, FusionRuntime::Uring(_)) {
        "io_uring"
    } else {
        "epoll"
    };
    tracing::info!("shard {index}: {name}");
    rt.block_on(async move {
        let sockets = TcpListener::from_std(listener)
            .and_then(|listener| Ok((listener, UnixStream::from_std(ear)?)));
        let (listener, ear) = match sockets {
            Ok(sockets) => sockets,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = ready.send(Ok(()));
        drop(ready);
        let mut shard = Shard::new(app, index, count, Instant::now());
        shard.set_io(Io::new(mesh.clone()));
        let shim = Rc::new(Shim {
            shard: RefCell::new(shard),
            conns: RefCell::new(HashMap::new()),
            mesh,
            pool: RefCell::new(Vec::new()),
            timer: Waiter::default(),
            rearm: Cell::new(false),
            armed: Cell::new(None),
            tasks: Cell::new(0),
            idle: Waiter::default(),
        });
        monoio::select! {
            _ = timer_loop(&shim) => {}
            _ = serve(&shim, listener, ear) => {}
        }
    });
}

/// Accepts and takes envelopes until told to stop, then shuts down gracefully: the core
/// closes everything and the connections are waited for; past the grace period, the rest are
/// dropped.
async fn serve(shim: &Rc<Shim>, listener: TcpListener, ear: UnixStream) {
    monoio::select! {
        _ = accept_loop(shim, listener) => {}
        _ = inbox_loop(shim, ear) => {}
    }
    shim.mesh.close(shim.shard.borrow().index(), false);
    shim.shard.borrow_mut().shutdown(Instant::now());
    shim.drive();
    let deadline = monoio::time::Instant::from(Instant::now() + SHUTDOWN_GRACE);
    monoio::select! {
        _ = shim.idle.until(|| shim.tasks.get() == 0) => {}
        _ = monoio::time::sleep_until(deadline) => {
            for (_, io) in shim.conns.borrow_mut().drain() {
                io.close();
            }
        }
    }
    // Every connection task has ended (or ends now): no task outlives the runtime.
    shim.idle.until(|| shim.tasks.get() == 0).await;
}

async fn accept_loop(shim: &Rc<Shim>, listener: TcpListener) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: retry shortly rather than spin.
                tracing::warn!("accept: {e}");
                monoio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let id = shim.shard.borrow_mut().accept(Instant::now(), peer);
        shim.register(id, stream);
        shim.drive();
    }
}

/// Takes the inbox each time the bell rings, until it is shut down.
async fn inbox_loop(shim: &Rc<Shim>, mut ear: UnixStream) {
    let mut buf = Vec::with_capacity(64);
    loop {
        let (result, b) = ear.read(buf).await;
        buf = b;
        buf.clear();
        if !matches!(result, Ok(n) if n > 0) {
            return;
        }
        let index = shim.shard.borrow().index();
        for envelope in shim.mesh.take(index) {
            match envelope {
                Envelope::Mesh(message) => {
                    shim.shard.borrow_mut().handle_mesh(Instant::now(), message);
                }
                Envelope::Conn(stream, peer, data) => {
                    // The same socket as on the giving shard, hence the same blocking mode
                    // (that of the driver, as every shard runs the same); set it anyway.
                    let _ = stream.set_nonblocking(monoio::utils::is_legacy());
                    let Ok(stream) = TcpStream::from_std(stream) else {
                        continue;
                    };
                    let id = shim.shard.borrow_mut().adopt(Instant::now(), peer, &data);
                    shim.register(id, stream);
                }
            }
        }
        shim.drive();
    }
}

/// The per-shard state of the shim: the core, and the sockets by connection id.
struct Shim {
    shard: RefCell<Shard>,
    conns: RefCell<HashMap<ConnId, Rc<ConnIo>>>,
    mesh: Arc<Mesh>,
    /// Write buffers not in use.
    pool: RefCell<Vec<Vec<u8>>>,
    /// The timer loop's wake-up, `rearm` set when the next deadline came earlier than `armed`.
    timer: Waiter,
    rearm: Cell<bool>,
    armed: Cell<Option<Instant>>,
    /// Connection tasks alive, and the wake-up of the shutdown waiting for none.
    tasks: Cell<usize>,
    idle: Waiter,
}

/// What the shim tells a connection's task. Its reading and writing halves run in the one
/// task, so one waker serves both.
#[derive(Default)]
struct ConnIo {
    waiter: Waiter,
    /// Queued bytes to write.
    kick: Cell<bool>,
    /// Shut down the write side once the queue is written.
    shut: Cell<bool>,
    closed: Cell<bool>,
    /// Cancels the read in flight when the connection is closed or handed over.
    read: RefCell<Canceller>,
    /// Set when the core hands the connection to another shard: (shard, bytes read).
    handed: RefCell<Option<(usize, Bytes)>>,
}

impl ConnIo {
    fn close(&self) {
        self.closed.set(true);
        std::mem::take(&mut *self.read.borrow_mut()).cancel();
        self.waiter.wake();
    }
}

/// The waker of the one task waiting for a condition of the shim (all on one thread).
#[derive(Default)]
struct Waiter(Cell<Option<Waker>>);

impl Waiter {
    fn wake(&self) {
        if let Some(w) = self.0.take() {
            w.wake();
        }
    }

    /// Waits until `ready()` holds, checked at each wake-up.
    fn until<'a>(&'a self, mut ready: impl FnMut() -> bool + 'a) -> impl Future<Output = ()> + 'a {
        poll_fn(move |cx| {
            if ready() {
                Poll::Ready(())
            } else {
                self.0.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
    }
}

impl Shim {
    /// Starts serving a connection the core knows as `id`.
    fn register(self: &Rc<Self>, id: ConnId, stream: TcpStream) {
        let io = Rc::new(ConnIo::default());
        self.conns.borrow_mut().insert(id, io.clone());
        self.tasks.set(self.tasks.get() + 1);
        monoio::spawn(conn_task(self.clone(), id, io, stream));
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
                for k in corelay_rt::recipients(target, me, self.mesh.doors.len()) {
                    self.mesh.post(k, message.clone());
                }
            }
            loop {
                let next = self.shard.borrow_mut().poll_transmit();
                let Some(id) = next else { break };
                progress = true;
                if let Some(io) = self.conns.borrow().get(&id) {
                    io.kick.set(true);
                    io.waiter.wake();
                }
            }
            loop {
                let next = self.shard.borrow_mut().poll_action();
                let Some(action) = next else { break };
                progress = true;
                match action {
                    Action::Shutdown(id) => {
                        if let Some(io) = self.conns.borrow().get(&id) {
                            io.shut.set(true);
                            io.waiter.wake();
                        }
                    }
                    Action::Close(id) => {
                        if let Some(io) = self.conns.borrow_mut().remove(&id) {
                            io.close();
                        }
                    }
                    Action::HandOver { conn, shard, data } => {
                        // The connection task gives the socket away once its read is over.
                        if let Some(io) = self.conns.borrow_mut().remove(&conn) {
                            *io.handed.borrow_mut() = Some((shard, data));
                            io.close();
                        }
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
                self.rearm.set(true);
                self.timer.wake();
            }
        }
    }

    /// Copies the start of a connection's queue (at most `WRITE_MAX` bytes) into `buf`.
    fn fill(&self, id: ConnId, buf: &mut Vec<u8>) {
        let shard = self.shard.borrow();
        let mut slices = [IoSlice::new(&[]); IOV];
        let n = shard.send_queue(id, &mut slices);
        buf.clear();
        buf.reserve(shard.queued(id).min(WRITE_MAX));
        for slice in &slices[..n] {
            let take = slice.len().min(WRITE_MAX - buf.len());
            buf.extend_from_slice(&slice[..take]);
            if buf.len() == WRITE_MAX {
                break;
            }
        }
    }
}

async fn conn_task(shim: Rc<Shim>, id: ConnId, io: Rc<ConnIo>, stream: TcpStream) {
    let (mut rd, mut wr) = stream.into_split();
    monoio::join!(
        read_half(&shim, id, &io, &mut rd),
        write_half(&shim, id, &io, &mut wr)
    );
    let handed = io.handed.borrow_mut().take();
    if let Some((shard, data)) = handed {
        // Reunited, the halves close the descriptor without shutting the socket down; the
        // owning shard gets a duplicate of it.
        if let Ok(stream) = rd.reunite(wr) {
            match stream
                .peer_addr()
                .and_then(|peer| Ok((detach(&stream)?, peer)))
            {
                Ok((std, peer)) => shim.mesh.send(shard, Envelope::Conn(std, peer, data)),
                Err(e) => tracing::warn!("hand-over to shard {shard}: {e}"),
            }
        }
    }
    shim.tasks.set(shim.tasks.get() - 1);
    shim.idle.wake();
}

/// A second descriptor of a monoio socket, owned apart from it, to move the connection to
/// another shard (monoio 0.2 can not give its descriptor away safely).
#[allow(unsafe_code)]
fn detach(stream: &TcpStream) -> io::Result<std::net::TcpStream> {
    // SAFETY: `stream` owns the descriptor and outlives this borrow, which only duplicates it.
    let fd = unsafe { BorrowedFd::borrow_raw(stream.as_raw_fd()) };
    Ok(fd.try_clone_to_owned()?.into())
}

async fn read_half(shim: &Shim, id: ConnId, io: &ConnIo, rd: &mut OwnedReadHalf<TcpStream>) {
    let mut buf = Vec::with_capacity(READ_MIN);
    while !io.closed.get() {
        // Cancelled (not dropped) on close, so that bytes it may still have read are kept.
        let cancel = io.read.borrow().handle();
        let (result, b) = rd.cancelable_read(buf, cancel).await;
        buf = b;
        let n = match result {
            Ok(n) if n > 0 => n,
            _ => {
                // The core answers with `Action::Close`, which ends the writing half.
                if !io.closed.get() {
                    shim.shard.borrow_mut().closed(Instant::now(), id);
                    shim.drive();
                }
                return;
            }
        };
        if io.closed.get() {
            // Read while being handed over: these bytes go along.
            if let Some((_, data)) = io.handed.borrow_mut().as_mut() {
                *data = [&data[..], &buf[..n]].concat().into();
            }
            return;
        }
        shim.shard
            .borrow_mut()
            .receive(Instant::now(), id, &buf[..n]);
        let cap = buf.capacity();
        if n == cap && cap < READ_MAX {
            buf = Vec::with_capacity(cap * 2);
        } else if n <= READ_MIN && cap > READ_MIN {
            buf = Vec::with_capacity(READ_MIN);
        }
        buf.clear();
        shim.drive();
    }
}

async fn write_half(shim: &Shim, id: ConnId, io: &ConnIo, wr: &mut OwnedWriteHalf<TcpStream>) {
    loop {
        io.waiter
            .until(|| io.closed.get() || io.kick.replace(false) || io.shut.get())
            .await;
        if io.closed.get() {
            return;
        }
        while shim.shard.borrow().queued(id) > 0 {
            let mut buf = shim.pool.borrow_mut().pop().unwrap_or_default();
            shim.fill(id, &mut buf);
            let (result, buf) = monoio::select! {
                r = wr.write_all(buf) => r,
                _ = io.waiter.until(|| io.closed.get()) => return,
            };
            if shim.pool.borrow().len() < POOL {
                shim.pool.borrow_mut().push(buf);
            }
            match result {
                Ok(n) => shim.shard.borrow_mut().advance(id, n),
                Err(_) => shim.shard.borrow_mut().closed(Instant::now(), id),
            }
            shim.drive();
        }
        if io.shut.replace(false) {
            let _ = wr.shutdown().await;
        }
    }
}

async fn timer_loop(shim: &Shim) {
    loop {
        let next = shim.shard.borrow().poll_timeout();
        shim.armed.set(next);
        shim.rearm.set(false);
        let rearm = shim.timer.until(|| shim.rearm.get());
        match next {
            Some(at) => {
                monoio::select! {
                    _ = monoio::time::sleep_until(at.into()) => {
                        shim.shard.borrow_mut().handle_timeout(Instant::now());
                        shim.drive();
                    }
                    _ = rearm => {}
                }
            }
            None => rearm.await,
        }
    }
}

/// Runs an example application (see `corelay-examples`) on monoio.
#[doc(hidden)]
pub fn serve_example(
    app: Arc<App>,
    addr: SocketAddr,
    shards: usize,
    wait: impl FnOnce(SocketAddr),
) {
    corelay_rt::serve_example::<Monoio>(app, addr, shards, wait)
}
