//! The load generator: thousands of Socket.IO clients on one thread, on mio (epoll,
//! edge-triggered).
//!
//! A [`Pool`] owns the connections and moves their bytes; a [`Driver`] (one per scenario) is
//! told what arrives and decides what to send. The pool does the Engine.IO/Socket.IO client
//! handshake over WebSocket itself (upgrade request, `0{…}` open packet, `40`, `40{"sid":…}`)
//! and answers the server's pings (`2` → `3`), so a scenario only sees its own traffic.
//!
//! Cheap per message by construction: all connections read into one 64 KiB scratch buffer and
//! keep only an incomplete tail; frames sent are encoded and masked once by the scenario and
//! written as they are; received frames are matched by prefix (`42["tick"`, `43`), never
//! parsed as JSON.

pub mod wire;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use slab::Slab;

/// A connection, as the driver names it (reused after the connection is gone).
pub type Id = usize;

/// Why a connection ended without the driver closing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The TCP connection could not be made.
    Connect,
    /// The server closed the TCP connection (EOF, reset, or a write that failed).
    Closed,
    /// The server sent a WebSocket close frame, an Engine.IO close, or a Socket.IO
    /// CONNECT_ERROR.
    ServerClose,
    /// The server answered something this client does not understand.
    Protocol,
}

/// What a scenario does with its connections. Every method has a no-op default.
pub trait Driver {
    /// A WebSocket client finished its Socket.IO handshake (`40{"sid":…}` received).
    fn ready(&mut self, _pool: &mut Pool, _id: Id) {}
    /// An Engine.IO text packet (`42[…]`, `43…`, `3probe`, …) on a ready client or a raw
    /// WebSocket; server pings are answered by the pool and not shown on ready clients.
    fn message(&mut self, _pool: &mut Pool, _id: Id, _packet: &[u8]) {}
    /// An HTTP connection is established: send the first request.
    fn connected(&mut self, _pool: &mut Pool, _id: Id) {}
    /// A raw WebSocket answered its upgrade request with 101.
    fn upgraded(&mut self, _pool: &mut Pool, _id: Id) {}
    /// A whole HTTP response on an HTTP connection.
    fn response(&mut self, _pool: &mut Pool, _id: Id, _status: u16, _body: &[u8]) {}
    /// The connection is gone (the id is free once this returns).
    fn lost(&mut self, _pool: &mut Pool, _id: Id, _why: Lost) {}
    /// Called after each batch of events (and at least every few milliseconds).
    fn tick(&mut self, _pool: &mut Pool, _now: Instant) {}
    /// The run stops as soon as this says so.
    fn done(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    /// Upgrade request sent; `sio`: do the Socket.IO handshake after the 101.
    Upgrading {
        sio: bool,
    },
    /// WebSocket open, waiting for the `0{…}` open packet.
    Open,
    /// `40` sent, waiting for `40{…}`.
    Joining,
    Ready,
    RawWs,
    Http,
    Closed,
}

#[derive(Debug)]
enum Start {
    SocketIo,
    RawWs(Vec<u8>),
    Http,
}

#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    phase: Phase,
    start: Start,
    /// An incomplete frame or response, kept until the rest arrives.
    rbuf: Vec<u8>,
    /// Bytes the socket did not take yet.
    wbuf: Vec<u8>,
    /// A fragmented message being assembled (servers rarely fragment).
    frag: Vec<u8>,
    /// Which of the pool's servers it talks to.
    server: usize,
}

/// Counters of everything the pool moved.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counters {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub pings: u64,
}

/// The connections of the generator and their event loop.
#[derive(Debug)]
pub struct Pool {
    poll: Poll,
    events: Option<Events>,
    conns: Slab<Conn>,
    /// Closed by the driver or lost this turn; freed at the end of the turn so that an id
    /// never names two connections within one batch of events.
    dead: Vec<Id>,
    /// Connections whose write failed inside a driver call; reported after it returns.
    broken: Vec<Id>,
    scratch: Vec<u8>,
    /// The servers, and the upgrade request of a Socket.IO client of each (its `Host`).
    addrs: Vec<SocketAddr>,
    sio_upgrades: Vec<Vec<u8>>,
    /// The server of the next Socket.IO client (round robin).
    next_server: usize,
    host: String,
    pong: Vec<u8>,
    join: Vec<u8>,
    pub counters: Counters,
}

