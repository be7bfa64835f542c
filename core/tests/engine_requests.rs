//! Engine.IO requests in simulated time: refusals, the `connection_error` hook, and the
//! `initial_headers` and `headers` hooks.
#![cfg(feature = "sim")]

use std::sync::{Arc, Mutex};
use std::time::Instant;

use corelay_core::sim::{parse_frames, parse_responses, texts, Sim};
use corelay_core::wire::http::Method;
use corelay_core::{
    App, Config, ConnectionError, ConnectionErrorContext, ResponseHeaders, TransportKind,
};

fn plain_app() -> Arc<App> {
    App::builder().namespace("/", |ns| ns).build()
}

/// The id of a session opened over WebSocket, from its open packet.
fn ws_sid(rest: &[u8]) -> String {
    let open = texts(&parse_frames(rest));
    assert!(open[0].starts_with("0{\"sid\":\""), "{open:?}");
    open[0][9..29].to_owned()
}

#[test]
fn a_plain_request_for_a_websocket_session_is_refused() {
    let mut sim = Sim::new(plain_app(), Instant::now());
    let (ws, rest) = sim.ws_open("EIO=4&transport=websocket");
    let sid = ws_sid(&rest);
    let path = format!("/socket.io/?EIO=4&transport=websocket&sid={sid}");
    let c = sim.connect();
    assert_eq!(sim.get(c, &path).unwrap().status, 400);
    assert_eq!(sim.post(c, &path, "4hello").unwrap().status, 400);
    // The session goes on, untouched.
    sim.ws_text(ws, "40");
    assert!(texts(&sim.ws_recv(ws))[0].starts_with("40{\"sid\":"));
}

/// What the `connection_error` hook heard: code, message, context, and the request's method,
/// path and query.
#[derive(Debug, Clone, PartialEq)]
struct Reported {
    code: u8,
    message: &'static str,
    context: ConnectionErrorContext,
    method: Method,
    path: String,
    query: String,
}

type Log = Arc<Mutex<Vec<Reported>>>;

/// An app whose `connection_error` hook records into `log`; `allow_request` wants
/// `X-Token: ok`.
fn reporting_app(log: &Log, tweak: impl FnOnce(&mut Config)) -> Arc<App> {
    let log = log.clone();
    App::builder()
        .configure(tweak)
        .allow_request(|head| head.header("x-token") != Some("no"))
        .on_connection_error(move |err: &ConnectionError| {
            assert_eq!(err.code, err.context.code());
            assert_eq!(err.message, err.context.message());
            assert!(err.address.ip().is_loopback(), "the client's address");
            log.lock().unwrap().push(Reported {
                code: err.code,
                message: err.message,
                context: err.context.clone(),
                method: err.req.method,
                path: err.req.path.clone(),
                query: err.req.query.clone(),
            });
        })
        .namespace("/", |ns| ns)
        .build()
}

fn taken(log: &Log) -> Vec<Reported> {
    std::mem::take(&mut *log.lock().unwrap())
}

