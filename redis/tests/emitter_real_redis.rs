//! `BlockingEmitter` against a real `redis-server` (started by each test on a free port; see
//! `support/mod.rs` for when the tests skip), where a raw subscriber, the crate's
//! `Connection` over a std socket, receives what the emitter publishes; and against fake
//! servers on loopback for what a real one will not do on demand: stay silent, or close the
//! connection in the middle of a `PUBLISH`.

mod support;

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use corelay_redis::classic::{BroadcastMessage, Request};
use corelay_redis::connection::{Connection, ConnectionError, Event, Message, RedisUrl};
use corelay_redis::emitter::{Binary, BlockingEmitter, Emitter, Error, Publish};
use corelay_redis::{BroadcastOptions, Value};
use support::{redis_available, Server, TIMEOUT};

/// A subscriber: the crate's connection state machine over a blocking socket.
struct Subscriber {
    conn: Connection,
    stream: TcpStream,
    events: VecDeque<Event>,
}

impl Subscriber {
    fn connect(url: RedisUrl) -> Self {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, url.port));
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        let mut subscriber = Subscriber {
            conn: Connection::new(url).expect("connection"),
            stream,
            events: VecDeque::new(),
        };
        subscriber.conn.handle_connected();
        subscriber.flush();
        subscriber
    }

    fn flush(&mut self) {
        while let Some(bytes) = self.conn.poll_transmit() {
            self.stream.write_all(&bytes).expect("write");
        }
        while let Some(event) = self.conn.poll_event() {
            self.events.push_back(event);
        }
    }

    /// Reads once (50 ms at most), so that the handshake and subscriptions go on.
    fn read_once(&mut self) {
        let mut buf = [0u8; 16 * 1024];
        match self.stream.read(&mut buf) {
            Ok(0) => panic!("the subscriber's connection closed"),
            Ok(n) => {
                self.conn.handle_bytes(&buf[..n]);
                self.flush();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("subscriber read: {e}"),
        }
    }

    /// The next message (bounded wait).
    fn message(&mut self) -> Message {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            while let Some(event) = self.events.pop_front() {
                match event {
                    Event::Message(message) => return message,
                    Event::Fatal(error) => panic!("subscriber: {error}"),
                    Event::Failed { error, .. } => panic!("subscriber: {error}"),
                    _ => {}
                }
            }
            assert!(Instant::now() < deadline, "no message within {TIMEOUT:?}");
            self.read_once();
        }
    }

    /// The next message, which must be `expected` (on its channel, with its bytes).
    fn expect(&mut self, expected: &Publish) -> Message {
        let message = self.message();
        assert_eq!(
            String::from_utf8_lossy(&message.channel),
            String::from_utf8_lossy(&expected.channel)
        );
        assert_eq!(message.payload, expected.payload);
        message
    }
}

#[derive(serde::Serialize)]
struct Score {
    player: &'static str,
    points: u32,
    bonus: Option<f64>,
}

