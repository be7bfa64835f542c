//! Canned exchanges: what the connection writes, what a Redis server answers.

use super::*;

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

fn conn(url: &str) -> Connection {
    Connection::new(RedisUrl::parse(url).unwrap()).unwrap()
}

/// Everything the connection wants written, concatenated.
fn written(c: &mut Connection) -> String {
    let mut out = Vec::new();
    while let Some(bytes) = c.poll_transmit() {
        out.extend_from_slice(&bytes);
    }
    String::from_utf8(out).unwrap()
}

fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn auth_then_select_then_subscriptions_then_queued() {
    let mut c = conn("redis://alice:secret@h/2");
    c.subscribe([b("a"), b("b")]);
    c.psubscribe([b("p*")]);
    let token = c.command(vec![b("PING")]);
    assert_eq!(written(&mut c), "");
    c.handle_connected();
    assert_eq!(
        written(&mut c),
        "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$6\r\nsecret\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n"
    );
    c.handle_bytes(b"+OK\r\n");
    assert_eq!(written(&mut c), "");
    assert!(!c.is_ready());
    c.handle_bytes(b"+OK\r\n");
    assert!(c.is_ready());
    assert_eq!(
        written(&mut c),
        "*3\r\n$9\r\nSUBSCRIBE\r\n$1\r\na\r\n$1\r\nb\r\n\
         *2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n\
         *1\r\n$4\r\nPING\r\n"
    );
    c.handle_bytes(
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n\
          *3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:3\r\n*2\r\n$4\r\npong\r\n$0\r\n\r\n",
    );
    assert_eq!(
        events(&mut c),
        [
            Event::Ready,
            Event::Reply {
                token,
                reply: Reply::Array(vec![Reply::Bulk(b("pong")), Reply::Bulk(b(""))]),
            }
        ]
    );
}

#[test]
fn password_only_and_no_handshake() {
    let mut c = conn("redis://:pw@h");
    c.handle_connected();
    assert_eq!(written(&mut c), "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n");
    let mut c = conn("redis://h");
    c.handle_connected();
    assert!(c.is_ready());
    assert_eq!(events(&mut c), [Event::Ready]);
}

#[test]
fn tls_refused() {
    let url = RedisUrl::parse("rediss://h").unwrap();
    assert_eq!(Connection::new(url).unwrap_err(), UrlError::TlsUnsupported);
}

#[test]
fn auth_refused_is_fatal() {
    let mut c = conn("redis://:bad@h");
    c.handle_connected();
    c.handle_bytes(b"-WRONGPASS invalid username-password pair\r\n");
    assert_eq!(
        events(&mut c),
        [Event::Fatal(ConnectionError::Handshake {
            command: "AUTH",
            message: "WRONGPASS invalid username-password pair".into(),
        })]
    );
    assert_eq!(written(&mut c), "");
}

/// A subscribed connection receiving every kind of push, split at every byte boundary.
#[test]
fn messages_split_at_every_byte() {
    let exchange: &[u8] = b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n\
        *3\r\n$10\r\npsubscribe\r\n$2\r\nc*\r\n:2\r\n\
        *3\r\n$10\r\nssubscribe\r\n$2\r\nsh\r\n:1\r\n\
        *3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nh\r\nlo\r\n\
        *4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n\
        *3\r\n$8\r\nsmessage\r\n$2\r\nsh\r\n$1\r\n\xff\r\n";
    let expected = vec![
        Event::Ready,
        Event::Message(Message {
            kind: SubscriptionKind::Channel,
            pattern: None,
            channel: b("ch"),
            payload: b("h\r\nlo"),
        }),
        Event::Message(Message {
            kind: SubscriptionKind::Pattern,
            pattern: Some(b("c*")),
            channel: b("ch"),
            payload: b(""),
        }),
        Event::Message(Message {
            kind: SubscriptionKind::Shard,
            pattern: None,
            channel: b("sh"),
            payload: Bytes::from_static(b"\xff"),
        }),
    ];
    for split in 0..=exchange.len() {
        let mut c = conn("redis://h");
        c.subscribe([b("ch")]);
        c.psubscribe([b("c*")]);
        c.ssubscribe([b("sh")]);
        c.handle_connected();
        written(&mut c);
        c.handle_bytes(&exchange[..split]);
        c.handle_bytes(&exchange[split..]);
        assert_eq!(events(&mut c), expected, "split at {split}");
        assert!(c.pending.is_empty());
    }
    // And one byte at a time.
    let mut c = conn("redis://h");
    c.subscribe([b("ch")]);
    c.psubscribe([b("c*")]);
    c.ssubscribe([b("sh")]);
    c.handle_connected();
    for byte in exchange {
        c.handle_bytes(std::slice::from_ref(byte));
    }
    assert_eq!(events(&mut c), expected);
}

