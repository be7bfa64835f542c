//! corelay on tokio: one current-thread runtime per shard, each with its own `SO_REUSEPORT`
//! listener, driving a [`corelay_core::Shard`]. The shim only moves bytes and sleeps; all
//! protocol logic lives in the core.
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
//! server.wait();
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corelay_rt::{Launch, Settings};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Notify};

pub use corelay_core::*;

/// How long a shutdown may take before the remaining connections are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Size of the read buffer shared by all connections of a shard.
const SCRATCH: usize = 64 * 1024;
/// Chunks handed to one vectored write.
const IOV: usize = 1024;

/// Entry point: configure, then start.
#[derive(Debug)]
pub struct Server;

impl Server {
    /// A server for `app`.
    pub fn builder(app: Arc<App>) -> ServerBuilder {
        ServerBuilder::new(app)
    }
}

/// Configures a server on tokio: `bind`, `shards`, `pin_cores`, then `start`.
pub type ServerBuilder = corelay_rt::ServerBuilder<Tokio>;
pub use corelay_rt::{RunningServer, ShutdownHandle};

/// The tokio runtime: one current-thread runtime per shard.
#[derive(Debug)]
pub struct Tokio;

impl Launch for Tokio {
    type Options = ();

    fn launch(app: Arc<App>, settings: &Settings, _: &()) -> io::Result<RunningServer> {
        let (local_addr, listeners) =
            corelay_rt::reuseport_listeners(settings.addr, settings.shards)?;
        let (tx, rx) = watch::channel(false);
        let count = listeners.len();
        let (senders, receivers): (Vec<_>, Vec<_>) =
            (0..count).map(|_| mpsc::unbounded_channel()).unzip();
        let mesh = Arc::new(Mesh { senders });
        let cores = corelay_rt::shard_cores(settings.pin, count);
        let mut threads = Vec::with_capacity(count);
        for (((index, listener), inbox), core) in
            listeners.into_iter().enumerate().zip(receivers).zip(cores)
        {
            let shard = ShardSetup {
                app: app.clone(),
                index,
                count,
                listener,
                shutdown: rx.clone(),
                mesh: mesh.clone(),
                inbox,
                core,
            };
            let t = std::thread::Builder::new()
                .name(format!("corelay-shard-{index}"))
                .spawn(move || run_shard(shard))?;
            threads.push(t);
        }
        let stop = Arc::new(move || {
            let _ = tx.send(true);
        });
        Ok(RunningServer::new(local_addr, threads, Io::new(mesh), stop))
    }
}

/// What crosses to a shard's thread: mesh messages and connections handed over.
enum Envelope {
    Mesh(MeshMessage),
    Conn(std::net::TcpStream, SocketAddr, Bytes),
}

/// The shards' inboxes; a tokio channel wakes the receiving shard's task.
struct Mesh {
    senders: Vec<mpsc::UnboundedSender<Envelope>>,
}

impl MeshPost for Mesh {
    fn shards(&self) -> usize {
        self.senders.len()
    }

    fn post(&self, shard: usize, message: MeshMessage) {
        if let Some(tx) = self.senders.get(shard) {
            let _ = tx.send(Envelope::Mesh(message));
        }
    }
}

struct ShardSetup {
    app: Arc<App>,
    index: usize,
    count: usize,
    listener: std::net::TcpListener,
    shutdown: watch::Receiver<bool>,
    mesh: Arc<Mesh>,
    inbox: mpsc::UnboundedReceiver<Envelope>,
    core: Option<corelay_rt::CoreId>,
}

fn run_shard(setup: ShardSetup) {
    let ShardSetup {
        app,
        index,
        count,
        listener,
        shutdown,
        mesh,
        inbox,
        core,
    } = setup;
    corelay_rt::pin_current(core);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("shard {index}: no runtime: {e}");
            return;
        }
    };
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let listener = match TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("shard {index}: listener: {e}");
                return;
            }
        };
        let mut shard = Shard::new(app, index, count, Instant::now());
        shard.set_io(Io::new(mesh.clone()));
        let driver = Rc::new(Driver {
            shard: RefCell::new(shard),
            conns: RefCell::new(HashMap::new()),
            scratch: RefCell::new(vec![0; SCRATCH]),
            timer: Notify::new(),
            armed: Cell::new(None),
            mesh,
        });
        tokio::task::spawn_local(timer_task(driver.clone()));
        tokio::task::spawn_local(inbox_task(driver.clone(), inbox));
        accept_loop(driver.clone(), listener, shutdown).await;
        // Graceful shutdown: let the core close everything, then wait for the connections.
        driver.shard.borrow_mut().shutdown(Instant::now());
        driver.drive();
        let deadline = tokio::time::Instant::now() + SHUTDOWN_GRACE;
        while driver.shard.borrow().stats().connections > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

async fn inbox_task(driver: Rc<Driver>, mut inbox: mpsc::UnboundedReceiver<Envelope>) {
    while let Some(envelope) = inbox.recv().await {
        match envelope {
            Envelope::Mesh(message) => driver
                .shard
                .borrow_mut()
                .handle_mesh(Instant::now(), message),
            Envelope::Conn(stream, peer, data) => {
                let Ok(stream) = TcpStream::from_std(stream) else {
                    continue;
                };
                let id = driver.shard.borrow_mut().adopt(Instant::now(), peer, &data);
                driver.register(id, stream, peer);
            }
        }
        driver.drive();
    }
}

