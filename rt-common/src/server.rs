//! Starting a server on a [`Runtime`], and the handle of a running one.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use std::time::{Duration, Instant};

use corelay_core::{App, Inbound, Io};
use corelay_redis::adapter::{Adapter, AdapterConfig};
use corelay_redis::connection::RedisUrl;

use crate::cluster::{self, ClusterInbox};
use crate::mesh::Mesh;
use crate::runtime::Runtime;
use crate::shard::{self, Start};
use crate::sys::{self, CoreId};
use crate::task::panic_message;

/// Entry point of a runtime crate: `Server::builder(app)` (each runtime crate names it
/// `Server`, for its own runtime).
#[derive(Debug)]
pub struct Server<R>(PhantomData<R>);

impl<R: Runtime> Server<R> {
    /// A server for `app`, with the default settings.
    pub fn builder(app: Arc<App>) -> ServerBuilder<R> {
        ServerBuilder::new(app)
    }
}

/// Configures a server, then starts it on runtime `R`.
pub struct ServerBuilder<R: Runtime> {
    app: Arc<App>,
    addr: SocketAddr,
    shards: usize,
    pin: bool,
    options: R::Options,
    redis: Option<(String, AdapterConfig)>,
}

/// How long [`ServerBuilder::start`] waits for Redis before it goes on without it (the
/// adapter keeps trying in the background).
const REDIS_START_WAIT: Duration = Duration::from_secs(5);

impl<R: Runtime> fmt::Debug for ServerBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("addr", &self.addr)
            .field("shards", &self.shards)
            .field("pin", &self.pin)
            .field("options", &self.options)
            .field("redis", &self.redis.as_ref().map(|(_, o)| o))
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> ServerBuilder<R> {
    /// A server for `app`: on 127.0.0.1:3000, one shard per core, not pinned.
    pub fn new(app: Arc<App>) -> Self {
        ServerBuilder {
            app,
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pin: false,
            options: R::Options::default(),
            redis: None,
        }
    }

    /// Joins the cluster of servers sharing the Redis server at `url`
    /// (`redis://[[user]:password@]host[:port][/db]`) as `@socket.io/redis-adapter` does
    /// (`createAdapter`): broadcasts and requests reach the sockets of every server of the
    /// cluster, Node's included. One subscriber and one publisher connection per server,
    /// on a thread of its own beside the shards.
    pub fn redis(self, url: &str) -> Self {
        self.redis_with(url, AdapterConfig::default())
    }

    /// As [`ServerBuilder::redis`], with the adapter's options (`key`, `requests_timeout`,
    /// `publish_on_specific_response_channel`, and the variant: `RedisOptions::sharded()` is
    /// Node's `createShardedAdapter`).
    pub fn redis_with(mut self, url: &str, options: AdapterConfig) -> Self {
        self.redis = Some((url.to_owned(), options));
        self
    }

    /// The address to listen on (127.0.0.1:3000 by default; port 0 picks a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// How many shards (threads) to run; one per core by default.
    pub fn shards(mut self, n: usize) -> Self {
        self.shards = n.clamp(1, corelay_core::sid::MAX_SHARDS);
        self
    }

    /// Pins shard `i` to core `i` (modulo the number of cores). Off by default.
    pub fn pin_cores(mut self, pin: bool) -> Self {
        self.pin = pin;
        self
    }

    /// The runtime's own settings (for monoio, the I/O driver).
    pub fn options(mut self, options: R::Options) -> Self {
        self.options = options;
        self
    }

    /// The runtime's own settings, to change in place.
    pub fn options_mut(&mut self) -> &mut R::Options {
        &mut self.options
    }

    /// Starts the shard threads one after the other, each binding its listener (shard 0 the
    /// address asked for, the others the address shard 0 got, so that port 0 gives one port
    /// for all); returns once every shard listens, or with the first error, naming the
    /// shard, after stopping the shards already started.
    pub fn start(self) -> io::Result<RunningServer> {
        let count = self.shards;
        let redis = match &self.redis {
            Some((url, options)) => {
                let url = RedisUrl::parse(url).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {e}"))
                })?;
                Some((url, options.clone()))
            }
            None => None,
        };
        let inbox = redis
            .as_ref()
            .map(|(_, options)| ClusterInbox::new(options.wants_rooms()));
        let mesh = Arc::new(Mesh::new(count, inbox.clone(), self.app.config().parser));
        let stop = ShutdownHandle(Arc::new(Stopper(mesh.clone())));
        let mut threads = Vec::with_capacity(count);
        let mut addr = self.addr;
        let mut io_driver = "";
        for (index, core) in sys::shard_cores(self.pin, count).into_iter().enumerate() {
            let (ready, started) = mpsc::sync_channel(1);
            let start = Start {
                app: self.app.clone(),
                index,
                count,
                addr,
                mesh: mesh.clone(),
                ready,
            };
            let options = self.options.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("corelay-shard-{index}"))
                .spawn(move || shard_thread::<R>(core, &options, start));
            let outcome = match spawned {
                Ok(thread) => match started.recv() {
                    Ok(outcome) => {
                        threads.push(thread);
                        outcome
                    }
                    Err(_) => Err(io::Error::other(match thread.join() {
                        Err(payload) => {
                            format!("shard {index} panicked: {}", panic_message(&*payload))
                        }
                        Ok(_) => format!("shard {index} ended before it listened"),
                    })),
                },
                Err(e) => Err(e),
            };
            match outcome {
                Ok(ready) => {
                    addr = ready.addr;
                    io_driver = ready.io_driver;
                }
                Err(e) => {
                    mesh.stop_all();
                    for thread in threads {
                        let _ = thread.join();
                    }
                    return Err(e);
                }
            }
        }
        let cluster = match (redis, inbox) {
            (Some((url, options)), Some(inbox)) => {
                match self.start_cluster(url, options, &mesh, inbox.clone()) {
                    Ok(thread) => Some((inbox, thread)),
                    Err(e) => {
                        mesh.stop_all();
                        for thread in threads {
                            let _ = thread.join();
                        }
                        return Err(e);
                    }
                }
            }
            _ => None,
        };
        tracing::info!("{count} shard(s) on {io_driver}, listening on {addr}");
        Ok(RunningServer {
            local_addr: addr,
            threads,
            io: Io::new(mesh),
            stop,
            io_driver,
            cluster,
        })
    }

    /// Starts the Redis adapter's thread and waits (a bounded time) until it hears the
    /// cluster.
    fn start_cluster(
        &self,
        url: RedisUrl,
        options: AdapterConfig,
        mesh: &Arc<Mesh>,
        inbox: Arc<ClusterInbox>,
    ) -> io::Result<std::thread::JoinHandle<()>> {
        use std::hash::{BuildHasher, Hasher};
        let seed = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let inbound = Inbound::new(mesh.clone());
        let namespaces = self.app.namespace_names();
        let adapter = Adapter::new(options, url, inbound, namespaces, seed, Instant::now())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        let uid = adapter.uid().to_owned();
        let (ready, heard) = mpsc::sync_channel(1);
        let thread = cluster::spawn::<R>(self.options.clone(), adapter, inbox, ready)?;
        match heard.recv_timeout(REDIS_START_WAIT) {
            Ok(()) => tracing::info!("joined the Redis cluster as {uid}"),
            Err(_) => tracing::warn!(
                "Redis not reachable after {REDIS_START_WAIT:?}: serving locally, still trying"
            ),
        }
        Ok(thread)
    }
}

