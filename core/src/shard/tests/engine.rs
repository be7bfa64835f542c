//! Engine.IO rules in simulated time.

use super::*;

#[test]
fn polling_handshake_sends_the_open_packet() {
    let mut sim = Sim::new(app(), Instant::now());
    let c = sim.connect();
    let r = sim
        .get(c, "/socket.io/?EIO=4&transport=polling&t=abc")
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=UTF-8"));
    let text = r.text();
    assert!(text.starts_with("0{\"sid\":\""), "{text}");
    let sid = &text[9..29];
    assert_eq!(
        &text[29..],
        "\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"
    );
    assert!(sid
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(crate::sid::shard_of(sid), Some(0));
    assert!(!sim.is_shut(c), "keep-alive connection stays open");
}

#[test]
fn the_connect_answer_is_written_alone_over_websocket() {
    // Node writes `40{"sid":…}` by itself; what the connection handler emits comes in a later
    // write, at the next turn of the event loop (a deadline at the same instant).
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.feed(
        c,
        &ws::encode_client_frame(OpCode::Text, true, b"40", [1, 2, 3, 4]),
    );
    let conn = sim.location(c).1.unwrap();
    let shard = sim.shard(0);
    let mut slices = [std::io::IoSlice::new(&[]); 8];
    let n = shard.send_queue(conn, &mut slices);
    assert_eq!(n, 1, "the first write holds the CONNECT answer only");
    let first = parse_frames(&slices[0]);
    drop(shard);
    assert!(texts(&first)[0].starts_with("40{\"sid\":\""), "{first:?}");
    let writes = sim.take_writes(c);
    assert_eq!(writes.len(), 2, "two writes");
    assert!(texts(&parse_frames(&writes[0]))[0].starts_with("40{"));
    assert_eq!(texts(&parse_frames(&writes[1])), vec!["42[\"auth\",{}]"]);
    // Later messages go out in one write each input, as before.
    sim.ws_text(c, "42[\"message\",1]");
    sim.ws_text(c, "42[\"message\",2]");
    assert_eq!(sim.take_writes(c).len(), 2);
}

#[test]
fn websocket_handshake_sends_open_with_no_upgrades() {
    let mut sim = Sim::new(app(), Instant::now());
    let (_, rest) = sim.ws_open("EIO=4&transport=websocket");
    let frames = texts(&parse_frames(&rest));
    assert_eq!(frames.len(), 1);
    assert!(frames[0].contains("\"upgrades\":[]"), "{}", frames[0]);
}

#[test]
fn engine_errors_have_node_codes_and_bodies() {
    let cases = [
        (
            "GET /socket.io/?EIO=4&transport=carrier-pigeon",
            400,
            r#"{"code":0,"message":"Transport unknown"}"#,
        ),
        (
            "GET /socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
            400,
            r#"{"code":1,"message":"Session ID unknown"}"#,
        ),
        (
            "POST /socket.io/?EIO=4&transport=polling",
            400,
            r#"{"code":2,"message":"Bad handshake method"}"#,
        ),
        (
            "GET /socket.io/?EIO=4&transport=websocket",
            400,
            r#"{"code":3,"message":"Bad request"}"#,
        ),
        (
            "GET /socket.io/?EIO=3&transport=polling",
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
        (
            "GET /socket.io/?transport=polling",
            400,
            r#"{"code":5,"message":"Unsupported protocol version"}"#,
        ),
    ];
    for (line, status, body) in cases {
        let mut sim = Sim::new(app(), Instant::now());
        let c = sim.connect();
        let r = sim
            .request(c, &format!("{line} HTTP/1.1\r\nHost: x\r\n\r\n"))
            .unwrap();
        assert_eq!(r.status, status, "{line}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{line}");
        assert_eq!(r.text(), body, "{line}");
    }
}

#[test]
fn transport_mismatch_and_other_methods() {
    let mut sim = Sim::new(app(), Instant::now());
    let (_, sid) = sim.polling_open();
    let c = sim.connect();
    let r = sim
        .request(
            c,
            &format!(
                "PUT /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\n\r\n"
            ),
        )
        .unwrap();
    assert_eq!(r.status, 500);
    // A WebSocket session refuses polling requests.
    let (_, rest) = sim.ws_open("EIO=4&transport=websocket");
    let open = &texts(&parse_frames(&rest))[0];
    let wsid = &open[9..29];
    let r = sim
        .get(
            c,
            &format!("/socket.io/?EIO=4&transport=polling&sid={wsid}"),
        )
        .unwrap();
    assert_eq!(r.text(), r#"{"code":3,"message":"Bad request"}"#);
}

#[test]
fn failed_upgrade_is_a_plain_400_and_closes() {
    let mut sim = Sim::new(app(), Instant::now());
    let c = sim.connect();
    sim.send(
        c,
        b"GET /socket.io/?EIO=4&transport=websocket&sid=nope HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let bytes = sim.take(c);
    let r = &parse_responses(&bytes)[0];
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), "Session ID unknown");
    assert!(sim.is_shut(c));
}

#[test]
fn polling_get_is_held_until_a_packet_is_ready() {
    let mut sim = Sim::new(app(), Instant::now());
    let (_, sid) = sim.polling_open();
    let g = sim.connect();
    assert!(sim
        .get(g, &format!("/socket.io/?EIO=4&transport=polling&sid={sid}"))
        .is_none());
    let p = sim.connect();
    let r = sim
        .post(
            p,
            &format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
            "40",
        )
        .unwrap();
    assert_eq!((r.status, r.text()), (200, "ok"));
    assert_eq!(r.header("content-type"), Some("text/html"));
    let held = parse_responses(&sim.take(g));
    assert_eq!(held.len(), 1);
    let body = held[0].text();
    let packets: Vec<&str> = body.split('\u{1e}').collect();
    assert!(packets[0].starts_with("40{\"sid\":\""), "{body}");
    assert_eq!(packets[1], "42[\"auth\",{}]");
}

#[test]
fn a_second_get_while_one_is_held_is_refused_and_closes_the_session() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, sid) = sim.polling_open();
    sim.post(
        c,
        &format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        "40",
    )
    .unwrap();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let r = sim.get(c, &q).unwrap();
    assert!(r.text().starts_with("40"));
    let g1 = sim.connect();
    assert!(sim.get(g1, &q).is_none());
    let g2 = sim.connect();
    let r = sim.get(g2, &q).unwrap();
    assert_eq!(r.status, 400);
    let first = parse_responses(&sim.take(g1));
    assert_eq!(first[0].text(), "1", "the held GET gets the close packet");
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect transport error"
    );
    let r = sim.get(c, &q).unwrap();
    assert_eq!(r.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
}