const SCRATCH: usize = 64 * 1024;

impl Pool {
    /// A pool of clients of the server at `addr` (path `/socket.io/`).
    pub fn new(addr: SocketAddr) -> io::Result<Pool> {
        Pool::with_servers(&[addr])
    }

    /// A pool of clients of several servers (a cluster): Socket.IO clients are spread over
    /// them in turn ([`Pool::server_of`] tells which one a client talks to); raw WebSockets
    /// and HTTP connections go to the first.
    pub fn with_servers(addrs: &[SocketAddr]) -> io::Result<Pool> {
        assert!(!addrs.is_empty(), "a pool needs a server");
        let host = addrs[0].to_string();
        Ok(Pool {
            poll: Poll::new()?,
            events: Some(Events::with_capacity(4096)),
            conns: Slab::with_capacity(1024),
            dead: Vec::new(),
            broken: Vec::new(),
            scratch: vec![0; SCRATCH],
            sio_upgrades: addrs
                .iter()
                .map(|a| {
                    ws_upgrade_request(&a.to_string(), "/socket.io/?EIO=4&transport=websocket")
                })
                .collect(),
            pong: wire::text_frame(b"3"),
            join: wire::text_frame(b"40"),
            addrs: addrs.to_vec(),
            next_server: 0,
            host,
            counters: Counters::default(),
        })
    }

    /// `host:port` of the (first) server, for request heads.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The index (in the pool's list) of the server a connection talks to.
    pub fn server_of(&self, id: Id) -> Option<usize> {
        self.conns.get(id).map(|c| c.server)
    }

    /// Ids of the clients that finished their Socket.IO handshake.
    pub fn ready_ids(&self) -> Vec<Id> {
        self.conns
            .iter()
            .filter(|(_, c)| c.phase == Phase::Ready)
            .map(|(id, _)| id)
            .collect()
    }

    /// Starts a Socket.IO client over WebSocket; [`Driver::ready`] follows.
    pub fn open_socketio(&mut self) -> io::Result<Id> {
        self.open(Start::SocketIo)
    }

    /// Starts a WebSocket to `path_query` (e.g. `/socket.io/?EIO=4&transport=websocket&sid=…`)
    /// without any Engine.IO handshake; [`Driver::upgraded`] follows.
    pub fn open_raw_ws(&mut self, path_query: &str) -> io::Result<Id> {
        let req = ws_upgrade_request(&self.host, path_query);
        self.open(Start::RawWs(req))
    }

    /// Starts a plain HTTP/1.1 keep-alive connection; [`Driver::connected`] follows.
    pub fn open_http(&mut self) -> io::Result<Id> {
        self.open(Start::Http)
    }