#[test]
fn a_subscriber_receives_what_the_blocking_emitter_publishes() {
    if !redis_available() {
        return;
    }
    let server = Server::start(Some("s3cret"));
    // AUTH and SELECT on both sides: the emitter's messages reach database 2's subscribers.
    let url = server.url(Some("s3cret"), 2);
    let mut subscriber = Subscriber::connect(url.clone());
    subscriber
        .conn
        .psubscribe([Bytes::from_static(b"socket.io#*")]);
    subscriber.conn.subscribe([
        Bytes::from_static(b"socket.io-request#/#"),
        Bytes::from_static(b"socket.io-request#/chat#"),
    ]);
    subscriber.flush();
    let io = BlockingEmitter::connect(url).expect("connect");

    // Publishes count a receiver once the subscriptions hold; those before reach nobody.
    let deadline = Instant::now() + TIMEOUT;
    while io.emit("warm-up", ()).expect("emit") == 0 {
        assert!(Instant::now() < deadline, "the subscription never held");
        subscriber.read_once();
    }
    subscriber.expect(&Emitter::new().emit("warm-up", ()).unwrap());

    // To one room, binary included: the room's channel.
    let args = ("world", Binary::from(vec![0u8, 0xff, b'\r', b'\n']));
    assert_eq!(io.to("room1").emit("hello", args.clone()).unwrap(), 1);
    let message = subscriber.expect(&Emitter::new().to("room1").emit("hello", args).unwrap());
    assert_eq!(&message.channel[..], b"socket.io#/#room1#");
    let broadcast = BroadcastMessage::decode(&message.payload).unwrap();
    assert_eq!(broadcast.uid, "emitter");
    assert_eq!(broadcast.packet.nsp.as_deref(), Some("/"));
    assert_eq!(
        broadcast.packet.data,
        Some(Value::Array(vec![
            "hello".into(),
            "world".into(),
            Value::Binary(vec![0, 0xff, b'\r', b'\n']),
        ]))
    );
    assert_eq!(broadcast.opts.rooms, ["room1"]);

    // Another namespace, two rooms, except, flags, a struct.
    let score = Score {
        player: "ann",
        points: 3,
        bonus: None,
    };
    let sent = io
        .of("/chat")
        .to(["a", "b"])
        .except("spectators")
        .volatile()
        .compress(false);
    assert_eq!(sent.emit("score", &score).unwrap(), 1);
    let message = subscriber.expect(&sent.emitter().emit("score", &score).unwrap());
    assert_eq!(&message.channel[..], b"socket.io#/chat#");
    let broadcast = BroadcastMessage::decode(&message.payload).unwrap();
    assert_eq!(broadcast.packet.nsp.as_deref(), Some("/chat"));
    let data = broadcast.packet.data.unwrap();
    assert_eq!(
        data[1],
        serde_json::from_str::<Value>(r#"{"player":"ann","points":3,"bonus":null}"#).unwrap()
    );
    assert_eq!(broadcast.opts.rooms, ["a", "b"]);
    assert_eq!(broadcast.opts.except, ["spectators"]);
    let flags = broadcast.opts.flags.unwrap();
    assert_eq!((flags.volatile, flags.compress), (Some(true), Some(false)));

    // The requests.
    assert_eq!(io.in_("room1").sockets_join(["room2", "room3"]).unwrap(), 1);
    let message = subscriber.expect(&Emitter::new().in_("room1").sockets_join(["room2", "room3"]));
    assert_eq!(&message.channel[..], b"socket.io-request#/#");
    assert_eq!(
        Request::decode(&message.payload).unwrap(),
        Request::RemoteJoin {
            uid: None,
            opts: BroadcastOptions {
                rooms: vec!["room1".into()],
                except: vec![],
                flags: None,
            },
            rooms: vec!["room2".into(), "room3".into()],
        }
    );
    assert_eq!(io.except("room1").sockets_leave("room2").unwrap(), 1);
    let message = subscriber.expect(&Emitter::new().except("room1").sockets_leave("room2"));
    assert!(matches!(
        Request::decode(&message.payload).unwrap(),
        Request::RemoteLeave { uid: None, .. }
    ));
    assert_eq!(io.disconnect_sockets(true).unwrap(), 1);
    let message = subscriber.expect(&Emitter::new().disconnect_sockets(true));
    assert!(matches!(
        Request::decode(&message.payload).unwrap(),
        Request::RemoteDisconnect { close: true, .. }
    ));
    assert_eq!(io.of("/chat").server_side_emit("ping", (7,)).unwrap(), 1);
    let message = subscriber.expect(
        &Emitter::new()
            .of("chat")
            .server_side_emit("ping", 7)
            .unwrap(),
    );
    assert_eq!(&message.channel[..], b"socket.io-request#/chat#");
    assert_eq!(
        Request::decode(&message.payload).unwrap(),
        Request::ServerSideEmit {
            uid: Some("emitter".into()),
            request_id: None,
            data: vec!["ping".into(), 7.into()],
        }
    );

    // Refused before anything is sent.
    assert!(matches!(
        io.emit("disconnect", ()),
        Err(Error::ReservedEvent(_))
    ));
}

#[test]
fn the_blocking_emitter_connects_again_after_a_restart() {
    if !redis_available() {
        return;
    }
    let mut server = Server::start(None);
    let io = BlockingEmitter::connect(server.url(None, 0)).expect("connect");
    assert_eq!(io.emit("before", ()).unwrap(), 0);

    server.kill();
    let started = Instant::now();
    let error = io.emit("while down", ()).unwrap_err();
    assert!(matches!(error, Error::Io(_)), "{error:?}");
    assert!(started.elapsed() < TIMEOUT);

    server.restart();
    assert_eq!(io.emit("after", ()).unwrap(), 0);
    // The connection left open by a restart is found closed and replaced too.
    server.kill();
    server.restart();
    assert_eq!(io.emit("after again", ()).unwrap(), 0);
}

#[test]
fn login_and_command_errors_are_reported() {
    if !redis_available() {
        return;
    }
    let server = Server::start(Some("s3cret"));
    let error = BlockingEmitter::connect(server.url(Some("wrong"), 0)).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Connection(ConnectionError::Handshake {
                command: "AUTH",
                ..
            })
        ),
        "{error:?}"
    );
    // No password: connected, but PUBLISH is refused.
    let io = BlockingEmitter::connect(server.url(None, 0)).expect("connect");
    match io.emit("ev", ()) {
        Err(Error::Redis(text)) => assert!(text.starts_with("NOAUTH"), "{text}"),
        other => panic!("{other:?}"),
    }
}

