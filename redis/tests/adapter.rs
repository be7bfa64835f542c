//! The Redis adapter of several servers, against a fake Redis broker, in simulated time.
//!
//! Each server is a [`Sim::with_cluster`] (its shards and clients) and an [`Adapter`]; the
//! broker is a few lines of Redis: it parses the RESP2 commands the adapters' connections
//! write (`SUBSCRIBE`, `PSUBSCRIBE`, `PUBLISH`, `PUBSUB NUMSUB`, ...) and answers as Redis does,
//! delivering what is published to every subscribed connection. [`Cluster::pump`] carries
//! everything (actions, bytes, cluster events) until nothing moves; [`Cluster::advance`] moves
//! the one clock. No socket, no thread, no sleep.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use corelay_core::sim::{parse_frames, texts, Client, Sim};
use corelay_core::{App, Inbound, RemoteSocket};
use corelay_redis::adapter::{Action, Adapter, AdapterConfig, Link};
use corelay_redis::connection::RedisUrl;
use redis_protocol::resp2::types::{BytesFrame, OwnedFrame};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------- the broker

/// One client connection of the broker.
#[derive(Debug, Default)]
struct Peer {
    open: bool,
    /// Bytes received and not parsed yet.
    input: Vec<u8>,
    /// Bytes for the client, not taken yet.
    output: BytesMut,
    channels: BTreeSet<Vec<u8>>,
    patterns: BTreeSet<Vec<u8>>,
    /// Every command run, as its arguments (name upper-cased).
    commands: Vec<Vec<String>>,
}

impl Peer {
    fn subscriptions(&self) -> i64 {
        (self.channels.len() + self.patterns.len()) as i64
    }

    fn push(&mut self, frame: BytesFrame) {
        redis_protocol::resp2::encode::extend_encode(&mut self.output, &frame, false)
            .expect("a frame Redis can write");
    }
}

/// Redis, as far as the classic adapter uses it.
#[derive(Debug, Default)]
struct Broker {
    peers: Vec<Peer>,
    /// Connections are refused (Redis is down).
    refusing: bool,
    /// Connections whose output waits (a slow network): delivered once released.
    held: BTreeSet<usize>,
}

fn bulk(b: &[u8]) -> BytesFrame {
    BytesFrame::BulkString(Bytes::copy_from_slice(b))
}

/// Redis' glob, as far as the adapter's patterns go: a `*` at the end, or none.
fn glob(pattern: &[u8], channel: &[u8]) -> bool {
    match pattern.strip_suffix(b"*") {
        Some(prefix) => channel.starts_with(prefix),
        None => pattern == channel,
    }
}

impl Broker {
    /// A new connection; `None` when refused.
    fn accept(&mut self) -> Option<usize> {
        if self.refusing {
            return None;
        }
        self.peers.push(Peer {
            open: true,
            ..Peer::default()
        });
        Some(self.peers.len() - 1)
    }

    /// Closes a connection: its subscriptions are gone.
    fn close(&mut self, id: usize) {
        let peer = &mut self.peers[id];
        peer.open = false;
        peer.channels.clear();
        peer.patterns.clear();
        peer.input.clear();
        peer.output.clear();
    }

    fn receive(&mut self, id: usize, bytes: &[u8]) {
        assert!(self.peers[id].open, "bytes written on a closed connection");
        self.peers[id].input.extend_from_slice(bytes);
    }

    fn take_output(&mut self, id: usize) -> Bytes {
        self.peers[id].output.split().freeze()
    }

    /// Runs every complete command received; whether there was any.
    fn run(&mut self) -> bool {
        let mut any = false;
        for id in 0..self.peers.len() {
            loop {
                let peer = &mut self.peers[id];
                let decoded = redis_protocol::resp2::decode::decode(&peer.input);
                let Some((frame, n)) = decoded.expect("a RESP2 command") else {
                    break;
                };
                peer.input.drain(..n);
                let OwnedFrame::Array(items) = frame else {
                    panic!("a command is an array: {frame:?}")
                };
                let args: Vec<Vec<u8>> = items
                    .into_iter()
                    .map(|item| match item {
                        OwnedFrame::BulkString(b) => b,
                        other => panic!("a command's arguments are bulk strings: {other:?}"),
                    })
                    .collect();
                self.execute(id, args);
                any = true;
            }
        }
        any
    }

    fn execute(&mut self, id: usize, args: Vec<Vec<u8>>) {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
        let mut logged: Vec<String> = args
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        logged[0] = name.clone();
        self.peers[id].commands.push(logged);
        let subscribed = self.peers[id].subscriptions() > 0;
        let allowed = [
            "SUBSCRIBE",
            "PSUBSCRIBE",
            "UNSUBSCRIBE",
            "PUNSUBSCRIBE",
            "PING",
        ];
        if subscribed && !allowed.contains(&name.as_str()) {
            let message = format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT \
                 / RESET are allowed in this context",
                name.to_ascii_lowercase()
            );
            self.peers[id].push(BytesFrame::Error(message.into()));
            return;
        }
        match name.as_str() {
            "SUBSCRIBE" | "PSUBSCRIBE" | "UNSUBSCRIBE" | "PUNSUBSCRIBE" => {
                let peer = &mut self.peers[id];
                for channel in &args[1..] {
                    let set = match name.as_str() {
                        "SUBSCRIBE" | "UNSUBSCRIBE" => &mut peer.channels,
                        _ => &mut peer.patterns,
                    };
                    match name.starts_with("UN") || name.starts_with("PUN") {
                        true => set.remove(channel),
                        false => set.insert(channel.clone()),
                    };
                    let count = peer.subscriptions();
                    let kind = name.to_ascii_lowercase();
                    peer.push(BytesFrame::Array(vec![
                        bulk(kind.as_bytes()),
                        bulk(channel),
                        BytesFrame::Integer(count),
                    ]));
                }
            }
            "PUBLISH" => {
                let receivers = self.publish(&args[1], &args[2]);
                self.peers[id].push(BytesFrame::Integer(receivers));
            }
            "PUBSUB" if args[1].eq_ignore_ascii_case(b"NUMSUB") => {
                let mut reply = Vec::new();
                for channel in &args[2..] {
                    let count = self
                        .peers
                        .iter()
                        .filter(|p| p.open && p.channels.contains(channel))
                        .count();
                    reply.push(bulk(channel));
                    reply.push(BytesFrame::Integer(count as i64));
                }
                self.peers[id].push(BytesFrame::Array(reply));
            }
            "PING" if subscribed => {
                self.peers[id].push(BytesFrame::Array(vec![bulk(b"pong"), bulk(b"")]));
            }
            "PING" => self.peers[id].push(BytesFrame::SimpleString("PONG".into())),
            _ => {
                let message = format!("ERR unknown command '{name}'");
                self.peers[id].push(BytesFrame::Error(message.into()));
            }
        }
    }

    /// Delivers a message to every subscriber; how many got it.
    fn publish(&mut self, channel: &[u8], payload: &[u8]) -> i64 {
        let mut receivers = 0;
        for peer in self.peers.iter_mut().filter(|p| p.open) {
            if peer.channels.contains(channel) {
                let frame = vec![bulk(b"message"), bulk(channel), bulk(payload)];
                peer.push(BytesFrame::Array(frame));
                receivers += 1;
            }
            let patterns: Vec<Vec<u8>> = peer
                .patterns
                .iter()
                .filter(|p| glob(p, channel))
                .cloned()
                .collect();
            for pattern in patterns {
                let frame = vec![
                    bulk(b"pmessage"),
                    bulk(&pattern),
                    bulk(channel),
                    bulk(payload),
                ];
                peer.push(BytesFrame::Array(frame));
                receivers += 1;
            }
        }
        receivers
    }
}