/// The body of a shard thread.
fn shard_thread<R: Runtime>(
    core: Option<CoreId>,
    options: &R::Options,
    start: Start,
) -> Result<(), ServerError> {
    if let Some(core) = core {
        core_affinity::set_for_current(core);
    }
    let (index, ready) = (start.index, start.ready.clone());
    match R::block_on(options, shard::run::<R>(start)) {
        Ok(result) => result,
        Err(e) => {
            let e = io::Error::new(e.kind(), format!("shard {index}: runtime: {e}"));
            let _ = ready.send(Err(e));
            Ok(())
        }
    }
}

/// Why a server stopped other than by its shutdown.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A task of a shard panicked (in a handler, most likely). The shard stopped at once and
    /// the others shut down gracefully.
    #[error("shard {shard} panicked: {message}")]
    Panicked {
        /// The shard.
        shard: usize,
        /// The panic's message.
        message: String,
    },
}

/// A started server. Dropping it, and every [`ShutdownHandle`] of it, starts the shutdown.
pub struct RunningServer {
    local_addr: SocketAddr,
    threads: Vec<JoinHandle<Result<(), ServerError>>>,
    io: Io,
    stop: ShutdownHandle,
    io_driver: &'static str,
    /// The cluster adapter's inbox and thread.
    cluster: Option<(Arc<ClusterInbox>, std::thread::JoinHandle<()>)>,
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("local_addr", &self.local_addr)
            .field("shards", &self.threads.len())
            .field("io_driver", &self.io_driver)
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// The address the listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The number of shards.
    pub fn shards(&self) -> usize {
        self.threads.len()
    }

    /// The I/O driver the shards run on: `"epoll"` or `"io_uring"`.
    pub fn io_driver(&self) -> &'static str {
        self.io_driver
    }

    /// Starts a graceful shutdown: sockets leave with "server shutting down" and queued bytes
    /// are flushed before connections close.
    pub fn shutdown(&self) {
        self.stop.shutdown();
    }

    /// A handle that can start the shutdown from another thread.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.stop.clone()
    }

    /// A handle to emit to the sockets of every shard from any thread.
    pub fn io(&self) -> Io {
        self.io.clone()
    }

    /// Waits until every shard has stopped; an error when one stopped by a panic.
    pub fn wait(self) -> Result<(), ServerError> {
        let RunningServer {
            threads,
            stop,
            cluster,
            ..
        } = self;
        let mut outcome = Ok(());
        for (shard, thread) in threads.into_iter().enumerate() {
            let result = thread.join().unwrap_or_else(|payload| {
                Err(ServerError::Panicked {
                    shard,
                    message: panic_message(&*payload),
                })
            });
            if outcome.is_ok() {
                outcome = result;
            }
        }
        if let Some((inbox, thread)) = cluster {
            inbox.close();
            let _ = thread.join();
        }
        drop(stop);
        outcome
    }
}

/// Starts a server's graceful shutdown from any thread.
#[derive(Clone)]
pub struct ShutdownHandle(Arc<Stopper>);

impl fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutdownHandle")
    }
}

impl ShutdownHandle {
    /// Starts the shutdown.
    pub fn shutdown(&self) {
        self.0 .0.stop_all();
    }
}

/// Stops the shards when the last handle that could stop them is gone.
#[derive(Debug)]
struct Stopper(Arc<Mesh>);

impl Drop for Stopper {
    fn drop(&mut self) {
        self.0.stop_all();
    }
}
