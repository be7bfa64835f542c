//! The emitter with its own Redis connection: blocking `std::net` I/O, no async runtime.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Emitter, Error, Publish, Rooms};
use crate::connection::{CommandError, Connection, Event, RedisUrl, Reply};

/// An [`Emitter`] that publishes what it builds: one Redis connection, blocking I/O.
///
/// [`connect`](Self::connect) opens the connection (TCP, then `AUTH` and `SELECT` as the URL
/// says, through the crate's [`Connection`]); [`new`](Self::new) leaves that to the first
/// publish. Each call that publishes waits for Redis' answer to `PUBLISH` and returns the
/// number of clients that received the message: the servers of the cluster subscribed to the
/// channel (0 when none is up, which is no error; Node's emitter does not look). A call takes
/// at most the [`timeout`](Self::with_timeout) (5 s unless set; resolving a host name aside).
///
/// A connection found closed (Redis restarted, or dropped an idle client) is opened anew
/// before publishing. When it breaks while publishing, the message is sent once more on a new
/// connection; if the first `PUBLISH` had reached Redis before the break, the servers receive
/// it twice. A timeout drops the connection (the next call opens another) and is not retried.
///
/// The methods take `&self`: one `BlockingEmitter` may be shared between threads, which then
/// publish one at a time.
///
/// ```no_run
/// use corelay_redis::connection::RedisUrl;
/// use corelay_redis::emitter::{Binary, BlockingEmitter};
/// use std::time::Duration;
///
/// #[derive(serde::Serialize)]
/// struct Score {
///     player: String,
///     points: u32,
/// }
///
/// let io = BlockingEmitter::new(RedisUrl::parse("redis://:secret@127.0.0.1:6379/0")?)?
///     .with_timeout(Duration::from_secs(2))
///     .connected()?;
///
/// // io.emit("news", "hello", 42): to every client of the namespace "/".
/// io.emit("news", ("hello", 42))?;
/// // io.to("game:1").except("spectators").volatile.emit("score", {...})
/// let score = Score { player: "ann".into(), points: 3 };
/// io.to("game:1").except("spectators").volatile().emit("score", &score)?;
/// // Binary arguments travel as binary attachments.
/// io.of("/files").emit("chunk", Binary::from(vec![0u8, 1, 2]))?;
/// // io.in("game:1").socketsJoin("finished"), then a message for the servers themselves.
/// io.in_("game:1").sockets_join("finished")?;
/// let receivers = io.server_side_emit("game over", (1, "ann"))?;
/// println!("{receivers} servers got it");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BlockingEmitter {
    url: RedisUrl,
    base: Emitter,
    timeout: Duration,
    link: Mutex<Option<Link>>,
}

/// A selection on a [`BlockingEmitter`]: the [`Emitter`] builder, whose final calls publish.
#[derive(Debug, Clone)]
pub struct BlockingOperator<'a> {
    client: &'a BlockingEmitter,
    emitter: Emitter,
}

impl BlockingEmitter {
    /// How long a call waits unless [`with_timeout`](Self::with_timeout) says otherwise.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// An emitter that connects to Redis at its first publish, or at
    /// [`connected`](Self::connected). It emits in the namespace `/` with the prefix
    /// `socket.io` unless told otherwise ([`with_key`](Self::with_key), [`of`](Self::of)).
    /// Refuses a `rediss://` URL (no TLS yet).
    pub fn new(url: RedisUrl) -> Result<Self, Error> {
        Connection::new(url.clone())?;
        Ok(BlockingEmitter {
            url,
            base: Emitter::new(),
            timeout: Self::DEFAULT_TIMEOUT,
            link: Mutex::new(None),
        })
    }

    /// [`new`](Self::new), then [`connected`](Self::connected): connects (and logs in) now,
    /// within [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT).
    pub fn connect(url: RedisUrl) -> Result<Self, Error> {
        Self::new(url)?.connected()
    }

    /// Opens the connection now (within the timeout) rather than at the first publish, so
    /// that a wrong address or password shows at once.
    pub fn connected(self) -> Result<Self, Error> {
        self.ensure_open(&mut self.lock(), Instant::now() + self.timeout)?;
        Ok(self)
    }

    /// The channel prefix: the `key` option of the servers' adapter (`socket.io` by default).
    pub fn with_key(mut self, key: impl Into<String>) -> Self {
        self.base = self.base.with_key(key);
        self
    }

    /// How long one call may take, connecting again included.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Where it publishes.
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    /// The emitter the selecting methods start from: the prefix, namespace `/`.
    pub fn emitter(&self) -> &Emitter {
        &self.base
    }

