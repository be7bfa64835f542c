//! The Redis adapter of one server, as a state machine: what its shards do that the cluster
//! must hear goes out as `@socket.io/redis-adapter` messages, and what the other servers
//! publish comes in and is handed to the shards.
//!
//! [`Adapter`] opens no socket and reads no clock, like the shard it serves. It owns two Redis
//! [`Connection`]s, the subscriber and the publisher ([`Link`]), one per server whatever the
//! number of shards. Its inputs:
//!
//! - [`handle_event`](Adapter::handle_event): a [`ClusterEvent`] from the shards (a broadcast
//!   or a request made on this server, a new namespace, the answer to something the adapter
//!   asked of them on another server's behalf);
//! - [`handle_connected`](Adapter::handle_connected), [`handle_bytes`](Adapter::handle_bytes),
//!   [`handle_closed`](Adapter::handle_closed): the two TCP connections;
//! - [`handle_timeout`](Adapter::handle_timeout): the clock reached
//!   [`poll_timeout`](Adapter::poll_timeout).
//!
//! After any input the driver drains [`poll_action`](Adapter::poll_action) (connect or close
//! a link) and [`poll_transmit`](Adapter::poll_transmit) (bytes to write on a link).
//!
//! What it does is what Node's `RedisAdapter` (`createAdapter`) does, per namespace:
//!
//! - it `PSUBSCRIBE`s to `<key>#<nsp>#*` and `SUBSCRIBE`s to the request channel, the response
//!   channel and its own response channel of every namespace the server has (a dynamic
//!   namespace's child once it is made);
//! - a broadcast made here is published once, on the room's channel when it names exactly one
//!   room, whatever the number of shards; a broadcast published by another server (or by
//!   `@socket.io/redis-emitter`) is decoded once, encoded once for the clients and handed to
//!   every shard as one shared value;
//! - `fetch_sockets`, `all_rooms` and `server_side_emit_with_ack` wait for `PUBSUB NUMSUB` of
//!   the request channel minus one answers (one per other server), and fail after
//!   `requests_timeout` (5 s) with Node's messages; `sockets_join`, `sockets_leave` and
//!   `disconnect_sockets` are published and not answered, as in Node;
//! - a broadcast with acknowledgements is a BROADCAST request: each server answers how many
//!   clients it reached, then each client's answer; the asker gives up at its timeout.
//!
//! Faults: a closed link reconnects after 50 ms, 100 ms, ... up to 500 ms between tries (the
//! `redis` client's default strategy); the subscriber's subscriptions are made again; what is
//! published while the publisher is down waits in its queue (bounded) and goes out once it is
//! back. Nothing here ever waits: the shards deliver locally whatever Redis does.

//!
//! The sharded variant ([`Variant::Sharded`], Node's `createShardedAdapter`) speaks the same
//! through `SPUBLISH`/`SSUBSCRIBE`: one channel per namespace and one per server for the
//! answers, plus (in the `dynamic` subscription modes) one per room this server has, which the
//! shards report as they make and empty rooms; `all_rooms` stays local there, as in Node, and
//! the servers are counted with `PUBSUB SHARDNUMSUB`.

mod dialect;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corelay_core::{
    Args, Broadcast, ClusterEvent, ClusterPart, Inbound, Request, RequestError, RequestKind,
    Selection, SocketInfo,
};
use rmpv::Value;

pub use crate::sharded::SubscriptionMode;
pub use dialect::Variant;

use crate::bridge;
use crate::classic;
use crate::connection::{Connection, Event, RedisUrl, SubscriptionKind, Token, UrlError};
use crate::{BroadcastFlags, BroadcastOptions, Packet};
use dialect::{Carries, Incoming, Msg, Reply};

/// The adapter's settings, with Node's option names.
#[derive(Debug, Clone)]
pub struct AdapterConfig {
    /// The channel prefix (`key` of the classic adapter, `channelPrefix` of the sharded one;
    /// default `socket.io`).
    pub key: String,
    /// How long a request waits for the other servers (`requestsTimeout`, default 5 s).
    pub requests_timeout: Duration,
    /// Answer on the asker's own response channel (`publishOnSpecificResponseChannel`,
    /// default false; classic only).
    pub publish_on_specific_response_channel: bool,
    /// Classic (`createAdapter`, the default) or sharded (`createShardedAdapter`).
    pub variant: Variant,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            key: classic::DEFAULT_KEY.to_owned(),
            requests_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
            variant: Variant::Classic,
        }
    }
}

