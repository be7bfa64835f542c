//! The connection state machine against a real `redis-server`, driven over blocking std
//! sockets. Every test starts its own server on a free loopback port and kills it when done.
//! Without `redis-server` on PATH each test prints "redis-server not found: skipped" and
//! passes, unless `CORELAY_REQUIRE_REDIS=1` (set by `scripts/test.sh`), which makes it fail.

mod support;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::thread::sleep;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corelay_redis::connection::{
    CommandError, Connection, ConnectionError, Event, Message, RedisUrl, Reply, SubscriptionKind,
    Token,
};
use support::{redis_available, Server, TIMEOUT};

/// The state machine driven over a blocking socket with a short read timeout.
struct Client {
    conn: Connection,
    stream: Option<TcpStream>,
    events: VecDeque<Event>,
}

impl Client {
    fn connect(url: RedisUrl) -> Self {
        let mut client = Self {
            conn: Connection::new(url).expect("connection"),
            stream: None,
            events: VecDeque::new(),
        };
        client.reconnect();
        client
    }

    /// Opens a TCP connection and calls `handle_connected`.
    fn reconnect(&mut self) {
        let url = self.conn.url();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, url.port));
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        stream
            .set_write_timeout(Some(TIMEOUT))
            .expect("write timeout");
        stream.set_nodelay(true).expect("nodelay");
        self.stream = Some(stream);
        self.conn.handle_connected();
        self.flush();
    }

    /// Writes what the connection has to send, collects its events.
    fn flush(&mut self) {
        while let Some(bytes) = self.conn.poll_transmit() {
            let stream = self.stream.as_mut().expect("connected");
            stream.write_all(&bytes).expect("write");
        }
        while let Some(event) = self.conn.poll_event() {
            self.events.push_back(event);
        }
    }

    /// Reads once (at most the read timeout); `false` once the socket is closed.
    fn read_once(&mut self) -> bool {
        let stream = self.stream.as_mut().expect("connected");
        let mut buf = [0u8; 16 * 1024];
        match stream.read(&mut buf) {
            Ok(0) => false,
            Ok(n) => {
                self.conn.handle_bytes(&buf[..n]);
                self.flush();
                true
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => true,
            Err(e) if e.kind() == ErrorKind::Interrupted => true,
            Err(_) => false,
        }
    }

    /// Removes and returns the first event `pick` accepts, reading until it comes (bounded).
    fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self.events.iter().position(|e| pick(e).is_some()) {
                let event = self.events.remove(i).expect("event");
                return pick(&event).expect("picked");
            }
            if let Some(fatal) = self.events.iter().find(|e| matches!(e, Event::Fatal(_))) {
                panic!("waiting for {what}: {fatal:?}");
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {what}: timed out; events: {:?}",
                self.events
            );
            assert!(self.read_once(), "waiting for {what}: the socket closed");
        }
    }

    fn wait_ready(&mut self) {
        self.wait_for("Ready", |e| matches!(e, Event::Ready).then_some(()));
    }

    fn wait_reply(&mut self, token: Token) -> Reply {
        self.wait_for("a reply", |e| match e {
            Event::Reply { token: t, reply } if *t == token => Some(reply.clone()),
            Event::Failed { token: Some(t), .. } if *t == token => panic!("failed: {e:?}"),
            _ => None,
        })
    }

    fn wait_message(&mut self) -> Message {
        self.wait_for("a message", |e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
    }

    /// Reads until the server closes the socket (bounded), then calls `handle_closed`.
    fn wait_closed(&mut self) {
        let deadline = Instant::now() + TIMEOUT;
        while self.read_once() {
            assert!(Instant::now() < deadline, "the socket did not close");
        }
        self.stream = None;
        self.conn.handle_closed();
        self.flush();
    }

    /// Publishes (`PUBLISH` or `SPUBLISH`) until Redis counts a receiver: the subscription is
    /// confirmed only then, and the publishes nobody received reach nobody.
    fn publish_until_received(&mut self, shard: bool, channel: &[u8], payload: &[u8]) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let (channel, payload) = (
                Bytes::copy_from_slice(channel),
                Bytes::copy_from_slice(payload),
            );
            let token = if shard {
                self.conn.spublish(channel, payload)
            } else {
                self.conn.publish(channel, payload)
            };
            self.flush();
            match self.wait_reply(token) {
                Reply::Integer(0) => {}
                Reply::Integer(1) => return,
                other => panic!("unexpected publish reply {other:?}"),
            }
            assert!(Instant::now() < deadline, "nobody received the publish");
            sleep(Duration::from_millis(20));
        }
    }
}

/// Every byte value, CR LF and NUL among them.
fn binary_payload() -> Vec<u8> {
    let mut payload: Vec<u8> = (0..=255).collect();
    payload.extend_from_slice(b"\r\n$-1\r\n*2\r\n\0end");
    payload
}