    /// Publishes a message built by an [`Emitter`]; returns the number of receivers.
    pub fn publish(&self, publish: &Publish) -> Result<u64, Error> {
        let deadline = Instant::now() + self.timeout;
        let mut link = self.lock();
        let mut reconnected = false;
        loop {
            reconnected |= self.ensure_open(&mut link, deadline)?;
            let current = link.as_mut().expect("a link was just opened");
            match current.publish(publish, deadline, self.timeout) {
                Ok(receivers) => return Ok(receivers),
                Err(error) => {
                    *link = None;
                    let broken = matches!(error, Error::Io(_) | Error::Closed);
                    if !broken || reconnected {
                        return Err(error);
                    }
                    reconnected = true;
                }
            }
        }
    }

    /// Opens a connection unless one is open; whether it opened one.
    fn ensure_open(&self, link: &mut Option<Link>, deadline: Instant) -> Result<bool, Error> {
        if link.as_mut().is_some_and(Link::is_open) {
            return Ok(false);
        }
        *link = None;
        *link = Some(Link::open(&self.url, deadline, self.timeout)?);
        Ok(true)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Link>> {
        // A panic while publishing leaves at worst a connection in an unknown state; the
        // next error on it drops it.
        self.link.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn operator(&self) -> BlockingOperator<'_> {
        BlockingOperator {
            client: self,
            emitter: self.base.clone(),
        }
    }

    /// Selects a namespace ([`Emitter::of`]).
    pub fn of(&self, nsp: impl AsRef<str>) -> BlockingOperator<'_> {
        self.operator().of(nsp)
    }

    /// Selects the sockets in these rooms ([`Emitter::to`]).
    pub fn to(&self, rooms: impl Rooms) -> BlockingOperator<'_> {
        self.operator().to(rooms)
    }

    /// The same as [`to`](Self::to).
    pub fn in_(&self, rooms: impl Rooms) -> BlockingOperator<'_> {
        self.operator().to(rooms)
    }

    /// Leaves out the sockets in these rooms ([`Emitter::except`]).
    pub fn except(&self, rooms: impl Rooms) -> BlockingOperator<'_> {
        self.operator().except(rooms)
    }

    /// Sets the `volatile` flag ([`Emitter::volatile`]).
    pub fn volatile(&self) -> BlockingOperator<'_> {
        self.operator().volatile()
    }

    /// Sets the `compress` flag ([`Emitter::compress`]).
    pub fn compress(&self, compress: bool) -> BlockingOperator<'_> {
        self.operator().compress(compress)
    }

    /// Publishes an event for every client of the namespace `/` ([`Emitter::emit`]).
    pub fn emit(&self, event: &str, args: impl Serialize) -> Result<u64, Error> {
        self.operator().emit(event, args)
    }

    /// Every socket joins these rooms ([`Emitter::sockets_join`]).
    pub fn sockets_join(&self, rooms: impl Rooms) -> Result<u64, Error> {
        self.operator().sockets_join(rooms)
    }

    /// Every socket leaves these rooms ([`Emitter::sockets_leave`]).
    pub fn sockets_leave(&self, rooms: impl Rooms) -> Result<u64, Error> {
        self.operator().sockets_leave(rooms)
    }

    /// Every socket is disconnected ([`Emitter::disconnect_sockets`]).
    pub fn disconnect_sockets(&self, close: bool) -> Result<u64, Error> {
        self.operator().disconnect_sockets(close)
    }

    /// An event for the servers ([`Emitter::server_side_emit`]).
    pub fn server_side_emit(&self, event: &str, args: impl Serialize) -> Result<u64, Error> {
        self.operator().server_side_emit(event, args)
    }
}

impl<'a> BlockingOperator<'a> {
    fn map(self, f: impl FnOnce(Emitter) -> Emitter) -> Self {
        BlockingOperator {
            client: self.client,
            emitter: f(self.emitter),
        }
    }

    /// What this selection publishes, unsent.
    pub fn emitter(&self) -> &Emitter {
        &self.emitter
    }

    /// [`Emitter::of`].
    pub fn of(self, nsp: impl AsRef<str>) -> Self {
        self.map(|e| e.of(nsp))
    }

    /// [`Emitter::to`].
    pub fn to(self, rooms: impl Rooms) -> Self {
        self.map(|e| e.to(rooms))
    }

    /// [`Emitter::in_`].
    pub fn in_(self, rooms: impl Rooms) -> Self {
        self.map(|e| e.to(rooms))
    }

    /// [`Emitter::except`].
    pub fn except(self, rooms: impl Rooms) -> Self {
        self.map(|e| e.except(rooms))
    }

    /// [`Emitter::volatile`].
    pub fn volatile(self) -> Self {
        self.map(Emitter::volatile)
    }

    /// [`Emitter::compress`].
    pub fn compress(self, compress: bool) -> Self {
        self.map(|e| e.compress(compress))
    }

    /// Publishes [`Emitter::emit`]; returns the number of receivers.
    pub fn emit(&self, event: &str, args: impl Serialize) -> Result<u64, Error> {
        self.client.publish(&self.emitter.emit(event, args)?)
    }

