//! One Redis connection, sans-IO: the state machine behind the adapter's subscriber and
//! publisher connections.
//!
//! [`Connection`] opens no socket and reads no clock. Its methods fall in four classes, as in
//! quinn-proto:
//!
//! - inputs from the driver: [`handle_connected`](Connection::handle_connected) when TCP is up,
//!   [`handle_bytes`](Connection::handle_bytes) with what was read,
//!   [`handle_closed`](Connection::handle_closed) when the socket is gone;
//! - application mutators: [`subscribe`](Connection::subscribe) and its kin,
//!   [`publish`](Connection::publish), [`pubsub_numsub`](Connection::pubsub_numsub),
//!   [`command`](Connection::command);
//! - outputs, drained by the driver after every input, in this order:
//!   [`poll_transmit`](Connection::poll_transmit) until `None` (write those bytes), then
//!   [`poll_event`](Connection::poll_event) until `None`;
//! - getters: [`is_ready`](Connection::is_ready), [`channels`](Connection::channels), ...
//!
//! On connect it sends `AUTH` (if the URL has a password) and `SELECT` (if its database is not 0),
//! waits for both, then re-issues every subscription it holds and the commands queued while it was
//! disconnected. Subscriptions are state, not commands: the sets kept here are what Redis is told
//! after every reconnect. Replies are matched to commands in order; on a subscribed connection
//! the `message`, `pmessage` and `smessage` pushes and the subscription confirmations are told
//! apart from replies as Redis' RESP2 subscribed mode defines. Malformed bytes yield
//! [`Event::Fatal`]: the driver closes the socket, calls `handle_closed` and may reconnect.
//! Backoff between reconnects is the driver's (it has the clock).

mod resp;
#[cfg(test)]
mod tests;
mod url;

use std::collections::{BTreeSet, VecDeque};

use bytes::{Bytes, BytesMut};

pub use resp::{ProtocolError, Reply, MAX_BULK, MAX_DEPTH, MAX_FRAME, MAX_LINE};
pub use url::{RedisUrl, UrlError};

use resp::{Frame, Framer};

/// The most commands held while disconnected; more fail at once with [`CommandError::QueueFull`].
pub const MAX_QUEUED: usize = 65_536;

/// Names a command sent with [`Connection::command`] and its kin; its outcome carries it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

/// The three kinds of Redis subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionKind {
    /// `SUBSCRIBE channel`: classic pub/sub.
    Channel,
    /// `PSUBSCRIBE pattern`: glob patterns over classic channels.
    Pattern,
    /// `SSUBSCRIBE shardchannel`: Redis 7 sharded pub/sub.
    Shard,
}

impl SubscriptionKind {
    fn subscribe(self) -> &'static str {
        match self {
            Self::Channel => "SUBSCRIBE",
            Self::Pattern => "PSUBSCRIBE",
            Self::Shard => "SSUBSCRIBE",
        }
    }

    fn unsubscribe(self) -> &'static str {
        match self {
            Self::Channel => "UNSUBSCRIBE",
            Self::Pattern => "PUNSUBSCRIBE",
            Self::Shard => "SUNSUBSCRIBE",
        }
    }
}

/// A message published to a channel this connection is subscribed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// How it was subscribed to.
    pub kind: SubscriptionKind,
    /// The pattern that matched, for [`SubscriptionKind::Pattern`].
    pub pattern: Option<Bytes>,
    /// The channel it was published on.
    pub channel: Bytes,
    /// What was published.
    pub payload: Bytes,
}

/// Why a command has no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// Redis answered with an error (`-ERR ...`); the text is Redis'.
    #[error("Redis: {0}")]
    Redis(String),
    /// The connection closed after the command was sent and before its reply: it may or may not
    /// have run.
    #[error("the connection to Redis closed before the reply")]
    ConnectionLost,
    /// [`MAX_QUEUED`] commands were already waiting for a connection.
    #[error("too many commands waiting for a Redis connection")]
    QueueFull,
    /// A reply of the wrong shape (for [`Connection::pubsub_numsub`]).
    #[error("unexpected reply to {0}")]
    UnexpectedReply(&'static str),
}