#[test]
fn oversized_post_gets_413_and_binary_content_type_is_refused() {
    let mut sim = Sim::new(
        echo_app(Arc::default(), |c| c.max_http_buffer_size = 100),
        Instant::now(),
    );
    let (_, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let p = sim.connect();
    let r = sim.post(p, &q, &"4".repeat(101)).unwrap();
    assert_eq!(r.status, 413);
    assert!(sim.is_shut(p));
    // Chunked bodies are bounded too.
    let p = sim.connect();
    let big = "x".repeat(200);
    let r = sim
        .request(p, &format!("POST {q} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nc8\r\n{big}\r\n0\r\n\r\n"))
        .unwrap();
    assert_eq!(r.status, 413);
    // The session is still there.
    let p = sim.connect();
    let r = sim.post(p, &q, "40").unwrap();
    assert_eq!(r.text(), "ok");
    let p = sim.connect();
    let r = sim
        .request(p, &format!("POST {q} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\n\r\n40"))
        .unwrap();
    assert_eq!(r.status, 400);
    let r = sim.get(p, &q).unwrap();
    assert_eq!(r.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
}

#[test]
fn chunked_post_is_decoded() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let r = sim
        .request(c, &format!("POST {q} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n4\r\n1\r\n0\r\n0\r\n\r\n"))
        .unwrap();
    assert_eq!(r.text(), "ok");
    let r = sim.get(c, &q).unwrap();
    assert!(r.text().starts_with("40{\"sid\""), "{}", r.text());
}

#[test]
fn heartbeat_pings_and_times_out() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, _) = ws_client(&mut sim);
    for _ in 0..3 {
        sim.advance(Duration::from_millis(25_000));
        assert_eq!(texts(&sim.ws_recv(c)), vec!["2"]);
        sim.advance(Duration::from_millis(19_999));
        sim.ws_text(c, "3");
        assert!(!sim.is_shut(c));
    }
    sim.advance(Duration::from_millis(25_000));
    assert_eq!(texts(&sim.ws_recv(c)), vec!["2"]);
    sim.advance(Duration::from_millis(20_000));
    sim.take(c);
    assert!(sim.is_shut(c));
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect ping timeout"
    );
}