/// A WebSocket upgrade request for `query` with extra header lines.
fn ws_request(query: &str, extra: &str) -> String {
    format!(
        "GET /socket.io/?{query} HTTP/1.1\r\nHost: x\r\n{extra}Upgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    )
}

#[test]
fn connection_error_reports_each_polling_refusal_once_with_nodes_context() {
    use ConnectionErrorContext as C;
    let log = Log::default();
    let mut sim = Sim::new(reporting_app(&log, |_| {}), Instant::now());
    let (_, sid) = sim.polling_open();
    let unknown = "AAAAAAAAAAAAAAAAAAAA";
    let cases: Vec<(String, u16, u8, &str, C)> = vec![
        (
            "GET /socket.io/?EIO=4&transport=carrier-pigeon".into(),
            400,
            0,
            "Transport unknown",
            C::UnknownTransport {
                transport: Some("carrier-pigeon".into()),
            },
        ),
        (
            "GET /socket.io/?EIO=4".into(),
            400,
            0,
            "Transport unknown",
            C::UnknownTransport { transport: None },
        ),
        (
            format!("GET /socket.io/?EIO=4&transport=polling&sid={unknown}"),
            400,
            1,
            "Session ID unknown",
            C::UnknownSid {
                sid: unknown.into(),
            },
        ),
        (
            format!("GET /socket.io/?EIO=4&transport=websocket&sid={sid}"),
            400,
            3,
            "Bad request",
            C::TransportMismatch {
                transport: TransportKind::Websocket,
                previous_transport: TransportKind::Polling,
            },
        ),
        (
            format!("GET /socket.io/?EIO=3&transport=polling&sid={sid}"),
            400,
            3,
            "Bad request",
            C::ProtocolMismatch {
                protocol: 3,
                previous_protocol: 4,
            },
        ),
        (
            "PUT /socket.io/?EIO=4&transport=polling".into(),
            400,
            2,
            "Bad handshake method",
            C::BadHandshakeMethod {
                method: Method::Put,
            },
        ),
        (
            "GET /socket.io/?EIO=4&transport=websocket".into(),
            400,
            3,
            "Bad request",
            C::TransportHandshakeError,
        ),
        (
            "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nX-Token: no".into(),
            403,
            4,
            "Forbidden",
            C::Forbidden { message: None },
        ),
        (
            "GET /socket.io/?EIO=3&transport=polling".into(),
            400,
            5,
            "Unsupported protocol version",
            C::UnsupportedProtocolVersion { protocol: 3 },
        ),
        (
            "GET /socket.io/?transport=polling&EIO=5".into(),
            400,
            5,
            "Unsupported protocol version",
            C::UnsupportedProtocolVersion { protocol: 3 },
        ),
    ];
    for (line, status, code, message, context) in cases {
        // Each on a new connection: the request line, maybe with a header.
        let (line, extra) = match line.split_once(" HTTP/1.1\r\n") {
            Some((l, h)) => (l.to_owned(), format!("{h}\r\n")),
            None => (line, String::new()),
        };
        let (method, target) = line.split_once(' ').unwrap();
        let c = sim.connect();
        let raw =
            format!("{method} {target} HTTP/1.1\r\nHost: x\r\n{extra}Content-Length: 0\r\n\r\n");
        let r = sim.request(c, &raw).unwrap();
        assert_eq!(r.status, status, "{line}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{line}");
        assert_eq!(
            r.text(),
            format!(r#"{{"code":{code},"message":"{message}"}}"#),
            "{line}"
        );
        let (path, query) = target.split_once('?').unwrap();
        let expected = Reported {
            code,
            message: context.message(),
            context,
            method: Method::from_token(method),
            path: path.into(),
            query: query.into(),
        };
        assert_eq!(expected.message, message);
        assert_eq!(taken(&log), [expected], "{line}");
    }
}

#[test]
fn context_names_are_nodes() {
    use ConnectionErrorContext as C;
    let names = [
        (
            C::InvalidOrigin { origin: "x".into() },
            Some("INVALID_ORIGIN"),
        ),
        (
            C::TransportMismatch {
                transport: TransportKind::Polling,
                previous_transport: TransportKind::Websocket,
            },
            Some("TRANSPORT_MISMATCH"),
        ),
        (
            C::ProtocolMismatch {
                protocol: 3,
                previous_protocol: 4,
            },
            Some("PROTOCOL_MISMATCH"),
        ),
        (
            C::TransportHandshakeError,
            Some("TRANSPORT_HANDSHAKE_ERROR"),
        ),
        (C::UnknownSid { sid: "x".into() }, None),
        (C::Forbidden { message: None }, None),
    ];
    for (context, name) in names {
        assert_eq!(context.name(), name, "{context:?}");
        if name.is_some() {
            assert_eq!((context.code(), context.message()), (3, "Bad request"));
        }
    }
}

#[test]
fn connection_error_reports_websocket_refusals_once() {
    use ConnectionErrorContext as C;
    let log = Log::default();
    let mut sim = Sim::new(reporting_app(&log, |_| {}), Instant::now());
    let (_, sid) = sim.polling_open();
    let unknown = "AAAAAAAAAAAAAAAAAAAA";
    let cases = [
        (
            "EIO=4&transport=carrier-pigeon".to_owned(),
            "",
            "Transport unknown",
            C::UnknownTransport {
                transport: Some("carrier-pigeon".into()),
            },
        ),
        (
            format!("EIO=4&transport=websocket&sid={unknown}"),
            "",
            "Session ID unknown",
            C::UnknownSid {
                sid: unknown.into(),
            },
        ),
        (
            format!("EIO=3&transport=websocket&sid={sid}"),
            "",
            "Bad request",
            C::ProtocolMismatch {
                protocol: 3,
                previous_protocol: 4,
            },
        ),
        (
            "EIO=4&transport=websocket".to_owned(),
            "X-Token: no\r\n",
            "Forbidden",
            C::Forbidden { message: None },
        ),
        (
            "EIO=3&transport=websocket".to_owned(),
            "",
            "Unsupported protocol version",
            C::UnsupportedProtocolVersion { protocol: 3 },
        ),
    ];
    for (query, extra, message, context) in cases {
        let c = sim.connect();
        sim.send(c, ws_request(&query, extra).as_bytes());
        let r = &parse_responses(&sim.take(c))[0];
        // A failed upgrade: a plain 400 with the message, and the socket closes.
        assert_eq!((r.status, r.text()), (400, message), "{query}");
        assert!(sim.is_shut(c), "{query}");
        let reported = taken(&log);
        assert_eq!(reported.len(), 1, "{query}: {reported:?}");
        assert_eq!(reported[0].context, context, "{query}");
        assert_eq!(reported[0].message, message, "{query}");
        assert_eq!(reported[0].query, query);
    }
}

#[test]
fn refusals_node_does_not_report_are_not_reported() {
    let log = Log::default();
    let mut sim = Sim::new(
        reporting_app(&log, |c| {
            c.max_http_buffer_size = 10;
            c.cors = Some(corelay_core::Cors::any());
        }),
        Instant::now(),
    );
    let (p, sid) = sim.polling_open();
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let c = sim.connect();
    // Not HTTP, a head too large, a body too large.
    assert_eq!(sim.request(c, "NOT HTTP\r\n\r\n").unwrap().status, 400);
    let c = sim.connect();
    let big = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(sim.request(c, &big).unwrap().status, 431);
    let c = sim.connect();
    assert_eq!(
        sim.post(c, &path, "4aaaaaaaaaaaaaaaaaaaa").unwrap().status,
        413
    );
    // Outside the path; a CORS preflight.
    let c = sim.connect();
    assert_eq!(sim.get(c, "/elsewhere").unwrap().status, 404);
    let r = sim
        .request(c, "OPTIONS /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n\r\n")
        .unwrap();
    assert_eq!(r.status, 204);
    // What `ws` refuses: a bad key, a bad version; an upgrade of a transport that does not
    // take one.
    for request in [
        ws_request("EIO=4&transport=websocket", "").replace("dGhlIHNhbXBsZSBub25jZQ==", "short"),
        ws_request("EIO=4&transport=websocket", "").replace("Version: 13", "Version: 12"),
        ws_request("EIO=4&transport=polling", ""),
        ws_request(&format!("EIO=4&transport=polling&sid={sid}"), ""),
    ] {
        let c = sim.connect();
        sim.send(c, request.as_bytes());
        let r = &parse_responses(&sim.take(c))[0];
        assert_eq!((r.status, r.text()), (400, "Bad request"), "{request}");
    }
    // An upgrade the session can not take: a second one while the first probes.
    let (_probe, _) = sim.ws_open(&format!("EIO=4&transport=websocket&sid={sid}"));
    let (second, _) = sim.ws_open(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(sim.is_shut(second));
    // Other methods with a valid sid; a binary POST; a second GET while one is held (the last,
    // it ends the session).
    let c = sim.connect();
    let r = sim
        .request(
            c,
            &format!("PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
        )
        .unwrap();
    assert_eq!(r.status, 500);
    assert!(sim.take(p).is_empty());
    sim.send(
        p,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    let c = sim.connect();
    assert_eq!(sim.get(c, &path).unwrap().status, 400);
    assert_eq!(taken(&log), []);
    // A plain request for a WebSocket session.
    let (_ws, rest) = sim.ws_open("EIO=4&transport=websocket");
    let ws_path = format!(
        "/socket.io/?EIO=4&transport=websocket&sid={}",
        ws_sid(&rest)
    );
    let c = sim.connect();
    assert_eq!(sim.get(c, &ws_path).unwrap().status, 400);
    assert_eq!(taken(&log), []);
}

#[test]
fn a_handed_over_request_is_reported_once_by_the_owner() {
    let log = Log::default();
    let mut sim = Sim::with_shards(reporting_app(&log, |_| {}), 2, Instant::now());
    // The first two characters of an id name its shard: this one is shard 1's.
    let unknown = "ABAAAAAAAAAAAAAAAAAA";
    let c = sim.connect_to(0);
    let r = sim
        .get(
            c,
            &format!("/socket.io/?EIO=4&transport=polling&sid={unknown}"),
        )
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(sim.handovers(), 1);
    let reported = taken(&log);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(
        reported[0].context,
        ConnectionErrorContext::UnknownSid {
            sid: unknown.into()
        }
    );
}

#[test]
fn a_transport_the_settings_leave_out_is_unknown() {
    let log = Log::default();
    let app = reporting_app(&log, |c| c.transports = vec![TransportKind::Polling]);
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.connect();
    sim.send(c, ws_request("EIO=4&transport=websocket", "").as_bytes());
    let r = &parse_responses(&sim.take(c))[0];
    assert_eq!((r.status, r.text()), (400, "Transport unknown"));
    let reported = taken(&log);
    assert_eq!(
        reported.iter().map(|r| &r.context).collect::<Vec<_>>(),
        [&ConnectionErrorContext::UnknownTransport {
            transport: Some("websocket".into())
        }]
    );
}

/// Which header hook ran, on which request (path and query).
type Calls = Arc<Mutex<Vec<(&'static str, String)>>>;

/// Header hooks that record their calls and add `X-Initial` / `X-Every`, with `tweak` on the
/// builder's settings.
fn header_app(calls: &Calls, tweak: impl FnOnce(&mut Config)) -> Arc<App> {
    let (c1, c2) = (calls.clone(), calls.clone());
    App::builder()
        .configure(tweak)
        .on_initial_headers(move |headers, req| {
            c1.lock()
                .unwrap()
                .push(("initial_headers", format!("{}?{}", req.path, req.query)));
            assert!(headers.set("X-Initial", "1"));
        })
        .on_headers(move |headers, req| {
            c2.lock()
                .unwrap()
                .push(("headers", format!("{}?{}", req.path, req.query)));
            assert!(headers.set("X-Every", "1"));
        })
        .namespace("/", |ns| {
            ns.on("ping", |socket, _| drop(socket.emit("pong", &())))
        })
        .build()
}

fn calls_taken(calls: &Calls) -> Vec<(&'static str, String)> {
    std::mem::take(&mut *calls.lock().unwrap())
}

/// The head of the `101` at the start of `bytes`, and what follows it.
fn split_101(bytes: &[u8]) -> (String, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head")
        + 4;
    let head = String::from_utf8(bytes[..end].to_vec()).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    (head, bytes[end..].to_vec())
}

#[test]
fn header_hooks_run_on_polling_answers_as_in_node() {
    let calls = Calls::default();
    let mut sim = Sim::new(header_app(&calls, |_| {}), Instant::now());
    // The handshake: initial_headers, then headers.
    let c = sim.connect();
    let r = sim.get(c, "/socket.io/?EIO=4&transport=polling").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        (r.header("x-initial"), r.header("x-every")),
        (Some("1"), Some("1"))
    );
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    let handshake = "/socket.io/?EIO=4&transport=polling".to_owned();
    assert_eq!(
        calls_taken(&calls),
        [
            ("initial_headers", handshake.clone()),
            ("headers", handshake)
        ]
    );
    let sid = &r.text()[9..29];
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // A POST's `ok`: headers only.
    let r = sim.post(c, &path, "40").unwrap();
    assert_eq!((r.status, r.text()), (200, "ok"));
    assert_eq!(
        (r.header("x-initial"), r.header("x-every")),
        (None, Some("1"))
    );
    assert_eq!(calls_taken(&calls), [("headers", path.clone())]);
    // A GET answered at once (the CONNECT answer waits), and a GET held, then answered.
    let r = sim.get(c, &path).unwrap();
    assert!(r.text().starts_with("40{"), "{}", r.text());
    assert_eq!(
        (r.header("x-initial"), r.header("x-every")),
        (None, Some("1"))
    );
    assert!(sim.get(c, &path).is_none(), "held");
    let other = sim.connect();
    sim.post(other, &path, "42[\"ping\"]").unwrap();
    let r = parse_responses(&sim.take(c)).pop().unwrap();
    assert_eq!(r.text(), "42[\"pong\"]");
    assert_eq!(r.header("x-every"), Some("1"));
    assert_eq!(
        calls_taken(&calls),
        [
            ("headers", path.clone()),
            ("headers", path.clone()),
            ("headers", path.clone())
        ]
    );
    // Error answers run no hook: an engine error, a second GET while one is held.
    let e = sim.connect();
    let r = sim
        .get(e, "/socket.io/?EIO=4&transport=carrier-pigeon")
        .unwrap();
    assert_eq!((r.status, r.header("x-every")), (400, None));
    assert_eq!(calls_taken(&calls), []);
    sim.send(
        c,
        format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    let r = sim.get(e, &path).unwrap();
    assert_eq!((r.status, r.header("x-every")), (400, None));
    // The session ends with "transport error": the held GET takes the close packet, in an
    // answer the hook sees (as Node's does).
    let r = parse_responses(&sim.take(c)).pop().unwrap();
    assert_eq!((r.text(), r.header("x-every")), ("1", Some("1")));
    assert_eq!(calls_taken(&calls), [("headers", path)]);
}

#[test]
fn header_hooks_run_on_every_101() {
    let calls = Calls::default();
    let mut sim = Sim::new(header_app(&calls, |_| {}), Instant::now());
    // A WebSocket handshake: initial_headers, then headers, on its 101.
    let c = sim.connect();
    sim.send(c, ws_request("EIO=4&transport=websocket", "").as_bytes());
    let (head, rest) = split_101(&sim.take(c));
    assert!(head.contains("\r\nX-Initial: 1\r\n"), "{head}");
    assert!(head.contains("\r\nX-Every: 1\r\n"), "{head}");
    assert!(texts(&parse_frames(&rest))[0].starts_with("0{"));
    let query = "/socket.io/?EIO=4&transport=websocket".to_owned();
    assert_eq!(
        calls_taken(&calls),
        [("initial_headers", query.clone()), ("headers", query)]
    );
    // The 101 of an upgrade: headers only; and that of an upgrade refused after its 101.
    let (_, sid) = sim.polling_open();
    calls_taken(&calls);
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    for _ in 0..2 {
        let c = sim.connect();
        sim.send(c, ws_request(&query, "").as_bytes());
        let (head, _) = split_101(&sim.take(c));
        assert!(!head.contains("X-Initial"), "{head}");
        assert!(head.contains("\r\nX-Every: 1\r\n"), "{head}");
        assert_eq!(
            calls_taken(&calls),
            [("headers", format!("/socket.io/?{query}"))]
        );
    }
    // A refused WebSocket handshake runs none.
    let c = sim.connect();
    sim.send(c, ws_request("EIO=3&transport=websocket", "").as_bytes());
    assert_eq!(parse_responses(&sim.take(c))[0].status, 400);
    assert_eq!(calls_taken(&calls), []);
}

#[test]
fn header_hooks_see_the_servers_headers_and_can_not_break_the_answer() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let app = App::engine()
        .configure(|c| {
            c.cookie = Some(corelay_core::Cookie::default());
            c.cors = Some(corelay_core::Cors::any());
        })
        .on_initial_headers(move |headers, _| {
            let all: Vec<(String, String)> = headers
                .iter()
                .map(|(n, v)| (n.to_owned(), v.to_owned()))
                .collect();
            seen2.lock().unwrap().push(all);
            // Replace what the server would write; what would break the answer is dropped.
            assert!(headers.set("content-type", "text/plain"));
            // (The 101 of a WebSocket handshake has no cookie, as in Node.)
            headers.remove("Set-Cookie");
            assert!(headers.append("Set-Cookie", "a=1"));
            assert!(headers.append("set-cookie", "b=2"));
            assert!(!headers.set("X-Split\r\nX-Injected", "1"));
            assert!(!headers.set("X-Value", "a\r\nX-Injected: 1"));
            assert!(!headers.set("X-Nul", "a\0"));
            assert!(!headers.set("", "empty name"));
            assert!(!headers.set("Content-Length", "0"));
            assert!(!headers.set("transfer-encoding", "chunked"));
            assert!(!headers.set("Connection", "close"));
            assert!(!headers.set("Upgrade", "h2c"));
            assert!(!headers.set("Sec-WebSocket-Accept", "x"));
        })
        .on_headers(|headers, _| {
            assert_eq!(
                headers.get_all("SET-COOKIE").collect::<Vec<_>>(),
                ["a=1", "b=2"]
            );
            assert!(headers.set("X-Tab", "a\tb"));
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.connect();
    let r = sim
        .request(
            c,
            "GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n\r\n",
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("0{\"sid\":"), "{}", r.text());
    let sid = &r.text()[9..29];
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [vec![
            (
                "Content-Type".to_owned(),
                "text/plain; charset=UTF-8".to_owned()
            ),
            (
                "Set-Cookie".to_owned(),
                format!("io={sid}; Path=/; HttpOnly; SameSite=Lax")
            ),
            ("Access-Control-Allow-Origin".to_owned(), "*".to_owned()),
        ]]
    );
    let names: Vec<(&str, &str)> = r
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("content-type", "text/plain"),
            ("Access-Control-Allow-Origin", "*"),
            ("Set-Cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("X-Tab", "a\tb"),
            ("Content-Length", &*r.body.len().to_string()),
            ("Connection", "keep-alive"),
        ]
    );
    // The WebSocket 101 keeps its own headers too.
    sim.send(
        c,
        ws_request("EIO=4&transport=websocket", "")
            .replace("/socket.io/", "/engine.io/")
            .as_bytes(),
    );
    let (head, _) = split_101(&sim.take(c));
    // Its hooks see the `cors` headers and no cookie, as Node's do.
    assert_eq!(
        std::mem::take(&mut *seen.lock().unwrap()),
        [vec![(
            "Access-Control-Allow-Origin".to_owned(),
            "*".to_owned()
        )]]
    );
    assert!(
        head.starts_with(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
        ),
        "{head}"
    );
    assert!(
        head.ends_with("\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX-Tab: a\tb\r\n\r\n"),
        "{head}"
    );
    assert!(
        !head.contains("Injected") && !head.contains("h2c"),
        "{head}"
    );
}

#[test]
fn response_headers_set_replaces_in_place_and_append_keeps() {
    let mut h = ResponseHeaders::new();
    assert!(h.is_empty());
    assert!(h.append("A", "1"));
    assert!(h.append("B", "2"));
    assert!(h.append("a", "3"));
    assert!(h.set("C", "4"));
    assert_eq!(h.get_all("A").collect::<Vec<_>>(), ["1", "3"]);
    // `set` takes the place of the first of that name, and drops the others.
    assert!(h.set("a", "5"));
    assert_eq!(
        h.iter().collect::<Vec<_>>(),
        [("a", "5"), ("B", "2"), ("C", "4")]
    );
    assert_eq!(h.get("b"), Some("2"));
    assert!(h.remove("B") && !h.remove("B"));
    assert_eq!(h.len(), 2);
    // A dropped header leaves the others as they were.
    assert!(!h.set("a", "x\ny"));
    assert_eq!(h.get("a"), Some("5"));
}
