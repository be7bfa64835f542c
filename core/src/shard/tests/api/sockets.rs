//! What a socket is before and after it joins: middlewares (sync and async), its data,
//! its handshake.

use super::*;

#[test]
fn middlewares_run_in_order_and_the_first_refusal_is_a_connect_error() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let (l1, l2, l3, l4) = (log2.clone(), log2.clone(), log2.clone(), log2.clone());
            ns.middleware(move |_| {
                l1.push("first");
                Ok(())
            })
            .middleware(move |socket| {
                l2.push("second");
                match socket.auth_value()["deny"].as_bool() {
                    Some(true) => Err(ConnectError {
                        message: "denied".into(),
                        data: Some(r#"{"why":"test"}"#.into()),
                    }),
                    _ => Ok(()),
                }
            })
            .middleware(move |_| {
                l3.push("third");
                Ok(())
            })
            .on_connection(move |_| l4.push("connection"))
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = open(&mut sim, 0);
    assert_eq!(
        say(&mut sim, c, r#"40{"deny":true}"#),
        [r#"44{"message":"denied","data":{"why":"test"}}"#]
    );
    assert_eq!(log.take(), ["first", "second"]);
    assert_eq!(
        sim.shard(0).stats().sockets,
        0,
        "the refused socket is gone"
    );
    // The connection stays and may try again.
    let frames = say(&mut sim, c, r#"40{"deny":false}"#);
    assert!(frames[0].starts_with("40{\"sid\""), "{frames:?}");
    assert_eq!(log.take(), ["first", "second", "third", "connection"]);
}

#[test]
fn a_middleware_sees_the_socket_id_and_sets_data_the_handlers_read() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let (l1, l2, l3) = (log2.clone(), log2.clone(), log2.clone());
            ns.middleware(move |socket| {
                l1.push(format!("id {}", socket.id()));
                assert!(!socket.connected(), "not in the namespace yet");
                let name = socket.auth_value()["name"].as_str().unwrap().to_owned();
                socket.set_data(Player { name });
                Ok(())
            })
            .on("who", move |socket, _| {
                let name = &socket.data::<Player>().unwrap().name;
                l2.push(format!("sync {name}"));
                assert!(socket.data::<u32>().is_none(), "data of another type");
                socket.data_mut::<Player>().unwrap().name.push('!');
            })
            .on_async("who", move |socket, _| {
                let log = l3.clone();
                async move {
                    let player = socket.data::<Player>().unwrap();
                    log.push(format!("async {}", player.name));
                    socket.set_data(7u32).unwrap();
                    log.push(format!("now {:?}", socket.data::<u32>()));
                }
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (c, id) = join(&mut sim, 0, r#"40{"name":"ada"}"#);
    assert_eq!(log.take(), [format!("id {id}")]);
    sim.ws_text(c, r#"42["who"]"#);
    assert_eq!(log.take(), ["sync ada", "async ada!", "now Some(7)"]);
}

#[test]
fn an_async_middleware_delays_the_connect_answer_until_it_completes() {
    let log = Log::default();
    let gates = Gates::<bool>::default();
    let (log2, gates2) = (log.clone(), gates.clone());
    let app = App::builder()
        .namespace("/", move |ns| {
            let (l1, l2, l3, l4) = (log2.clone(), log2.clone(), log2.clone(), log2.clone());
            let gates = gates2.clone();
            ns.middleware(move |_| {
                l1.push("sync before");
                Ok(())
            })
            .middleware_async(move |socket| {
                let (log, gate) = (l2.clone(), gates.gate());
                async move {
                    log.push(format!(
                        "async waits, id known: {}",
                        !socket.id().is_empty()
                    ));
                    let allowed = gate.await.unwrap();
                    socket
                        .set_data(Player {
                            name: "checked".into(),
                        })
                        .unwrap();
                    match allowed {
                        true => Ok(()),
                        false => Err(ConnectError::new("not now")),
                    }
                }
            })
            .middleware(move |socket| {
                l3.push(format!("sync after {:?}", socket.data::<Player>()));
                Ok(())
            })
            .on_connection(move |_| l4.push("connection"))
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = open(&mut sim, 0);
    assert!(say(&mut sim, c, "40").is_empty(), "no answer yet");
    assert_eq!(log.take(), ["sync before", "async waits, id known: true"]);
    assert_eq!(sim.tasks(), 1);
    // Time passes (less than connect_timeout): still waiting.
    sim.advance(Duration::from_secs(10));
    assert!(
        texts(&sim.ws_recv(c)).iter().all(|f| f == "2"),
        "pings only"
    );
    gates.open(true);
    sim.pump();
    let frames = texts(&sim.ws_recv(c));
    assert!(frames[0].starts_with("40{\"sid\""), "{frames:?}");
    assert_eq!(
        log.take(),
        [
            r#"sync after Some(Player { name: "checked" })"#,
            "connection"
        ]
    );
    // A refusal after the await.
    let d = open(&mut sim, 0);
    assert!(say(&mut sim, d, "40").is_empty());
    gates.open(false);
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(d)), [r#"44{"message":"not now"}"#]);
    assert_eq!(sim.shard(0).stats().sockets, 1);
    assert_eq!(sim.tasks(), 0);
}

#[test]
fn a_client_gone_during_an_async_middleware_leaves_nothing_behind() {
    let log = Log::default();
    let gates = Gates::<bool>::default();
    let (log2, gates2) = (log.clone(), gates.clone());
    let app = App::builder()
        .namespace("/", move |ns| {
            let (gates, l1, l2) = (gates2.clone(), log2.clone(), log2.clone());
            ns.middleware_async(move |socket| {
                let (log, gate) = (l1.clone(), gates.gate());
                async move {
                    let allowed = gate.await.unwrap_or(false);
                    log.push(format!("middleware done, connected {}", socket.connected()));
                    match allowed {
                        true => Ok(()),
                        false => Err(ConnectError::new("no")),
                    }
                }
            })
            .on_connection(move |_| l2.push("connection"))
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    for allowed in [true, false] {
        let c = open(&mut sim, 0);
        assert!(say(&mut sim, c, "40").is_empty());
        sim.disconnect(c);
        // As Node's pre-connect socket, it waits for its middleware (a `SocketRef` there
        // still reaches it), but no client waits any more.
        let stats = sim.shard(0).stats();
        assert_eq!(
            (stats.connections, stats.sessions, stats.sockets),
            (0, 0, 1)
        );
        gates.open(allowed);
        sim.pump();
        assert_eq!(log.take(), ["middleware done, connected false"]);
        assert_eq!(sim.shard(0).stats(), Stats::default());
        assert_eq!(sim.tasks(), 0);
    }
}

#[test]
fn the_handshake_as_node_builds_it() {
    let seen: Arc<Mutex<Vec<SocketHandshake>>> = Arc::default();
    let seen2 = seen.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let (s1, s2) = (seen2.clone(), seen2.clone());
            ns.on_connection(move |socket| s1.lock().unwrap().push(socket.handshake()))
                .on_connection_async(move |socket| {
                    let seen = s2.clone();
                    async move { seen.lock().unwrap().push(socket.handshake().unwrap()) }
                })
        })
        .build();
    let start = Instant::now();
    let mut sim = Sim::new(app, start);
    const WALL: u64 = 1_796_000_705_000;
    sim.shard_mut(0).set_wall_clock(start, WALL);
    let c = sim.connect();
    sim.send(
        c,
        b"GET /socket.io/?EIO=4&transport=websocket&token=abc HTTP/1.1\r\nHost: example.com\r\n\
          Origin: https://app.example\r\nUser-Agent: sim\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(sim.take(c).starts_with(b"HTTP/1.1 101"));
    // The socket is made three seconds after the connection opened: Node dates the
    // handshake when the socket is made (`new Socket()` builds it).
    sim.advance(Duration::from_secs(3));
    say(&mut sim, c, r#"40{"token":"t"}"#);
    let hs = seen.lock().unwrap().clone();
    assert_eq!(hs.len(), 2);
    assert_eq!(hs[0], hs[1], "a SocketRef sees the same");
    let hs = &hs[0];
    assert_eq!(hs.headers.get("origin"), Some("https://app.example"));
    assert_eq!(hs.headers.get("user-agent"), Some("sim"));
    assert_eq!(hs.headers.get("host"), Some("example.com"));
    assert!(hs.headers.iter().all(|(k, _)| k == k.to_ascii_lowercase()));
    assert_eq!(hs.query.get("token"), Some("abc"));
    assert_eq!(hs.query.get("EIO"), Some("4"));
    assert_eq!(hs.auth, json!({"token": "t"}));
    assert_eq!(hs.address, "127.0.0.0");
    assert_eq!(hs.url, "/socket.io/?EIO=4&transport=websocket&token=abc");
    assert_eq!(hs.issued, WALL + 3000);
    assert_eq!(
        hs.time,
        "Mon Nov 30 2026 01:05:08 GMT+0000 (Coordinated Universal Time)"
    );
    assert!(hs.xdomain, "an Origin header");
    assert!(!hs.secure);
    // A polling client with no Origin and no auth.
    let (p, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    sim.post(p, &q, "40").unwrap();
    let hs = seen.lock().unwrap().pop().unwrap();
    assert!(!hs.xdomain);
    assert_eq!(hs.auth, json!({}));
    assert_eq!(hs.url, "/socket.io/?EIO=4&transport=polling");
    assert_eq!(hs.address, "127.0.0.1");
    assert_eq!(hs.issued, WALL + 3000);
}