#[test]
fn polling_session_times_out_without_pong() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(
        echo_app(log.clone(), |c| {
            c.ping_interval = Duration::from_millis(300);
            c.ping_timeout = Duration::from_millis(200);
        }),
        Instant::now(),
    );
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(c, &q, "40").unwrap();
    sim.get(c, &q).unwrap();
    assert!(sim.get(c, &q).is_none());
    sim.advance(Duration::from_millis(300));
    let r = parse_responses(&sim.take(c));
    assert_eq!(r[0].text(), "2");
    sim.advance(Duration::from_millis(200));
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect ping timeout"
    );
}

#[test]
fn a_client_ping_is_a_transport_error() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "2");
    sim.take(c);
    assert!(sim.is_shut(c));
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect transport error"
    );
}

#[test]
fn close_packet_from_the_client_is_a_transport_close() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(c, &q, "40").unwrap();
    sim.post(c, &q, "1").unwrap();
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect transport close"
    );
}

#[test]
fn a_close_packet_while_a_get_is_held_answers_it_with_a_noop_and_ends_the_session() {
    // As Node: the held GET gets `6` (not `1`), and the session is forgotten at once.
    for app in [app(), engine_app()] {
        let mut sim = Sim::new(app, Instant::now());
        let (c, sid) = sim.polling_open();
        let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        sim.post(c, &q, "40").unwrap();
        let held = sim.connect();
        sim.get(held, &q); // the CONNECT answer, if any
        assert!(sim.get(held, &q).is_none(), "held");
        let r = sim.post(c, &q, "1").unwrap();
        assert_eq!(r.text(), "ok");
        let answers = parse_responses(&sim.take(held));
        assert_eq!(answers.len(), 1);
        assert_eq!(answers[0].text(), "6");
        assert_eq!(sim.shard(0).stats().sessions, 0);
        for r in [sim.get(held, &q).unwrap(), sim.post(c, &q, "3").unwrap()] {
            assert_eq!(r.status, 400);
            assert_eq!(r.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
        }
    }
}

#[test]
fn upgrade_sequence_moves_the_session_to_the_websocket() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(c, &q, "40").unwrap();
    let r = sim.get(c, &q).unwrap();
    assert!(r.text().starts_with("40"));
    assert!(sim.get(c, &q).is_none(), "GET held");
    let (w, rest) = sim.ws_open(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(rest.is_empty());
    sim.ws_text(w, "2probe");
    assert_eq!(texts(&sim.ws_recv(w)), vec!["3probe"]);
    let r = parse_responses(&sim.take(c));
    assert_eq!(r[0].text(), "6", "the held GET is answered with a noop");
    // A packet sent before the upgrade completes goes over polling.
    let p = sim.connect();
    sim.post(p, &q, "42[\"message\",1]").unwrap();
    sim.ws_text(w, "5");
    let r = sim.get(c, &q).unwrap();
    assert_eq!(
        r.text(),
        r#"{"code":3,"message":"Bad request"}"#,
        "polling refused after upgrade"
    );
    // The queued answer moved to the WebSocket.
    assert_eq!(texts(&sim.ws_recv(w)), vec!["42[\"message-back\",1]"]);
    sim.ws_text(w, "42[\"message\",2]");
    assert_eq!(texts(&sim.ws_recv(w)), vec!["42[\"message-back\",2]"]);
    // A second WebSocket for the same session is closed.
    let (w2, rest) = sim.ws_open(&format!("EIO=4&transport=websocket&sid={sid}"));
    assert_eq!(parse_frames(&rest)[0].0, 8, "close frame");
    assert!(sim.is_shut(w2));
}

#[test]
fn upgrade_times_out_and_a_wrong_probe_packet_cancels_it() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (w, _) = sim.ws_open(&format!("EIO=4&transport=websocket&sid={sid}"));
    sim.advance(Duration::from_secs(10));
    let frames = sim.ws_recv(w);
    assert_eq!(frames.last().unwrap().0, 8);
    assert!(sim.is_shut(w));
    let (w, _) = sim.ws_open(&format!("EIO=4&transport=websocket&sid={sid}"));
    sim.ws_text(w, "40");
    assert_eq!(sim.ws_recv(w).last().unwrap().0, 8);
    // The session carries on over polling.
    let r = sim.post(c, &q, "40").unwrap();
    assert_eq!(r.text(), "ok");
}