/// Publishes `payload` on `channel` (`SPUBLISH` with `shard`) until Redis counts a receiver,
/// and checks that the subscriber got exactly that, as `kind` (through `pattern`).
fn assert_delivered(
    subscriber: &mut Client,
    publisher: &mut Client,
    (shard, channel, payload): (bool, &[u8], &[u8]),
    kind: SubscriptionKind,
    pattern: Option<&[u8]>,
) {
    publisher.publish_until_received(shard, channel, payload);
    let message = subscriber.wait_message();
    assert_eq!(message.kind, kind);
    assert_eq!(message.pattern.as_deref(), pattern);
    assert_eq!(&message.channel[..], channel);
    assert_eq!(&message.payload[..], payload);
}

#[test]
fn auth_select_then_publish_subscribe_round_trip() {
    if !redis_available() {
        return;
    }
    let server = Server::start(Some("s3cret"));
    let mut subscriber = Client::connect(server.url(Some("s3cret"), 3));
    let mut publisher = Client::connect(server.url(Some("s3cret"), 3));
    subscriber.wait_ready();
    publisher.wait_ready();

    // SELECT 3 took effect.
    let token = publisher.conn.command(vec![
        Bytes::from_static(b"CLIENT"),
        Bytes::from_static(b"INFO"),
    ]);
    publisher.flush();
    let info = publisher.wait_reply(token);
    let info = String::from_utf8_lossy(info.as_bytes().expect("CLIENT INFO is a string"));
    assert!(info.contains(" db=3 "), "{info}");

    subscriber.conn.subscribe([Bytes::from_static(b"room:a")]);
    subscriber.flush();
    let payload = binary_payload();
    let sent = (false, &b"room:a"[..], &payload[..]);
    let kind = SubscriptionKind::Channel;
    assert_delivered(&mut subscriber, &mut publisher, sent, kind, None);
}

