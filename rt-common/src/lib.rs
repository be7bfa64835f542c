//! What every corelay runtime shim shares and that needs no runtime: the builder and its
//! settings, the handle of a started server, binding one `SO_REUSEPORT` listener per shard,
//! core pinning, the example runner and mesh routing. A runtime crate implements [`Launch`]
//! (start the shard threads) and re-exports these types, so that the three runtime crates
//! have one API: a user switches by changing one dependency and one `use`.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use corelay_core::{App, Io, MeshTarget};

pub use core_affinity::CoreId;

/// Settings common to every runtime.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address to listen on (127.0.0.1:3000 by default; port 0 picks a free port).
    pub addr: SocketAddr,
    /// Shards (threads); one per core by default.
    pub shards: usize,
    /// Pin shard `i` to core `i` (modulo the number of cores).
    pub pin: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            pin: false,
        }
    }
}

/// A runtime that can start the shards of a server.
pub trait Launch {
    /// Settings of this runtime only.
    type Options: Default + fmt::Debug;

    /// Binds the listeners and starts one thread per shard; returns once every shard runs,
    /// or the first error (after stopping the shards already started).
    fn launch(
        app: Arc<App>,
        settings: &Settings,
        options: &Self::Options,
    ) -> io::Result<RunningServer>;
}

/// Configures a server, then starts it on runtime `R`.
pub struct ServerBuilder<R: Launch> {
    app: Arc<App>,
    settings: Settings,
    options: R::Options,
}

impl<R: Launch> fmt::Debug for ServerBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("settings", &self.settings)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<R: Launch> ServerBuilder<R> {
    /// A server for `app` with the default settings.
    pub fn new(app: Arc<App>) -> Self {
        ServerBuilder {
            app,
            settings: Settings::default(),
            options: R::Options::default(),
        }
    }

    /// The address to listen on (127.0.0.1:3000 by default; port 0 picks a free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.settings.addr = addr;
        self
    }

    /// How many shards (threads) to run; one per core by default.
    pub fn shards(mut self, n: usize) -> Self {
        self.settings.shards = n.clamp(1, corelay_core::sid::MAX_SHARDS);
        self
    }

    /// Pins shard `i` to core `i` (modulo the number of cores). Off by default.
    pub fn pin_cores(mut self, pin: bool) -> Self {
        self.settings.pin = pin;
        self
    }

    /// The runtime's own settings, for the runtime crate's builder extensions.
    #[doc(hidden)]
    pub fn options_mut(&mut self) -> &mut R::Options {
        &mut self.options
    }

    /// Binds the listeners and starts the shard threads.
    pub fn start(self) -> io::Result<RunningServer> {
        R::launch(self.app, &self.settings, &self.options)
    }
}

/// A started server.
pub struct RunningServer {
    local_addr: SocketAddr,
    threads: Vec<JoinHandle<()>>,
    io: Io,
    stop: ShutdownHandle,
}

impl fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningServer")
            .field("local_addr", &self.local_addr)
            .field("shards", &self.threads.len())
            .finish_non_exhaustive()
    }
}

impl RunningServer {
    /// Made by a runtime crate: the bound address, the shard threads, the mesh handle, and
    /// what starts the shutdown.
    pub fn new(
        local_addr: SocketAddr,
        threads: Vec<JoinHandle<()>>,
        io: Io,
        stop: Arc<dyn Fn() + Send + Sync>,
    ) -> Self {
        RunningServer {
            local_addr,
            threads,
            io,
            stop: ShutdownHandle(stop),
        }
    }

    /// The address the listeners are bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
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

    /// Waits until every shard has stopped.
    pub fn wait(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts a server's graceful shutdown from any thread.
#[derive(Clone)]
pub struct ShutdownHandle(Arc<dyn Fn() + Send + Sync>);

impl fmt::Debug for ShutdownHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ShutdownHandle")
    }
}

impl ShutdownHandle {
    /// Starts the shutdown.
    pub fn shutdown(&self) {
        (self.0)()
    }
}

/// One non-blocking `SO_REUSEPORT` listener per shard, all on one port: the first binds
/// `addr`, the others its actual address (so that port 0 gives one port for all).
pub fn reuseport_listeners(
    addr: SocketAddr,
    shards: usize,
) -> io::Result<(SocketAddr, Vec<std::net::TcpListener>)> {
    let first = reuseport_listener(addr)?;
    let local = first.local_addr()?;
    let mut all = vec![first];
    for _ in 1..shards {
        all.push(reuseport_listener(local)?);
    }
    Ok((local, all))
}

fn reuseport_listener(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The core each shard runs on, when pinning: shard `i` on core `i` modulo their count.
pub fn shard_cores(pin: bool, shards: usize) -> Vec<Option<CoreId>> {
    let cores = if pin {
        core_affinity::get_core_ids().unwrap_or_default()
    } else {
        Vec::new()
    };
    (0..shards)
        .map(|i| (!cores.is_empty()).then(|| cores[i % cores.len()]))
        .collect()
}

/// Pins the current thread to `core`, if any.
pub fn pin_current(core: Option<CoreId>) {
    if let Some(core) = core {
        core_affinity::set_for_current(core);
    }
}

/// The shards a mesh message from shard `me` of `count` goes to.
pub fn recipients(target: MeshTarget, me: usize, count: usize) -> impl Iterator<Item = usize> {
    let (from, to) = match target {
        MeshTarget::Others => (0, count),
        MeshTarget::Shard(k) => (k, (k + 1).min(count)),
    };
    (from..to).filter(move |&k| target != MeshTarget::Others || k != me)
}

/// Runs an example application on runtime `R`: binds `addr` with `shards` shards, hands the
/// bound address to `wait` (which prints it and blocks until a signal), then shuts down
/// gracefully.
#[doc(hidden)]
pub fn serve_example<R: Launch>(
    app: Arc<App>,
    addr: SocketAddr,
    shards: usize,
    wait: impl FnOnce(SocketAddr),
) {
    let server = ServerBuilder::<R>::new(app)
        .bind(addr)
        .shards(shards)
        .start()
        .unwrap_or_else(|e| {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1)
        });
    wait(server.local_addr());
    server.shutdown();
    server.wait();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_recipients() {
        assert_eq!(
            recipients(MeshTarget::Others, 1, 4).collect::<Vec<_>>(),
            vec![0, 2, 3]
        );
        assert_eq!(
            recipients(MeshTarget::Shard(2), 0, 4).collect::<Vec<_>>(),
            vec![2]
        );
        assert_eq!(recipients(MeshTarget::Shard(9), 0, 4).count(), 0);
        assert_eq!(recipients(MeshTarget::Others, 0, 1).count(), 0);
    }

    #[test]
    fn listeners_share_one_port() {
        let (local, all) = reuseport_listeners("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        assert_eq!(all.len(), 3);
        for l in &all {
            assert_eq!(l.local_addr().unwrap(), local);
        }
    }
}