/// Why the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// Redis sent bytes that are not RESP2, or a frame beyond the bounds.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// `AUTH` or `SELECT` was refused.
    #[error("Redis refused {command}: {message}")]
    Handshake {
        /// `AUTH` or `SELECT`.
        command: &'static str,
        /// Redis' error text.
        message: String,
    },
    /// A reply arrived with no command waiting for it.
    #[error("unsolicited reply from Redis")]
    UnexpectedReply,
}

/// What the connection tells its driver and application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The handshake (`AUTH`, `SELECT`) succeeded; subscriptions and queued commands are sent.
    Ready,
    /// A published message.
    Message(Message),
    /// The reply to [`Connection::command`] or [`Connection::publish`] (the receiver count).
    Reply {
        /// The command's token.
        token: Token,
        /// What Redis answered.
        reply: Reply,
    },
    /// The reply to [`Connection::pubsub_numsub`].
    NumSub {
        /// The command's token.
        token: Token,
        /// How many clients are subscribed to the channel (Node counts servers with it).
        subscribers: i64,
    },
    /// A command failed.
    Failed {
        /// The command's token; `None` for a subscription change.
        token: Option<Token>,
        /// The command's name, as sent (`PUBLISH`, `SSUBSCRIBE`, ...).
        command: String,
        /// Why.
        error: CommandError,
    },
    /// The connection is unusable: close the socket, then call
    /// [`handle_closed`](Connection::handle_closed) (and reconnect, after a backoff).
    Fatal(ConnectionError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Disconnected,
    /// `AUTH`/`SELECT` sent, this many replies awaited.
    Handshaking,
    Ready,
    /// A fatal error; waiting for `handle_closed`.
    Failed,
}

#[derive(Debug)]
enum Pending {
    Auth,
    Select,
    Command {
        token: Token,
        name: String,
        numsub: bool,
    },
    /// A (un)subscription awaiting one confirmation per channel.
    Subscription {
        kind: SubscriptionKind,
        subscribe: bool,
        channels: Vec<Bytes>,
        remaining: usize,
    },
}

#[derive(Debug)]
struct Queued {
    token: Token,
    args: Vec<Bytes>,
    numsub: bool,
}

/// One Redis connection's protocol state. See the [module docs](self).
#[derive(Debug)]
pub struct Connection {
    url: RedisUrl,
    state: State,
    channels: BTreeSet<Bytes>,
    patterns: BTreeSet<Bytes>,
    shard_channels: BTreeSet<Bytes>,
    /// Sent, awaiting their replies, in order.
    pending: VecDeque<Pending>,
    /// Commands waiting for the handshake.
    queued: VecDeque<Queued>,
    /// Subscription counts Redis last reported (classic channels + patterns, shard channels):
    /// while either is non-zero, Redis is in subscribed mode.
    subscribed: (i64, i64),
    transmit: BytesMut,
    read: BytesMut,
    framer: Framer,
    events: VecDeque<Event>,
    next_token: u64,
}

impl Connection {
    /// A disconnected connection to `url`. `rediss://` is refused until corelay has TLS.
    pub fn new(url: RedisUrl) -> Result<Self, UrlError> {
        if url.tls {
            return Err(UrlError::TlsUnsupported);
        }
        Ok(Self {
            url,
            state: State::Disconnected,
            channels: BTreeSet::new(),
            patterns: BTreeSet::new(),
            shard_channels: BTreeSet::new(),
            pending: VecDeque::new(),
            queued: VecDeque::new(),
            subscribed: (0, 0),
            transmit: BytesMut::new(),
            read: BytesMut::new(),
            framer: Framer::default(),
            events: VecDeque::new(),
            next_token: 0,
        })
    }