#[test]
fn malformed_engine_packets_close_with_parse_error() {
    for bad in ["9", "", "b!!!"] {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
        let (c, _) = ws_client(&mut sim);
        sim.ws_text(c, bad);
        sim.take(c);
        assert!(sim.is_shut(c), "{bad:?}");
        assert_eq!(
            log.lock().unwrap().last().unwrap(),
            "disconnect parse error",
            "{bad:?}"
        );
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(c, &q, "40").unwrap();
    let r = sim.post(c, &q, "42[\"message\"]\u{1e}9").unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect parse error"
    );
}

#[test]
fn bad_websocket_frames_get_close_codes() {
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (vec![0x81, 0x01, b'4'], 1002), // unmasked
        (
            ws::encode_client_frame(OpCode::Text, true, &[0xff, 0xfe], [9, 9, 9, 9]),
            1007,
        ),
        (
            ws::encode_client_frame(OpCode::Binary, true, &[0; 200], [1, 1, 1, 1]),
            1009,
        ),
        (vec![0x83, 0x80, 0, 0, 0, 0], 1002), // reserved opcode
    ];
    for (frame, code) in cases {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut sim = Sim::new(
            echo_app(log.clone(), |c| c.max_http_buffer_size = 100),
            Instant::now(),
        );
        let (c, _) = ws_client(&mut sim);
        sim.send(c, &frame);
        let frames = sim.ws_recv(c);
        let (op, payload) = frames.last().unwrap();
        assert_eq!(*op, 8);
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
        assert!(sim.is_shut(c));
        assert_eq!(
            log.lock().unwrap().last().unwrap(),
            "disconnect transport error"
        );
    }
}

#[test]
fn websocket_ping_gets_pong_and_close_is_answered() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_send(c, OpCode::Ping, b"hi");
    assert_eq!(sim.ws_recv(c), vec![(10, b"hi".to_vec())]);
    let mut close = 1000u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"bye");
    sim.ws_send(c, OpCode::Close, &close);
    let frames = sim.ws_recv(c);
    assert_eq!(frames, vec![(8, 1000u16.to_be_bytes().to_vec())]);
    assert!(sim.is_shut(c));
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect transport close"
    );
    // The peer's end completes the close.
    sim.disconnect(c);
    sim.take(c);
    assert!(sim.is_closed(c));
    assert_eq!(sim.shard(0).stats(), Stats::default());
}

#[test]
fn fragmented_messages_with_interleaved_ping() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    let mut bytes = ws::encode_client_frame(OpCode::Text, false, b"42[\"mess", [1, 2, 3, 4]);
    bytes.extend(ws::encode_client_frame(
        OpCode::Ping,
        true,
        b"",
        [5, 6, 7, 8],
    ));
    bytes.extend(ws::encode_client_frame(
        OpCode::Continuation,
        true,
        b"age\",\"x\"]",
        [4, 3, 2, 1],
    ));
    // Delivered a byte at a time.
    for b in bytes {
        sim.send(c, &[b]);
    }
    let frames = sim.ws_recv(c);
    assert_eq!(frames[0], (10, vec![]));
    assert_eq!(texts(&frames), vec!["42[\"message-back\",\"x\"]"]);
}