async fn accept_loop(
    driver: Rc<Driver>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let id = driver.shard.borrow_mut().accept(Instant::now(), peer);
                driver.register(id, stream, peer);
                driver.drive();
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// The per-shard state of the shim: the core, and the sockets by connection id.
struct Driver {
    shard: RefCell<Shard>,
    conns: RefCell<HashMap<ConnId, Rc<ConnIo>>>,
    scratch: RefCell<Vec<u8>>,
    timer: Notify,
    armed: Cell<Option<Instant>>,
    mesh: Arc<Mesh>,
}

struct ConnIo {
    stream: TcpStream,
    peer: SocketAddr,
    /// Set when the core hands the connection to another shard: (shard, bytes read).
    handed: RefCell<Option<(usize, Bytes)>>,
    /// A write would block: wait for writability, then write the rest.
    blocked: Cell<bool>,
    closed: Cell<bool>,
    wake: Notify,
}

impl Driver {
    /// Starts serving a connection the core knows as `id`.
    fn register(self: &Rc<Self>, id: ConnId, stream: TcpStream, peer: SocketAddr) {
        let io = Rc::new(ConnIo {
            stream,
            peer,
            handed: RefCell::new(None),
            blocked: Cell::new(false),
            closed: Cell::new(false),
            wake: Notify::new(),
        });
        self.conns.borrow_mut().insert(id, io.clone());
        tokio::task::spawn_local(conn_task(self.clone(), id, io));
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
                for k in corelay_rt::recipients(target, me, self.mesh.senders.len()) {
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
                            let _ = socket2::SockRef::from(&io.stream)
                                .shutdown(std::net::Shutdown::Write);
                        }
                    }
                    Action::Close(id) => {
                        if let Some(io) = self.conns.borrow_mut().remove(&id) {
                            io.closed.set(true);
                            io.wake.notify_one();
                        }
                    }
                    Action::HandOver { conn, shard, data } => {
                        // The connection task gives the socket away when it wakes.
                        if let Some(io) = self.conns.borrow_mut().remove(&conn) {
                            *io.handed.borrow_mut() = Some((shard, data));
                            io.closed.set(true);
                            io.wake.notify_one();
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
                self.timer.notify_one();
            }
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
                io.stream.try_write_vectored(&slices[..n])
            };
            match result {
                Ok(n) => self.shard.borrow_mut().advance(id, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    io.blocked.set(true);
                    io.wake.notify_one();
                    return;
                }
                Err(_) => {
                    self.shard.borrow_mut().closed(Instant::now(), id);
                    return;
                }
            }
        }
    }
}

async fn conn_task(driver: Rc<Driver>, id: ConnId, io: Rc<ConnIo>) {
    loop {
        if io.closed.get() {
            let handed = io.handed.borrow_mut().take();
            if let Some((shard, data)) = handed {
                // Only this task holds the socket now: move it to the owning shard.
                if let Ok(io) = Rc::try_unwrap(io) {
                    if let Ok(stream) = io.stream.into_std() {
                        if let Some(tx) = driver.mesh.senders.get(shard) {
                            let _ = tx.send(Envelope::Conn(stream, io.peer, data));
                        }
                    }
                }
            }
            return;
        }
        let blocked = io.blocked.get();
        tokio::select! {
            biased;
            _ = io.wake.notified() => continue,
            w = io.stream.writable(), if blocked => {
                if w.is_err() {
                    driver.shard.borrow_mut().closed(Instant::now(), id);
                } else {
                    io.blocked.set(false);
                    driver.write(id);
                }
                driver.drive();
            }
            r = io.stream.readable() => {
                if r.is_err() {
                    driver.shard.borrow_mut().closed(Instant::now(), id);
                    driver.conns.borrow_mut().remove(&id);
                    io.closed.set(true);
                    driver.drive();
                    continue;
                }
                let outcome = {
                    let mut scratch = driver.scratch.borrow_mut();
                    match io.stream.try_read(&mut scratch) {
                        Ok(0) => Err(true),
                        Ok(n) => {
                            driver.shard.borrow_mut().receive(Instant::now(), id, &scratch[..n]);
                            Ok(())
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(false),
                        Err(_) => Err(true),
                    }
                };
                if outcome == Err(true) {
                    driver.shard.borrow_mut().closed(Instant::now(), id);
                    driver.conns.borrow_mut().remove(&id);
                    io.closed.set(true);
                }
                driver.drive();
            }
        }
    }
}

async fn timer_task(driver: Rc<Driver>) {
    loop {
        let next = driver.shard.borrow().poll_timeout();
        driver.armed.set(next);
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {
                        driver.shard.borrow_mut().handle_timeout(Instant::now());
                        driver.drive();
                    }
                    _ = driver.timer.notified() => {}
                }
            }
            None => driver.timer.notified().await,
        }
    }
}

/// Runs an example application (see `corelay-examples`) on tokio.
#[doc(hidden)]
pub fn serve_example(
    app: Arc<App>,
    addr: SocketAddr,
    shards: usize,
    wait: impl FnOnce(SocketAddr),
) {
    corelay_rt::serve_example::<Tokio>(app, addr, shards, wait)
}
