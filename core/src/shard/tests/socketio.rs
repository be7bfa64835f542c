//! Socket.IO rules in simulated time.

use std::io::IoSlice;

use super::*;

#[test]
fn two_namespaces_on_one_connection_with_auth() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "40/custom,{\"token\":\"abc\"}");
    let frames = texts(&sim.ws_recv(c));
    assert!(frames[0].starts_with("40/custom,{\"sid\":\""), "{frames:?}");
    assert_eq!(frames[1], "42/custom,[\"auth\",{\"token\":\"abc\"}]");
    sim.ws_text(c, "42/custom,[\"message\",\"a\",{\"b\":[1,2]}]");
    sim.ws_text(c, "42[\"message\",3]");
    assert_eq!(
        texts(&sim.ws_recv(c)),
        vec![
            "42/custom,[\"message-back\",\"a\",{\"b\":[1,2]}]",
            "42[\"message-back\",3]"
        ]
    );
    assert_eq!(sim.shard(0).stats().sockets, 2);
}

#[test]
fn unknown_namespace_is_refused_and_the_connection_stays() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "40/nope,");
    assert_eq!(
        texts(&sim.ws_recv(c)),
        vec!["44/nope,{\"message\":\"Invalid namespace\"}"]
    );
    sim.ws_text(c, "42[\"message\"]");
    assert_eq!(texts(&sim.ws_recv(c)), vec!["42[\"message-back\"]"]);
}

#[test]
fn middleware_refusal_is_a_connect_error_with_data() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.middleware(|hs| {
                if hs.auth().contains("secret") {
                    Ok(())
                } else {
                    Err(crate::ConnectError {
                        message: "not authorized".into(),
                        data: Some("{\"code\":42}".into()),
                    })
                }
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (c, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.ws_text(c, "40{\"token\":\"nope\"}");
    assert_eq!(
        texts(&sim.ws_recv(c)),
        vec!["44{\"message\":\"not authorized\",\"data\":{\"code\":42}}"]
    );
    sim.ws_text(c, "40{\"token\":\"secret\"}");
    assert!(texts(&sim.ws_recv(c))[0].starts_with("40{\"sid\""));
}

#[test]
fn acks_from_the_client_side() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "42/,7[\"message-with-ack\",\"x\",1]");
    sim.ws_text(c, "4212[\"message-with-ack\"]");
    assert_eq!(texts(&sim.ws_recv(c)), vec!["437[\"x\",1]", "4312[]"]);
}

#[test]
fn server_acks_answer_and_time_out() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "42[\"request-ack\"]");
    assert_eq!(texts(&sim.ws_recv(c)), vec!["420[\"ask\"]"]);
    sim.ws_text(c, "430[\"a\",\"b\"]");
    assert_eq!(texts(&sim.ws_recv(c)), vec!["42[\"ack-result\",\"ok 2\"]"]);
    // A second answer to the same id is ignored: acks are one-shot.
    sim.ws_text(c, "430[]");
    assert!(sim.ws_recv(c).is_empty());
    sim.ws_text(c, "42[\"request-ack\"]");
    assert_eq!(texts(&sim.ws_recv(c)), vec!["421[\"ask\"]"]);
    sim.advance(Duration::from_millis(1999));
    assert!(sim.ws_recv(c).is_empty());
    sim.advance(Duration::from_millis(1));
    assert_eq!(
        texts(&sim.ws_recv(c)),
        vec!["42[\"ack-result\",\"operation has timed out\"]"]
    );
    sim.ws_text(c, "431[]");
    assert!(sim.ws_recv(c).is_empty());
}

#[test]
fn binary_events_round_trip_over_both_transports() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "452-[\"message\",{\"_placeholder\":true,\"num\":0},{\"k\":{\"_placeholder\":true,\"num\":1}}]");
    assert!(sim.ws_recv(c).is_empty(), "waiting for attachments");
    sim.ws_send(c, OpCode::Binary, &[1, 2, 3]);
    sim.ws_send(c, OpCode::Binary, &[]);
    let frames = sim.ws_recv(c);
    assert_eq!(
        texts(&frames),
        vec!["452-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"k\":{\"_placeholder\":true,\"num\":1}}]"]
    );
    assert_eq!(frames[1], (2, vec![1, 2, 3]));
    assert_eq!(frames[2], (2, vec![]));

    let (p, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(p, &q, "40").unwrap();
    sim.get(p, &q).unwrap();
    let body = "451-[\"message\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID";
    sim.post(p, &q, body).unwrap();
    let r = sim.get(p, &q).unwrap();
    assert_eq!(
        r.text(),
        "451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\u{1e}bAQID"
    );
}