// ------------------------------------------------------------------ fake servers, no Redis

fn fake_url(listener: &TcpListener, password: Option<&str>) -> RedisUrl {
    let port = listener.local_addr().unwrap().port();
    let credentials = password.map(|p| format!(":{p}@")).unwrap_or_default();
    RedisUrl::parse(&format!("redis://{credentials}127.0.0.1:{port}")).unwrap()
}

/// `PUBLISH channel payload` as RESP.
fn resp_publish(publish: &Publish) -> Vec<u8> {
    let mut out = b"*3\r\n$7\r\nPUBLISH\r\n".to_vec();
    for arg in [&publish.channel, &publish.payload] {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads exactly `n` bytes (bounded).
fn read_exactly(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).expect("read the command");
    buf
}

#[test]
fn a_silent_server_times_out() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = fake_url(&listener, None);
    let holder = thread::spawn(move || {
        // Accepts two connections, answers nothing, keeps them until the client is done.
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(listener.accept().unwrap().0);
        }
        for mut stream in held {
            let _ = stream.set_read_timeout(Some(TIMEOUT));
            let _ = stream.read_to_end(&mut Vec::new());
        }
    });
    let short = Duration::from_millis(200);

    // No password, database 0: nothing to wait for when connecting; PUBLISH gets no answer.
    let io = BlockingEmitter::connect(url.clone())
        .unwrap()
        .with_timeout(short);
    let started = Instant::now();
    assert!(matches!(io.emit("ev", ()), Err(Error::Timeout(t)) if t == short));
    assert!(started.elapsed() < Duration::from_secs(2));

    // With a password, AUTH gets no answer.
    let mut url = url;
    url.password = Some("pw".into());
    let started = Instant::now();
    let error = BlockingEmitter::new(url)
        .unwrap()
        .with_timeout(short)
        .connected()
        .unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(io);
    holder.join().unwrap();
}

#[test]
fn a_connection_broken_while_publishing_is_replaced_once() {
    let publish = Emitter::new().to("r").emit("ev", ("x", 1)).unwrap();
    let command = resp_publish(&publish);

    // The first connection closes after reading the PUBLISH; the second answers it.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = fake_url(&listener, None);
    let expected = command.clone();
    let server = thread::spawn(move || {
        let (mut first, _) = listener.accept().unwrap();
        assert_eq!(read_exactly(&mut first, expected.len()), expected);
        drop(first);
        let (mut second, _) = listener.accept().unwrap();
        assert_eq!(read_exactly(&mut second, expected.len()), expected);
        second.write_all(b":3\r\n").unwrap();
        second
    });
    let io = BlockingEmitter::connect(url).unwrap();
    assert_eq!(io.publish(&publish).unwrap(), 3);
    drop(server.join().unwrap());

    // Closed twice: the error, after one new connection.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let url = fake_url(&listener, None);
    let expected = command;
    let server = thread::spawn(move || {
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            assert_eq!(read_exactly(&mut stream, expected.len()), expected);
        }
        listener.set_nonblocking(true).unwrap();
        thread::sleep(Duration::from_millis(100));
        assert!(listener.accept().is_err(), "a third connection");
    });
    let io = BlockingEmitter::connect(url).unwrap();
    let error = io.publish(&publish).unwrap_err();
    assert!(matches!(error, Error::Closed | Error::Io(_)), "{error:?}");
    server.join().unwrap();
}