impl AdapterConfig {
    /// The sharded adapter's defaults (`createShardedAdapter`: subscription mode `dynamic`).
    pub fn sharded() -> Self {
        AdapterConfig {
            variant: Variant::Sharded(SubscriptionMode::Dynamic),
            ..AdapterConfig::default()
        }
    }

    /// Whether the shards must report the rooms they make and empty.
    pub fn wants_rooms(&self) -> bool {
        matches!(
            self.variant,
            Variant::Sharded(SubscriptionMode::Dynamic | SubscriptionMode::DynamicPrivate)
        )
    }
}

/// One of the adapter's two Redis connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// Subscribed to the cluster's channels.
    Subscriber,
    /// Publishes, and counts the servers (`PUBSUB NUMSUB`).
    Publisher,
}

impl Link {
    /// Both links.
    pub const ALL: [Link; 2] = [Link::Subscriber, Link::Publisher];

    fn index(self) -> usize {
        match self {
            Link::Subscriber => 0,
            Link::Publisher => 1,
        }
    }
}

/// What the driver must do for the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Open a TCP connection to [`Adapter::url`] for this link, then call
    /// [`Adapter::handle_connected`] (or [`Adapter::handle_closed`] when it fails).
    Connect(Link),
    /// Close this link's connection, then call [`Adapter::handle_closed`].
    Close(Link),
}

/// The slowest reconnection pace: the `redis` client's default strategy (`retries * 50` ms,
/// at most 500).
const MAX_BACKOFF: Duration = Duration::from_millis(500);

/// A request of this server's, waiting for the other servers.
#[derive(Debug)]
enum Pending {
    /// A fetch, `all_rooms` or server-side event with acknowledgements.
    Request {
        request: Arc<Request>,
        /// Servers counted, this one included, once known.
        servers: Option<usize>,
        received: usize,
        sockets: Vec<SocketInfo>,
        rooms: Vec<String>,
        answers: Vec<serde_json::Value>,
    },
    /// A broadcast with acknowledgements.
    Ack {
        broadcast: Arc<Broadcast>,
        /// The client counts of servers that answered before `PUBSUB NUMSUB` did (the reply
        /// and the answers come on different links, in no fixed order), kept until the
        /// number of servers is known: applied before it, one would stand for the whole
        /// cluster's part. `None` once it is known.
        early_counts: Option<Vec<usize>>,
    },
}

/// Something this server's shards were asked for by another server, answered when they are
/// done.
#[derive(Debug)]
struct Job {
    /// The asker.
    uid: String,
    request_id: String,
    nsp: String,
    /// SOCKETS (ids only) rather than REMOTE_FETCH.
    ids_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Timer {
    /// A request of this server's ran out of time.
    Expire(String),
    /// A job is forgotten (its shards had their time to answer).
    Forget(u64),
    /// A link tries again.
    Reconnect(Link),
}

#[derive(Debug)]
struct LinkState {
    conn: Connection,
    /// Failed tries since the last success.
    failures: u32,
}

/// The Redis adapter of one server. See the [module docs](self).
#[derive(Debug)]
pub struct Adapter {
    config: AdapterConfig,
    uid: String,
    inbound: Inbound,
    links: [LinkState; 2],
    /// Namespaces subscribed to.
    namespaces: BTreeSet<String>,
    /// The children of each dynamic namespace seen on this server.
    children: BTreeMap<String, BTreeSet<String>>,
    /// Channels subscribed to: their namespace and what they carry.
    channels: HashMap<Bytes, (String, Carries)>,
    /// Room channels (sharded, dynamic): how many shards have the room.
    rooms: HashMap<Bytes, usize>,
    requests: HashMap<String, Pending>,
    numsub: HashMap<Token, String>,
    jobs: HashMap<u64, Job>,
    next_job: u64,
    timers: BTreeMap<(Instant, u64), Timer>,
    next_timer: u64,
    actions: VecDeque<Action>,
    rng: u64,
    now: Instant,
}

impl Adapter {
    /// An adapter for the server whose shards `inbound` reaches, with the namespaces it has
    /// from the start ([`App::namespace_names`](corelay_core::App::namespace_names)).
    /// `seed` brings the randomness of the server uid and the request ids. An error for a
    /// `rediss://` URL (no TLS yet).
    pub fn new(
        config: AdapterConfig,
        url: RedisUrl,
        inbound: Inbound,
        namespaces: impl IntoIterator<Item = String>,
        seed: u64,
        now: Instant,
    ) -> Result<Adapter, UrlError> {
        let link = || -> Result<LinkState, UrlError> {
            Ok(LinkState {
                conn: Connection::new(url.clone())?,
                failures: 0,
            })
        };
        let links = [link()?, link()?];
        let mut adapter = Adapter {
            config,
            uid: String::new(),
            inbound,
            links,
            namespaces: BTreeSet::new(),
            children: BTreeMap::new(),
            channels: HashMap::new(),
            rooms: HashMap::new(),
            requests: HashMap::new(),
            numsub: HashMap::new(),
            jobs: HashMap::new(),
            next_job: 0,
            timers: BTreeMap::new(),
            next_timer: 0,
            actions: VecDeque::from([
                Action::Connect(Link::Subscriber),
                Action::Connect(Link::Publisher),
            ]),
            rng: initial_state(seed),
            now,
        };
        adapter.uid = adapter.random_id();
        for nsp in namespaces {
            adapter.add_namespace(nsp);
        }
        Ok(adapter)
    }