#[test]
fn reconnect_resubscribes_and_fails_pending() {
    let mut c = conn("redis://h/1");
    c.handle_connected();
    c.handle_bytes(b"+OK\r\n");
    c.subscribe([b("a")]);
    c.ssubscribe([b("s")]);
    c.psubscribe([b("p")]);
    c.punsubscribe([b("p")]);
    written(&mut c);
    events(&mut c);
    let publish = c.publish(b("x"), b("y"));
    c.handle_closed();
    assert_eq!(
        events(&mut c),
        [Event::Failed {
            token: Some(publish),
            command: "PUBLISH".into(),
            error: CommandError::ConnectionLost,
        }]
    );
    // While disconnected: changes to the sets, and a queued command.
    c.unsubscribe([b("a")]);
    c.subscribe([b("b")]);
    let numsub = c.pubsub_numsub(b("b"));
    assert_eq!(written(&mut c), "");
    c.handle_connected();
    assert_eq!(written(&mut c), "*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n");
    c.handle_bytes(b"+OK\r\n");
    assert_eq!(
        written(&mut c),
        "*2\r\n$9\r\nSUBSCRIBE\r\n$1\r\nb\r\n*2\r\n$10\r\nSSUBSCRIBE\r\n$1\r\ns\r\n\
         *3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n$1\r\nb\r\n"
    );
    assert_eq!(c.channels().collect::<Vec<_>>(), [&b("b")]);
    assert_eq!(c.patterns().count(), 0);
    let _ = numsub;
}

#[test]
fn numsub_tokens_match_in_order() {
    let mut c = conn("redis://h");
    c.handle_connected();
    let first = c.pubsub_numsub(b("one"));
    let publish = c.publish(b("one"), b("hi"));
    let second = c.pubsub_numsub(b("two"));
    assert_ne!(first, second);
    written(&mut c);
    events(&mut c);
    c.handle_bytes(b"*2\r\n$3\r\none\r\n:3\r\n:3\r\n*2\r\n$3\r\ntwo\r\n:0\r\n");
    assert_eq!(
        events(&mut c),
        [
            Event::NumSub {
                token: first,
                subscribers: 3
            },
            Event::Reply {
                token: publish,
                reply: Reply::Integer(3)
            },
            Event::NumSub {
                token: second,
                subscribers: 0
            },
        ]
    );
}

#[test]
fn redis_errors_name_the_command() {
    let mut c = conn("redis://h");
    c.handle_connected();
    events(&mut c);
    let token = c.spublish(b("s"), b("x"));
    c.ssubscribe([b("s")]);
    c.handle_bytes(b"-ERR unknown command 'SPUBLISH'\r\n-ERR unknown command 'SSUBSCRIBE'\r\n");
    assert_eq!(
        events(&mut c),
        [
            Event::Failed {
                token: Some(token),
                command: "SPUBLISH".into(),
                error: CommandError::Redis("ERR unknown command 'SPUBLISH'".into()),
            },
            Event::Failed {
                token: None,
                command: "SSUBSCRIBE".into(),
                error: CommandError::Redis("ERR unknown command 'SSUBSCRIBE'".into()),
            },
        ]
    );
    assert_eq!(
        c.shard_channels().count(),
        0,
        "a refused subscription is not kept"
    );
    assert!(c.is_ready());
}

#[test]
fn malformed_bytes_are_fatal() {
    let mut c = conn("redis://h");
    c.handle_connected();
    c.command(vec![b("GET"), b("k")]);
    events(&mut c);
    c.handle_bytes(b"?what\r\n");
    assert_eq!(
        events(&mut c),
        [Event::Fatal(ProtocolError::TypeByte(b'?').into())]
    );
    // Ignored until the driver reports the socket closed.
    c.handle_bytes(b"+OK\r\n");
    assert_eq!(events(&mut c), []);
    c.handle_closed();
    assert!(matches!(
        events(&mut c).as_slice(),
        [Event::Failed {
            error: CommandError::ConnectionLost,
            ..
        }]
    ));
}

#[test]
fn unsolicited_reply_is_fatal() {
    let mut c = conn("redis://h");
    c.handle_connected();
    events(&mut c);
    c.handle_bytes(b"+OK\r\n");
    assert_eq!(
        events(&mut c),
        [Event::Fatal(ConnectionError::UnexpectedReply)]
    );
}

#[test]
fn queue_is_bounded() {
    let mut c = conn("redis://h");
    for _ in 0..MAX_QUEUED {
        c.publish(b("c"), b("p"));
    }
    assert_eq!(events(&mut c), []);
    let token = c.publish(b("c"), b("p"));
    assert_eq!(
        events(&mut c),
        [Event::Failed {
            token: Some(token),
            command: "PUBLISH".into(),
            error: CommandError::QueueFull,
        }]
    );
}
