//! Requests across shards: `fetch_sockets`, `sockets_join`/`sockets_leave`,
//! `disconnect_sockets`, `all_rooms`, sockets by id, `RemoteSocket`, server-side events.

use super::*;

/// An app whose sockets carry the name their auth gives, and join rooms on request.
fn named_app() -> Arc<App> {
    App::builder()
        .namespace("/", |ns| {
            ns.middleware(named)
                .on("join", |s, e| s.join(&e.args.arg::<String>(0).unwrap()))
        })
        .build()
}

#[test]
fn a_task_asks_every_shard_through_its_io_handle() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on_async("census", |socket, _| async move {
                let io = socket.io().unwrap();
                let all = io.of("/").fetch_sockets().await.unwrap();
                let mut ids: Vec<String> = all.iter().map(|s| s.id().to_owned()).collect();
                ids.sort();
                let rooms = io.of("/").all_rooms().await.unwrap();
                socket.emit("census", &(ids, rooms)).unwrap();
            })
            .on("gather-in", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                // The answer need not be awaited: the request is sent.
                drop(s.within().except("quiet").sockets_join(&room));
            })
            .on("join", |s, e| s.join(&e.args.arg::<String>(0).unwrap()))
        })
        .build();
    let mut sim = Sim::with_shards(app, 2, Instant::now());
    let (a, a_id) = join(&mut sim, 0, "40");
    let (b, b_id) = join(&mut sim, 1, "40");
    sim.ws_text(b, r#"42["join","quiet"]"#);
    sim.ws_text(a, r#"42["gather-in","hall"]"#);
    let mut ids = [a_id, b_id];
    ids.sort();
    assert_eq!(
        say(&mut sim, a, r#"42["census"]"#),
        [format!("42{}", json!(["census", ids, ["hall", "quiet"]]))]
    );
}

/// The names of fetched sockets, sorted.
fn names(sockets: &[RemoteSocket]) -> Vec<String> {
    let mut names: Vec<String> = sockets
        .iter()
        .map(|s| s.data::<Player>().expect("a player").name)
        .collect();
    names.sort();
    names
}

/// Three named clients: `a` on shard 0 in `r1`, `b` on shard 1 in `r1` and `r2`, `c` on shard
/// 1 in no room.
fn three_named(sim: &mut Sim) -> [(Client, String); 3] {
    let a = join(sim, 0, r#"40{"name":"a"}"#);
    let b = join(sim, 1, r#"40{"name":"b"}"#);
    let c = join(sim, 1, r#"40{"name":"c"}"#);
    sim.ws_text(a.0, r#"42["join","r1"]"#);
    sim.ws_text(b.0, r#"42["join","r1"]"#);
    sim.ws_text(b.0, r#"42["join","r2"]"#);
    [a, b, c]
}

#[test]
fn fetch_sockets_finds_the_sockets_of_every_shard_with_rooms_and_data() {
    let mut sim = Sim::with_shards(named_app(), 2, Instant::now());
    let [(_, a_id), (_, b_id), (_, c_id)] = three_named(&mut sim);
    let io = sim.io();
    let mut all = block_on(&mut sim, io.of("/").fetch_sockets()).unwrap();
    assert_eq!(names(&all), ["a", "b", "c"]);
    all.sort_by_key(|s| s.data::<Player>().unwrap().name);
    assert_eq!(all[0].id(), a_id);
    assert_eq!(all[0].rooms(), [a_id.clone(), "r1".into()]);
    assert_eq!(all[1].rooms(), [b_id.clone(), "r1".into(), "r2".into()]);
    assert_eq!(all[2].rooms(), [c_id.as_str()]);
    assert_eq!(all[1].data_value(), &json!({"name": "b"}));
    assert_eq!(all[1].namespace(), "/");
    assert_eq!(all[1].handshake().auth, json!({"name": "b"}));
    let fetch = |sim: &mut Sim, op: crate::IoOperator<'_>| {
        names(&block_on(sim, op.fetch_sockets()).unwrap())
    };
    assert_eq!(fetch(&mut sim, io.to("r1")), ["a", "b"]);
    assert_eq!(fetch(&mut sim, io.in_("r2")), ["b"]);
    assert_eq!(fetch(&mut sim, io.of("/").to("r1").except("r2")), ["a"]);
    assert_eq!(fetch(&mut sim, io.except("r1")), ["c"]);
    assert_eq!(fetch(&mut sim, io.to(&c_id)), ["c"]);
    assert_eq!(fetch(&mut sim, io.to("r2").to(&c_id)), ["b", "c"]);
    assert_eq!(fetch(&mut sim, io.except(&a_id)), ["b", "c"]);
    assert!(fetch(&mut sim, io.to("nobody")).is_empty());
    assert!(fetch(&mut sim, io.of("/nowhere")).is_empty());
}

#[test]
fn sockets_join_leave_and_disconnect_reach_every_shard() {
    let mut sim = Sim::with_shards(named_app(), 2, Instant::now());
    let [(a, _), (b, _), (c, _)] = three_named(&mut sim);
    let io = sim.io();
    let joined = block_on(&mut sim, io.in_("r1").sockets_join("r3"));
    assert_eq!(joined, 2, "summed over both shards");
    let r3 = block_on(&mut sim, io.to("r3").fetch_sockets()).unwrap();
    assert_eq!(names(&r3), ["a", "b"]);
    let left = block_on(&mut sim, io.of("/").sockets_leave("r1"));
    assert_eq!(left, 3);
    assert!(block_on(&mut sim, io.to("r1").fetch_sockets())
        .unwrap()
        .is_empty());
    assert_eq!(
        block_on(&mut sim, io.of("/").all_rooms()).unwrap(),
        ["r2", "r3"]
    );
    // Without waiting for the answer: the request is sent all the same.
    drop(io.except("r3").sockets_join("r4"));
    sim.pump();
    assert_eq!(
        names(&block_on(&mut sim, io.to("r4").fetch_sockets()).unwrap()),
        ["c"]
    );
    // Disconnect: the namespace only, then whole connections.
    let out = block_on(&mut sim, io.in_("r2").disconnect_sockets(false));
    assert_eq!(out, 1);
    assert_eq!(texts(&sim.ws_recv(b)), ["41"]);
    assert!(!sim.is_shut(b), "its connection stays");
    let out = block_on(&mut sim, io.of("/").disconnect_sockets(true));
    assert_eq!(out, 2);
    for c in [a, c] {
        let frames = sim.ws_recv(c);
        assert_eq!(texts(&frames), ["41"]);
        assert_eq!(frames.last().unwrap().0, 8, "a close frame");
        assert!(sim.is_shut(c));
    }
    assert_eq!(
        sim.shard(0).stats().sockets + sim.shard(1).stats().sockets,
        0
    );
    assert!(block_on(&mut sim, io.of("/").all_rooms())
        .unwrap()
        .is_empty());
}

#[test]
fn a_socket_by_id_and_what_a_remote_socket_does() {
    let mut sim = Sim::with_shards(named_app(), 2, Instant::now());
    let [(a, a_id), _, (c, c_id)] = three_named(&mut sim);
    let io = sim.io();
    assert!(block_on(&mut sim, io.socket("/", "nope"))
        .unwrap()
        .is_none());
    assert!(block_on(&mut sim, io.socket("/other", &c_id))
        .unwrap()
        .is_none());
    let rc = block_on(&mut sim, io.socket("/", &c_id))
        .unwrap()
        .expect("c");
    assert_eq!(rc.id(), c_id);
    assert_eq!(rc.data::<Player>().unwrap().name, "c");
    assert!(rc.data::<u32>().is_none());
    rc.emit("hi", &1).unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(c)), [r#"42["hi",1]"#]);
    assert!(sim.ws_recv(a).is_empty());
    assert_eq!(block_on(&mut sim, rc.join("r9")), 1);
    let r9 = block_on(&mut sim, io.to("r9").fetch_sockets()).unwrap();
    assert_eq!(names(&r9), ["c"]);
    assert_eq!(rc.rooms(), [c_id.as_str()], "what it was when fetched");
    block_on(&mut sim, rc.leave("r9"));
    assert!(block_on(&mut sim, io.to("r9").fetch_sockets())
        .unwrap()
        .is_empty());
    // From a thread: a RemoteSocket is `Send`.
    let ra = block_on(&mut sim, io.socket("/", &a_id))
        .unwrap()
        .expect("a");
    std::thread::spawn(move || ra.emit("from a thread", &()).unwrap())
        .join()
        .unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42["from a thread"]"#]);
    assert_eq!(block_on(&mut sim, rc.disconnect(false)), 1);
    assert_eq!(texts(&sim.ws_recv(c)), ["41"]);
    assert_eq!(block_on(&mut sim, rc.disconnect(false)), 0, "gone");
    assert!(rc.emit("again", &()).is_ok(), "sent to nobody");
}

/// An app whose shards answer server-side events "pong", and whose sockets ask them.
fn server_event_app(log: Log) -> Arc<App> {
    App::builder()
        .namespace("/", move |ns| {
            ns.on_server_event("hello", move |io, args| {
                assert!(io.is_some());
                log.push(args.to_string());
                Some(json!("pong"))
            })
            .on("tell", |s, e| {
                s.io()
                    .unwrap()
                    .server_side_emit("/", "hello", &e.args)
                    .unwrap();
            })
            .on("gather", |s, e| {
                let answer = s.io().unwrap();
                let answer = answer
                    .server_side_emit_with_ack("/", "hello", &e.args)
                    .unwrap();
                let me = s.handle();
                s.spawn(async move { me.emit("gathered", &answer.await.unwrap()).unwrap() });
            })
        })
        .namespace("/quiet", |ns| ns)
        .build()
}

#[test]
fn server_side_emit_reaches_the_other_shards_and_not_its_own() {
    let log = Log::default();
    let mut sim = Sim::with_shards(server_event_app(log.clone()), 3, Instant::now());
    let c = sim.ws_client_on(1);
    say(&mut sim, c, r#"42["tell",1,"x"]"#);
    assert_eq!(log.take(), [r#"[1,"x"]"#, r#"[1,"x"]"#], "shards 0 and 2");
    // From an Io handle taken on no shard: every shard.
    sim.io().server_side_emit("/", "hello", &()).unwrap();
    sim.pump();
    assert_eq!(log.take().len(), 3);
    // Another namespace's listeners, or an event nobody listens to: nothing runs.
    sim.io().server_side_emit("/quiet", "hello", &()).unwrap();
    sim.io().server_side_emit("/", "other", &()).unwrap();
    sim.pump();
    assert!(log.take().is_empty());
}

#[test]
fn server_side_emit_with_ack_gathers_the_answers() {
    let log = Log::default();
    let mut sim = Sim::with_shards(server_event_app(log.clone()), 3, Instant::now());
    let c = sim.ws_client_on(2);
    assert_eq!(
        say(&mut sim, c, r#"42["gather",true]"#),
        [r#"42["gathered",["pong","pong"]]"#]
    );
    assert_eq!(log.take(), ["[true]", "[true]"]);
    let io = sim.io();
    let answers = block_on(
        &mut sim,
        io.server_side_emit_with_ack("/", "hello", &[1]).unwrap(),
    )
    .unwrap();
    assert_eq!(answers, [json!("pong"), json!("pong"), json!("pong")]);
    let answers = block_on(
        &mut sim,
        io.server_side_emit_with_ack("/quiet", "hello", &())
            .unwrap(),
    )
    .unwrap();
    assert!(answers.is_empty(), "every shard answered nothing");
}