    // Getters.

    /// Where this connection goes.
    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    /// Whether the handshake is done and commands go straight to Redis.
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// Whether it is ready and every command and subscription sent so far has been answered
    /// (a subscriber is then hearing every channel it holds).
    pub fn is_settled(&self) -> bool {
        self.is_ready() && self.pending.is_empty() && self.queued.is_empty()
    }

    /// The classic channels subscribed to (or to be, once connected).
    pub fn channels(&self) -> impl Iterator<Item = &Bytes> {
        self.channels.iter()
    }

    /// The patterns subscribed to.
    pub fn patterns(&self) -> impl Iterator<Item = &Bytes> {
        self.patterns.iter()
    }

    /// The shard channels subscribed to.
    pub fn shard_channels(&self) -> impl Iterator<Item = &Bytes> {
        self.shard_channels.iter()
    }

    // Inputs.

    /// The TCP connection is up: starts the handshake.
    pub fn handle_connected(&mut self) {
        self.reset();
        if let Some(password) = &self.url.password {
            let mut args = vec![Bytes::from_static(b"AUTH")];
            if let Some(user) = &self.url.username {
                args.push(Bytes::from(user.clone()));
            }
            args.push(Bytes::from(password.clone()));
            resp::encode_command(&mut self.transmit, &args);
            self.pending.push_back(Pending::Auth);
        }
        if self.url.db != 0 {
            let args = [
                Bytes::from_static(b"SELECT"),
                Bytes::from(self.url.db.to_string()),
            ];
            resp::encode_command(&mut self.transmit, &args);
            self.pending.push_back(Pending::Select);
        }
        self.state = State::Handshaking;
        if self.pending.is_empty() {
            self.become_ready();
        }
    }

