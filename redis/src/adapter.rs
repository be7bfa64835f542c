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

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corelay_core::{
    Args, Broadcast, ClusterEvent, ClusterPart, Inbound, Request, RequestError, RequestKind,
    Selection, SocketInfo,
};
use rmpv::Value;

use crate::bridge;
use crate::classic::{self, BroadcastMessage, Request as Wire, Response};
use crate::connection::{Connection, Event, RedisUrl, SubscriptionKind, Token, UrlError};
use crate::{BroadcastFlags, BroadcastOptions, Packet};

/// The adapter's settings, with Node's option names.
#[derive(Debug, Clone)]
pub struct AdapterConfig {
    /// The channel prefix (`key`, default `socket.io`).
    pub key: String,
    /// How long a request waits for the other servers (`requestsTimeout`, default 5 s).
    pub requests_timeout: Duration,
    /// Answer on the asker's own response channel (`publishOnSpecificResponseChannel`,
    /// default false).
    pub publish_on_specific_response_channel: bool,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            key: classic::DEFAULT_KEY.to_owned(),
            requests_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
        }
    }
}

/// One of the adapter's two Redis connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// Subscribed to the cluster's channels.
    Subscriber,
    /// Publishes, and asks `PUBSUB NUMSUB`.
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

/// What a channel carries, for one namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carries {
    Requests,
    Responses,
}

