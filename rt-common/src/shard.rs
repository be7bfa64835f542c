//! One shard thread: the core's [`Shard`] and the tasks that feed it.
//!
//! A shard thread runs four kinds of task on its runtime, all written here once:
//!
//! - the **accept loop** takes connections from the shard's own listener;
//! - one **connection task** per connection reads into the shard's scratch buffer and, while
//!   the socket is full, waits for it to become writable ([`crate::conn`]);
//! - the **timer task** sleeps until the core's next deadline (one sleep per shard, whatever
//!   the number of sessions);
//! - the **inbox task** takes what other threads sent ([`crate::mesh`]).
//!
//! After every input each of them calls [`ShardDriver::drive`], which drains the core's
//! outputs in the order its docs give: mesh messages out, then a vectored write for each
//! connection with queued bytes, then actions (shut down, close, hand over), until none is
//! left; then it moves the timer if the next deadline came earlier.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use corelay_core::{Action, App, ConnId, LocalTask, Shard, SharedShard};

use crate::conn::Connection;
use crate::mesh::{Envelope, Mesh};
use crate::runtime::{Runtime, Stream};
use crate::server::ServerError;
use crate::task::{guarded, race, Either, Failure, Signal};

/// How long a graceful shutdown may take before the remaining connections are dropped.
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long the accept loop waits after an accept error (out of descriptors, most likely)
/// before it tries again, rather than spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// Size of the read buffer shared by all connections of a shard.
const SCRATCH: usize = 64 * 1024;

/// What a shard thread is started with.
pub(crate) struct Start {
    pub(crate) app: Arc<App>,
    pub(crate) index: usize,
    pub(crate) count: usize,
    /// Where to listen: the address asked for (shard 0), or the one shard 0 got.
    pub(crate) addr: SocketAddr,
    pub(crate) mesh: Arc<Mesh>,
    pub(crate) ready: mpsc::SyncSender<io::Result<Ready>>,
}

/// A shard's report that it listens.
pub(crate) struct Ready {
    pub(crate) addr: SocketAddr,
    pub(crate) io_driver: &'static str,
}

/// The state a shard thread's tasks share.
pub(crate) struct ShardDriver<R: Runtime> {
    pub(crate) index: usize,
    pub(crate) shard: SharedShard,
    pub(crate) conns: RefCell<HashMap<ConnId, Rc<Connection<R>>>>,
    /// The read buffer every connection of the shard reads into.
    pub(crate) scratch: RefCell<Box<[u8]>>,
    pub(crate) mesh: Arc<Mesh>,
    /// The deadline the timer task sleeps until, and its wake-up when an earlier one comes.
    armed: Cell<Option<Instant>>,
    rearm: Signal,
    /// Raised by the inbox when the server shuts down.
    stop: Signal,
    pub(crate) failure: Rc<Failure>,
    /// Set once the graceful shutdown started.
    stopping: Cell<bool>,
    /// Raised during the shutdown once the core holds no connection.
    drained: Signal,
    /// Connection tasks alive, and the signal raised during the shutdown when none is left.
    tasks: Cell<usize>,
    idle: Signal,
}

/// Runs one shard until the server stops; an error when one of its tasks panicked.
pub(crate) async fn run<R: Runtime>(start: Start) -> Result<(), ServerError> {
    crate::cluster::defer_wakes();
    let Start {
        app,
        index,
        count,
        addr,
        mesh,
        ready,
    } = start;
    let listener = match R::bind(addr).and_then(|l| Ok((R::local_addr(&l)?, l))) {
        Ok((bound, listener)) => {
            let io_driver = R::io_driver();
            let _ = ready.send(Ok(Ready {
                addr: bound,
                io_driver,
            }));
            listener
        }
        Err(e) => {
            let e = io::Error::new(e.kind(), format!("shard {index}: listen on {addr}: {e}"));
            let _ = ready.send(Err(e));
            return Ok(());
        }
    };
    drop(ready);
    let mut shard = Shard::new(app, index, count, Instant::now());
    let unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    shard.set_wall_clock(Instant::now(), unix_ms);
    shard.set_mesh(mesh.clone());
    let d = Rc::new(ShardDriver::<R>::new(index, shard, mesh));
    R::spawn(guarded(d.failure.clone(), timer_task(d.clone())));
    R::spawn(guarded(d.failure.clone(), inbox_task(d.clone())));
    let served = race(
        guarded(d.failure.clone(), serve(&d, listener)),
        d.failure.signal.raised(),
    )
    .await;
    // Dropped from here on: messages and connections sent to this shard.
    drop(d.mesh.close(index));
    match (served, d.failure.take_message()) {
        (_, Some(message)) => {
            tracing::error!(shard = index, "shard stopped by a panic: {message}");
            d.mesh.stop_all();
            d.close_all();
            Err(ServerError::Panicked {
                shard: index,
                message,
            })
        }
        _ => Ok(()),
    }
}