#[test]
fn bad_http_heads() {
    let mut sim = Sim::new(app(), Instant::now());
    let c = sim.connect();
    let r = sim
        .request(c, "GET / HTTP/1.1\r\nHo st: x\r\n\r\n")
        .unwrap();
    assert_eq!(r.status, 400);
    assert!(sim.is_shut(c));
    let c = sim.connect();
    let big = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let r = sim.request(c, &big).unwrap();
    assert_eq!(r.status, 431);
    let c = sim.connect();
    let r = sim.get(c, "/elsewhere").unwrap();
    assert_eq!(r.status, 404);
}

#[test]
fn keep_alive_serves_several_requests_and_pipelining_waits_for_the_held_get() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // A held GET with a POST pipelined behind it on the same connection.
    let raw = format!(
        "GET {q} HTTP/1.1\r\nHost: x\r\n\r\nPOST {q} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n40"
    );
    sim.send(c, raw.as_bytes());
    assert!(sim.take(c).is_empty());
    let other = sim.connect();
    sim.post(other, &q, "40").unwrap();
    let rs = parse_responses(&sim.take(c));
    assert!(rs[0].text().starts_with("40{"), "{:?}", rs[0].text());
    // The pipelined POST ran after the held answer (a second CONNECT to "/" then closes the
    // session).
    assert_eq!(rs[1].text(), "ok");
    let r = sim.get(c, &q).unwrap();
    assert!(r.text().ends_with('1'), "{}", r.text());
    assert_eq!(sim.shard(0).stats().sessions, 0);
}

#[test]
fn cors_headers_and_preflight() {
    let mut sim = Sim::new(
        echo_app(Arc::default(), |c| c.cors = Some(crate::Cors::any())),
        Instant::now(),
    );
    let c = sim.connect();
    let r = sim
        .request(c, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n\r\n")
        .unwrap();
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    let r = sim
        .request(
            c,
            "OPTIONS /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n\
             Access-Control-Request-Headers: content-type\r\n\r\n",
        )
        .unwrap();
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET,HEAD,PUT,PATCH,POST,DELETE")
    );
    assert_eq!(
        r.header("access-control-allow-headers"),
        Some("content-type")
    );
    // Without the setting, no CORS header.
    let mut sim = Sim::new(app(), Instant::now());
    let c = sim.connect();
    let r = sim
        .request(c, "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\n\r\n")
        .unwrap();
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn connect_timeout_closes_a_session_without_namespace() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.advance(Duration::from_millis(44_999));
    assert!(!sim.is_shut(c));
    sim.advance(Duration::from_millis(1));
    let frames = sim.ws_recv(c);
    assert_eq!(frames.last().unwrap().0, 8);
    assert!(sim.is_shut(c));
    assert_eq!(sim.shard(0).stats().sessions, 0);
}

#[test]
fn shutdown_disconnects_everyone_and_flushes() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (w, _) = ws_client(&mut sim);
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(c, &q, "40").unwrap();
    sim.get(c, &q).unwrap();
    assert!(sim.get(c, &q).is_none());
    let idle = sim.connect();
    let now = sim.now();
    sim.shard_mut(0).shutdown(now);
    sim.pump();
    let frames = sim.ws_recv(w);
    assert_eq!(frames.last().unwrap().0, 8);
    assert!(sim.is_shut(w));
    assert!(sim.is_closed(idle));
    let r = parse_responses(&sim.take(c));
    assert_eq!(r[0].text(), "1");
    let reasons = log.lock().unwrap().clone();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| *r == "disconnect server shutting down")
            .count(),
        2
    );
    assert_eq!(sim.shard(0).stats().sessions, 0);
}