    /// Bytes read from the socket.
    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        if matches!(self.state, State::Disconnected | State::Failed) {
            return;
        }
        self.read.extend_from_slice(bytes);
        loop {
            let end = match self.framer.next(&self.read) {
                Ok(Some(end)) => end,
                Ok(None) => break,
                Err(e) => return self.fail(e.into()),
            };
            let frame = self.read.split_to(end).freeze();
            match resp::decode(frame) {
                Ok(frame) => self.handle_frame(frame),
                Err(e) => return self.fail(e.into()),
            }
            if self.state == State::Failed {
                return;
            }
        }
        if self.read.len() > MAX_FRAME {
            self.fail(ProtocolError::FrameTooLarge.into());
        }
    }

    /// The socket closed (or the driver closed it after [`Event::Fatal`]). Commands awaiting a
    /// reply fail with [`CommandError::ConnectionLost`]; subscriptions are kept for the next
    /// [`handle_connected`](Self::handle_connected); queued commands stay queued.
    pub fn handle_closed(&mut self) {
        self.reset();
        self.state = State::Disconnected;
    }

    // Application mutators.

    /// Subscribes to classic channels (`SUBSCRIBE`).
    pub fn subscribe<I: IntoIterator<Item = Bytes>>(&mut self, channels: I) {
        self.change_subscriptions(SubscriptionKind::Channel, true, channels);
    }

    /// Subscribes to patterns (`PSUBSCRIBE`).
    pub fn psubscribe<I: IntoIterator<Item = Bytes>>(&mut self, patterns: I) {
        self.change_subscriptions(SubscriptionKind::Pattern, true, patterns);
    }

    /// Subscribes to shard channels (`SSUBSCRIBE`, Redis 7).
    pub fn ssubscribe<I: IntoIterator<Item = Bytes>>(&mut self, channels: I) {
        self.change_subscriptions(SubscriptionKind::Shard, true, channels);
    }

    /// Unsubscribes from classic channels (`UNSUBSCRIBE`); channels not subscribed are skipped.
    pub fn unsubscribe<I: IntoIterator<Item = Bytes>>(&mut self, channels: I) {
        self.change_subscriptions(SubscriptionKind::Channel, false, channels);
    }

    /// Unsubscribes from patterns (`PUNSUBSCRIBE`).
    pub fn punsubscribe<I: IntoIterator<Item = Bytes>>(&mut self, patterns: I) {
        self.change_subscriptions(SubscriptionKind::Pattern, false, patterns);
    }

    /// Unsubscribes from shard channels (`SUNSUBSCRIBE`).
    pub fn sunsubscribe<I: IntoIterator<Item = Bytes>>(&mut self, channels: I) {
        self.change_subscriptions(SubscriptionKind::Shard, false, channels);
    }

    /// `PUBLISH channel payload`; the reply is the number of receivers.
    pub fn publish(&mut self, channel: Bytes, payload: Bytes) -> Token {
        self.send(
            vec![Bytes::from_static(b"PUBLISH"), channel, payload],
            false,
        )
    }

    /// `SPUBLISH shardchannel payload` (Redis 7).
    pub fn spublish(&mut self, channel: Bytes, payload: Bytes) -> Token {
        self.send(
            vec![Bytes::from_static(b"SPUBLISH"), channel, payload],
            false,
        )
    }

    /// `PUBSUB NUMSUB channel`: the reply comes as [`Event::NumSub`] with this token.
    pub fn pubsub_numsub(&mut self, channel: Bytes) -> Token {
        let args = vec![
            Bytes::from_static(b"PUBSUB"),
            Bytes::from_static(b"NUMSUB"),
            channel,
        ];
        self.send(args, true)
    }

    /// `PUBSUB SHARDNUMSUB channel` (Redis 7): how many clients are subscribed to the shard
    /// channel; the reply comes as [`Event::NumSub`].
    pub fn pubsub_shardnumsub(&mut self, channel: Bytes) -> Token {
        let args = vec![
            Bytes::from_static(b"PUBSUB"),
            Bytes::from_static(b"SHARDNUMSUB"),
            channel,
        ];
        self.send(args, true)
    }

    /// Any command, its name first (`["GET", "key"]`); the reply comes as [`Event::Reply`].
    /// Subscription commands must go through [`subscribe`](Self::subscribe) and its kin, which
    /// keep the sets a reconnect re-issues.
    pub fn command(&mut self, args: Vec<Bytes>) -> Token {
        self.send(args, false)
    }

    // Outputs.

    /// Bytes to write to the socket.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.transmit.is_empty()).then(|| self.transmit.split().freeze())
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    // Internals.

    /// Forgets everything of the last TCP connection but the subscriptions and queued commands.
    fn reset(&mut self) {
        for pending in self.pending.drain(..) {
            if let Pending::Command { token, name, .. } = pending {
                self.events.push_back(Event::Failed {
                    token: Some(token),
                    command: name,
                    error: CommandError::ConnectionLost,
                });
            }
        }
        self.subscribed = (0, 0);
        self.transmit.clear();
        self.read.clear();
        self.framer = Framer::default();
    }

    fn fail(&mut self, error: ConnectionError) {
        self.state = State::Failed;
        self.transmit.clear();
        self.events.push_back(Event::Fatal(error));
    }

    fn become_ready(&mut self) {
        self.state = State::Ready;
        self.events.push_back(Event::Ready);
        for kind in [
            SubscriptionKind::Channel,
            SubscriptionKind::Pattern,
            SubscriptionKind::Shard,
        ] {
            let channels: Vec<Bytes> = self.set(kind).iter().cloned().collect();
            if !channels.is_empty() {
                self.send_subscription(kind, true, channels);
            }
        }
        while let Some(queued) = self.queued.pop_front() {
            self.transmit_command(queued);
        }
    }

    fn set(&mut self, kind: SubscriptionKind) -> &mut BTreeSet<Bytes> {
        match kind {
            SubscriptionKind::Channel => &mut self.channels,
            SubscriptionKind::Pattern => &mut self.patterns,
            SubscriptionKind::Shard => &mut self.shard_channels,
        }
    }

    fn change_subscriptions<I: IntoIterator<Item = Bytes>>(
        &mut self,
        kind: SubscriptionKind,
        subscribe: bool,
        channels: I,
    ) {
        let set = self.set(kind);
        let changed: Vec<Bytes> = channels
            .into_iter()
            .filter(|c| {
                if subscribe {
                    set.insert(c.clone())
                } else {
                    set.remove(c)
                }
            })
            .collect();
        if !changed.is_empty() && self.state == State::Ready {
            self.send_subscription(kind, subscribe, changed);
        }
    }

    fn send_subscription(&mut self, kind: SubscriptionKind, subscribe: bool, channels: Vec<Bytes>) {
        let name = if subscribe {
            kind.subscribe()
        } else {
            kind.unsubscribe()
        };
        let mut args = Vec::with_capacity(channels.len() + 1);
        args.push(Bytes::from_static(name.as_bytes()));
        args.extend(channels.iter().cloned());
        resp::encode_command(&mut self.transmit, &args);
        self.pending.push_back(Pending::Subscription {
            kind,
            subscribe,
            remaining: channels.len(),
            channels,
        });
    }

    fn send(&mut self, args: Vec<Bytes>, numsub: bool) -> Token {
        let token = Token(self.next_token);
        self.next_token += 1;
        let queued = Queued {
            token,
            args,
            numsub,
        };
        if self.state == State::Ready {
            self.transmit_command(queued);
        } else if self.queued.len() >= MAX_QUEUED {
            self.events.push_back(Event::Failed {
                token: Some(token),
                command: command_name(&queued.args),
                error: CommandError::QueueFull,
            });
        } else {
            self.queued.push_back(queued);
        }
        token
    }

    fn transmit_command(&mut self, queued: Queued) {
        resp::encode_command(&mut self.transmit, &queued.args);
        self.pending.push_back(Pending::Command {
            token: queued.token,
            name: command_name(&queued.args),
            numsub: queued.numsub,
        });
    }

    fn in_subscribed_mode(&self) -> bool {
        self.subscribed != (0, 0)
            || matches!(self.pending.front(), Some(Pending::Subscription { .. }))
    }

    fn handle_frame(&mut self, frame: Frame) {
        if self.in_subscribed_mode() {
            if let Frame::Value(Reply::Array(items)) = &frame {
                if self.handle_push(items) {
                    return;
                }
            }
        }
        let Some(pending) = self.pending.pop_front() else {
            return self.fail(ConnectionError::UnexpectedReply);
        };
        match (pending, frame) {
            (Pending::Auth | Pending::Select, Frame::Value(_)) => {
                if self.pending.is_empty() {
                    self.become_ready();
                }
            }
            (Pending::Auth, Frame::Error(message)) => self.fail(ConnectionError::Handshake {
                command: "AUTH",
                message,
            }),
            (Pending::Select, Frame::Error(message)) => self.fail(ConnectionError::Handshake {
                command: "SELECT",
                message,
            }),
            (Pending::Command { token, name, .. }, Frame::Error(message)) => {
                self.events.push_back(Event::Failed {
                    token: Some(token),
                    command: name,
                    error: CommandError::Redis(message),
                })
            }
            (
                Pending::Command {
                    token,
                    name,
                    numsub,
                },
                Frame::Value(reply),
            ) => {
                let event = if numsub {
                    match numsub_count(&reply) {
                        Some(subscribers) => Event::NumSub { token, subscribers },
                        None => Event::Failed {
                            token: Some(token),
                            command: name,
                            error: CommandError::UnexpectedReply("PUBSUB NUMSUB"),
                        },
                    }
                } else {
                    Event::Reply { token, reply }
                };
                self.events.push_back(event);
            }
            (
                Pending::Subscription {
                    kind,
                    subscribe,
                    channels,
                    ..
                },
                Frame::Error(message),
            ) => {
                // Redis refused the whole command: it holds none of these subscriptions.
                if subscribe {
                    let set = self.set(kind);
                    for channel in &channels {
                        set.remove(channel);
                    }
                }
                self.events.push_back(Event::Failed {
                    token: None,
                    command: if subscribe {
                        kind.subscribe()
                    } else {
                        kind.unsubscribe()
                    }
                    .into(),
                    error: CommandError::Redis(message),
                });
            }
            (Pending::Subscription { .. }, Frame::Value(_)) => {
                self.fail(ConnectionError::UnexpectedReply)
            }
        }
    }

    /// A push of subscribed mode; `false` if `items` is not one (then it is a reply).
    fn handle_push(&mut self, items: &[Reply]) -> bool {
        let Some(Reply::Bulk(head)) = items.first() else {
            return false;
        };
        let bulk = |i: usize| match items.get(i) {
            Some(Reply::Bulk(b)) => Some(b.clone()),
            _ => None,
        };
        let message = |kind, pattern, channel, payload| {
            Event::Message(Message {
                kind,
                pattern,
                channel,
                payload,
            })
        };
        let event = match (&head[..], items.len()) {
            (b"message", 3) => bulk(1)
                .zip(bulk(2))
                .map(|(c, p)| message(SubscriptionKind::Channel, None, c, p)),
            (b"smessage", 3) => bulk(1)
                .zip(bulk(2))
                .map(|(c, p)| message(SubscriptionKind::Shard, None, c, p)),
            (b"pmessage", 4) => bulk(1)
                .zip(bulk(2))
                .zip(bulk(3))
                .map(|((pat, c), p)| message(SubscriptionKind::Pattern, Some(pat), c, p)),
            (name, 3) => {
                let Some((kind, subscribe)) = confirmation(name) else {
                    return false;
                };
                let Some(Reply::Integer(count)) = items.get(2) else {
                    return false;
                };
                self.confirm(kind, subscribe, *count);
                return true;
            }
            _ => None,
        };
        match event {
            Some(event) => {
                self.events.push_back(event);
                true
            }
            None => false,
        }
    }

    fn confirm(&mut self, kind: SubscriptionKind, subscribe: bool, count: i64) {
        match kind {
            SubscriptionKind::Shard => self.subscribed.1 = count,
            _ => self.subscribed.0 = count,
        }
        if let Some(Pending::Subscription {
            kind: k,
            subscribe: s,
            remaining,
            ..
        }) = self.pending.front_mut()
        {
            if *k == kind && *s == subscribe {
                *remaining = remaining.saturating_sub(1);
                if *remaining == 0 {
                    self.pending.pop_front();
                }
            }
        }
        // A confirmation with no matching command is one Redis sends on its own (a shard
        // channel's slot moved: `sunsubscribe`); the count above is all it changes.
    }
}

fn confirmation(name: &[u8]) -> Option<(SubscriptionKind, bool)> {
    Some(match name {
        b"subscribe" => (SubscriptionKind::Channel, true),
        b"psubscribe" => (SubscriptionKind::Pattern, true),
        b"ssubscribe" => (SubscriptionKind::Shard, true),
        b"unsubscribe" => (SubscriptionKind::Channel, false),
        b"punsubscribe" => (SubscriptionKind::Pattern, false),
        b"sunsubscribe" => (SubscriptionKind::Shard, false),
        _ => return None,
    })
}

fn command_name(args: &[Bytes]) -> String {
    args.first()
        .map(|name| String::from_utf8_lossy(name).to_ascii_uppercase())
        .unwrap_or_default()
}

/// `PUBSUB NUMSUB ch` answers `[ch, count]`.
fn numsub_count(reply: &Reply) -> Option<i64> {
    match reply {
        Reply::Array(items) => match items.as_slice() {
            [_, Reply::Integer(n)] => Some(*n),
            _ => None,
        },
        _ => None,
    }
}