    fn open(&mut self, start: Start) -> io::Result<Id> {
        let server = match start {
            Start::SocketIo => {
                let s = self.next_server % self.addrs.len();
                self.next_server = s + 1;
                s
            }
            Start::RawWs(_) | Start::Http => 0,
        };
        let mut stream = TcpStream::connect(self.addrs[server])?;
        let _ = stream.set_nodelay(true);
        let entry = self.conns.vacant_entry();
        let id = entry.key();
        self.poll.registry().register(
            &mut stream,
            Token(id),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        entry.insert(Conn {
            stream,
            phase: Phase::Connecting,
            start,
            rbuf: Vec::new(),
            wbuf: Vec::new(),
            frag: Vec::new(),
            server,
        });
        Ok(id)
    }

    /// Sends bytes (a pre-encoded frame or HTTP request) now, or as soon as the socket takes
    /// them.
    pub fn send(&mut self, id: Id, bytes: &[u8]) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if conn.phase == Phase::Closed {
            return;
        }
        self.counters.bytes_out += bytes.len() as u64;
        if !conn.wbuf.is_empty() || conn.phase == Phase::Connecting {
            conn.wbuf.extend_from_slice(bytes);
            return;
        }
        let mut at = 0;
        while at < bytes.len() {
            match (&conn.stream).write(&bytes[at..]) {
                Ok(n) => at += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.broken.push(id);
                    return;
                }
            }
        }
        if at < bytes.len() {
            conn.wbuf.extend_from_slice(&bytes[at..]);
        }
    }

    /// Sets a connection's kernel send buffer (SO_SNDBUF), so that one write can hand the
    /// kernel a whole burst instead of trickling it out as the event loop finds time.
    pub fn set_send_buffer(&mut self, id: Id, bytes: usize) {
        if let Some(conn) = self.conns.get(id) {
            let _ = socket2::SockRef::from(&conn.stream).set_send_buffer_size(bytes);
        }
    }

    /// Closes a connection (the driver gets no [`Driver::lost`] for it).
    pub fn close(&mut self, id: Id) {
        if let Some(conn) = self.conns.get_mut(id) {
            if conn.phase != Phase::Closed {
                conn.phase = Phase::Closed;
                self.dead.push(id);
            }
        }
    }

    /// Closes every connection.
    pub fn close_all(&mut self) {
        let ids: Vec<Id> = self.conns.iter().map(|(id, _)| id).collect();
        for id in ids {
            self.close(id);
        }
        self.free_dead();
    }

    /// Runs the event loop until `driver.done()` (returns true) or `deadline` (false).
    pub fn run<D: Driver>(&mut self, driver: &mut D, deadline: Instant) -> bool {
        let mut events = self.events.take().expect("Pool::run is not reentrant");
        let finished = loop {
            self.settle(driver);
            if driver.done() {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            let wait = (deadline - now).min(Duration::from_millis(5));
            if let Err(e) = self.poll.poll(&mut events, Some(wait)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    panic!("epoll_wait failed: {e}");
                }
            }
            for ev in events.iter() {
                let id = ev.token().0;
                if ev.is_writable() || ev.is_error() {
                    self.writable(driver, id, ev.is_error() || ev.is_write_closed());
                }
                if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                    self.readable(driver, id);
                }
            }
            self.settle(driver);
            driver.tick(self, Instant::now());
        };
        self.events = Some(events);
        finished
    }

    /// Reports writes that failed inside driver calls and frees closed connections.
    fn settle<D: Driver>(&mut self, driver: &mut D) {
        while let Some(id) = self.broken.pop() {
            self.lose(driver, id, Lost::Closed);
        }
        self.free_dead();
    }

    fn free_dead(&mut self) {
        for id in self.dead.drain(..) {
            // Closing the descriptor takes it out of the epoll set: no deregister call.
            if self.conns.contains(id) {
                self.conns.remove(id);
            }
        }
    }

    fn alive(&self, id: Id) -> bool {
        self.conns.get(id).is_some_and(|c| c.phase != Phase::Closed)
    }

    fn lose<D: Driver>(&mut self, driver: &mut D, id: Id, why: Lost) {
        if self.alive(id) {
            self.close(id);
            driver.lost(self, id, why);
        }
    }

    /// `failed`: the event says error or hang-up.
    fn writable<D: Driver>(&mut self, driver: &mut D, id: Id, failed: bool) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        match conn.phase {
            Phase::Closed => {}
            Phase::Connecting => {
                // epoll reports a connecting socket writable once, when the connection is
                // made, with EPOLLERR/EPOLLHUP when it failed: no getsockopt/getpeername
                // needed (two syscalls per connection saved).
                if failed {
                    return self.lose(driver, id, Lost::Connect);
                }
                // Bytes sent while connecting go after the handshake's first request.
                let queued = std::mem::take(&mut conn.wbuf);
                let raw = match &conn.start {
                    Start::SocketIo => {
                        conn.phase = Phase::Upgrading { sio: true };
                        None
                    }
                    Start::RawWs(req) => {
                        conn.phase = Phase::Upgrading { sio: false };
                        Some(req.clone())
                    }
                    Start::Http => {
                        conn.phase = Phase::Http;
                        None
                    }
                };
                match raw {
                    Some(req) => self.send(id, &req),
                    None if self.conns[id].phase == Phase::Http => driver.connected(self, id),
                    None => {
                        let server = self.conns[id].server;
                        let req = std::mem::take(&mut self.sio_upgrades[server]);
                        self.send(id, &req);
                        self.sio_upgrades[server] = req;
                    }
                }
                if !queued.is_empty() {
                    self.counters.bytes_out -= queued.len() as u64;
                    self.send(id, &queued);
                }
            }
            _ => {
                let mut failed = false;
                while !conn.wbuf.is_empty() {
                    match (&conn.stream).write(&conn.wbuf) {
                        Ok(n) => {
                            conn.wbuf.drain(..n);
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                        Err(_) => {
                            failed = true;
                            break;
                        }
                    }
                }
                if failed {
                    self.lose(driver, id, Lost::Closed);
                } else if conn.wbuf.capacity() > 64 * 1024 {
                    conn.wbuf = Vec::new();
                }
            }
        }
    }

    fn readable<D: Driver>(&mut self, driver: &mut D, id: Id) {
        let mut scratch = std::mem::take(&mut self.scratch);
        while let Some(conn) = self.conns.get_mut(id) {
            if matches!(conn.phase, Phase::Closed | Phase::Connecting) {
                break;
            }
            match (&conn.stream).read(&mut scratch) {
                Ok(0) => {
                    self.lose(driver, id, Lost::Closed);
                    break;
                }
                Ok(n) => {
                    self.counters.bytes_in += n as u64;
                    let mut tail = std::mem::take(&mut conn.rbuf);
                    if tail.is_empty() {
                        let used = self.consume(driver, id, &scratch[..n]);
                        tail.extend_from_slice(&scratch[used..n]);
                    } else {
                        tail.extend_from_slice(&scratch[..n]);
                        let used = self.consume(driver, id, &tail);
                        tail.drain(..used);
                    }
                    match self.conns.get_mut(id) {
                        Some(c) if c.phase != Phase::Closed => c.rbuf = tail,
                        _ => break,
                    }
                    // A short read drained the socket: the next bytes bring a new edge.
                    if n < scratch.len() {
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.lose(driver, id, Lost::Closed);
                    break;
                }
            }
        }
        self.scratch = scratch;
    }

    /// Handles every whole frame or response at the start of `data`; returns the bytes used.
    fn consume<D: Driver>(&mut self, driver: &mut D, id: Id, data: &[u8]) -> usize {
        let mut at = 0;
        loop {
            let Some(conn) = self.conns.get(id) else {
                return data.len();
            };
            let phase = conn.phase;
            match phase {
                Phase::Closed | Phase::Connecting => return data.len(),
                Phase::Upgrading { .. } | Phase::Http => match wire::parse_response(&data[at..]) {
                    wire::Response::Partial => return at,
                    wire::Response::Bad(_why) => {
                        self.lose(driver, id, Lost::Protocol);
                        return data.len();
                    }
                    wire::Response::Done { status, body, len } => {
                        at += len;
                        if let Phase::Upgrading { sio } = phase {
                            if status != 101 {
                                self.lose(driver, id, Lost::Protocol);
                                return data.len();
                            }
                            let conn = self.conns.get_mut(id).expect("checked above");
                            if sio {
                                conn.phase = Phase::Open;
                            } else {
                                conn.phase = Phase::RawWs;
                                driver.upgraded(self, id);
                            }
                        } else {
                            driver.response(self, id, status, &body);
                        }
                        self.settle_broken(driver);
                    }
                },
                Phase::Open | Phase::Joining | Phase::Ready | Phase::RawWs => {
                    match wire::parse_frame(&data[at..]) {
                        Ok(None) => return at,
                        Err(_) => {
                            self.lose(driver, id, Lost::Protocol);
                            return data.len();
                        }
                        Ok(Some(f)) => {
                            let payload = &data[at + f.start..at + f.len];
                            at += f.len;
                            self.frame(driver, id, phase, f, payload);
                            self.settle_broken(driver);
                        }
                    }
                }
            }
        }
    }

    fn settle_broken<D: Driver>(&mut self, driver: &mut D) {
        while let Some(id) = self.broken.pop() {
            self.lose(driver, id, Lost::Closed);
        }
    }

    fn frame<D: Driver>(
        &mut self,
        driver: &mut D,
        id: Id,
        phase: Phase,
        f: wire::Frame,
        payload: &[u8],
    ) {
        match f.opcode {
            0x1 if f.fin => self.text(driver, id, phase, payload),
            0x2 if f.fin => {} // no scenario sends binary
            0x0..=0x2 => {
                let conn = self.conns.get_mut(id).expect("frame of a live connection");
                if f.opcode != 0x0 {
                    conn.frag.clear();
                }
                conn.frag.extend_from_slice(payload);
                if f.fin {
                    let whole = std::mem::take(&mut conn.frag);
                    self.text(driver, id, phase, &whole);
                }
            }
            0x8 => self.lose(driver, id, Lost::ServerClose),
            0x9 => {
                let pong = wire::pong_frame(payload);
                self.send(id, &pong);
            }
            _ => {}
        }
    }

    fn text<D: Driver>(&mut self, driver: &mut D, id: Id, phase: Phase, packet: &[u8]) {
        match phase {
            Phase::Ready => {
                if packet == b"2" {
                    self.ping(id);
                } else if packet.first() == Some(&b'1') || packet.starts_with(b"41") {
                    self.lose(driver, id, Lost::ServerClose);
                } else {
                    driver.message(self, id, packet);
                }
            }
            Phase::RawWs => driver.message(self, id, packet),
            Phase::Open => {
                if packet.starts_with(b"0{") {
                    self.conns.get_mut(id).expect("live").phase = Phase::Joining;
                    let join = std::mem::take(&mut self.join);
                    self.send(id, &join);
                    self.join = join;
                } else {
                    self.lose(driver, id, Lost::Protocol);
                }
            }
            Phase::Joining => {
                if packet.starts_with(b"40") {
                    self.conns.get_mut(id).expect("live").phase = Phase::Ready;
                    driver.ready(self, id);
                } else if packet == b"2" {
                    self.ping(id);
                } else if packet.starts_with(b"44") || packet.first() == Some(&b'1') {
                    self.lose(driver, id, Lost::ServerClose);
                }
            }
            _ => {}
        }
    }

    fn ping(&mut self, id: Id) {
        self.counters.pings += 1;
        let pong = std::mem::take(&mut self.pong);
        self.send(id, &pong);
        self.pong = pong;
    }
}