    /// This server's uid in the cluster.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// Where Redis is.
    pub fn url(&self) -> &RedisUrl {
        self.links[0].conn.url()
    }

    /// Whether both links are connected and past `AUTH`/`SELECT`, and the subscriber hears
    /// every channel it subscribed to.
    pub fn is_ready(&self) -> bool {
        self.links[Link::Publisher.index()].conn.is_ready()
            && self.links[Link::Subscriber.index()].conn.is_settled()
    }

    // ------------------------------------------------------------------ inputs

    /// A link's TCP connection is open.
    pub fn handle_connected(&mut self, now: Instant, link: Link) {
        self.now = now;
        let l = &mut self.links[link.index()];
        l.failures = 0;
        l.conn.handle_connected();
        self.drain();
    }

    /// Bytes read on a link.
    pub fn handle_bytes(&mut self, now: Instant, link: Link, bytes: &[u8]) {
        self.now = now;
        self.links[link.index()].conn.handle_bytes(bytes);
        self.drain();
    }

    /// A link's connection closed (or could not be opened): it is tried again after a
    /// backoff.
    pub fn handle_closed(&mut self, now: Instant, link: Link) {
        self.now = now;
        let l = &mut self.links[link.index()];
        l.conn.handle_closed();
        l.failures = l.failures.saturating_add(1);
        let delay = (Duration::from_millis(50) * l.failures).min(MAX_BACKOFF);
        tracing::warn!(?link, retry_in = ?delay, "Redis connection closed");
        self.schedule(now + delay, Timer::Reconnect(link));
        self.drain();
    }