#[test]
fn lingering_connections_are_dropped_after_a_while() {
    let mut sim = Sim::new(app(), Instant::now());
    let c = sim.connect();
    sim.get(c, "/socket.io/?EIO=4&transport=nope").unwrap();
    let c2 = sim.connect();
    sim.request(c2, "GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(sim.is_shut(c2) && !sim.is_closed(c2));
    sim.advance(Duration::from_secs(5));
    sim.take(c2);
    assert!(sim.is_closed(c2));
    assert!(!sim.is_closed(c));
}

#[test]
fn a_slow_reader_is_closed_at_max_send_buffer() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(
        echo_app(log.clone(), |c| c.max_send_buffer = 1000),
        Instant::now(),
    );
    let (c, _) = ws_client(&mut sim);
    let msg = format!("42[\"message\",\"{}\"]", "x".repeat(100));
    for _ in 0..8 {
        // Nothing is written between messages: the client reads nothing.
        let frame = ws::encode_client_frame(OpCode::Text, true, msg.as_bytes(), [1, 2, 3, 4]);
        sim.feed(c, &frame);
    }
    assert!(log.lock().unwrap().is_empty(), "under the limit");
    for _ in 0..3 {
        let frame = ws::encode_client_frame(OpCode::Text, true, msg.as_bytes(), [1, 2, 3, 4]);
        sim.feed(c, &frame);
    }
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect transport error"
    );
    // What was queued before the close is still delivered, then the close frame.
    let frames = sim.ws_recv(c);
    assert_eq!(
        texts(&frames).len(),
        9,
        "8 under the limit, the 9th passes it"
    );
    assert_eq!(frames.last().unwrap().0, 8);

    // Polling: the queue waiting for a GET is bounded the same way.
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(
        echo_app(log.clone(), |c| c.max_send_buffer = 1000),
        Instant::now(),
    );
    let (p, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(p, &q, "40").unwrap();
    for _ in 0..12 {
        sim.post(p, &q, &msg).unwrap();
    }
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect transport error"
    );
}

#[test]
fn allow_request_refuses_with_403_and_the_polling_handshake_sets_the_cookie() {
    let app = App::builder()
        .configure(|c| c.cookie = Some(crate::Cookie::default()))
        .allow_request(|head| head.header("x-token") == Some("ok"))
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.connect();
    let r = sim.get(c, "/socket.io/?EIO=4&transport=polling").unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.text(), r#"{"code":4,"message":"Forbidden"}"#);
    let r = sim
        .request(
            c,
            "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Token: ok\r\n\r\n",
        )
        .unwrap();
    assert_eq!(r.status, 200);
    let sid = &r.text()[9..29];
    assert_eq!(
        r.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    // A refused WebSocket handshake is a plain 400.
    let w = sim.connect();
    sim.send(
        w,
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let r = &parse_responses(&sim.take(w))[0];
    assert_eq!((r.status, r.text()), (400, "Forbidden"));
    // An accepted one has no cookie in its 101: Node's WebSocket transport never emits the
    // `headers` event that adds it.
    let w = sim.connect();
    sim.send(
        w,
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nX-Token: ok\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let bytes = String::from_utf8_lossy(&sim.take(w)).into_owned();
    assert!(bytes.starts_with("HTTP/1.1 101"), "{bytes}");
    assert!(!bytes.contains("Set-Cookie"), "{bytes}");
}

#[test]
fn a_server_close_over_polling_sends_what_is_queued_before_the_close_packet() {
    // Node's engine.io closes a polling transport once its buffer has drained: the packets
    // queued before the close (here the DISCONNECT of `disconnect(true)`) leave in one answer
    // and the close packet in a later one. In one answer the client would read the close
    // first (the socket.io client hands packets on a tick later) and report "transport
    // close" instead of "io server disconnect".
    for held in [false, true] {
        let mut sim = Sim::new(app(), Instant::now());
        let (c, sid) = sim.polling_open();
        let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
        sim.post(c, &q, "40").unwrap();
        assert!(sim.get(c, &q).unwrap().text().starts_with("40"));
        let g = sim.connect();
        if held {
            assert!(sim.get(g, &q).is_none(), "held");
        }
        let p = sim.connect();
        assert_eq!(sim.post(p, &q, "42[\"close-me\"]").unwrap().text(), "ok");
        let first = match held {
            true => parse_responses(&sim.take(g)).remove(0),
            false => sim.get(g, &q).unwrap(),
        };
        assert_eq!(first.text(), "41", "held: {held}");
        let second = sim.get(g, &q).expect("the close packet at once");
        assert_eq!(second.text(), "1", "held: {held}");
        let r = sim.get(g, &q).unwrap();
        assert_eq!(r.status, 400, "the session is gone");
    }
}