#[test]
fn wrong_password_is_fatal() {
    if !redis_available() {
        return;
    }
    let server = Server::start(Some("s3cret"));
    let mut client = Client::connect(server.url(Some("wrong"), 0));
    let error = client.wait_for("Fatal", |e| match e {
        Event::Fatal(error) => Some(error.clone()),
        _ => None,
    });
    assert!(
        matches!(
            error,
            ConnectionError::Handshake {
                command: "AUTH",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(!client.conn.is_ready());
}

#[test]
fn psubscribe_receives_a_pattern_message() {
    if !redis_available() {
        return;
    }
    let server = Server::start(None);
    let mut subscriber = Client::connect(server.url(None, 0));
    let mut publisher = Client::connect(server.url(None, 0));
    subscriber.wait_ready();
    publisher.wait_ready();

    subscriber
        .conn
        .psubscribe([Bytes::from_static(b"socket.io#/*")]);
    subscriber.flush();
    let sent = (false, &b"socket.io#/chat#"[..], &b"\x93\x01\x00hello"[..]);
    let (kind, pattern) = (SubscriptionKind::Pattern, Some(&b"socket.io#/*"[..]));
    assert_delivered(&mut subscriber, &mut publisher, sent, kind, pattern);
}

#[test]
fn pubsub_numsub_counts_the_subscriber() {
    if !redis_available() {
        return;
    }
    let server = Server::start(None);
    let mut subscriber = Client::connect(server.url(None, 0));
    let mut publisher = Client::connect(server.url(None, 0));
    subscriber.wait_ready();
    publisher.wait_ready();

    let numsub = |publisher: &mut Client, channel: &'static [u8]| {
        let token = publisher.conn.pubsub_numsub(Bytes::from_static(channel));
        publisher.flush();
        publisher.wait_for("NumSub", |e| match e {
            Event::NumSub {
                token: t,
                subscribers,
            } if *t == token => Some(*subscribers),
            Event::Failed { token: Some(t), .. } if *t == token => panic!("failed: {e:?}"),
            _ => None,
        })
    };
    assert_eq!(numsub(&mut publisher, b"requests"), 0);
    subscriber.conn.subscribe([Bytes::from_static(b"requests")]);
    subscriber.flush();
    publisher.publish_until_received(false, b"requests", b"ping");
    assert_eq!(numsub(&mut publisher, b"requests"), 1);
    assert_eq!(numsub(&mut publisher, b"elsewhere"), 0);
}

#[test]
fn an_error_reply_fails_the_command_only() {
    if !redis_available() {
        return;
    }
    let server = Server::start(None);
    let mut client = Client::connect(server.url(None, 0));
    client.wait_ready();

    let bad = client.conn.command(vec![
        Bytes::from_static(b"nosuchcommand"),
        Bytes::from_static(b"x"),
    ]);
    let ping = client.conn.command(vec![Bytes::from_static(b"PING")]);
    client.flush();
    let (command, error) = client.wait_for("Failed", |e| match e {
        Event::Failed {
            token: Some(t),
            command,
            error,
        } if *t == bad => Some((command.clone(), error.clone())),
        _ => None,
    });
    assert_eq!(command, "NOSUCHCOMMAND");
    assert!(
        matches!(&error, CommandError::Redis(text) if text.starts_with("ERR unknown command")),
        "{error:?}"
    );
    // The connection goes on: the next reply is matched to the next command.
    assert_eq!(
        client.wait_reply(ping),
        Reply::Status(Bytes::from_static(b"PONG"))
    );

    // A command Redis refuses in subscribed mode fails too, and messages still arrive.
    let mut publisher = Client::connect(server.url(None, 0));
    publisher.wait_ready();
    client.conn.subscribe([Bytes::from_static(b"c")]);
    client.flush();
    publisher.publish_until_received(false, b"c", b"first");
    assert_eq!(&client.wait_message().payload[..], b"first");
    let get = client
        .conn
        .command(vec![Bytes::from_static(b"GET"), Bytes::from_static(b"k")]);
    client.flush();
    client.wait_for("Failed", |e| match e {
        Event::Failed {
            token: Some(t),
            error: CommandError::Redis(_),
            ..
        } if *t == get => Some(()),
        _ => None,
    });
    publisher.publish_until_received(false, b"c", b"second");
    assert_eq!(&client.wait_message().payload[..], b"second");
}

#[test]
fn resubscribes_after_a_server_restart() {
    if !redis_available() {
        return;
    }
    let mut server = Server::start(None);
    let mut subscriber = Client::connect(server.url(None, 0));
    let mut publisher = Client::connect(server.url(None, 0));
    subscriber.wait_ready();
    publisher.wait_ready();
    subscriber.conn.subscribe([Bytes::from_static(b"before")]);
    subscriber.conn.psubscribe([Bytes::from_static(b"pat:*")]);
    subscriber.flush();
    publisher.publish_until_received(false, b"before", b"1");
    assert_eq!(&subscriber.wait_message().payload[..], b"1");

    server.kill();
    subscriber.wait_closed();
    publisher.wait_closed();
    assert!(!subscriber.conn.is_ready());
    server.restart();

    subscriber.reconnect();
    publisher.reconnect();
    subscriber.wait_ready();
    publisher.wait_ready();
    // Nothing but the reconnect: the subscriber re-issues its subscriptions by itself.
    publisher.publish_until_received(false, b"before", b"after the restart");
    let message = subscriber.wait_message();
    assert_eq!(message.kind, SubscriptionKind::Channel);
    assert_eq!(&message.payload[..], b"after the restart");
    publisher.publish_until_received(false, b"pat:x", b"pattern too");
    let message = subscriber.wait_message();
    assert_eq!(message.kind, SubscriptionKind::Pattern);
    assert_eq!(&message.payload[..], b"pattern too");
}

#[test]
fn ssubscribe_spublish_round_trip() {
    if !redis_available() {
        return;
    }
    let server = Server::start(None);
    let mut subscriber = Client::connect(server.url(None, 0));
    let mut publisher = Client::connect(server.url(None, 0));
    subscriber.wait_ready();
    publisher.wait_ready();

    subscriber
        .conn
        .ssubscribe([Bytes::from_static(b"{shard}:room")]);
    subscriber.flush();
    let payload = binary_payload();
    let sent = (true, &b"{shard}:room"[..], &payload[..]);
    let kind = SubscriptionKind::Shard;
    assert_delivered(&mut subscriber, &mut publisher, sent, kind, None);
}

#[test]
fn unsubscribing_the_last_channel_leaves_subscribed_mode() {
    if !redis_available() {
        return;
    }
    let server = Server::start(None);
    let mut client = Client::connect(server.url(None, 0));
    let mut publisher = Client::connect(server.url(None, 0));
    client.wait_ready();
    publisher.wait_ready();
    client.conn.subscribe([Bytes::from_static(b"a")]);
    client.conn.ssubscribe([Bytes::from_static(b"s")]);
    client.flush();
    publisher.publish_until_received(false, b"a", b"x");
    publisher.publish_until_received(true, b"s", b"y");
    client.conn.unsubscribe([Bytes::from_static(b"a")]);
    client.conn.sunsubscribe([Bytes::from_static(b"s")]);
    // Out of subscribed mode, an ordinary command gets an ordinary reply.
    let set = client.conn.command(vec![
        Bytes::from_static(b"SET"),
        Bytes::from_static(b"k"),
        Bytes::from_static(b"v"),
    ]);
    let get = client
        .conn
        .command(vec![Bytes::from_static(b"GET"), Bytes::from_static(b"k")]);
    client.flush();
    assert_eq!(
        client.wait_reply(set),
        Reply::Status(Bytes::from_static(b"OK"))
    );
    assert_eq!(
        client.wait_reply(get),
        Reply::Bulk(Bytes::from_static(b"v"))
    );
    assert_eq!(client.conn.channels().count(), 0);
    assert_eq!(client.conn.shard_channels().count(), 0);
}