/// The HTTP/1.1 request that opens a WebSocket to `path_query`.
pub fn ws_upgrade_request(host: &str, path_query: &str) -> Vec<u8> {
    format!(
        "GET {path_query} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes()
}

/// A GET request of the polling transport (`sid` empty for the handshake).
pub fn polling_get(host: &str, sid: &str) -> Vec<u8> {
    let sid = if sid.is_empty() {
        String::new()
    } else {
        format!("&sid={sid}")
    };
    format!("GET /socket.io/?EIO=4&transport=polling{sid} HTTP/1.1\r\nHost: {host}\r\n\r\n")
        .into_bytes()
}

/// A POST request of the polling transport carrying `body` (Engine.IO packets joined by 0x1e).
pub fn polling_post(host: &str, sid: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// The packets of a polling payload (separated by the record separator 0x1e).
pub fn polling_packets(body: &[u8]) -> impl Iterator<Item = &[u8]> {
    body.split(|&b| b == 0x1e)
}

/// Keeps `want` Socket.IO clients opening, at most `in_flight` at a time, until all are ready
/// or failed: the ramp before fanout and idle.
#[derive(Debug)]
pub struct Ramp {
    pub want: usize,
    pub in_flight: usize,
    pub opened: usize,
    pub ready: usize,
    pub failed: usize,
    pub first_error: Option<String>,
}

impl Ramp {
    pub fn new(want: usize, in_flight: usize) -> Ramp {
        Ramp {
            want,
            in_flight,
            opened: 0,
            ready: 0,
            failed: 0,
            first_error: None,
        }
    }

    fn refill(&mut self, pool: &mut Pool) {
        while self.opened < self.want && self.opened - self.ready - self.failed < self.in_flight {
            self.opened += 1;
            if let Err(e) = pool.open_socketio() {
                self.failed += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }

    /// Opens the clients; returns the time it took.
    pub fn run(&mut self, pool: &mut Pool, timeout: Duration) -> Duration {
        let t0 = Instant::now();
        self.refill(pool);
        pool.run(self, t0 + timeout);
        t0.elapsed()
    }
}

impl Driver for Ramp {
    fn ready(&mut self, pool: &mut Pool, _id: Id) {
        self.ready += 1;
        self.refill(pool);
    }
    fn lost(&mut self, pool: &mut Pool, _id: Id, why: Lost) {
        self.failed += 1;
        self.first_error.get_or_insert_with(|| format!("{why:?}"));
        self.refill(pool);
    }
    fn done(&self) -> bool {
        self.ready + self.failed >= self.want
    }
}

/// Answers pings and counts nothing: keeps ready clients alive between measurements.
#[derive(Debug, Default)]
pub struct Idle {
    pub lost: usize,
}

impl Driver for Idle {
    fn lost(&mut self, _pool: &mut Pool, _id: Id, _why: Lost) {
        self.lost += 1;
    }
}