#[test]
fn rooms_reach_exactly_their_members() {
    let mut sim = Sim::new(app(), Instant::now());
    let (a, _) = ws_client(&mut sim);
    let (b, _) = ws_client(&mut sim);
    let (c, c_id) = ws_client(&mut sim);
    sim.ws_text(a, "42[\"join\",\"r1\"]");
    sim.ws_text(b, "42[\"join\",\"r1\"]");
    sim.ws_text(b, "42[\"join\",\"r1\"]");
    sim.ws_text(c, "42[\"to\",\"r1\",\"hello\"]");
    assert_eq!(texts(&sim.ws_recv(a)), vec!["42[\"tick\",\"hello\"]"]);
    assert_eq!(
        texts(&sim.ws_recv(b)),
        vec!["42[\"tick\",\"hello\"]"],
        "once, though joined twice"
    );
    assert!(sim.ws_recv(c).is_empty());
    // A socket id is a room.
    sim.ws_text(a, &format!("42[\"to\",\"{c_id}\",1]"));
    assert_eq!(texts(&sim.ws_recv(c)), vec!["42[\"tick\",1]"]);
    assert!(sim.ws_recv(a).is_empty());
    sim.ws_text(a, "42[\"leave\",\"r1\"]");
    sim.ws_text(c, "42[\"to\",\"r1\",2]");
    assert!(sim.ws_recv(a).is_empty());
    assert_eq!(texts(&sim.ws_recv(b)), vec!["42[\"tick\",2]"]);
    // Rooms in another namespace are separate.
    sim.ws_text(c, "40/custom,");
    sim.ws_recv(c);
    sim.ws_text(c, "42/custom,[\"to\",\"r1\",3]");
    assert!(sim.ws_recv(b).is_empty());
}

#[test]
fn broadcast_frames_are_shared_between_recipients() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on("all", |s, e| s.within().emit("tick", &e.args).unwrap())
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let mut conns = Vec::new();
    for _ in 0..3 {
        let (c, _) = sim.ws_open("EIO=4&transport=websocket");
        sim.ws_text(c, "40");
        sim.take(c);
        conns.push(c);
    }
    let frame = ws::encode_client_frame(OpCode::Text, true, b"42[\"all\",\"x\"]", [1, 2, 3, 4]);
    sim.feed(conns[0], &frame);
    // Look at the queues before they are written: the same allocation for everyone.
    let ptrs: Vec<*const u8> = conns
        .iter()
        .map(|&c| {
            let mut slices = [IoSlice::new(&[]); 4];
            let conn = sim.location(c).1.expect("open");
            let shard = sim.shard(0);
            let n = shard.send_queue(conn, &mut slices);
            assert_eq!(n, 1);
            slices[0].as_ptr()
        })
        .collect();
    assert!(ptrs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn server_and_client_namespace_disconnects() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "42[\"join\",\"r\"]");
    sim.ws_text(c, "42[\"disconnect-me\"]");
    assert_eq!(texts(&sim.ws_recv(c)), vec!["41"]);
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            "disconnecting server namespace disconnect rooms=2",
            "disconnect server namespace disconnect"
        ]
    );
    assert!(!sim.is_shut(c), "the connection stays");
    sim.ws_text(c, "40");
    sim.ws_recv(c);
    sim.ws_text(c, "41");
    assert_eq!(
        log.lock().unwrap().last().unwrap(),
        "disconnect client namespace disconnect"
    );
    assert_eq!(sim.shard(0).stats().sockets, 0);
    // disconnect(true) closes the whole connection.
    sim.ws_text(c, "40");
    sim.ws_recv(c);
    sim.ws_text(c, "42[\"close-me\"]");
    let frames = sim.ws_recv(c);
    assert_eq!(texts(&frames), vec!["41"]);
    assert_eq!(frames.last().unwrap().0, 8);
    assert!(sim.is_shut(c));
}

#[test]
fn invalid_packets_close_the_connection() {
    let cases = [
        "49",
        "45x-[\"a\"]",
        "45[\"a\"]",
        "42[\"a\"",
        "40[]",
        "40\"x\"",
        "41{}",
        "42{}",
        "42[]",
        "42[{}]",
        "42[\"disconnect\"]",
        "431{}",
        "4511-[\"a\"]",
        "42/custom,[\"message\"]",
        "40",
        "44{\"message\":\"x\"}",
    ];
    for bad in cases {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut sim = Sim::new(echo_app(log.clone(), |_| {}), Instant::now());
        let (c, _) = ws_client(&mut sim);
        sim.ws_text(c, bad);
        let frames = sim.ws_recv(c);
        assert_eq!(frames.last().map(|f| f.0), Some(8), "{bad:?} closes");
        assert!(sim.is_shut(c), "{bad:?}");
        let reason = log.lock().unwrap().last().cloned().unwrap();
        assert!(
            reason == "disconnect forced close" || reason == "disconnect forced server close",
            "{bad:?}: {reason}"
        );
    }
}