#[test]
fn consecutive_seeds_make_distinct_uids() {
    let sim = Sim::with_cluster(app("A", Log::default()), 1, Instant::now());
    let uids: BTreeSet<String> = (0..64)
        .map(|seed| {
            let url = RedisUrl::parse("redis://127.0.0.1:1").unwrap();
            let inbound = Inbound::new(sim.mesh());
            let config = AdapterConfig::default();
            let adapter = Adapter::new(config, url, inbound, [], seed, Instant::now());
            adapter.unwrap().uid().to_owned()
        })
        .collect();
    assert_eq!(uids.len(), 64);
}

#[test]
fn the_broker_answers_as_redis_does() {
    let mut broker = Broker::default();
    let a = broker.accept().unwrap();
    let b = broker.accept().unwrap();
    broker.receive(
        a,
        b"*3\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n$2\r\nc2\r\n*2\r\n$10\r\nPSUBSCRIBE\r\n$3\r\nc:*\r\n",
    );
    broker.receive(b, b"*3\r\n$7\r\nPUBLISH\r\n$3\r\nc:x\r\n$2\r\nhi\r\n");
    broker.receive(b, b"*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$2\r\nch\r\n");
    broker.receive(b, b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\n!\r\n");
    assert!(broker.run());
    assert_eq!(
        &broker.take_output(a)[..],
        &b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$2\r\nc2\r\n:2\r\n\
           *3\r\n$10\r\npsubscribe\r\n$3\r\nc:*\r\n:3\r\n\
           *4\r\n$8\r\npmessage\r\n$3\r\nc:*\r\n$3\r\nc:x\r\n$2\r\nhi\r\n\
           *3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\n!\r\n"[..]
    );
    assert_eq!(
        &broker.take_output(b)[..],
        &b":1\r\n*2\r\n$2\r\nch\r\n:1\r\n:1\r\n"[..]
    );
    // A subscribed connection can not publish.
    broker.receive(a, b"*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$1\r\n!\r\n");
    broker.run();
    assert!(broker
        .take_output(a)
        .starts_with(b"-ERR Can't execute 'publish'"));
    assert!(!broker.run());
}

// ---------------------------------------------------------------------------- the servers

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Player {
    name: String,
}

/// What a server's listeners of "hello" were given.
type Log = Arc<Mutex<Vec<String>>>;

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

/// The app of server `server`: sockets named by their auth, which join rooms on request,
/// broadcast to the others, and tell or ask the other servers "hello" (each server logs the
/// arguments and answers its own name); the dynamic namespace `^/dyn-\d+$`.
fn app(server: &'static str, log: Log) -> Arc<App> {
    App::builder()
        .namespace("/", move |ns| {
            ns.middleware(|socket| {
                let name = socket.auth_value()["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                socket.set_data(Player { name });
                Ok(())
            })
            .on("join", |s, e| s.join(&e.args.arg::<String>(0).unwrap()))
            .on("shout", |s, e| s.broadcast().emit("news", &e.args).unwrap())
            .on("gather", |s, _| {
                let io = s.io().unwrap();
                let answer = io.server_side_emit_with_ack("/", "hello", &()).unwrap();
                let me = s.handle();
                s.spawn(async move {
                    let result = match answer.await {
                        Ok(mut answers) => {
                            answers.sort_by_key(|a| a.to_string());
                            json!({ "ok": answers })
                        }
                        Err(e) => json!({ "error": e.message, "responses": e.responses }),
                    };
                    me.emit("gathered", &result).unwrap();
                });
            })
            .on("tell", |s, e| {
                let io = s.io().unwrap();
                io.server_side_emit("/", "hello", &e.args).unwrap()
            })
            .on_server_event("hello", move |_, args| {
                log.lock().unwrap().push(args.to_string());
                Some(json!(server))
            })
        })
        .dynamic_namespace(r"^/dyn-\d+$", |ns| ns)
        .build()
}

/// A server: its shards and clients, its adapter, and its adapter's broker connections.
#[derive(Debug)]
struct Server {
    sim: Sim,
    adapter: Adapter,
    /// The broker connection of each link (subscriber, publisher).
    links: [Option<usize>; 2],
    /// Stuck: never driven again, while the broker keeps its connections and subscriptions.
    stuck: bool,
    /// The adapter's connection attempts: when, and which link.
    connects: Vec<(Instant, Link)>,
    /// What its listeners of "hello" were given.
    log: Log,
}

fn index(link: Link) -> usize {
    match link {
        Link::Subscriber => 0,
        Link::Publisher => 1,
    }
}

/// Servers named A, B, C, ..., a broker, and one clock.
#[derive(Debug)]
struct Cluster {
    broker: Broker,
    servers: Vec<Server>,
    start: Instant,
    now: Instant,
}

const NAMES: [&str; 3] = ["A", "B", "C"];

impl Cluster {
    /// Servers with these numbers of shards, connected to the broker and subscribed.
    fn new(shards: &[usize]) -> Cluster {
        Self::with_config(shards, AdapterConfig::default())
    }

    fn with_config(shards: &[usize], config: AdapterConfig) -> Cluster {
        let start = Instant::now();
        let servers = shards
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let log = Log::default();
                let app = app(NAMES[i], log.clone());
                let sim = Sim::with_cluster(app.clone(), n, start);
                let url = RedisUrl::parse("redis://127.0.0.1:1").unwrap();
                let inbound = Inbound::new(sim.mesh());
                let names = app.namespace_names();
                let config = config.clone();
                let adapter = Adapter::new(config, url, inbound, names, i as u64 + 1, start);
                Server {
                    sim,
                    adapter: adapter.unwrap(),
                    links: [None, None],
                    stuck: false,
                    connects: Vec::new(),
                    log,
                }
            })
            .collect();
        let mut cluster = Cluster {
            broker: Broker::default(),
            servers,
            start,
            now: start,
        };
        cluster.pump();
        let uids: BTreeSet<&str> = cluster.servers.iter().map(|s| s.adapter.uid()).collect();
        assert_eq!(uids.len(), shards.len(), "every server has its own uid");
        for (i, s) in cluster.servers.iter_mut().enumerate() {
            assert!(s.adapter.is_ready(), "server {i} ready");
            // The sim's ids are reproducible: the same on servers of as many shards. Each
            // server skips 64 more socket ids than the one before, so that ids never meet.
            if i > 0 {
                let (c, _) = s.sim.ws_open_on(0, "EIO=4&transport=websocket");
                for _ in 0..64 * i {
                    s.sim.ws_text(c, "40");
                    s.sim.ws_text(c, "41");
                }
                s.sim.disconnect(c);
            }
        }
        cluster.pump();
        cluster
    }

    fn sim(&mut self, server: usize) -> &mut Sim {
        &mut self.servers[server].sim
    }

    /// Carries everything until nothing moves.
    fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut progress = false;
            let now = self.now;
            for s in self.servers.iter_mut().filter(|s| !s.stuck) {
                s.sim.pump();
                for event in s.sim.take_cluster_events() {
                    s.adapter.handle_event(now, event);
                    progress = true;
                }
                while let Some(action) = s.adapter.poll_action() {
                    progress = true;
                    match action {
                        Action::Connect(link) => {
                            s.connects.push((now, link));
                            assert_eq!(s.links[index(link)], None, "{link:?} connected already");
                            match self.broker.accept() {
                                Some(id) => {
                                    s.links[index(link)] = Some(id);
                                    s.adapter.handle_connected(now, link);
                                }
                                None => s.adapter.handle_closed(now, link),
                            }
                        }
                        Action::Close(link) => {
                            if let Some(id) = s.links[index(link)].take() {
                                self.broker.close(id);
                            }
                            s.adapter.handle_closed(now, link);
                        }
                    }
                }
                for link in Link::ALL {
                    while let Some(bytes) = s.adapter.poll_transmit(link) {
                        progress = true;
                        let id = s.links[index(link)].expect("bytes for a connected link");
                        self.broker.receive(id, &bytes);
                    }
                }
            }
            progress |= self.broker.run();
            for s in self.servers.iter_mut().filter(|s| !s.stuck) {
                for link in Link::ALL {
                    let Some(id) = s.links[index(link)] else {
                        continue;
                    };
                    if self.broker.held.contains(&id) {
                        continue;
                    }
                    let bytes = self.broker.take_output(id);
                    if !bytes.is_empty() {
                        progress = true;
                        s.adapter.handle_bytes(now, link, &bytes);
                    }
                }
            }
            if !progress {
                return;
            }
        }
        panic!("the cluster never settles");
    }

    /// Moves the clock `d` later: every shard's and adapter's deadline on the way is handled
    /// in order, and everything carried after each.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.pump();
            let next = self
                .servers
                .iter()
                .filter(|s| !s.stuck)
                .filter_map(|s| s.adapter.poll_timeout())
                .min()
                .filter(|&at| at <= end);
            let to = next.unwrap_or(end).max(self.now);
            for s in self.servers.iter_mut().filter(|s| !s.stuck) {
                let step = to - s.sim.now();
                s.sim.advance(step);
            }
            self.now = to;
            for s in self.servers.iter_mut().filter(|s| !s.stuck) {
                if s.adapter.poll_timeout().is_some_and(|at| at <= to) {
                    s.adapter.handle_timeout(to);
                }
            }
            self.pump();
            if next.is_none() {
                return;
            }
        }
    }

    /// Time since the start.
    fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    /// Polls `future`, carrying everything between polls, until it is ready (the clock
    /// does not move).
    fn wait<F: Future + Unpin>(&mut self, future: &mut F) -> F::Output {
        for _ in 0..16 {
            if let Poll::Ready(out) = poll_once(future) {
                return out;
            }
            self.pump();
        }
        panic!("still pending");
    }

    /// The broker drops a link of `server` (the adapter's driver sees the socket close).
    fn drop_link(&mut self, server: usize, link: Link) {
        let s = &mut self.servers[server];
        let id = s.links[index(link)].take().expect("a connected link");
        self.broker.close(id);
        s.adapter.handle_closed(self.now, link);
    }

    /// What Redis sends on a link of `server` waits until [`Cluster::release`].
    fn hold(&mut self, server: usize, link: Link) {
        let id = self.servers[server].links[index(link)].expect("a connected link");
        self.broker.held.insert(id);
    }

    fn release(&mut self) {
        self.broker.held.clear();
        self.pump();
    }

    /// Server `server` stops: it never reads nor answers again, but Redis still counts its
    /// subscriptions (a stuck process).
    fn freeze(&mut self, server: usize) {
        self.servers[server].stuck = true;
    }
}

fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A client of `sim` on `shard`, connected to `/` as `name`: the client and its socket id.
fn join(sim: &mut Sim, shard: usize, name: &str) -> (Client, String) {
    let (c, rest) = sim.ws_open_on(shard, "EIO=4&transport=websocket");
    assert!(texts(&parse_frames(&rest))[0].starts_with("0{"));
    sim.ws_text(c, &format!(r#"40{{"name":"{name}"}}"#));
    let frames = texts(&sim.ws_recv(c));
    assert!(frames[0].starts_with("40{\"sid\":\""), "{frames:?}");
    let v: Value = serde_json::from_str(&frames[0][2..]).unwrap();
    (c, v["sid"].as_str().unwrap().to_owned())
}

/// The text frames `c` received since the last look.
fn recv(cluster: &mut Cluster, server: usize, c: Client) -> Vec<String> {
    texts(&cluster.sim(server).ws_recv(c))
}

/// Names, sorted.
fn names(sockets: &[RemoteSocket]) -> Vec<String> {
    let mut names: Vec<String> = sockets
        .iter()
        .map(|s| s.data::<Player>().expect("a player").name)
        .collect();
    names.sort();
    names
}

/// The ack id of an EVENT frame `42<id>[...]`.
fn ack_id_of(frame: &str) -> u64 {
    let digits: String = frame[2..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().expect("an ack id")
}

/// Three servers (A: 1 shard, B: 2 shards, C: 1 shard) and their clients: `a1`, `a2` on A
/// (`a1` in `r`), `b1` on B's shard 0 (in `r` and `x`), `b2` on B's shard 1 (in `r`), `c1` on
/// C (in `r`).
struct Three {
    cluster: Cluster,
    a1: (Client, String),
    a2: (Client, String),
    b1: (Client, String),
    b2: (Client, String),
    c1: (Client, String),
}

const A: usize = 0;
const B: usize = 1;
const C: usize = 2;

fn three() -> Three {
    three_with(AdapterConfig::default())
}

fn three_with(config: AdapterConfig) -> Three {
    let mut cluster = Cluster::with_config(&[1, 2, 1], config);
    let a1 = join(cluster.sim(A), 0, "a1");
    let a2 = join(cluster.sim(A), 0, "a2");
    let b1 = join(cluster.sim(B), 0, "b1");
    let b2 = join(cluster.sim(B), 1, "b2");
    let c1 = join(cluster.sim(C), 0, "c1");
    for (server, c, room) in [
        (A, a1.0, "r"),
        (B, b1.0, "r"),
        (B, b1.0, "x"),
        (B, b2.0, "r"),
        (C, c1.0, "r"),
    ] {
        cluster
            .sim(server)
            .ws_text(c, &format!(r#"42["join","{room}"]"#));
    }
    cluster.pump();
    let ids = [&a1.1, &a2.1, &b1.1, &b2.1, &c1.1];
    let unique: BTreeSet<&String> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "socket ids differ across servers");
    Three {
        cluster,
        a1,
        a2,
        b1,
        b2,
        c1,
    }
}

// ---------------------------------------------------------------------------- broadcasts

#[test]
fn a_broadcast_reaches_every_other_servers_clients_once() {
    let Three {
        mut cluster,
        a1,
        a2,
        b1,
        b2,
        c1,
    } = three();
    cluster.sim(A).ws_text(a1.0, r#"42["shout",1,"x"]"#);
    cluster.pump();
    assert!(recv(&mut cluster, A, a1.0).is_empty(), "not the sender");
    assert_eq!(recv(&mut cluster, A, a2.0), [r#"42["news",1,"x"]"#]);
    for (server, c) in [(B, b1.0), (B, b2.0), (C, c1.0)] {
        assert_eq!(recv(&mut cluster, server, c), [r#"42["news",1,"x"]"#]);
    }
    // Nothing more comes, whatever time passes.
    cluster.advance(Duration::from_secs(1));
    for (server, c) in [(A, a1.0), (A, a2.0), (B, b1.0), (B, b2.0), (C, c1.0)] {
        assert!(recv(&mut cluster, server, c).is_empty());
    }
    // From B's Io handle, to a room but not another.
    let io = cluster.sim(B).io();
    io.to("r").except("x").emit("room", &2).unwrap();
    cluster.pump();
    for (server, c) in [(A, a1.0), (B, b2.0), (C, c1.0)] {
        assert_eq!(recv(&mut cluster, server, c), [r#"42["room",2]"#]);
    }
    assert!(recv(&mut cluster, B, b1.0).is_empty(), "in x");
    assert!(recv(&mut cluster, A, a2.0).is_empty(), "not in r");
    // A socket id names one client anywhere.
    let io = cluster.sim(C).io();
    io.to(&b2.1).emit("you", &()).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, B, b2.0), [r#"42["you"]"#]);
    for (server, c) in [(A, a1.0), (A, a2.0), (B, b1.0), (C, c1.0)] {
        assert!(recv(&mut cluster, server, c).is_empty());
    }
    // Local: this server only.
    let io = cluster.sim(A).io();
    io.of("/").local().emit("here", &()).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, A, a1.0), [r#"42["here"]"#]);
    assert!(recv(&mut cluster, B, b1.0).is_empty());
}

#[test]
fn binary_arguments_cross_servers() {
    let mut cluster = Cluster::new(&[1, 2]);
    let a = join(cluster.sim(A), 0, "a");
    let b = join(cluster.sim(B), 1, "b");
    let io = cluster.sim(A).io();
    let bin = corelay_core::Binary(Bytes::from_static(b"\x00\x01\xfe"));
    io.emit("bin", &("t", bin)).unwrap();
    cluster.pump();
    for (server, c) in [(A, a.0), (B, b.0)] {
        let frames = cluster.sim(server).ws_recv(c);
        assert_eq!(
            texts(&frames),
            [r#"451-["bin","t",{"_placeholder":true,"num":0}]"#]
        );
        assert_eq!(frames[1], (2, vec![0, 1, 0xfe]));
    }
}

#[test]
fn a_broadcast_with_acks_gathers_every_servers_answers() {
    let Three {
        mut cluster,
        a1,
        a2,
        b1,
        b2,
        c1,
    } = three();
    let io = cluster.sim(A).io();
    let timeout = Duration::from_secs(5);
    let mut future = io.of("/").timeout(timeout).emit_with_ack("q", &7).unwrap();
    cluster.pump();
    let clients = [(A, a1.0), (A, a2.0), (B, b1.0), (B, b2.0), (C, c1.0)];
    for (i, &(server, c)) in clients.iter().enumerate() {
        let frames = recv(&mut cluster, server, c);
        assert_eq!(frames.len(), 1, "{frames:?}");
        let id = ack_id_of(&frames[0]);
        assert_eq!(frames[0], format!(r#"42{id}["q",7]"#));
        assert!(poll_once(&mut future).is_pending());
        cluster
            .sim(server)
            .ws_text(c, &format!(r#"43{id}["answer {i}"]"#));
        cluster.pump();
    }
    let answers = cluster.wait(&mut future).unwrap();
    let mut got: Vec<String> = answers.iter().map(|a| a.arg(0).unwrap()).collect();
    got.sort();
    let want: Vec<String> = (0..5).map(|i| format!("answer {i}")).collect();
    assert_eq!(got, want);
    assert!(cluster.elapsed() < timeout, "no waiting");
}

#[test]
fn a_broadcast_with_acks_waits_for_the_server_count_even_when_answers_come_first() {
    // A's `PUBSUB NUMSUB` reply is slow to come, and C is slow to hear the request: B's
    // count and answers come first. They are not all: C has not said how many it reached.
    let Three {
        mut cluster,
        a1,
        a2,
        b1,
        b2,
        c1,
    } = three();
    cluster.hold(A, Link::Publisher);
    cluster.hold(C, Link::Subscriber);
    let io = cluster.sim(A).io();
    let timeout = Duration::from_secs(5);
    let mut future = io.of("/").timeout(timeout).emit_with_ack("q", &()).unwrap();
    cluster.pump();
    for (server, c) in [(A, a1.0), (A, a2.0), (B, b1.0), (B, b2.0)] {
        let id = ack_id_of(&recv(&mut cluster, server, c)[0]);
        cluster.sim(server).ws_text(c, &format!("43{id}[{server}]"));
    }
    cluster.pump();
    assert!(
        recv(&mut cluster, C, c1.0).is_empty(),
        "C has not heard yet"
    );
    assert!(
        poll_once(&mut future).is_pending(),
        "answered before C said how many clients it reached"
    );
    cluster.release();
    assert!(poll_once(&mut future).is_pending());
    let id = ack_id_of(&recv(&mut cluster, C, c1.0)[0]);
    cluster.sim(C).ws_text(c1.0, &format!("43{id}[{C}]"));
    let answers = cluster.wait(&mut future).unwrap();
    let mut got: Vec<u32> = answers.iter().map(|a| a.arg(0).unwrap()).collect();
    got.sort();
    assert_eq!(got, [0, 0, 1, 1, 2]);
}

#[test]
fn a_broadcast_with_acks_times_out_with_the_answers_that_came() {
    let Three {
        mut cluster,
        a1,
        a2,
        b1,
        b2,
        c1,
    } = three();
    let io = cluster.sim(A).io();
    let timeout = Duration::from_secs(5);
    let mut future = io.to("r").timeout(timeout).emit_with_ack("q", &()).unwrap();
    cluster.pump();
    assert!(recv(&mut cluster, A, a2.0).is_empty(), "not in r");
    // Everyone answers but b2.
    for (server, c) in [(A, a1.0), (B, b1.0), (C, c1.0)] {
        let id = ack_id_of(&recv(&mut cluster, server, c)[0]);
        cluster.sim(server).ws_text(c, &format!("43{id}[1]"));
    }
    assert_eq!(recv(&mut cluster, B, b2.0).len(), 1);
    cluster.pump();
    cluster.advance(timeout - Duration::from_millis(1));
    assert!(poll_once(&mut future).is_pending());
    cluster.advance(Duration::from_millis(1));
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error at the timeout")
    };
    assert_eq!(e.answers.len(), 3);
    assert_eq!(e.missing, 1, "b2");
}

#[test]
fn a_broadcast_with_acks_times_out_when_a_server_is_stuck() {
    let Three {
        mut cluster,
        a1,
        b1,
        b2,
        ..
    } = three();
    cluster.freeze(C);
    let io = cluster.sim(A).io();
    let timeout = Duration::from_secs(5);
    let mut future = io.to("r").timeout(timeout).emit_with_ack("q", &()).unwrap();
    cluster.pump();
    for (server, c) in [(A, a1.0), (B, b1.0), (B, b2.0)] {
        let id = ack_id_of(&recv(&mut cluster, server, c)[0]);
        cluster.sim(server).ws_text(c, &format!("43{id}[1]"));
    }
    cluster.pump();
    assert!(poll_once(&mut future).is_pending(), "C never says");
    cluster.advance(timeout);
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error at the timeout")
    };
    assert_eq!(e.answers.len(), 3);
    assert_eq!(e.missing, 0, "C never said how many");
}

// ---------------------------------------------------------------------------- requests

#[test]
fn fetch_sockets_finds_every_servers_sockets_with_rooms_and_data() {
    let Three {
        mut cluster,
        a1,
        b1,
        c1,
        ..
    } = three();
    let io = cluster.sim(A).io();
    let mut future = io.of("/").fetch_sockets();
    let all = cluster.wait(&mut future).unwrap();
    assert_eq!(names(&all), ["a1", "a2", "b1", "b2", "c1"]);
    let b1_found = all.iter().find(|s| s.id() == b1.1).expect("b1");
    assert_eq!(b1_found.rooms(), [b1.1.clone(), "r".into(), "x".into()]);
    assert_eq!(b1_found.data_value(), &json!({"name": "b1"}));
    assert_eq!(b1_found.namespace(), "/");
    assert_eq!(b1_found.handshake().auth, json!({"name": "b1"}));
    // Rooms, except, and ids.
    let mut future = io.to("r").except("x").fetch_sockets();
    let found = cluster.wait(&mut future).unwrap();
    assert_eq!(names(&found), ["a1", "b2", "c1"]);
    let mut future = io.to(&c1.1).fetch_sockets();
    let found = cluster.wait(&mut future).unwrap();
    assert_eq!(names(&found), ["c1"]);
    assert_eq!(found[0].rooms(), [c1.1.clone(), "r".into()]);
    // A remote socket acts through the cluster.
    let mut future = io.to(&c1.1).fetch_sockets();
    let found = cluster.wait(&mut future).unwrap();
    found[0].emit("hi", &1).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, C, c1.0), [r#"42["hi",1]"#]);
    assert!(recv(&mut cluster, A, a1.0).is_empty());
    // all_rooms: every server's.
    let mut future = io.of("/").all_rooms();
    assert_eq!(cluster.wait(&mut future).unwrap(), ["r", "x"]);
    assert_eq!(cluster.elapsed(), Duration::ZERO, "no time passed");
}

#[test]
fn fetch_sockets_times_out_when_a_server_is_stuck() {
    let Three { mut cluster, .. } = three();
    cluster.freeze(C);
    let io = cluster.sim(A).io();
    let mut future = io.of("/").fetch_sockets();
    cluster.pump();
    assert!(poll_once(&mut future).is_pending());
    cluster.advance(Duration::from_millis(4999));
    assert!(poll_once(&mut future).is_pending());
    cluster.advance(Duration::from_millis(1));
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error after 5 s")
    };
    assert_eq!(
        e.to_string(),
        "timeout reached while waiting for fetchSockets response"
    );
    let mut future = io.of("/").all_rooms();
    cluster.advance(Duration::from_secs(5));
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error after 5 s")
    };
    assert_eq!(
        e.to_string(),
        "timeout reached while waiting for allRooms response"
    );
}

#[test]
fn server_side_emit_with_ack_collects_one_answer_per_other_server() {
    let Three {
        mut cluster, a1, ..
    } = three();
    cluster.sim(A).ws_text(a1.0, r#"42["gather"]"#);
    cluster.pump();
    assert_eq!(
        recv(&mut cluster, A, a1.0),
        [r#"42["gathered",{"ok":["B","C"]}]"#]
    );
    // C is stuck: B's answer, then the error at the timeout.
    cluster.freeze(C);
    cluster.sim(A).ws_text(a1.0, r#"42["gather"]"#);
    cluster.pump();
    cluster.advance(Duration::from_millis(4999));
    assert!(recv(&mut cluster, A, a1.0).is_empty());
    cluster.advance(Duration::from_millis(1));
    assert_eq!(
        recv(&mut cluster, A, a1.0),
        [
            r#"42["gathered",{"error":"timeout reached: only 1 responses received out of 2","responses":["B"]}]"#
        ]
    );
}

#[test]
fn join_leave_and_disconnect_act_on_the_other_servers_sockets() {
    let Three {
        mut cluster,
        a2,
        b1,
        b2,
        c1,
        ..
    } = three();
    let io = cluster.sim(A).io();
    let mut joined = io.of("/").except("x").sockets_join("hall");
    assert_eq!(cluster.wait(&mut joined), 2, "A's count: a1 and a2");
    let mut future = io.to("hall").fetch_sockets();
    let found = cluster.wait(&mut future).unwrap();
    assert_eq!(names(&found), ["a1", "a2", "b2", "c1"]);
    // Seen from B itself.
    let b_io = cluster.sim(B).io();
    let mut future = b_io.to("hall").local().fetch_sockets();
    assert_eq!(names(&cluster.wait(&mut future).unwrap()), ["b2"]);
    let mut left = io.to("r").sockets_leave("hall");
    assert_eq!(cluster.wait(&mut left), 1, "a1");
    let mut future = io.to("hall").fetch_sockets();
    assert_eq!(names(&cluster.wait(&mut future).unwrap()), ["a2"]);
    // Disconnect B's members of x from the namespace, then C's and B's whole connections.
    let mut out = io.to("x").disconnect_sockets(false);
    assert_eq!(cluster.wait(&mut out), 0, "none on A");
    assert_eq!(recv(&mut cluster, B, b1.0), ["41"]);
    assert!(!cluster.sim(B).is_shut(b1.0));
    let mut out = io.to("r").except(&b2.1).disconnect_sockets(true);
    assert_eq!(cluster.wait(&mut out), 1, "a1");
    assert_eq!(recv(&mut cluster, C, c1.0), ["41"]);
    assert!(cluster.sim(C).is_shut(c1.0));
    assert!(recv(&mut cluster, B, b2.0).is_empty());
    assert!(!cluster.sim(B).is_shut(b2.0));
    let mut future = io.of("/").fetch_sockets();
    assert_eq!(names(&cluster.wait(&mut future).unwrap()), ["a2", "b2"]);
    assert!(!cluster.sim(A).is_shut(a2.0));
}

// ---------------------------------------------------------------------------- faults

#[test]
fn a_dropped_link_reconnects_with_backoff_and_subscribes_again() {
    let mut cluster = Cluster::new(&[1, 2]);
    let a = join(cluster.sim(A), 0, "a");
    let b = join(cluster.sim(B), 1, "b");
    cluster.broker.refusing = true;
    cluster.servers[B].connects.clear();
    let t0 = cluster.now;
    cluster.drop_link(B, Link::Subscriber);
    assert!(!cluster.servers[B].adapter.is_ready());
    assert_eq!(
        cluster.servers[B].adapter.poll_timeout(),
        Some(t0 + Duration::from_millis(50))
    );
    assert_eq!(cluster.servers[B].adapter.poll_action(), None);
    // Redis is down: each try fails, and the next waits 50 ms longer, up to 500 ms.
    cluster.advance(Duration::from_millis(3999));
    let delays: Vec<u64> = cluster.servers[B]
        .connects
        .iter()
        .scan(t0, |last, &(at, link)| {
            assert_eq!(link, Link::Subscriber);
            let d = at - *last;
            *last = at;
            Some(d.as_millis() as u64)
        })
        .collect();
    assert_eq!(
        delays,
        [50, 100, 150, 200, 250, 300, 350, 400, 450, 500, 500, 500]
    );
    let last = cluster.servers[B].connects.last().unwrap().0;
    assert_eq!(
        cluster.servers[B].adapter.poll_timeout(),
        Some(last + Duration::from_millis(500))
    );
    // Meanwhile, what A publishes does not reach B (Redis pub/sub keeps nothing).
    let io = cluster.sim(A).io();
    io.emit("lost", &()).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, A, a.0), [r#"42["lost"]"#]);
    assert!(recv(&mut cluster, B, b.0).is_empty());
    // Redis is back: the next try succeeds, and the subscriptions are made again.
    cluster.broker.refusing = false;
    cluster.advance(Duration::from_millis(500));
    assert!(cluster.servers[B].adapter.is_ready());
    let id = cluster.servers[B].links[0].expect("connected");
    let commands = &cluster.broker.peers[id].commands;
    let uid = cluster.servers[B].adapter.uid().to_owned();
    assert_eq!(
        commands,
        &[
            vec![
                "SUBSCRIBE".to_owned(),
                "socket.io-request#/#".into(),
                "socket.io-response#/#".into(),
                format!("socket.io-response#/#{uid}#"),
            ],
            vec!["PSUBSCRIBE".into(), "socket.io#/#*".into()],
        ][..]
    );
    // A broadcast now reaches B, once.
    io.emit("back", &()).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, B, b.0), [r#"42["back"]"#]);
    // A success resets the pace: the next drop waits 50 ms again.
    let t1 = cluster.now;
    cluster.drop_link(B, Link::Subscriber);
    assert_eq!(
        cluster.servers[B].adapter.poll_timeout(),
        Some(t1 + Duration::from_millis(50))
    );
    cluster.advance(Duration::from_millis(50));
    assert!(cluster.servers[B].adapter.is_ready());
}

#[test]
fn while_the_publisher_is_down_local_clients_still_hear_and_the_publish_waits() {
    let mut cluster = Cluster::new(&[1, 2]);
    let a1 = join(cluster.sim(A), 0, "a1");
    let a2 = join(cluster.sim(A), 0, "a2");
    let b = join(cluster.sim(B), 0, "b");
    cluster.broker.refusing = true;
    cluster.drop_link(A, Link::Publisher);
    cluster.sim(A).ws_text(a1.0, r#"42["shout","now"]"#);
    cluster.pump();
    assert_eq!(
        recv(&mut cluster, A, a2.0),
        [r#"42["news","now"]"#],
        "at once"
    );
    assert!(recv(&mut cluster, B, b.0).is_empty());
    cluster.advance(Duration::from_millis(120));
    assert!(recv(&mut cluster, B, b.0).is_empty(), "still down");
    // Back: the publish goes out once.
    cluster.broker.refusing = false;
    cluster.advance(Duration::from_millis(100));
    assert!(cluster.servers[A].adapter.is_ready());
    assert_eq!(recv(&mut cluster, B, b.0), [r#"42["news","now"]"#]);
    assert!(recv(&mut cluster, A, a2.0).is_empty());
    assert!(recv(&mut cluster, A, a1.0).is_empty());
    cluster.advance(Duration::from_secs(1));
    assert!(recv(&mut cluster, B, b.0).is_empty());
}

// ---------------------------------------------------------------------------- more

#[test]
fn server_side_emit_runs_the_listeners_of_every_shard_of_every_other_server() {
    let Three {
        mut cluster, a1, ..
    } = three();
    cluster.sim(A).ws_text(a1.0, r#"42["tell",1,"x"]"#);
    cluster.pump();
    assert!(take(&cluster.servers[A].log).is_empty(), "not the sender's");
    // B has two shards: its listeners run on both.
    assert_eq!(take(&cluster.servers[B].log), [r#"[1,"x"]"#, r#"[1,"x"]"#]);
    assert_eq!(take(&cluster.servers[C].log), [r#"[1,"x"]"#]);
    // From an Io handle taken on no shard: every shard of A, then the other servers.
    let io = cluster.sim(A).io();
    io.server_side_emit("/", "hello", &()).unwrap();
    cluster.pump();
    assert_eq!(take(&cluster.servers[A].log), ["[]"]);
    assert_eq!(take(&cluster.servers[B].log), ["[]", "[]"]);
    assert_eq!(take(&cluster.servers[C].log), ["[]"]);
}

#[test]
fn a_broadcast_with_acks_to_a_room_one_server_has() {
    let Three {
        mut cluster, b1, ..
    } = three();
    let io = cluster.sim(C).io();
    let future = io.to("x").timeout(Duration::from_secs(5));
    let mut future = future.emit_with_ack("q", &()).unwrap();
    cluster.pump();
    assert!(poll_once(&mut future).is_pending());
    let id = ack_id_of(&recv(&mut cluster, B, b1.0)[0]);
    cluster.sim(B).ws_text(b1.0, &format!(r#"43{id}["b1"]"#));
    let answers = cluster.wait(&mut future).unwrap();
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].arg::<String>(0).unwrap(), "b1");
    assert_eq!(cluster.elapsed(), Duration::ZERO);
}

#[test]
fn responses_on_the_askers_own_channel() {
    let config = AdapterConfig {
        publish_on_specific_response_channel: true,
        ..AdapterConfig::default()
    };
    let Three { mut cluster, .. } = three_with(config);
    let io = cluster.sim(A).io();
    let mut future = io.of("/").fetch_sockets();
    let all = cluster.wait(&mut future).unwrap();
    assert_eq!(names(&all), ["a1", "a2", "b1", "b2", "c1"]);
    let own = format!("socket.io-response#/#{}#", cluster.servers[A].adapter.uid());
    for server in [B, C] {
        let id = cluster.servers[server].links[1].unwrap();
        let published: Vec<&str> = cluster.broker.peers[id]
            .commands
            .iter()
            .filter(|c| c[0] == "PUBLISH")
            .map(|c| c[1].as_str())
            .collect();
        assert_eq!(published, [own.as_str()]);
    }
}

#[test]
fn a_dynamic_namespaces_children_take_part_once_made() {
    let mut cluster = Cluster::new(&[1, 2]);
    let open = |sim: &mut Sim, shard: usize, nsp: &str| {
        let (c, _) = sim.ws_open_on(shard, "EIO=4&transport=websocket");
        sim.ws_text(c, &format!("40{nsp},"));
        let frames = texts(&sim.ws_recv(c));
        assert!(frames[0].starts_with(&format!("40{nsp},")), "{frames:?}");
        c
    };
    let a = open(cluster.sim(A), 0, "/dyn-1");
    let b = open(cluster.sim(B), 1, "/dyn-1");
    let b2 = open(cluster.sim(B), 0, "/dyn-2");
    cluster.pump();
    // B subscribed to its children's channels as they were made.
    let id = cluster.servers[B].links[0].unwrap();
    let patterns: Vec<&str> = cluster.broker.peers[id]
        .commands
        .iter()
        .filter(|c| c[0] == "PSUBSCRIBE")
        .map(|c| c[1].as_str())
        .collect();
    assert_eq!(
        patterns,
        ["socket.io#/#*", "socket.io#/dyn-1#*", "socket.io#/dyn-2#*"]
    );
    // A's broadcast to the pattern: for each child A has.
    let io = cluster.sim(A).io();
    io.of(r"^/dyn-\d+$").emit("all", &1).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, A, a), [r#"42/dyn-1,["all",1]"#]);
    assert_eq!(recv(&mut cluster, B, b), [r#"42/dyn-1,["all",1]"#]);
    assert!(recv(&mut cluster, B, b2).is_empty(), "A has no /dyn-2");
    // B's reaches both of its children there, and A's /dyn-1.
    let io = cluster.sim(B).io();
    io.of(r"^/dyn-\d+$").emit("all", &2).unwrap();
    cluster.pump();
    assert_eq!(recv(&mut cluster, A, a), [r#"42/dyn-1,["all",2]"#]);
    assert_eq!(recv(&mut cluster, B, b), [r#"42/dyn-1,["all",2]"#]);
    assert_eq!(recv(&mut cluster, B, b2), [r#"42/dyn-2,["all",2]"#]);
    // With acknowledgements, once A has both children too: one request per child.
    let a2 = open(cluster.sim(A), 0, "/dyn-2");
    cluster.pump();
    let io = cluster.sim(A).io();
    let future = io.of(r"^/dyn-\d+$").timeout(Duration::from_secs(5));
    let mut future = future.emit_with_ack("q", &()).unwrap();
    cluster.pump();
    for (server, c, nsp) in [
        (A, a, "/dyn-1"),
        (A, a2, "/dyn-2"),
        (B, b, "/dyn-1"),
        (B, b2, "/dyn-2"),
    ] {
        let frames = recv(&mut cluster, server, c);
        assert_eq!(frames.len(), 1, "{frames:?}");
        let rest = frames[0]
            .strip_prefix(&format!("42{nsp},"))
            .expect("its namespace");
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        assert!(poll_once(&mut future).is_pending());
        let text = format!(r#"43{nsp},{id}["{server}{nsp}"]"#);
        cluster.sim(server).ws_text(c, &text);
        cluster.pump();
    }
    let answers = cluster.wait(&mut future).unwrap();
    let mut got: Vec<String> = answers.iter().map(|a| a.arg(0).unwrap()).collect();
    got.sort();
    assert_eq!(got, ["0/dyn-1", "0/dyn-2", "1/dyn-1", "1/dyn-2"]);
    // Requests to a child go to the servers that have it.
    let io = cluster.sim(A).io();
    let mut future = io.of("/dyn-1").fetch_sockets();
    let found = cluster.wait(&mut future).unwrap();
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|s| s.namespace() == "/dyn-1"));
}

#[test]
fn garbage_from_redis_closes_the_link_which_reconnects() {
    let mut cluster = Cluster::new(&[1, 2]);
    let a = join(cluster.sim(A), 0, "a");
    let b = join(cluster.sim(B), 0, "b");
    let old = cluster.servers[B].links[0].unwrap();
    cluster.broker.peers[old]
        .output
        .extend_from_slice(b"!not RESP2\r\n");
    cluster.pump();
    // The adapter asked to close the link; the broker saw it close.
    assert_eq!(cluster.servers[B].links[0], None);
    assert!(!cluster.broker.peers[old].open);
    assert!(!cluster.servers[B].adapter.is_ready());
    cluster.advance(Duration::from_millis(49));
    assert_eq!(cluster.servers[B].links[0], None);
    cluster.advance(Duration::from_millis(1));
    assert!(cluster.servers[B].adapter.is_ready());
    cluster.sim(A).ws_text(a.0, r#"42["shout","again"]"#);
    cluster.pump();
    assert_eq!(recv(&mut cluster, B, b.0), [r#"42["news","again"]"#]);
}

#[test]
fn a_request_made_while_the_publisher_is_down_goes_out_once_it_is_back() {
    let mut cluster = Cluster::new(&[1, 2]);
    join(cluster.sim(A), 0, "a");
    join(cluster.sim(B), 1, "b");
    cluster.broker.refusing = true;
    cluster.drop_link(A, Link::Publisher);
    let io = cluster.sim(A).io();
    let mut future = io.of("/").fetch_sockets();
    cluster.pump();
    assert!(poll_once(&mut future).is_pending());
    cluster.broker.refusing = false;
    cluster.advance(Duration::from_millis(50));
    let all = cluster.wait(&mut future).unwrap();
    assert_eq!(names(&all), ["a", "b"]);
}

#[test]
fn a_lone_server_answers_from_its_own_shards_at_once() {
    let mut cluster = Cluster::new(&[2]);
    let a = join(cluster.sim(A), 0, "a");
    let b = join(cluster.sim(A), 1, "b");
    let io = cluster.sim(A).io();
    let mut future = io.of("/").fetch_sockets();
    assert_eq!(names(&cluster.wait(&mut future).unwrap()), ["a", "b"]);
    let future = io.of("/").timeout(Duration::from_secs(5));
    let mut future = future.emit_with_ack("q", &()).unwrap();
    cluster.pump();
    for c in [a.0, b.0] {
        let id = ack_id_of(&recv(&mut cluster, A, c)[0]);
        cluster.sim(A).ws_text(c, &format!("43{id}[1]"));
    }
    assert_eq!(cluster.wait(&mut future).unwrap().len(), 2);
    assert_eq!(
        cluster.elapsed(),
        Duration::ZERO,
        "NUMSUB says 1: nobody else to wait for"
    );
}