/// A request of this server's, waiting for the other servers.
#[derive(Debug)]
enum Outgoing {
    /// A fetch, `all_rooms` or server-side event with acknowledgements.
    Request {
        request: Arc<Request>,
        /// Servers subscribed, this one included, once known.
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
    /// The asker, for `publishOnSpecificResponseChannel`.
    uid: String,
    request_id: String,
    nsp: String,
    kind: JobKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobKind {
    /// SOCKETS: socket ids.
    Sockets,
    /// REMOTE_FETCH: sockets.
    Fetch,
    /// ALL_ROOMS.
    Rooms,
    /// SERVER_SIDE_EMIT with an acknowledgement: the first answer.
    ServerEvent,
    /// BROADCAST: the client count, then each client's answer.
    Broadcast,
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
    /// Request and response channels: their namespace and what they carry.
    channels: HashMap<Bytes, (String, Carries)>,
    requests: HashMap<String, Outgoing>,
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
    /// `seed` brings the randomness of the server uid and the request ids.
    /// An error for a `rediss://` URL (no TLS yet).
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
                self.children
                    .entry(parent.into())
                    .or_default()
                    .insert(name.into());
            }
            ClusterEvent::Fetched { token, sockets } => self.answer_fetch(token, &sockets),
            ClusterEvent::Rooms { token, rooms } => {
                if let Some(job) = self.jobs.remove(&token) {
                    let request_id = job.request_id.clone();
                    self.respond(&job, Response::AllRooms { request_id, rooms });
                }
            }
            ClusterEvent::ServerEventAnswered { token, answers } => {
                let Some(job) = self.jobs.remove(&token) else {
                    return;
                };
                // One answer per server, and none when no listener answered (as Node).
                if let Some(first) = answers.first() {
                    let data = Some(bridge::from_json(first, &[]));
                    let request_id = job.request_id.clone();
                    self.respond(&job, Response::ServerSideEmit { request_id, data });
                }
            }
            ClusterEvent::ClientCount { token, count } => {
                if let Some(job) = self.jobs.get(&token) {
                    let request_id = job.request_id.clone();
                    let client_count = count as u64;
                    let response = Response::BroadcastClientCount {
                        request_id,
                        client_count,
                    };
                    self.respond_to(token, response);
                }
            }
            ClusterEvent::Ack { token, args } => {
                if let Some(job) = self.jobs.get(&token) {
                    let request_id = job.request_id.clone();
                    let packet = bridge::args_values(&args).into_iter().next();
                    self.respond_to(token, Response::BroadcastAck { request_id, packet });
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
        let b = self.random().to_le_bytes();
        classic::uid([b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.next_timer += 1;
        self.timers.insert((at, self.next_timer), timer);
    }

    fn add_namespace(&mut self, nsp: String) {
        if !self.namespaces.insert(nsp.clone()) {
            return;
        }
        let key = &self.config.key;
        let pattern = format!("{}*", classic::broadcast_channel(key, &nsp));
        let request = classic::request_channel(key, &nsp);
        let response = classic::response_channel(key, &nsp);
        let own = classic::specific_response_channel(key, &nsp, &self.uid);
        let channels = [
            (request, Carries::Requests),
            (response, Carries::Responses),
            (own, Carries::Responses),
        ];
        let sub = &mut self.links[Link::Subscriber.index()].conn;
        sub.psubscribe([Bytes::from(pattern)]);
        sub.subscribe(channels.iter().map(|(c, _)| Bytes::from(c.clone())));
        for (channel, carries) in channels {
            self.channels.insert(channel.into(), (nsp.clone(), carries));
        }
    }

    fn publish(&mut self, channel: String, payload: Vec<u8>) {
        let publisher = &mut self.links[Link::Publisher.index()].conn;
        publisher.publish(channel.into(), payload.into());
    }

    /// Asks how many servers listen on `nsp`'s request channel, for request `id`.
    fn count_servers(&mut self, nsp: &str, id: &str) {
        let channel = classic::request_channel(&self.config.key, nsp);
        let publisher = &mut self.links[Link::Publisher.index()].conn;
        let token = publisher.pubsub_numsub(channel.into());
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
        let event = b.event();
        let (Some((name, args)), false) = (event, namespaces.is_empty()) else {
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
        let Some(timeout) = b.ack_timeout() else {
            for nsp in namespaces {
                let packet = Packet {
                    packet_type: 2,
                    data: Some(data.clone()),
                    nsp: Some(nsp.clone()),
                    id: None,
                };
                let channel = classic::channel_for(&self.config.key, &nsp, &opts);
                let message = BroadcastMessage {
                    uid: self.uid.clone(),
                    packet,
                    opts: opts.clone(),
                };
                self.publish(channel, message.encode());
            }
            return;
        };
        // One more part per namespace beyond the first, each replaced by its servers.
        b.cluster_servers(namespaces.len());
        if let Some(flags) = &mut opts.flags {
            flags.timeout = Some(timeout.as_millis() as u64);
        }
        for nsp in namespaces {
            let request_id = self.random_id();
            let packet = Packet {
                packet_type: 2,
                data: Some(data.clone()),
                nsp: Some(nsp.clone()),
                id: None,
            };
            let request = Wire::Broadcast {
                uid: self.uid.clone(),
                request_id: request_id.clone(),
                packet,
                opts: opts.clone(),
            };
            let channel = classic::request_channel(&self.config.key, &nsp);
            self.publish(channel, request.encode());
            self.count_servers(&nsp, &request_id);
            self.schedule(self.now + timeout, Timer::Expire(request_id.clone()));
            let broadcast = b.clone();
            let outgoing = Outgoing::Ack {
                broadcast,
                early_counts: Some(Vec::new()),
            };
            self.requests.insert(request_id, outgoing);
        }
    }

    fn publish_request(&mut self, request: Arc<Request>) {
        let nsp = request.nsp().to_owned();
        if !self.namespaces.contains(&nsp) {
            // A dynamic namespace's pattern, or a namespace this server does not have: the
            // other servers are not asked (Node has no adapter for either).
            request.answer_cluster(empty_part(&request));
            return;
        }
        let opts = BroadcastOptions {
            rooms: request.rooms().iter().map(|r| r.to_string()).collect(),
            except: request.except().iter().map(|r| r.to_string()).collect(),
            flags: None,
        };
        let uid = self.uid.clone();
        let wants = request.wants_cluster_answer();
        let request_id = wants.then(|| self.random_id());
        let message = match request.kind() {
            RequestKind::Fetch => Wire::RemoteFetch {
                uid,
                request_id: request_id.clone().unwrap_or_default(),
                opts,
            },
            RequestKind::Rooms => Wire::AllRooms {
                uid,
                request_id: request_id.clone().unwrap_or_default(),
            },
            RequestKind::Join(room) => Wire::RemoteJoin {
                uid: Some(uid),
                opts,
                rooms: vec![room.to_owned()],
            },
            RequestKind::Leave(room) => Wire::RemoteLeave {
                uid: Some(uid),
                opts,
                rooms: vec![room.to_owned()],
            },
            RequestKind::Disconnect(close) => Wire::RemoteDisconnect {
                uid: Some(uid),
                opts,
                close,
            },
            RequestKind::ServerEvent { name, args, .. } => {
                let mut data = vec![Value::from(name)];
                if let serde_json::Value::Array(args) = args {
                    data.extend(args.iter().map(|a| bridge::from_json(a, &[])));
                }
                Wire::ServerSideEmit {
                    uid: Some(uid),
                    request_id: request_id.clone(),
                    data,
                }
            }
            _ => return,
        };
        let channel = classic::request_channel(&self.config.key, &nsp);
        self.publish(channel, message.encode());
        let Some(request_id) = request_id else {
            return;
        };
        self.count_servers(&nsp, &request_id);
        let at = self.now + self.config.requests_timeout;
        self.schedule(at, Timer::Expire(request_id.clone()));
        let outgoing = Outgoing::Request {
            request,
            servers: None,
            received: 0,
            sockets: Vec::new(),
            rooms: Vec::new(),
            answers: Vec::new(),
        };
        self.requests.insert(request_id, outgoing);
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
            Event::Message(m) => match m.kind {
                SubscriptionKind::Pattern => self.on_broadcast(&m.channel, &m.payload),
                SubscriptionKind::Channel => {
                    let Some((nsp, carries)) = self.channels.get(&m.channel).cloned() else {
                        return;
                    };
                    match carries {
                        Carries::Requests => self.on_request(&nsp, &m.payload),
                        Carries::Responses => self.on_response(&m.payload),
                    }
                }
                SubscriptionKind::Shard => {}
            },
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
                    if let Some(Outgoing::Ack { .. }) = self.requests.get(&id) {
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

    /// `servers` listen on the request channel of request `id`, this one included.
    fn servers_known(&mut self, id: &str, servers: usize) {
        match self.requests.get_mut(id) {
            Some(Outgoing::Ack {
                broadcast,
                early_counts,
            }) => {
                broadcast.cluster_servers(servers.saturating_sub(1));
                for count in early_counts.take().unwrap_or_default() {
                    broadcast.cluster_client_count(count);
                }
            }
            Some(Outgoing::Request { servers: known, .. }) => {
                *known = Some(servers);
                self.complete(id);
            }
            None => {}
        }
    }

    /// Answers request `id` once every other server did.
    fn complete(&mut self, id: &str) {
        let Some(Outgoing::Request {
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
        if let Some(Outgoing::Request {
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

    /// Request `id` ran out of time.
    fn expire(&mut self, id: &str) {
        match self.requests.remove(id) {
            Some(Outgoing::Ack { broadcast, .. }) => broadcast.cluster_expire(),
            Some(Outgoing::Request {
                request,
                servers,
                answers,
                ..
            }) => {
                let error = match request.kind() {
                    RequestKind::Fetch => {
                        RequestError::new("timeout reached while waiting for fetchSockets response")
                    }
                    RequestKind::Rooms => {
                        RequestError::new("timeout reached while waiting for allRooms response")
                    }
                    _ => {
                        let expected = servers.map_or(answers.len(), |s| s.saturating_sub(1));
                        RequestError {
                            message: format!(
                                "timeout reached: only {} responses received out of {expected}",
                                answers.len()
                            ),
                            responses: answers,
                        }
                    }
                };
                request.fail_cluster(error);
            }
            None => {}
        }
    }

    /// A broadcast published by another server (or an emitter).
    fn on_broadcast(&mut self, channel: &[u8], payload: &[u8]) {
        let Ok(message) = BroadcastMessage::decode(payload) else {
            tracing::debug!("malformed broadcast from Redis dropped");
            return;
        };
        if message.uid == self.uid {
            return;
        }
        let nsp = message.packet.nsp.as_deref().unwrap_or("/");
        let channel = String::from_utf8_lossy(channel);
        if !self.namespaces.contains(nsp)
            || classic::parse_broadcast_channel(&self.config.key, nsp, &channel).is_none()
        {
            return;
        }
        let Some((name, args)) = event_of(&message.packet) else {
            return;
        };
        let to = selection(nsp, &message.opts);
        let volatile = message
            .opts
            .flags
            .as_ref()
            .and_then(|f| f.volatile)
            .unwrap_or(false);
        if let Err(e) = self
            .inbound
            .broadcast(&to, volatile, name, &bridge::Spread(args))
        {
            tracing::debug!(%e, "broadcast from Redis not delivered");
        }
    }

    fn job(&mut self, uid: Option<&str>, request_id: &str, nsp: &str, kind: JobKind) -> u64 {
        self.next_job += 1;
        let token = self.next_job;
        let job = Job {
            uid: uid.unwrap_or_default().to_owned(),
            request_id: request_id.to_owned(),
            nsp: nsp.to_owned(),
            kind,
        };
        self.jobs.insert(token, job);
        token
    }

    /// A request published by another server (or an emitter).
    fn on_request(&mut self, nsp: &str, payload: &[u8]) {
        let Ok(request) = Wire::decode(payload) else {
            tracing::debug!("malformed request from Redis dropped");
            return;
        };
        if request.uid() == Some(self.uid.as_str()) {
            return;
        }
        let forget = self.now + self.config.requests_timeout * 2;
        match request {
            Wire::Sockets {
                uid,
                request_id,
                rooms,
            } => {
                let token = self.job(Some(&uid), &request_id, nsp, JobKind::Sockets);
                let from = Selection {
                    nsp: nsp.to_owned(),
                    rooms,
                    except: Vec::new(),
                };
                self.inbound.fetch(&from, token);
                self.schedule(forget, Timer::Forget(token));
            }
            Wire::AllRooms { uid, request_id } => {
                let token = self.job(Some(&uid), &request_id, nsp, JobKind::Rooms);
                self.inbound.rooms(nsp, token);
                self.schedule(forget, Timer::Forget(token));
            }
            Wire::RemoteJoin { opts, rooms, .. } => {
                let from = selection(nsp, &opts);
                rooms.iter().for_each(|room| self.inbound.join(&from, room));
            }
            Wire::RemoteLeave { opts, rooms, .. } => {
                let from = selection(nsp, &opts);
                rooms
                    .iter()
                    .for_each(|room| self.inbound.leave(&from, room));
            }
            Wire::RemoteDisconnect { opts, close, .. } => {
                self.inbound.disconnect(&selection(nsp, &opts), close);
            }
            Wire::RemoteFetch {
                uid,
                request_id,
                opts,
            } => {
                let token = self.job(Some(&uid), &request_id, nsp, JobKind::Fetch);
                self.inbound.fetch(&selection(nsp, &opts), token);
                self.schedule(forget, Timer::Forget(token));
            }
            Wire::ServerSideEmit {
                uid,
                request_id,
                data,
            } => {
                let Some((Value::String(name), args)) = data.split_first() else {
                    return;
                };
                let name = name.as_str().unwrap_or_default().to_owned();
                let args = serde_json::Value::Array(args.iter().map(bridge::to_json).collect());
                let token = request_id.map(|id| {
                    let token = self.job(uid.as_deref(), &id, nsp, JobKind::ServerEvent);
                    self.schedule(forget, Timer::Forget(token));
                    token
                });
                self.inbound.server_event(nsp, &name, args, token);
            }
            Wire::Broadcast {
                uid,
                request_id,
                packet,
                opts,
            } => {
                let Some((name, args)) = event_of(&packet) else {
                    return;
                };
                let timeout = opts.flags.as_ref().and_then(|f| f.timeout).unwrap_or(0);
                let timeout = Duration::from_millis(timeout);
                let token = self.job(Some(&uid), &request_id, nsp, JobKind::Broadcast);
                let to = selection(nsp, &opts);
                let spread = bridge::Spread(args);
                if self
                    .inbound
                    .broadcast_with_ack(&to, timeout, token, name, &spread)
                    .is_err()
                {
                    self.jobs.remove(&token);
                    return;
                }
                let forget = self.now + timeout + self.config.requests_timeout;
                self.schedule(forget, Timer::Forget(token));
            }
        }
    }

    /// A response to a request of this server's.
    fn on_response(&mut self, payload: &[u8]) {
        let Ok(response) = Response::decode(payload) else {
            tracing::debug!("malformed response from Redis dropped");
            return;
        };
        let id = response.request_id().to_owned();
        match (self.requests.get_mut(&id), response) {
            (
                Some(Outgoing::Ack {
                    broadcast,
                    early_counts,
                }),
                Response::BroadcastClientCount { client_count, .. },
            ) => {
                let count = usize::try_from(client_count).unwrap_or(0);
                match early_counts {
                    Some(early) => early.push(count),
                    None => broadcast.cluster_client_count(count),
                }
            }
            (Some(Outgoing::Ack { broadcast, .. }), Response::BroadcastAck { packet, .. }) => {
                broadcast.cluster_ack(ack_args(packet.as_ref()));
            }
            (
                Some(Outgoing::Request {
                    request,
                    received,
                    sockets,
                    rooms,
                    answers,
                    ..
                }),
                response,
            ) => {
                let nsp = request.nsp().to_owned();
                match (request.kind(), response) {
                    (RequestKind::Fetch, Response::RemoteFetch { sockets: found, .. }) => {
                        sockets.extend(found.iter().map(|s| bridge::socket_info(&nsp, s)));
                    }
                    (RequestKind::Rooms, Response::AllRooms { rooms: found, .. }) => {
                        rooms.extend(found);
                    }
                    (RequestKind::ServerEvent { .. }, Response::ServerSideEmit { data, .. }) => {
                        answers.push(
                            data.as_ref()
                                .map_or(serde_json::Value::Null, bridge::to_json),
                        );
                    }
                    // A response of another shape still counts (Node counts it).
                    _ => {}
                }
                *received += 1;
                self.complete(&id);
            }
            _ => {}
        }
    }

    fn answer_fetch(&mut self, token: u64, sockets: &[SocketInfo]) {
        let Some(job) = self.jobs.remove(&token) else {
            return;
        };
        let request_id = job.request_id.clone();
        let response = match job.kind {
            JobKind::Sockets => Response::Sockets {
                request_id,
                sockets: sockets.iter().map(|s| s.id.clone()).collect(),
            },
            _ => Response::RemoteFetch {
                request_id,
                sockets: sockets.iter().map(bridge::fetched).collect(),
            },
        };
        self.respond(&job, response);
    }

    fn respond_to(&mut self, token: u64, response: Response) {
        if let Some(job) = self.jobs.remove(&token) {
            self.respond(&job, response);
            self.jobs.insert(token, job);
        }
    }

    /// Publishes an answer where the asker listens: the namespace's response channel, or the
    /// asker's own with `publish_on_specific_response_channel` (a server-side event's answer
    /// always goes to the namespace's, as Node sends it).
    fn respond(&mut self, job: &Job, response: Response) {
        let key = &self.config.key;
        let specific = self.config.publish_on_specific_response_channel
            && job.kind != JobKind::ServerEvent
            && !job.uid.is_empty();
        let channel = if specific {
            classic::specific_response_channel(key, &job.nsp, &job.uid)
        } else {
            classic::response_channel(key, &job.nsp)
        };
        self.publish(channel, response.encode());
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
