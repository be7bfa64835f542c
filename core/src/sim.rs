//! Shards driven in simulated time, with clients that speak HTTP and WebSocket: no sockets,
//! no threads, no sleeps (feature `sim`).
//!
//! A [`Sim`] holds one or more shards and one clock. It drives the shards as a runtime does
//! (it drains their outputs after every input, carries mesh messages between them and moves
//! handed-over connections to their new shard), and time moves only when a test says so:
//! [`Sim::advance`] jumps from deadline to deadline. Test an application this way, the same
//! way corelay tests itself:
//!
//! ```
//! use corelay_core::sim::{texts, Sim};
//! use corelay_core::App;
//!
//! let app = App::builder()
//!     .namespace("/", |ns| ns.on("ping", |socket, _| drop(socket.emit("pong", &()))))
//!     .build();
//! let mut sim = Sim::new(app, std::time::Instant::now());
//! let client = sim.ws_client();
//! sim.ws_text(client, r#"42["ping"]"#);
//! assert_eq!(texts(&sim.ws_recv(client)), [r#"42["pong"]"#]);
//!
//! // Nothing answers the server's pings: after ping_interval + ping_timeout it gives up
//! // (a close frame, then the connection lingers for the client's end).
//! sim.advance(std::time::Duration::from_secs(46));
//! assert!(sim.is_shut(client));
//! assert_eq!(sim.ws_recv(client).last().map(|(op, _)| *op), Some(8));
//! ```

use std::cell::{Ref, RefMut};
use std::collections::HashMap;
use std::io::IoSlice;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use crate::mesh::{ClusterEvent, ClusterPort, MeshMessage, MeshPost, MeshTarget};
use crate::wire::ws::{self, OpCode};
use crate::{Action, App, ConnId, LocalTask, Shard, SharedShard};

/// Chunks lent by [`Shard::send_queue`] per write (a typical `IOV_MAX` share).
const IOVECS: usize = 16;

/// A client connection of a [`Sim`], wherever it lives now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(usize);

#[derive(Debug, Default)]
struct Link {
    shard: usize,
    conn: Option<ConnId>,
    /// What the client received and has not taken yet, and the length of each write.
    received: Vec<u8>,
    writes: Vec<usize>,
    /// The server shut down its writing side, or closed the connection.
    shut: bool,
    closed: bool,
}

/// What a drain does with the bytes written.
enum Output<'a> {
    /// Keeps them for [`Sim::take`].
    Keep,
    /// Hands them to a sink.
    Sink(&'a mut dyn FnMut(Client, &[u8])),
    /// Drops them (benchmarks).
    Discard,
}

/// What one [`Sim::drain`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Bytes written, over every connection.
    pub bytes: usize,
    /// Writes made (one per connection with queued bytes, more when a queue holds more than
    /// 16 chunks or is written in several turns).
    pub writes: usize,
}

/// The mesh of a [`Sim`]: what handlers and [`Io`](crate::Io) handles post, delivered at the
/// next pump.
#[derive(Debug)]
struct Mail {
    shards: usize,
    queue: Mutex<Vec<(usize, MeshMessage)>>,
    /// Set when the queue may hold something (spares a drain the lock).
    posted: AtomicBool,
    /// What the shards tell a cluster adapter ([`Sim::with_cluster`]).
    cluster: Option<ClusterMail>,
    /// The app's parser.
    parser: crate::config::Parser,
}

/// The cluster port of a [`Sim`]: events wait for [`Sim::take_cluster_events`].
#[derive(Debug, Default)]
struct ClusterMail(Mutex<Vec<ClusterEvent>>);

impl ClusterPort for ClusterMail {
    fn send(&self, event: ClusterEvent) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(event);
    }
}

impl MeshPost for Mail {
    fn shards(&self) -> usize {
        self.shards
    }

    fn post(&self, shard: usize, message: MeshMessage) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((shard, message));
        self.posted.store(true, Ordering::Release);
    }

    fn cluster(&self) -> Option<&dyn ClusterPort> {
        self.cluster.as_ref().map(|c| c as &dyn ClusterPort)
    }

    fn parser(&self) -> crate::config::Parser {
        self.parser
    }
}

/// A task of a handler, and whether it was woken since its last poll.
struct SimTask {
    task: LocalTask,
    woken: Arc<Flag>,
}

impl std::fmt::Debug for SimTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimTask")
    }
}

