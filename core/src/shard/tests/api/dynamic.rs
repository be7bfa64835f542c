//! Dynamic namespaces: children made on CONNECT by a pattern or a function, with their
//! parent's handlers, reached by the parent's name, forgotten when empty if configured.

use super::*;

/// An app with `/` and the dynamic namespace `^/dyn-\d+$`, whose middleware refuses a
/// `deny` auth and whose sockets are welcomed with their namespace's name.
fn dynamic_app(cleanup: bool) -> Arc<App> {
    App::builder()
        .configure(|c| c.cleanup_empty_child_namespaces = cleanup)
        .namespace("/", |ns| ns)
        .dynamic_namespace(r"^/dyn-\d+$", |ns| {
            ns.middleware(|s| match s.auth_value()["deny"].as_bool() {
                Some(true) => Err(ConnectError::new("no")),
                _ => Ok(()),
            })
            .on_connection(|s| {
                let name = s.namespace().to_owned();
                s.emit("welcome", &name).unwrap()
            })
            .on("echo", |s, e| s.emit("echo", &e.args).unwrap())
        })
        .dynamic_namespace_fn(
            "by-token",
            |name, auth| name.starts_with("/room-") && auth["token"] == "ok",
            |ns| ns.on_connection(|s| s.emit("in", &()).unwrap()),
        )
        .build()
}

#[test]
fn a_dynamic_namespace_child_gets_the_parents_handlers() {
    let mut sim = Sim::new(dynamic_app(false), Instant::now());
    let c = open(&mut sim, 0);
    let frames = say(&mut sim, c, "40/dyn-1,");
    assert!(frames[0].starts_with("40/dyn-1,{\"sid\""), "{frames:?}");
    assert_eq!(frames[1], r#"42/dyn-1,["welcome","/dyn-1"]"#);
    assert_eq!(
        say(&mut sim, c, r#"42/dyn-1,["echo",1]"#),
        [r#"42/dyn-1,["echo",1]"#]
    );
    // The parent's middleware runs for its children.
    assert_eq!(
        say(&mut sim, c, r#"40/dyn-2,{"deny":true}"#),
        [r#"44/dyn-2,{"message":"no"}"#]
    );
    // Names the pattern does not match.
    for name in ["/dyn-x", "/dyn-1/more", "/dyn-"] {
        assert_eq!(
            say(&mut sim, c, &format!("40{name},")),
            [format!(r#"44{name},{{"message":"Invalid namespace"}}"#)]
        );
        assert!(!sim.is_shut(c));
    }
}

#[test]
fn a_broadcast_to_the_pattern_reaches_every_child_on_every_shard() {
    let mut sim = Sim::with_shards(dynamic_app(false), 2, Instant::now());
    let mut clients = Vec::new();
    for (shard, nsp) in [(0, "/dyn-1"), (1, "/dyn-2"), (1, "/dyn-1")] {
        let c = open(&mut sim, shard);
        say(&mut sim, c, &format!("40{nsp},"));
        clients.push((c, nsp));
    }
    let root = sim.ws_client_on(0);
    let io = sim.io();
    io.of(r"^/dyn-\d+$").emit("all", &"x").unwrap();
    sim.pump();
    for &(c, nsp) in &clients {
        assert_eq!(texts(&sim.ws_recv(c)), [format!(r#"42{nsp},["all","x"]"#)]);
    }
    assert!(sim.ws_recv(root).is_empty());
    // One child by its own name.
    io.of("/dyn-2").emit("one", &()).unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(clients[1].0)), [r#"42/dyn-2,["one"]"#]);
    assert!(sim.ws_recv(clients[0].0).is_empty());
    // With acknowledgements: each child's sockets answer in their namespace.
    let future = io.of(r"^/dyn-\d+$").timeout(Duration::from_secs(5));
    let future = future.emit_with_ack("q", &()).unwrap();
    sim.pump();
    for &(c, nsp) in &clients {
        let frame = texts(&sim.ws_recv(c)).remove(0);
        let id = ack_id_of(&frame);
        assert_eq!(frame, format!(r#"42{nsp},{id}["q"]"#));
        sim.ws_text(c, &format!(r#"43{nsp},{id}["{nsp}"]"#));
    }
    let answers = block_on(&mut sim, future).unwrap();
    let mut answers: Vec<String> = answers.iter().map(|a| a.arg(0).unwrap()).collect();
    answers.sort();
    assert_eq!(answers, ["/dyn-1", "/dyn-1", "/dyn-2"]);
    // Requests reach the children too.
    let found = block_on(&mut sim, io.of(r"^/dyn-\d+$").fetch_sockets()).unwrap();
    let mut nsps: Vec<&str> = found.iter().map(|s| s.namespace()).collect();
    nsps.sort();
    assert_eq!(nsps, ["/dyn-1", "/dyn-1", "/dyn-2"]);
}

#[test]
fn empty_children_are_forgotten_when_configured() {
    for cleanup in [false, true] {
        let mut sim = Sim::new(dynamic_app(cleanup), Instant::now());
        let exists = |sim: &Sim, name: &str| sim.shard(0).sio.namespace(name).is_some();
        let c = open(&mut sim, 0);
        say(&mut sim, c, "40/dyn-5,");
        let d = open(&mut sim, 0);
        say(&mut sim, d, "40/dyn-5,");
        sim.ws_text(c, "41/dyn-5,");
        assert!(exists(&sim, "/dyn-5"), "a socket is left");
        sim.disconnect(d);
        assert_eq!(exists(&sim, "/dyn-5"), !cleanup, "cleanup {cleanup}");
        // A later connect makes it again.
        let frames = say(&mut sim, c, "40/dyn-5,");
        assert_eq!(frames[1], r#"42/dyn-5,["welcome","/dyn-5"]"#);
        assert!(exists(&sim, "/dyn-5"));
        // A child made for a socket its middleware refuses.
        say(&mut sim, c, r#"40/dyn-6,{"deny":true}"#);
        assert_eq!(exists(&sim, "/dyn-6"), !cleanup, "cleanup {cleanup}");
    }
}

#[test]
fn a_namespace_function_decides_with_the_auth() {
    let mut sim = Sim::with_shards(dynamic_app(true), 2, Instant::now());
    let a = open(&mut sim, 0);
    let frames = say(&mut sim, a, r#"40/room-1,{"token":"ok"}"#);
    assert!(frames[0].starts_with("40/room-1,{\"sid\""), "{frames:?}");
    assert_eq!(frames[1], r#"42/room-1,["in"]"#);
    let b = open(&mut sim, 1);
    assert_eq!(
        say(&mut sim, b, r#"40/room-2,{"token":"bad"}"#),
        [r#"44/room-2,{"message":"Invalid namespace"}"#]
    );
    assert_eq!(
        say(&mut sim, b, "40/room-2,"),
        [r#"44/room-2,{"message":"Invalid namespace"}"#]
    );
    assert!(say(&mut sim, b, r#"40/room-2,{"token":"ok"}"#)[0].starts_with("40/room-2,"));
    // As in Node, a child that exists takes any client: the function decides only when it
    // is made.
    let c = open(&mut sim, 0);
    assert!(say(&mut sim, c, r#"40/room-1,{"token":"bad"}"#)[0].starts_with("40/room-1,"));
    sim.io().of("by-token").emit("all", &()).unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42/room-1,["all"]"#]);
    assert_eq!(texts(&sim.ws_recv(b)), [r#"42/room-2,["all"]"#]);
    assert_eq!(texts(&sim.ws_recv(c)), [r#"42/room-1,["all"]"#]);
}