    /// Time has come to `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Timer::Expire(id) => self.expire(&id),
                Timer::Forget(token) => {
                    self.jobs.remove(&token);
                }
                Timer::Reconnect(link) => self.actions.push_back(Action::Connect(link)),
            }
        }
        self.drain();
    }

    /// Something from this server's shards.
    pub fn handle_event(&mut self, now: Instant, event: ClusterEvent) {
        self.now = now;
        match event {
            ClusterEvent::Broadcast { broadcast, sender } => {
                self.publish_broadcast(broadcast, sender)
            }
            ClusterEvent::Request(request) => self.publish_request(request),
            ClusterEvent::Namespace { name, parent } => {
                self.add_namespace(name.to_string());
                let children = self.children.entry(parent.into()).or_default();
                children.insert(name.into());
            }
            ClusterEvent::Room {
                nsp,
                room,
                made,
                private,
            } => self.room(&nsp, &room, made, private),
            ClusterEvent::Fetched { token, sockets } => {
                if let Some(job) = self.jobs.remove(&token) {
                    let reply = if job.ids_only {
                        Reply::Sockets(sockets.iter().map(|s| s.id.clone()).collect())
                    } else {
                        Reply::Fetched(sockets.iter().map(bridge::fetched).collect())
                    };
                    self.reply(&job, reply);
                }
            }
            ClusterEvent::Rooms { token, rooms } => {
                if let Some(job) = self.jobs.remove(&token) {
                    self.reply(&job, Reply::Rooms(rooms));
                }
            }
            ClusterEvent::ServerEventAnswered { token, answers } => {
                // One answer per server, and none when no listener answered (as Node).
                if let (Some(job), Some(first)) = (self.jobs.remove(&token), answers.first()) {
                    let data = Some(bridge::from_json(first, &[]));
                    self.reply(&job, Reply::ServerEmit(data));
                }
            }
            ClusterEvent::ClientCount { token, count } => {
                if let Some(job) = self.jobs.remove(&token) {
                    self.reply(&job, Reply::ClientCount(count as u64));
                    self.jobs.insert(token, job);
                }
            }
            ClusterEvent::Ack { token, args } => {
                if let Some(job) = self.jobs.remove(&token) {
                    let packet = bridge::args_values(&args).into_iter().next();
                    self.reply(&job, Reply::Ack(packet));
                    self.jobs.insert(token, job);
                }
            }
            _ => {}
        }
        self.drain();
    }

    // ------------------------------------------------------------------ outputs

    /// The next thing the driver must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Bytes to write on `link`.
    pub fn poll_transmit(&mut self, link: Link) -> Option<Bytes> {
        self.links[link.index()].conn.poll_transmit()
    }

    /// When [`Adapter::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.keys().next().map(|&(at, _)| at)
    }

    // ------------------------------------------------------------------ internals

    fn random(&mut self) -> u64 {
        // xorshift64*: request ids need to differ, not to be secret.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn random_id(&mut self) -> String {
        let bytes = self.random().to_le_bytes();
        self.config.variant.id(bytes)
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.next_timer += 1;
        self.timers.insert((at, self.next_timer), timer);
    }

    fn subscriber(&mut self) -> &mut Connection {
        &mut self.links[Link::Subscriber.index()].conn
    }

    fn add_namespace(&mut self, nsp: String) {
        if !self.namespaces.insert(nsp.clone()) {
            return;
        }
        let channels = self
            .config
            .variant
            .channels(&self.config.key, &nsp, &self.uid);
        let sharded = matches!(self.config.variant, Variant::Sharded(_));
        for (channel, carries, pattern) in channels {
            let channel = Bytes::from(channel);
            match (pattern, sharded) {
                (true, _) => self.subscriber().psubscribe([channel.clone()]),
                (false, true) => self.subscriber().ssubscribe([channel.clone()]),
                (false, false) => self.subscriber().subscribe([channel.clone()]),
            }
            self.channels.insert(channel, (nsp.clone(), carries));
        }
    }

    /// A shard made (or emptied) a room: its channel is heard while some shard has it.
    fn room(&mut self, nsp: &str, room: &str, made: bool, private: bool) {
        let key = &self.config.key;
        let channel = if made {
            self.config.variant.room_channel(key, nsp, room, private)
        } else {
            // Emptied: whatever channel it was given when made.
            self.config
                .variant
                .room_channel(key, nsp, room, false)
                .or_else(|| self.config.variant.room_channel(key, nsp, room, true))
        };
        let Some(channel) = channel.map(Bytes::from) else {
            return;
        };
        if made {
            let count = self.rooms.entry(channel.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                let carries = (nsp.to_owned(), Carries::Envelopes);
                self.channels.insert(channel.clone(), carries);
                self.subscriber().ssubscribe([channel]);
            }
            return;
        }
        let Some(count) = self.rooms.get_mut(&channel) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            self.rooms.remove(&channel);
            self.channels.remove(&channel);
            self.subscriber().sunsubscribe([channel]);
        }
    }

    /// Sends a message of this server's to the others.
    fn send(&mut self, nsp: &str, msg: Msg) {
        let variant = self.config.variant;
        if let Some(out) = variant.write(&self.config.key, &self.uid, nsp, msg) {
            self.transmit(out);
        }
    }

    /// Publishes a message on its channel.
    fn transmit(&mut self, out: dialect::Outgoing) {
        let publisher = &mut self.links[Link::Publisher.index()].conn;
        if out.sharded {
            publisher.spublish(out.channel.into(), out.payload.into());
        } else {
            publisher.publish(out.channel.into(), out.payload.into());
        }
    }

    /// Answers a job.
    fn reply(&mut self, job: &Job, reply: Reply) {
        let variant = self.config.variant;
        let specific = self.config.publish_on_specific_response_channel;
        let out = variant.write_reply(
            &self.config.key,
            &self.uid,
            &job.nsp,
            &job.uid,
            specific,
            job.request_id.clone(),
            reply,
        );
        if let Some(out) = out {
            self.transmit(out);
        }
    }

    /// Counts the servers of `nsp`, for request `id`.
    fn count_servers(&mut self, nsp: &str, id: &str) {
        let variant = self.config.variant;
        let channel = Bytes::from(variant.census_channel(&self.config.key, nsp));
        let publisher = &mut self.links[Link::Publisher.index()].conn;
        let token = match variant {
            Variant::Classic => publisher.pubsub_numsub(channel),
            Variant::Sharded(_) => publisher.pubsub_shardnumsub(channel),
        };
        self.numsub.insert(token, id.to_owned());
    }

    /// The namespaces a name stands for here: itself, or a dynamic namespace's children.
    fn namespaces_named(&self, nsp: &str) -> Vec<String> {
        if self.namespaces.contains(nsp) {
            return vec![nsp.to_owned()];
        }
        let children = self.children.get(nsp).into_iter().flatten();
        children.cloned().collect()
    }

    fn publish_broadcast(&mut self, b: Arc<Broadcast>, sender: Option<Box<str>>) {
        let namespaces = self.namespaces_named(b.nsp());
        let (Some((name, args)), false) = (b.event(), namespaces.is_empty()) else {
            b.cluster_servers(0);
            return;
        };
        let mut data = vec![Value::from(name)];
        data.extend(bridge::args_values(&args));
        let data = Value::Array(data);
        let mut except: Vec<String> = b.except().iter().map(|r| r.to_string()).collect();
        except.extend(sender.map(String::from));
        let mut opts = BroadcastOptions {
            rooms: b.rooms().iter().map(|r| r.to_string()).collect(),
            except,
            flags: Some(BroadcastFlags {
                volatile: b.is_volatile().then_some(true),
                ..BroadcastFlags::default()
            }),
        };
        let timeout = b.ack_timeout();
        if timeout.is_some() {
            // One more part per namespace beyond the first, each replaced by its servers.
            b.cluster_servers(namespaces.len());
        }
        if let (Some(flags), Some(t)) = (&mut opts.flags, timeout) {
            flags.timeout = Some(t.as_millis() as u64);
        }
        for nsp in namespaces {
            let packet = Packet {
                packet_type: 2,
                data: Some(data.clone()),
                nsp: Some(nsp.clone()),
                id: None,
            };
            let request_id = timeout.map(|_| self.random_id());
            let msg = Msg::Broadcast {
                packet,
                opts: opts.clone(),
                request_id: request_id.clone(),
            };
            self.send(&nsp, msg);
            if let (Some(id), Some(t)) = (request_id, timeout) {
                self.count_servers(&nsp, &id);
                self.schedule(self.now + t, Timer::Expire(id.clone()));
                let broadcast = b.clone();
                let pending = Pending::Ack {
                    broadcast,
                    early_counts: Some(Vec::new()),
                };
                self.requests.insert(id, pending);
            }
        }
    }

    fn publish_request(&mut self, request: Arc<Request>) {
        let nsp = request.nsp().to_owned();
        let asked = match request.kind() {
            RequestKind::Rooms => self.config.variant.asks_rooms(),
            _ => true,
        };
        if !self.namespaces.contains(&nsp) || !asked {
            // A dynamic namespace's pattern, a namespace this server does not have, or
            // `all_rooms` of the sharded adapter: the other servers are not asked (Node has
            // no adapter for the first two, and keeps the last local).
            request.answer_cluster(empty_part(&request));
            return;
        }
        let opts = BroadcastOptions {
            rooms: request.rooms().iter().map(|r| r.to_string()).collect(),
            except: request.except().iter().map(|r| r.to_string()).collect(),
            flags: None,
        };
        let wants = request.wants_cluster_answer();
        let request_id = wants.then(|| self.random_id());
        let id = || request_id.clone().unwrap_or_default();
        let msg = match request.kind() {
            RequestKind::Fetch => Msg::Fetch {
                request_id: id(),
                opts,
            },
            RequestKind::Rooms => Msg::AllRooms { request_id: id() },
            RequestKind::Join(room) => Msg::Join {
                opts,
                rooms: vec![room.to_owned()],
            },
            RequestKind::Leave(room) => Msg::Leave {
                opts,
                rooms: vec![room.to_owned()],
            },
            RequestKind::Disconnect(close) => Msg::Disconnect { opts, close },
            RequestKind::ServerEvent { name, args, .. } => {
                let mut data = vec![Value::from(name)];
                if let serde_json::Value::Array(args) = args {
                    data.extend(args.iter().map(|a| bridge::from_json(a, &[])));
                }
                Msg::ServerEmit {
                    request_id: request_id.clone(),
                    data,
                }
            }
            _ => return,
        };
        self.send(&nsp, msg);
        let Some(request_id) = request_id else {
            return;
        };
        self.count_servers(&nsp, &request_id);
        let at = self.now + self.config.requests_timeout;
        self.schedule(at, Timer::Expire(request_id.clone()));
        let pending = Pending::Request {
            request,
            servers: None,
            received: 0,
            sockets: Vec::new(),
            rooms: Vec::new(),
            answers: Vec::new(),
        };
        self.requests.insert(request_id, pending);
    }

    /// Handles what the connections have to say.
    fn drain(&mut self) {
        for link in Link::ALL {
            while let Some(event) = self.links[link.index()].conn.poll_event() {
                self.on_event(link, event);
            }
        }
    }

    fn on_event(&mut self, link: Link, event: Event) {
        match event {
            Event::Message(m) => {
                let channel = match m.kind {
                    SubscriptionKind::Pattern => m.pattern.as_ref().unwrap_or(&m.channel),
                    _ => &m.channel,
                };
                let Some((nsp, carries)) = self.channels.get(channel).cloned() else {
                    return;
                };
                match self.config.variant.read(&nsp, carries, &m.payload) {
                    Some(Incoming::Msg { uid, nsp: of, msg }) => {
                        // Not from itself, and for the namespace of the channel (Node checks
                        // both).
                        if uid.as_deref() == Some(self.uid.as_str()) || of != nsp {
                            return;
                        }
                        self.on_message(uid.as_deref(), &nsp, msg);
                    }
                    Some(Incoming::Reply { request_id, reply }) => {
                        self.on_reply(&request_id, reply)
                    }
                    None => tracing::debug!("malformed message from Redis dropped"),
                }
            }
            Event::NumSub { token, subscribers } => {
                if let Some(id) = self.numsub.remove(&token) {
                    self.servers_known(&id, usize::try_from(subscribers).unwrap_or(0));
                }
            }
            Event::Failed {
                token,
                command,
                error,
            } => {
                tracing::warn!(%command, %error, "Redis command failed");
                if let Some(id) = token.and_then(|t| self.numsub.remove(&t)) {
                    // Unknown: a broadcast's acknowledgements count on this server and on
                    // the servers that said how many clients they reached; a request waits
                    // for its timeout.
                    if let Some(Pending::Ack { .. }) = self.requests.get(&id) {
                        self.servers_known(&id, 1);
                    }
                }
            }
            Event::Fatal(error) => {
                tracing::warn!(?link, %error, "Redis connection unusable");
                self.actions.push_back(Action::Close(link));
            }
            Event::Ready => tracing::debug!(?link, "Redis connection ready"),
            _ => {}
        }
    }

    /// `servers` listen on the namespace of request `id`, this one included.
    fn servers_known(&mut self, id: &str, servers: usize) {
        match self.requests.get_mut(id) {
            Some(Pending::Ack {
                broadcast,
                early_counts,
            }) => {
                broadcast.cluster_servers(servers.saturating_sub(1));
                for count in early_counts.take().unwrap_or_default() {
                    broadcast.cluster_client_count(count);
                }
            }
            Some(Pending::Request { servers: known, .. }) => {
                *known = Some(servers);
                self.complete(id);
            }
            None => {}
        }
    }

    /// Answers request `id` once every other server did.
    fn complete(&mut self, id: &str) {
        let Some(Pending::Request {
            servers: Some(servers),
            received,
            ..
        }) = self.requests.get(id)
        else {
            return;
        };
        if *received < servers.saturating_sub(1) {
            return;
        }
        if let Some(Pending::Request {
            request,
            sockets,
            rooms,
            answers,
            ..
        }) = self.requests.remove(id)
        {
            let part = match request.kind() {
                RequestKind::Fetch => ClusterPart::Sockets(sockets),
                RequestKind::Rooms => ClusterPart::Rooms(rooms),
                _ => ClusterPart::Answers(answers),
            };
            request.answer_cluster(part);
        }
    }

    /// Request `id` ran out of time: Node's error.
    fn expire(&mut self, id: &str) {
        match self.requests.remove(id) {
            Some(Pending::Ack { broadcast, .. }) => broadcast.cluster_expire(),
            Some(Pending::Request {
                request,
                servers,
                received,
                answers,
                ..
            }) => {
                let expected = servers.map_or(received, |s| s.saturating_sub(1));
                let counted = format!(
                    "timeout reached: only {received} responses received out of {expected}"
                );
                let message = match (request.kind(), self.config.variant) {
                    (RequestKind::Fetch, Variant::Classic) => {
                        "timeout reached while waiting for fetchSockets response".to_owned()
                    }
                    (RequestKind::Rooms, _) => {
                        "timeout reached while waiting for allRooms response".to_owned()
                    }
                    _ => counted,
                };
                request.fail_cluster(RequestError {
                    message,
                    responses: answers,
                });
            }
            None => {}
        }
    }

    fn job(&mut self, uid: Option<&str>, request_id: &str, nsp: &str, ids_only: bool) -> u64 {
        self.next_job += 1;
        let token = self.next_job;
        let job = Job {
            uid: uid.unwrap_or_default().to_owned(),
            request_id: request_id.to_owned(),
            nsp: nsp.to_owned(),
            ids_only,
        };
        self.jobs.insert(token, job);
        token
    }

    /// A message of another server (or an emitter) in namespace `nsp`.
    fn on_message(&mut self, uid: Option<&str>, nsp: &str, msg: Msg) {
        let forget = self.now + self.config.requests_timeout * 2;
        match msg {
            Msg::Broadcast {
                packet,
                opts,
                request_id,
            } => {
                let Some((name, args)) = event_of(&packet) else {
                    return;
                };
                let to = selection(nsp, &opts);
                let spread = bridge::Spread(args);
                let flags = opts.flags.as_ref();
                let Some(request_id) = request_id else {
                    let volatile = flags.and_then(|f| f.volatile).unwrap_or(false);
                    if let Err(e) = self.inbound.broadcast(&to, volatile, name, &spread) {
                        tracing::debug!(%e, "broadcast from Redis not delivered");
                    }
                    return;
                };
                let timeout = Duration::from_millis(flags.and_then(|f| f.timeout).unwrap_or(0));
                let token = self.job(uid, &request_id, nsp, false);
                let sent = self
                    .inbound
                    .broadcast_with_ack(&to, timeout, token, name, &spread);
                if sent.is_err() {
                    self.jobs.remove(&token);
                    return;
                }
                let forget = self.now + timeout + self.config.requests_timeout;
                self.schedule(forget, Timer::Forget(token));
            }
            Msg::Sockets { request_id, rooms } => {
                let token = self.job(uid, &request_id, nsp, true);
                let from = Selection {
                    nsp: nsp.to_owned(),
                    rooms,
                    except: Vec::new(),
                };
                self.inbound.fetch(&from, token);
                self.schedule(forget, Timer::Forget(token));
            }
            Msg::AllRooms { request_id } => {
                let token = self.job(uid, &request_id, nsp, false);
                self.inbound.rooms(nsp, token);
                self.schedule(forget, Timer::Forget(token));
            }
            Msg::Join { opts, rooms } => {
                let from = selection(nsp, &opts);
                rooms.iter().for_each(|room| self.inbound.join(&from, room));
            }
            Msg::Leave { opts, rooms } => {
                let from = selection(nsp, &opts);
                rooms
                    .iter()
                    .for_each(|room| self.inbound.leave(&from, room));
            }
            Msg::Disconnect { opts, close } => {
                self.inbound.disconnect(&selection(nsp, &opts), close);
            }
            Msg::Fetch { request_id, opts } => {
                let token = self.job(uid, &request_id, nsp, false);
                self.inbound.fetch(&selection(nsp, &opts), token);
                self.schedule(forget, Timer::Forget(token));
            }
            Msg::ServerEmit { request_id, data } => {
                let Some((Value::String(name), args)) = data.split_first() else {
                    return;
                };
                let name = name.as_str().unwrap_or_default().to_owned();
                let args = serde_json::Value::Array(args.iter().map(bridge::to_json).collect());
                let token = request_id.map(|id| {
                    let token = self.job(uid, &id, nsp, false);
                    self.schedule(forget, Timer::Forget(token));
                    token
                });
                self.inbound.server_event(nsp, &name, args, token);
            }
        }
    }

    /// An answer to a request of this server's.
    fn on_reply(&mut self, id: &str, reply: Reply) {
        match (self.requests.get_mut(id), reply) {
            (
                Some(Pending::Ack {
                    broadcast,
                    early_counts,
                }),
                Reply::ClientCount(n),
            ) => {
                // Held until the number of servers is known (the count and the census come
                // on different links, in either order).
                let count = usize::try_from(n).unwrap_or(0);
                match early_counts {
                    Some(early) => early.push(count),
                    None => broadcast.cluster_client_count(count),
                }
            }
            (Some(Pending::Ack { broadcast, .. }), Reply::Ack(packet)) => {
                broadcast.cluster_ack(ack_args(packet.as_ref()));
            }
            (
                Some(Pending::Request {
                    request,
                    received,
                    sockets,
                    rooms,
                    answers,
                    ..
                }),
                reply,
            ) => {
                let nsp = request.nsp().to_owned();
                match (request.kind(), reply) {
                    (RequestKind::Fetch, Reply::Fetched(found)) => {
                        sockets.extend(found.iter().map(|s| bridge::socket_info(&nsp, s)));
                    }
                    (RequestKind::Rooms, Reply::Rooms(found)) => rooms.extend(found),
                    (RequestKind::ServerEvent { .. }, Reply::ServerEmit(data)) => {
                        let data = data
                            .as_ref()
                            .map_or(serde_json::Value::Null, bridge::to_json);
                        answers.push(data);
                    }
                    // An answer of another shape still counts (Node counts it).
                    _ => {}
                }
                *received += 1;
                self.complete(id);
            }
            _ => {}
        }
    }
}