/// Accepts until told to stop, then shuts down gracefully: the core closes every session and
/// flushes what is queued; connections still open after the grace period are dropped.
async fn serve<R: Runtime>(d: &Rc<ShardDriver<R>>, listener: R::Listener) {
    race(accept_loop(d, &listener), d.stop.raised()).await;
    drop(listener);
    d.stopping.set(true);
    d.shard.borrow_mut().shutdown(Instant::now());
    d.drive();
    let grace = R::sleep_until(Instant::now() + SHUTDOWN_GRACE);
    if let Either::Right(()) = race(d.drained.raised(), grace).await {
        tracing::warn!(
            shard = d.index,
            "connections left after the shutdown grace period"
        );
    }
    d.close_all();
    // Every connection task ends now: none outlives the runtime.
    if d.tasks.get() > 0 {
        d.idle.raised().await;
    }
}

async fn accept_loop<R: Runtime>(d: &Rc<ShardDriver<R>>, listener: &R::Listener) {
    loop {
        match R::accept(listener).await {
            Ok((stream, peer)) => {
                let id = d.shard.borrow_mut().accept(Instant::now(), peer);
                d.register(id, stream, peer);
                d.drive();
            }
            Err(e) => {
                tracing::warn!(shard = d.index, "accept: {e}");
                R::sleep_until(Instant::now() + ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// The shard's one sleep: until the core's next deadline, or until an input moves it earlier.
async fn timer_task<R: Runtime>(d: Rc<ShardDriver<R>>) {
    loop {
        let next = d.shard.borrow().poll_timeout();
        d.armed.set(next);
        d.rearm.take();
        let fired = match next {
            Some(at) => matches!(
                race(R::sleep_until(at), d.rearm.raised()).await,
                Either::Left(())
            ),
            None => {
                d.rearm.raised().await;
                false
            }
        };
        if fired {
            d.shard.borrow_mut().handle_timeout(Instant::now());
            d.drive();
        }
    }
}

/// Feeds the core what other threads sent, a whole batch before each drain.
async fn inbox_task<R: Runtime>(d: Rc<ShardDriver<R>>) {
    let mut batch = Vec::new();
    loop {
        d.mesh.next_batch(d.index, &mut batch).await;
        for envelope in batch.drain(..) {
            match envelope {
                Envelope::Mesh(message) => {
                    d.shard.borrow_mut().handle_mesh(Instant::now(), message);
                }
                Envelope::Conn(stream, peer, data) => match R::adopt(stream) {
                    Ok(stream) => {
                        let id = d.shard.borrow_mut().adopt(Instant::now(), peer, &data);
                        d.register(id, stream, peer);
                    }
                    Err(e) => tracing::warn!(shard = d.index, "adopting a connection: {e}"),
                },
                Envelope::Stop => d.stop.raise(),
            }
        }
        d.drive();
    }
}

impl<R: Runtime> ShardDriver<R> {
    fn new(index: usize, shard: Shard, mesh: Arc<Mesh>) -> Self {
        ShardDriver {
            index,
            shard: shard.into_shared(),
            conns: RefCell::new(HashMap::new()),
            scratch: RefCell::new(vec![0; SCRATCH].into_boxed_slice()),
            mesh,
            armed: Cell::new(None),
            rearm: Signal::default(),
            stop: Signal::default(),
            failure: Rc::default(),
            stopping: Cell::new(false),
            drained: Signal::default(),
            tasks: Cell::new(0),
            idle: Signal::default(),
        }
    }

    /// Starts serving a connection the core knows as `id`.
    pub(crate) fn register(self: &Rc<Self>, id: ConnId, stream: R::Stream, peer: SocketAddr) {
        let conn = Rc::new(Connection::new(stream, peer));
        self.conns.borrow_mut().insert(id, conn.clone());
        self.tasks.set(self.tasks.get() + 1);
        R::spawn(ConnTask {
            d: self.clone(),
            id,
            conn,
        });
    }

    /// Drains every output of the core (see the module docs for the order).
    pub(crate) fn drive(self: &Rc<Self>) {
        // What the input gave the cluster adapter goes first, as one batch: the other servers
        // get it while this shard writes to its own clients.
        self.mesh.flush_cluster();
        let mut tasks = Vec::new();
        let mut shard = self.shard.borrow_mut();
        loop {
            let mut progress = false;
            while let Some(task) = shard.poll_task() {
                progress = true;
                tasks.push(task);
            }
            while let Some((target, message)) = shard.poll_mesh() {
                progress = true;
                self.mesh.route(self.index, target, message);
            }
            while let Some(id) = shard.poll_transmit() {
                progress = true;
                self.write(&mut shard, id);
            }
            while let Some(action) = shard.poll_action() {
                progress = true;
                self.act(action);
            }
            if !progress {
                break;
            }
        }
        if let Some(next) = shard.poll_timeout() {
            if self.armed.get().is_none_or(|armed| next < armed) {
                self.rearm.raise();
            }
        }
        if self.stopping.get() && shard.stats().connections == 0 {
            self.drained.raise();
        }
        self.mesh.flush_cluster();
        drop(shard);
        // Spawned once the shard is free: a runtime may poll a new task at once.
        for task in tasks {
            R::spawn(AppTask {
                d: self.clone(),
                task,
            });
        }
    }

    /// Carries out what the core asks of a connection.
    fn act(&self, action: Action) {
        match action {
            Action::Shutdown(id) => {
                if let Some(conn) = self.conns.borrow().get(&id) {
                    if let Some(stream) = conn.stream.borrow_mut().as_mut() {
                        let _ = stream.shutdown_write();
                    }
                }
            }
            Action::Close(id) => {
                if let Some(conn) = self.conns.borrow_mut().remove(&id) {
                    conn.close();
                }
            }
            Action::HandOver { conn, shard, data } => {
                let Some(conn) = self.conns.borrow_mut().remove(&conn) else {
                    return;
                };
                let stream = conn.stream.borrow_mut().take();
                conn.close();
                match stream.map(Stream::into_std) {
                    Some(Ok(stream)) => {
                        tracing::debug!(
                            target: "corelay::handover",
                            from = self.index,
                            to = shard,
                            "connection handed over"
                        );
                        self.mesh
                            .send(shard, Envelope::Conn(stream, conn.peer, data));
                    }
                    Some(Err(e)) => tracing::warn!(shard = self.index, "hand-over: {e}"),
                    None => {}
                }
            }
        }
    }

    /// Ends every connection task now.
    fn close_all(&self) {
        for (_, conn) in self.conns.borrow_mut().drain() {
            conn.close();
        }
    }
}

/// A task of the application (an async handler's future): after each of its polls the
/// shard is drained, so that what it did reaches the wire at once.
struct AppTask<R: Runtime> {
    d: Rc<ShardDriver<R>>,
    task: LocalTask,
}

impl<R: Runtime> Future for AppTask<R> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let d = &this.d;
        let task = &mut this.task;
        d.failure.guard(|| {
            let done = task.as_mut().poll(cx);
            d.drive();
            done
        })
    }
}

/// The task of one connection (see [`crate::conn`]), written by hand so that an idle
/// connection's task is three pointers: each poll goes through [`Failure::guard`], as the
/// shard's other tasks do through [`guarded`], and the shutdown counts the tasks alive.
struct ConnTask<R: Runtime> {
    d: Rc<ShardDriver<R>>,
    id: ConnId,
    conn: Rc<Connection<R>>,
}

impl<R: Runtime> Future for ConnTask<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (d, id, conn) = (&self.d, self.id, &self.conn);
        d.failure.guard(|| crate::conn::poll_conn(d, id, conn, cx))
    }
}

impl<R: Runtime> Drop for ConnTask<R> {
    fn drop(&mut self) {
        let d = &self.d;
        d.tasks.set(d.tasks.get() - 1);
        if d.tasks.get() == 0 && d.stopping.get() {
            d.idle.raise();
        }
    }
}