#[test]
fn binary_sequence_errors_close_the_connection() {
    let bad: Vec<Vec<(OpCode, &[u8])>> = vec![
        vec![(OpCode::Binary, b"\x01")],
        vec![
            (
                OpCode::Text,
                b"451-[\"message\",{\"_placeholder\":true,\"num\":0}]",
            ),
            (OpCode::Text, b"42[\"x\"]"),
        ],
        vec![
            (
                OpCode::Text,
                b"451-[\"message\",{\"_placeholder\":true,\"num\":3}]",
            ),
            (OpCode::Binary, b"\x01"),
        ],
    ];
    for seq in bad {
        let mut sim = Sim::new(app(), Instant::now());
        let (c, _) = ws_client(&mut sim);
        for (op, payload) in &seq {
            sim.ws_send(c, *op, payload);
        }
        sim.take(c);
        assert!(sim.is_shut(c), "{seq:?}");
    }
}

#[test]
fn handlers_see_the_handshake() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            ns.on_connection(move |s| {
                let q = s.query().get("token").map(str::to_owned);
                let ua = s.headers().get("user-agent").map(str::to_owned);
                seen2
                    .lock()
                    .unwrap()
                    .push((q, ua, s.auth().to_owned(), s.id().len()));
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.connect();
    sim.send(
        c,
        b"GET /socket.io/?EIO=4&transport=websocket&token=t%201 HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\
          Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
    );
    sim.take(c);
    sim.ws_text(c, "40{\"a\":1}");
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(
            Some("t 1".to_owned()),
            Some("test".to_owned()),
            "{\"a\":1}".to_owned(),
            20
        )]
    );
}

#[test]
fn reserved_names_can_not_be_emitted() {
    let result = Arc::new(Mutex::new(None));
    let r2 = result.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            ns.on_connection(move |s| {
                *r2.lock().unwrap() = Some(s.emit("disconnect", &()).is_err());
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (c, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.ws_text(c, "40");
    assert_eq!(*result.lock().unwrap(), Some(true));
}

#[test]
fn many_sockets_join_and_leave_rooms_consistently() {
    // Swap-removal bookkeeping: members keep their positions right as others leave.
    let mut sim = Sim::new(app(), Instant::now());
    let clients: Vec<(Client, String)> = (0..12).map(|_| ws_client(&mut sim)).collect();
    for (i, (c, _)) in clients.iter().enumerate() {
        sim.ws_text(*c, "42[\"join\",\"even-odd\"]");
        if i % 2 == 0 {
            sim.ws_text(*c, "42[\"join\",\"even\"]");
        }
    }
    for (i, (c, _)) in clients.iter().enumerate() {
        if i % 3 == 0 {
            sim.ws_text(*c, "42[\"leave\",\"even-odd\"]");
        }
        if i % 4 == 0 {
            sim.ws_text(*c, "41");
        }
    }
    sim.ws_text(clients[1].0, "42[\"to\",\"even-odd\",0]");
    sim.ws_text(clients[1].0, "42[\"to\",\"even\",1]");
    for (i, (c, _)) in clients.iter().enumerate() {
        let got = texts(&sim.ws_recv(*c));
        let mut want = Vec::new();
        let joined = i % 4 != 0;
        if joined && i % 3 != 0 {
            want.push("42[\"tick\",0]".to_owned());
        }
        if joined && i % 2 == 0 {
            want.push("42[\"tick\",1]".to_owned());
        }
        if i % 4 == 0 {
            assert!(
                got.is_empty() || got == vec!["41".to_owned()],
                "{i}: {got:?}"
            );
        } else {
            assert_eq!(got, want, "client {i}");
        }
    }
}

#[test]
fn what_a_task_sends_answers_a_held_polling_get() {
    // A task's work on the shard is no input: the shard still answers the GET a polling
    // client holds, as it does after an input (an async middleware admitting the socket, an
    // async handler's acknowledgement and emit).
    let app = App::builder()
        .namespace("/", |ns| {
            ns.middleware_async(|_| async { Ok(()) }).on_async(
                "later",
                |socket, event| async move {
                    socket.emit("first", &()).unwrap();
                    event.ack.unwrap().send(&"done").unwrap();
                },
            )
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (c, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let g = sim.connect();
    assert!(sim.get(g, &q).is_none(), "held");
    sim.post(c, &q, "40").unwrap();
    let answers = parse_responses(&sim.take(g));
    assert_eq!(answers.len(), 1, "the held GET is answered");
    assert!(answers[0].text().starts_with("40{\"sid\":\""));
    assert!(sim.get(g, &q).is_none(), "held again");
    sim.post(c, &q, "421[\"later\"]").unwrap();
    let answers = parse_responses(&sim.take(g));
    assert_eq!(answers.len(), 1, "the held GET is answered");
    // At the first emit, as Node answers a held GET with each packet sent.
    assert_eq!(answers[0].text(), "42[\"first\"]");
    assert_eq!(sim.get(g, &q).unwrap().text(), "431[\"done\"]");
}