/// The xorshift state a seed starts from: the seed mixed by SplitMix64 (a bijection, so distinct
/// seeds give distinct states), never 0 (xorshift's fixed point).
fn initial_state(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    match z ^ (z >> 31) {
        0 => 0x9E37_79B9_7F4A_7C15,
        z => z,
    }
}

/// The other servers' part of a request nobody else is asked about: nothing.
fn empty_part(request: &Request) -> ClusterPart {
    match request.kind() {
        RequestKind::Fetch => ClusterPart::Sockets(Vec::new()),
        RequestKind::Rooms => ClusterPart::Rooms(Vec::new()),
        _ => ClusterPart::Answers(Vec::new()),
    }
}

/// The sockets a message selects in namespace `nsp`.
fn selection(nsp: &str, opts: &BroadcastOptions) -> Selection {
    Selection {
        nsp: nsp.to_owned(),
        rooms: opts.rooms.clone(),
        except: opts.except.clone(),
    }
}

/// The event name and arguments of an EVENT packet (`data` = `[name, ...args]`).
fn event_of(packet: &Packet) -> Option<(&str, &[Value])> {
    // EVENT, or BINARY_EVENT from an older sender.
    if packet.packet_type != 2 && packet.packet_type != 5 {
        return None;
    }
    let Some(Value::Array(data)) = &packet.data else {
        return None;
    };
    let (Value::String(name), args) = data.split_first()? else {
        return None;
    };
    Some((name.as_str()?, args))
}

/// A client's answer relayed by another server: one argument (`undefined` is none).
fn ack_args(packet: Option<&Value>) -> Args {
    let Some(value) = packet else {
        return Args::new(None, false, Vec::new());
    };
    let (json, attachments) = bridge::with_placeholders(value);
    let text = serde_json::to_vec(&serde_json::Value::Array(vec![json])).unwrap_or_default();
    Args::new(Some(text.into()), false, attachments)
}