    /// Publishes [`Emitter::sockets_join`]; returns the number of receivers.
    pub fn sockets_join(&self, rooms: impl Rooms) -> Result<u64, Error> {
        self.client.publish(&self.emitter.sockets_join(rooms))
    }

    /// Publishes [`Emitter::sockets_leave`]; returns the number of receivers.
    pub fn sockets_leave(&self, rooms: impl Rooms) -> Result<u64, Error> {
        self.client.publish(&self.emitter.sockets_leave(rooms))
    }

    /// Publishes [`Emitter::disconnect_sockets`]; returns the number of receivers.
    pub fn disconnect_sockets(&self, close: bool) -> Result<u64, Error> {
        self.client.publish(&self.emitter.disconnect_sockets(close))
    }

    /// Publishes [`Emitter::server_side_emit`]; returns the number of receivers.
    pub fn server_side_emit(&self, event: &str, args: impl Serialize) -> Result<u64, Error> {
        self.client
            .publish(&self.emitter.server_side_emit(event, args)?)
    }
}

/// One open connection: the socket and the protocol state driven over it.
#[derive(Debug)]
struct Link {
    stream: TcpStream,
    conn: Connection,
}

/// The time left before `deadline`, or the timeout error.
fn remaining(deadline: Instant, timeout: Duration) -> Result<Duration, Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Error::Timeout(timeout))
    } else {
        Ok(left)
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

impl Link {
    /// Connects and logs in (`AUTH`, `SELECT`).
    fn open(url: &RedisUrl, deadline: Instant, timeout: Duration) -> Result<Self, Error> {
        let mut last = None;
        let mut stream = None;
        for addr in (url.host.as_str(), url.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, remaining(deadline, timeout)?) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if is_timeout(&e) => return Err(Error::Timeout(timeout)),
                Err(e) => last = Some(e),
            }
        }
        let stream = match (stream, last) {
            (Some(stream), _) => stream,
            (None, Some(error)) => return Err(Error::Io(error)),
            (None, None) => {
                return Err(Error::Io(std::io::Error::new(
                    ErrorKind::NotFound,
                    format!("{} resolves to no address", url.host),
                )))
            }
        };
        stream.set_nodelay(true)?;
        let mut link = Link {
            stream,
            conn: Connection::new(url.clone())?,
        };
        link.conn.handle_connected();
        link.write(deadline, timeout)?;
        loop {
            while let Some(event) = link.conn.poll_event() {
                match event {
                    Event::Ready => return Ok(link),
                    Event::Fatal(error) => return Err(Error::Connection(error)),
                    _ => {}
                }
            }
            link.read(deadline, timeout)?;
        }
    }

    /// Whether the socket still looks open: Redis sends nothing unasked on a connection that
    /// subscribes to nothing, so readable means closed (or a stray byte, read as it comes).
    fn is_open(&mut self) -> bool {
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let open = match self.stream.peek(&mut [0u8; 1]) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => e.kind() == ErrorKind::WouldBlock,
        };
        self.stream.set_nonblocking(false).is_ok() && open
    }

    fn publish(
        &mut self,
        publish: &Publish,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<u64, Error> {
        let token = self
            .conn
            .publish(publish.channel.clone(), publish.payload.clone());
        self.write(deadline, timeout)?;
        loop {
            while let Some(event) = self.conn.poll_event() {
                match event {
                    Event::Reply { token: t, reply } if t == token => {
                        return match reply {
                            Reply::Integer(n) if n >= 0 => Ok(n as u64),
                            other => Err(Error::UnexpectedReply(other)),
                        };
                    }
                    Event::Failed {
                        token: Some(t),
                        error,
                        ..
                    } if t == token => {
                        return Err(match error {
                            CommandError::Redis(text) => Error::Redis(text),
                            CommandError::ConnectionLost => Error::Closed,
                            other => Error::Redis(other.to_string()),
                        });
                    }
                    Event::Fatal(error) => return Err(Error::Connection(error)),
                    _ => {}
                }
            }
            self.read(deadline, timeout)?;
        }
    }

    /// Writes what the connection has to send.
    fn write(&mut self, deadline: Instant, timeout: Duration) -> Result<(), Error> {
        while let Some(bytes) = self.conn.poll_transmit() {
            self.stream
                .set_write_timeout(Some(remaining(deadline, timeout)?))?;
            self.stream.write_all(&bytes).map_err(|e| {
                if is_timeout(&e) {
                    Error::Timeout(timeout)
                } else {
                    Error::Io(e)
                }
            })?;
        }
        Ok(())
    }

    /// Reads once (waiting at most until `deadline`) and hands the bytes to the connection.
    fn read(&mut self, deadline: Instant, timeout: Duration) -> Result<(), Error> {
        let mut buf = [0u8; 16 * 1024];
        loop {
            self.stream
                .set_read_timeout(Some(remaining(deadline, timeout)?))?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Err(Error::Closed),
                Ok(n) => {
                    self.conn.handle_bytes(&buf[..n]);
                    return self.write(deadline, timeout);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }
}