#[derive(Debug, Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// Shards, a clock, and client connections.
#[derive(Debug)]
pub struct Sim {
    shards: Vec<SharedShard>,
    mail: Arc<Mail>,
    tasks: Vec<SimTask>,
    now: Instant,
    links: Vec<Link>,
    /// Where each connection is: (shard, connection) to client.
    index: HashMap<(usize, ConnId), Client>,
    handovers: usize,
}

impl Sim {
    /// One shard serving `app`, with reproducible ids; the simulated clock starts at `start`
    /// (any instant: the harness, like the core, never reads the clock).
    pub fn new(app: Arc<App>, start: Instant) -> Sim {
        Sim::with_shards(app, 1, start)
    }

    /// `n` shards serving `app`, with reproducible ids, from `start`; clients connect to
    /// shard 0 unless [`Sim::connect_to`] says otherwise.
    pub fn with_shards(app: Arc<App>, n: usize, start: Instant) -> Sim {
        Self::make(app, n, start, false)
    }

    /// As [`Sim::with_shards`], for a server of a cluster: what its shards tell the cluster
    /// adapter waits for [`Sim::take_cluster_events`], and [`Sim::mesh`] is where an adapter
    /// acts on the shards.
    pub fn with_cluster(app: Arc<App>, n: usize, start: Instant) -> Sim {
        Self::make(app, n, start, true)
    }

    /// What the shards told the cluster adapter since the last call.
    pub fn take_cluster_events(&self) -> Vec<ClusterEvent> {
        let Some(cluster) = &self.mail.cluster else {
            return Vec::new();
        };
        std::mem::take(&mut *cluster.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The mesh of the shards, as an adapter (or an [`Io`](crate::Io)) posts to it.
    pub fn mesh(&self) -> Arc<dyn MeshPost> {
        self.mail.clone()
    }

    fn make(app: Arc<App>, n: usize, start: Instant, cluster: bool) -> Sim {
        let now = start;
        let seed = |i: usize| if n == 1 { 7 } else { 11 + i as u64 };
        let mail = Arc::new(Mail {
            shards: n,
            queue: Mutex::new(Vec::new()),
            posted: AtomicBool::new(false),
            cluster: cluster.then(ClusterMail::default),
            parser: app.config.parser,
        });
        Sim {
            shards: (0..n)
                .map(|i| {
                    let mut shard = Shard::with_seed(app.clone(), i, n, now, seed(i));
                    shard.set_mesh(mail.clone());
                    shard.into_shared()
                })
                .collect(),
            mail,
            tasks: Vec::new(),
            now,
            links: Vec::new(),
            index: HashMap::new(),
            handovers: 0,
        }
    }

    /// The simulated time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Shard `i`.
    pub fn shard(&self, i: usize) -> Ref<'_, Shard> {
        self.shards[i].borrow()
    }

    /// Shard `i`, to feed it directly (then call [`Sim::pump`]).
    pub fn shard_mut(&mut self, i: usize) -> RefMut<'_, Shard> {
        self.shards[i].borrow_mut()
    }

    /// An [`Io`](crate::Io) handle for the shards: what it posts is delivered at the next
    /// pump.
    pub fn io(&self) -> crate::Io {
        crate::Io::new(self.mail.clone())
    }

    /// Tasks of async handlers still running.
    pub fn tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Connections handed over between shards so far.
    pub fn handovers(&self) -> usize {
        self.handovers
    }

    /// A new connection to shard 0.
    pub fn connect(&mut self) -> Client {
        self.connect_to(0)
    }

    /// A new connection that the kernel gave to `shard`.
    pub fn connect_to(&mut self, shard: usize) -> Client {
        let n = self.links.len();
        let peer = SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, (n >> 8) as u8, n as u8)),
            40000 + (n % 20000) as u16,
        );
        let conn = self.shards[shard].borrow_mut().accept(self.now, peer);
        let client = Client(n);
        self.links.push(Link {
            shard,
            conn: Some(conn),
            ..Link::default()
        });
        self.index.insert((shard, conn), client);
        self.pump();
        client
    }

    /// Where a client's connection is now: its shard and its id there (`None` once closed).
    pub fn location(&self, client: Client) -> (usize, Option<ConnId>) {
        let link = &self.links[client.0];
        (link.shard, link.conn)
    }

    /// The client sends bytes; the shards answer.
    pub fn send(&mut self, client: Client, data: &[u8]) {
        self.feed(client, data);
        self.pump();
    }

    /// The client sends bytes, and the shard reads them; what it queues in answer is not
    /// written until [`Sim::pump`] (or [`Sim::take`]).
    pub fn feed(&mut self, client: Client, data: &[u8]) {
        let link = &self.links[client.0];
        if let Some(conn) = link.conn {
            self.shards[link.shard]
                .borrow_mut()
                .receive(self.now, conn, data);
        }
    }

    /// The client goes away (the runtime reports [`Shard::closed`]).
    pub fn disconnect(&mut self, client: Client) {
        let link = &self.links[client.0];
        if let Some(conn) = link.conn {
            self.shards[link.shard].borrow_mut().closed(self.now, conn);
        }
        self.pump();
    }

    /// Everything the client received since the last look.
    pub fn take(&mut self, client: Client) -> Vec<u8> {
        self.pump();
        let link = &mut self.links[client.0];
        link.writes.clear();
        std::mem::take(&mut link.received)
    }

    /// As [`Sim::take`], one `Vec` per write of the server.
    pub fn take_writes(&mut self, client: Client) -> Vec<Vec<u8>> {
        self.pump();
        let link = &mut self.links[client.0];
        let mut rest = &link.received[..];
        let mut out = Vec::new();
        for &n in &link.writes {
            out.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        link.writes.clear();
        link.received.clear();
        out
    }

    /// Whether the server closed the client's connection.
    pub fn is_closed(&self, client: Client) -> bool {
        self.links[client.0].closed
    }

    /// Whether the server shut down its writing side (or closed the connection).
    pub fn is_shut(&self, client: Client) -> bool {
        let link = &self.links[client.0];
        link.shut || link.closed
    }

    /// Gives a mesh message to `shard`, as another shard's (or an `Io` handle's) would come.
    pub fn deliver(&mut self, shard: usize, message: MeshMessage) {
        self.shards[shard]
            .borrow_mut()
            .handle_mesh(self.now, message);
        self.pump();
    }

    /// Moves time `d` later, handling every deadline on the way, in order.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(at) = self.next_deadline().filter(|&at| at <= end) {
            self.now = self.now.max(at);
            self.fire_timers();
            self.pump();
        }
        self.now = end;
        self.fire_timers();
        self.pump();
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.shards
            .iter()
            .filter_map(|s| s.borrow().poll_timeout())
            .min()
    }

    /// Calls `handle_timeout` on the shards whose deadline has come.
    fn fire_timers(&mut self) -> bool {
        let mut fired = false;
        for shard in &self.shards {
            let mut shard = shard.borrow_mut();
            if shard.poll_timeout().is_some_and(|at| at <= self.now) {
                shard.handle_timeout(self.now);
                fired = true;
            }
        }
        fired
    }

    /// Drains every shard's outputs, as runtimes do after each input: mesh messages go to
    /// their shards, queues are written to their clients, actions are carried out, and
    /// deadlines that have come (writes waiting for the next turn) are handled, until nothing
    /// is left.
    pub fn pump(&mut self) {
        self.drain_inner(Output::Keep);
    }

    /// As [`Sim::pump`], without keeping what the clients received: what was written, in all
    /// (for benchmarks: no client is looked up, no byte is copied).
    pub fn drain(&mut self) -> Drained {
        self.drain_inner(Output::Discard)
    }

    /// As [`Sim::pump`], handing each written slice to `sink` with its client instead of
    /// keeping it for [`Sim::take`].
    pub fn drain_with(&mut self, mut sink: impl FnMut(Client, &[u8])) -> Drained {
        self.drain_inner(Output::Sink(&mut sink))
    }

    fn drain_inner(&mut self, mut output: Output<'_>) -> Drained {
        let mut out = Drained::default();
        loop {
            let mut progress = false;
            for s in 0..self.shards.len() {
                while let Some(task) = self.shards[s].borrow_mut().poll_task() {
                    progress = true;
                    let woken = Arc::new(Flag(AtomicBool::new(true)));
                    self.tasks.push(SimTask { task, woken });
                }
                loop {
                    let Some((target, message)) = self.shards[s].borrow_mut().poll_mesh() else {
                        break;
                    };
                    progress = true;
                    let count = self.shards.len();
                    let to: Vec<usize> = match target {
                        MeshTarget::Others => (0..count).filter(|&k| k != s).collect(),
                        MeshTarget::Shard(k) => vec![k],
                    };
                    for k in to {
                        self.shards[k]
                            .borrow_mut()
                            .handle_mesh(self.now, message.clone());
                    }
                }
                // One borrow of the shard for all its writes.
                let cell = self.shards[s].clone();
                let mut shard = cell.borrow_mut();
                while let Some(conn) = shard.poll_transmit() {
                    progress = true;
                    let client = match output {
                        Output::Discard => None,
                        _ => Some(self.index[&(s, conn)]),
                    };
                    loop {
                        let mut slices = [IoSlice::new(&[]); IOVECS];
                        let n = shard.send_queue(conn, &mut slices);
                        if n == 0 {
                            break;
                        }
                        let written: usize = slices[..n].iter().map(|s| s.len()).sum();
                        match (&mut output, client) {
                            (Output::Keep, Some(c)) => {
                                let link = &mut self.links[c.0];
                                slices[..n]
                                    .iter()
                                    .for_each(|s| link.received.extend_from_slice(s));
                                link.writes.push(written);
                            }
                            (Output::Sink(sink), Some(c)) => {
                                slices[..n].iter().for_each(|s| sink(c, s));
                            }
                            _ => drop(std::hint::black_box(&slices[..n])),
                        }
                        out.bytes += written;
                        out.writes += 1;
                        shard.advance(conn, written);
                    }
                }
                drop(shard);
                loop {
                    let Some(action) = self.shards[s].borrow_mut().poll_action() else {
                        break;
                    };
                    progress = true;
                    self.act(s, action);
                }
            }
            progress |= self.deliver_mail();
            progress |= self.run_tasks();
            if !progress && !self.fire_timers() {
                return out;
            }
        }
    }

    /// Delivers what was posted to the shards; whether there was anything.
    fn deliver_mail(&mut self) -> bool {
        // A plain load first: a swap is a locked instruction, and most drains find nothing.
        if !self.mail.posted.load(Ordering::Acquire)
            || !self.mail.posted.swap(false, Ordering::AcqRel)
        {
            return false;
        }
        let mail = std::mem::take(&mut *self.mail.queue.lock().unwrap_or_else(|e| e.into_inner()));
        let any = !mail.is_empty();
        for (shard, message) in mail {
            self.shards[shard]
                .borrow_mut()
                .handle_mesh(self.now, message);
        }
        any
    }

    /// Polls the tasks woken since their last poll; whether any was.
    fn run_tasks(&mut self) -> bool {
        let mut any = false;
        let mut i = 0;
        while i < self.tasks.len() {
            if !self.tasks[i].woken.0.swap(false, Ordering::AcqRel) {
                i += 1;
                continue;
            }
            any = true;
            let waker = Waker::from(self.tasks[i].woken.clone());
            let mut cx = Context::from_waker(&waker);
            if self.tasks[i].task.as_mut().poll(&mut cx).is_ready() {
                self.tasks.swap_remove(i);
            } else {
                i += 1;
            }
        }
        any
    }

    fn act(&mut self, s: usize, action: Action) {
        match action {
            Action::Shutdown(conn) => {
                if let Some(&client) = self.index.get(&(s, conn)) {
                    self.links[client.0].shut = true;
                }
            }
            Action::Close(conn) => {
                if let Some(client) = self.index.remove(&(s, conn)) {
                    let link = &mut self.links[client.0];
                    link.closed = true;
                    link.conn = None;
                }
            }
            Action::HandOver { conn, shard, data } => {
                let client = self.index.remove(&(s, conn)).expect("a known connection");
                let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
                let id = self.shards[shard].borrow_mut().adopt(self.now, peer, &data);
                let link = &mut self.links[client.0];
                link.shard = shard;
                link.conn = Some(id);
                self.index.insert((shard, id), client);
                self.handovers += 1;
            }
        }
    }

    /// Sends a raw request and parses the one response it gets (`None` when none yet).
    pub fn request(&mut self, client: Client, raw: &str) -> Option<Response> {
        self.send(client, raw.as_bytes());
        let bytes = self.take(client);
        parse_responses(&bytes).pop()
    }

    /// A GET of `path`.
    pub fn get(&mut self, client: Client, path: &str) -> Option<Response> {
        self.request(client, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"))
    }

    /// A POST of a text body to `path`.
    pub fn post(&mut self, client: Client, path: &str, body: &str) -> Option<Response> {
        self.request(
            client,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain;charset=UTF-8\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    /// A long-polling handshake on a new connection: the connection and the session id.
    pub fn polling_open(&mut self) -> (Client, String) {
        let c = self.connect();
        let r = self
            .get(c, "/socket.io/?EIO=4&transport=polling")
            .expect("a handshake answer");
        assert_eq!(r.status, 200, "{}", r.text());
        let open: serde_json::Value = serde_json::from_str(&r.text()[1..]).expect("open JSON");
        let sid = open["sid"].as_str().expect("a sid").to_owned();
        (c, sid)
    }

    /// Opens a WebSocket to shard 0 (with `sid=…` in `query`, an upgrade probe): the
    /// connection and what came after the `101` head.
    pub fn ws_open(&mut self, query: &str) -> (Client, Vec<u8>) {
        self.ws_open_on(0, query)
    }

    /// As [`Sim::ws_open`], to `shard`.
    pub fn ws_open_on(&mut self, shard: usize, query: &str) -> (Client, Vec<u8>) {
        let c = self.connect_to(shard);
        self.send(
            c,
            format!(
                "GET /socket.io/?{query} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        );
        let bytes = self.take(c);
        assert!(
            bytes.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let end = bytes
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete head")
            + 4;
        (c, bytes[end..].to_vec())
    }

    /// A Socket.IO client over WebSocket on shard 0, joined to `/`.
    pub fn ws_client(&mut self) -> Client {
        self.ws_client_on(0)
    }

    /// A Socket.IO client over WebSocket on `shard`, joined to `/`; what the server sent on
    /// connection is taken.
    pub fn ws_client_on(&mut self, shard: usize) -> Client {
        let (c, rest) = self.ws_open_on(shard, "EIO=4&transport=websocket");
        let open = texts(&parse_frames(&rest));
        assert!(open[0].starts_with("0{"), "{open:?}");
        self.ws_text(c, "40");
        let frames = texts(&self.ws_recv(c));
        assert!(frames[0].starts_with("40{\"sid\":\""), "{frames:?}");
        c
    }

    /// Sends a masked WebSocket frame.
    pub fn ws_send(&mut self, client: Client, op: OpCode, payload: &[u8]) {
        let frame = ws::encode_client_frame(op, true, payload, [1, 2, 3, 4]);
        self.send(client, &frame);
    }

    /// Sends a text frame.
    pub fn ws_text(&mut self, client: Client, text: &str) {
        self.ws_send(client, OpCode::Text, text.as_bytes());
    }

    /// The frames the server sent the client since the last look.
    pub fn ws_recv(&mut self, client: Client) -> Vec<Frame> {
        let bytes = self.take(client);
        parse_frames(&bytes)
    }
}

/// An HTTP response a client received.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (ASCII case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (panics when it is not UTF-8).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

/// Splits what a client received into responses (each with a `Content-Length`).
pub fn parse_responses(mut bytes: &[u8]) -> Vec<Response> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut r = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = r.parse(bytes) else {
            panic!(
                "not a complete response: {}",
                String::from_utf8_lossy(bytes)
            )
        };
        let headers: Vec<(String, String)> = r
            .headers
            .iter()
            .map(|h| {
                let value = String::from_utf8_lossy(h.value).into_owned();
                (h.name.to_owned(), value)
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().expect("a length"));
        out.push(Response {
            status: r.code.unwrap_or_default(),
            headers,
            body: bytes[n..n + len].to_vec(),
        });
        bytes = &bytes[n + len..];
    }
    out
}

/// A WebSocket frame a client received: opcode and payload.
pub type Frame = (u8, Vec<u8>);

/// Splits what a client received into server frames (unmasked, unfragmented).
pub fn parse_frames(mut b: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    while b.len() >= 2 {
        let op = b[0] & 0x0f;
        assert_eq!(b[1] & 0x80, 0, "server frames are unmasked");
        let (len, h) = match b[1] & 0x7f {
            126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 => {
                let mut n = [0u8; 8];
                n.copy_from_slice(&b[2..10]);
                (u64::from_be_bytes(n) as usize, 10)
            }
            n => (n as usize, 2),
        };
        out.push((op, b[h..h + len].to_vec()));
        b = &b[h + len..];
    }
    assert!(b.is_empty(), "a truncated frame");
    out
}

/// The text frames among `frames`.
pub fn texts(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .filter(|(op, _)| *op == 1)
        .map(|(_, p)| String::from_utf8(p.clone()).expect("UTF-8 text"))
        .collect()
}
