//! A server of a cluster ([`Sim::with_cluster`]): what its shards tell the cluster adapter
//! (broadcasts, requests, new namespaces), how answers wait for the cluster's part, and what
//! an adapter does to the shards on another server's behalf ([`Inbound`]).

use bytes::Bytes;

use super::*;
use crate::mesh::{ClusterEvent, ClusterPart, Request, RequestError, RequestKind, SocketInfo};
use crate::{Args, Binary, Broadcast, Inbound, Selection};

/// An app whose sockets carry the name their auth gives, join rooms on request, broadcast in
/// several ways, and answer the server-side event "hello" with "pong" (logging its arguments);
/// with the dynamic namespace `^/dyn-\d+$`.
fn cluster_app(log: Log) -> Arc<App> {
    App::builder()
        .namespace("/", move |ns| {
            ns.middleware(named)
                .on("join", |s, e| s.join(&e.args.arg::<String>(0).unwrap()))
                .on("shout", |s, e| s.broadcast().emit("news", &e.args).unwrap())
                .on("shout-bin", |s, _| {
                    let bin = Binary(Bytes::from_static(b"\x01\x02\x03"));
                    let op = s.broadcast().to("r").except("x");
                    op.emit("bin", &(1, bin)).unwrap()
                })
                .on("shout-local", |s, _| {
                    s.broadcast().local().emit("quiet", &()).unwrap()
                })
                .on("shout-volatile", |s, _| {
                    s.broadcast().volatile().emit("v", &()).unwrap()
                })
                .on_server_event("hello", move |_, args| {
                    log.push(args.to_string());
                    Some(json!("pong"))
                })
        })
        .dynamic_namespace(r"^/dyn-\d+$", |ns| {
            ns.on("echo", |s, e| s.emit("echo", &e.args).unwrap())
        })
        .build()
}

/// A server of two shards in a cluster.
fn server() -> (Sim, Log) {
    let log = Log::default();
    let sim = Sim::with_cluster(cluster_app(log.clone()), 2, Instant::now());
    (sim, log)
}

/// Room names as `&str`s.
fn strs(names: &[Box<str>]) -> Vec<&str> {
    names.iter().map(|n| &**n).collect()
}

/// The one event the shards told the adapter since the last look.
fn one_event(sim: &Sim) -> ClusterEvent {
    let mut events = sim.take_cluster_events();
    assert_eq!(events.len(), 1, "{events:?}");
    events.remove(0)
}

fn one_broadcast(sim: &Sim) -> (Arc<Broadcast>, Option<Box<str>>) {
    match one_event(sim) {
        ClusterEvent::Broadcast { broadcast, sender } => (broadcast, sender),
        other => panic!("not a broadcast: {other:?}"),
    }
}

fn one_request(sim: &Sim) -> Arc<Request> {
    match one_event(sim) {
        ClusterEvent::Request(request) => request,
        other => panic!("not a request: {other:?}"),
    }
}

/// A socket of another server, as its adapter would describe it.
fn remote_info(id: &str, name: &str, rooms: &[&str]) -> SocketInfo {
    SocketInfo {
        id: id.into(),
        nsp: "/".into(),
        handshake: crate::SocketHandshake {
            headers: Default::default(),
            time: "then".into(),
            address: "10.0.0.9".into(),
            xdomain: false,
            secure: false,
            issued: 1,
            url: "/socket.io/?EIO=4&transport=websocket".into(),
            query: Default::default(),
            auth: json!({ "name": name }),
        },
        rooms: std::iter::once(id)
            .chain(rooms.iter().copied())
            .map(String::from)
            .collect(),
        data: json!({ "name": name }),
    }
}

/// Args as another server's client would answer: one JSON argument.
fn answer(value: Value) -> Args {
    let text = serde_json::to_vec(&json!([value])).unwrap();
    Args::new(Some(text.into()), false, Vec::new())
}

/// The first argument of each answer, as strings, sorted.
fn sorted_answers(answers: &[Args]) -> Vec<String> {
    let mut out: Vec<String> = answers.iter().map(|a| a.arg(0).unwrap()).collect();
    out.sort();
    out
}

// ---------------------------------------------------------------------------- broadcasts

#[test]
fn a_handlers_broadcast_reaches_the_adapter_once_with_its_sender() {
    let (mut sim, _) = server();
    let (a, a_id) = join(&mut sim, 0, "40");
    let (b, _) = join(&mut sim, 1, "40");
    let (c, _) = join(&mut sim, 1, "40");
    assert!(
        sim.take_cluster_events().is_empty(),
        "connecting tells nothing"
    );
    assert!(say(&mut sim, a, r#"42["shout",1,"two"]"#).is_empty());
    for x in [b, c] {
        assert_eq!(texts(&sim.ws_recv(x)), [r#"42["news",1,"two"]"#]);
    }
    let (broadcast, sender) = one_broadcast(&sim);
    assert_eq!(sender.as_deref(), Some(a_id.as_str()));
    assert_eq!(broadcast.nsp(), "/");
    assert!(broadcast.rooms().is_empty());
    assert!(broadcast.except().is_empty());
    assert!(!broadcast.is_volatile());
    assert_eq!(broadcast.ack_timeout(), None);
    let (name, args) = broadcast.event().expect("an event");
    assert_eq!(name, "news");
    assert_eq!(args.parse::<(u32, String)>().unwrap(), (1, "two".into()));
    assert!(args.attachments().is_empty());
}

#[test]
fn binary_arguments_rooms_and_except_reach_the_adapter() {
    let (mut sim, _) = server();
    let (a, a_id) = join(&mut sim, 0, "40");
    let (b, _) = join(&mut sim, 1, "40");
    sim.ws_text(b, r#"42["join","r"]"#);
    say(&mut sim, a, r#"42["shout-bin"]"#);
    let frames = sim.ws_recv(b);
    assert_eq!(
        texts(&frames),
        [r#"451-["bin",1,{"_placeholder":true,"num":0}]"#]
    );
    assert_eq!(frames[1], (2, vec![1, 2, 3]), "the attachment");
    let (broadcast, sender) = one_broadcast(&sim);
    assert_eq!(sender.as_deref(), Some(a_id.as_str()));
    assert_eq!(strs(broadcast.rooms()), ["r"]);
    assert_eq!(strs(broadcast.except()), ["x"]);
    let (name, args) = broadcast.event().unwrap();
    assert_eq!(name, "bin");
    assert_eq!(args.len(), 2);
    assert_eq!(args.arg::<u32>(0).unwrap(), 1);
    assert_eq!(args.attachments(), [Bytes::from_static(b"\x01\x02\x03")]);
    assert_eq!(args.arg::<Binary>(1).unwrap().0, &b"\x01\x02\x03"[..]);
}

#[test]
fn an_io_broadcast_reaches_the_adapter_without_a_sender() {
    let (mut sim, _) = server();
    let (a, _) = join(&mut sim, 0, "40");
    let io = sim.io();
    io.to("r").except("x").emit("n", &2).unwrap();
    sim.pump();
    let (broadcast, sender) = one_broadcast(&sim);
    assert_eq!(sender, None);
    assert_eq!(strs(broadcast.rooms()), ["r"]);
    assert_eq!(strs(broadcast.except()), ["x"]);
    let (name, args) = broadcast.event().unwrap();
    assert_eq!((name.as_str(), args.arg::<u32>(0).unwrap()), ("n", 2));
    assert!(sim.ws_recv(a).is_empty(), "a is not in r");
    // Volatile: the flag is carried.
    io.of("/").volatile().emit("v", &()).unwrap();
    sim.pump();
    let (broadcast, _) = one_broadcast(&sim);
    assert!(broadcast.is_volatile());
    assert!(broadcast.rooms().is_empty());
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42["v"]"#]);
    say(&mut sim, a, r#"42["shout-volatile"]"#);
    let (broadcast, sender) = one_broadcast(&sim);
    assert!(broadcast.is_volatile());
    assert!(sender.is_some());
}

#[test]
fn a_local_broadcast_stays_on_this_server() {
    let (mut sim, _) = server();
    let (a, _) = join(&mut sim, 0, "40");
    let (b, _) = join(&mut sim, 1, "40");
    say(&mut sim, a, r#"42["shout-local"]"#);
    assert_eq!(texts(&sim.ws_recv(b)), [r#"42["quiet"]"#]);
    let io = sim.io();
    io.of("/").local().emit("local", &()).unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(b)), [r#"42["local"]"#]);
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42["local"]"#]);
    assert!(sim.take_cluster_events().is_empty());
    // Nor do local requests go there; they answer without the cluster.
    let found = block_on(&mut sim, io.of("/").local().fetch_sockets()).unwrap();
    assert_eq!(found.len(), 2);
    assert!(sim.take_cluster_events().is_empty());
}

// ---------------------------------------------------------------------------- requests

/// Two named clients: `a` on shard 0 in `r1`, `b` on shard 1; the cluster events so far are
/// dropped.
fn two_named(sim: &mut Sim) -> [(Client, String); 2] {
    let a = join(sim, 0, r#"40{"name":"a"}"#);
    let b = join(sim, 1, r#"40{"name":"b"}"#);
    sim.ws_text(a.0, r#"42["join","r1"]"#);
    sim.take_cluster_events();
    [a, b]
}

/// Pumps the sim a few times and checks that `future` is still pending.
fn still_pending<F: Future + Unpin>(sim: &mut Sim, future: &mut F) {
    for _ in 0..4 {
        sim.pump();
        assert!(poll_once(future).is_pending(), "answered too early");
    }
}

#[test]
fn fetch_sockets_waits_for_the_other_servers_sockets() {
    let (mut sim, _) = server();
    let [(_, a_id), (_, b_id)] = two_named(&mut sim);
    let io = sim.io();
    let mut future = io.of("/").fetch_sockets();
    still_pending(&mut sim, &mut future);
    let request = one_request(&sim);
    assert_eq!(request.kind(), RequestKind::Fetch);
    assert_eq!(request.nsp(), "/");
    assert!(request.rooms().is_empty());
    assert!(request.wants_cluster_answer());
    request.answer_cluster(ClusterPart::Sockets(vec![
        remote_info("remote-1", "c", &["r1"]),
        remote_info("remote-2", "d", &[]),
    ]));
    // A second answer, or a failure afterwards, is ignored.
    request.answer_cluster(ClusterPart::Sockets(vec![remote_info("x", "x", &[])]));
    request.fail_cluster(RequestError::new("late"));
    let mut all = block_on(&mut sim, future).unwrap();
    all.sort_by_key(|s| s.data::<Player>().unwrap().name);
    let ids: Vec<&str> = all.iter().map(|s| s.id()).collect();
    assert_eq!(ids, [&*a_id, &*b_id, "remote-1", "remote-2"]);
    assert_eq!(all[2].rooms(), ["remote-1", "r1"]);
    assert_eq!(all[2].data_value(), &json!({"name": "c"}));
    assert_eq!(all[2].handshake().address, "10.0.0.9");
    // Rooms and except travel with the request.
    let mut future = io.to("r1").except("x").fetch_sockets();
    still_pending(&mut sim, &mut future);
    let request = one_request(&sim);
    assert_eq!(strs(request.rooms()), ["r1"]);
    assert_eq!(strs(request.except()), ["x"]);
    request.answer_cluster(ClusterPart::Sockets(Vec::new()));
    let found = block_on(&mut sim, future).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id(), a_id);
}

#[test]
fn fetch_sockets_fails_when_the_cluster_does_not_answer() {
    let (mut sim, _) = server();
    two_named(&mut sim);
    let io = sim.io();
    let mut future = io.of("/").fetch_sockets();
    still_pending(&mut sim, &mut future);
    let request = one_request(&sim);
    request.fail_cluster(RequestError::new(
        "timeout reached while waiting for fetchSockets response",
    ));
    // An answer afterwards is ignored.
    request.answer_cluster(ClusterPart::Sockets(Vec::new()));
    let e = block_on(&mut sim, future).unwrap_err();
    assert_eq!(
        e.to_string(),
        "timeout reached while waiting for fetchSockets response"
    );
    assert!(e.responses.is_empty());
    // io.socket goes through fetch_sockets: the same error.
    let mut future = std::pin::pin!(io.socket("/", "someone"));
    for _ in 0..4 {
        sim.pump();
        assert!(future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending());
    }
    let request = one_request(&sim);
    assert_eq!(strs(request.rooms()), ["someone"]);
    request.fail_cluster(RequestError::new("gone"));
    let Poll::Ready(Err(e)) = future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        panic!("an error")
    };
    assert_eq!(e.message, "gone");
}

#[test]
fn join_leave_and_disconnect_go_to_the_cluster_without_waiting() {
    let (mut sim, _) = server();
    let [(a, _), (b, _)] = two_named(&mut sim);
    let io = sim.io();
    let joined = block_on(&mut sim, io.of("/").sockets_join("r9"));
    assert_eq!(joined, 2, "this server's count, at once");
    let request = one_request(&sim);
    assert_eq!(request.kind(), RequestKind::Join("r9"));
    assert!(!request.wants_cluster_answer());
    let left = block_on(&mut sim, io.to("r1").sockets_leave("r9"));
    assert_eq!(left, 1);
    let request = one_request(&sim);
    assert_eq!(request.kind(), RequestKind::Leave("r9"));
    assert_eq!(strs(request.rooms()), ["r1"]);
    assert!(!request.wants_cluster_answer());
    let rooms = block_on(&mut sim, io.of("/").local().all_rooms()).unwrap();
    assert_eq!(rooms, ["r1", "r9"], "b is still in r9");
    let out = block_on(&mut sim, io.except("r1").disconnect_sockets(true));
    assert_eq!(out, 1);
    let request = one_request(&sim);
    assert_eq!(request.kind(), RequestKind::Disconnect(true));
    assert_eq!(strs(request.except()), ["r1"]);
    assert!(!request.wants_cluster_answer());
    assert!(sim.is_shut(b));
    assert!(!sim.is_shut(a));
}

#[test]
fn all_rooms_waits_for_the_other_servers_rooms() {
    let (mut sim, _) = server();
    two_named(&mut sim);
    let io = sim.io();
    let mut future = io.of("/").all_rooms();
    still_pending(&mut sim, &mut future);
    let request = one_request(&sim);
    assert_eq!(request.kind(), RequestKind::Rooms);
    assert!(request.wants_cluster_answer());
    request.answer_cluster(ClusterPart::Rooms(vec![
        "zz".into(),
        "r1".into(),
        "a0".into(),
    ]));
    assert_eq!(
        block_on(&mut sim, future).unwrap(),
        ["a0", "r1", "zz"],
        "merged, sorted, each once"
    );
    let mut future = io.of("/").all_rooms();
    still_pending(&mut sim, &mut future);
    let request = one_request(&sim);
    // A part of the wrong kind is ignored.
    request.answer_cluster(ClusterPart::Sockets(Vec::new()));
    still_pending(&mut sim, &mut future);
    request.fail_cluster(RequestError::new(
        "timeout reached while waiting for allRooms response",
    ));
    let e = block_on(&mut sim, future).unwrap_err();
    assert_eq!(
        e.message,
        "timeout reached while waiting for allRooms response"
    );
}

#[test]
fn server_side_emit_goes_to_the_cluster_and_with_ack_waits_for_it() {
    let (mut sim, log) = server();
    let io = sim.io();
    io.server_side_emit("/", "hello", &(1, "x")).unwrap();
    sim.pump();
    assert_eq!(log.take().len(), 2, "both shards");
    let request = one_request(&sim);
    assert_eq!(
        request.kind(),
        RequestKind::ServerEvent {
            name: "hello",
            args: &json!([1, "x"]),
            with_ack: false
        }
    );
    assert!(!request.wants_cluster_answer());
    // With an acknowledgement.
    let mut future = io.server_side_emit_with_ack("/", "hello", &(7,)).unwrap();
    still_pending(&mut sim, &mut future);
    assert_eq!(log.take(), ["[7]", "[7]"]);
    let request = one_request(&sim);
    assert!(matches!(
        request.kind(),
        RequestKind::ServerEvent {
            name: "hello",
            with_ack: true,
            ..
        }
    ));
    assert!(request.wants_cluster_answer());
    request.answer_cluster(ClusterPart::Answers(vec![json!("remote"), json!(2)]));
    assert_eq!(
        block_on(&mut sim, future).unwrap(),
        [json!("pong"), json!("pong"), json!("remote"), json!(2)]
    );
    // Not every server answered: the error carries the answers that came, this server's
    // shards' first.
    let mut future = io.server_side_emit_with_ack("/", "hello", &()).unwrap();
    still_pending(&mut sim, &mut future);
    let request = one_request(&sim);
    request.fail_cluster(RequestError {
        message: "timeout reached: only 1 responses received out of 2".into(),
        responses: vec![json!("remote")],
    });
    let e = block_on(&mut sim, future).unwrap_err();
    assert_eq!(
        e.to_string(),
        "timeout reached: only 1 responses received out of 2"
    );
    assert_eq!(e.responses, [json!("pong"), json!("pong"), json!("remote")]);
}

#[test]
fn a_handlers_server_side_emit_goes_to_the_cluster_once() {
    let log = Log::default();
    let app = App::builder()
        .namespace("/", {
            let log = log.clone();
            move |ns| {
                ns.on_server_event("hello", move |_, args| {
                    log.push(args.to_string());
                    None
                })
                .on("tell", |s, _| {
                    s.io().unwrap().server_side_emit("/", "hello", &1).unwrap()
                })
            }
        })
        .build();
    let mut sim = Sim::with_cluster(app, 3, Instant::now());
    let c = sim.ws_client_on(1);
    sim.ws_text(c, r#"42["tell"]"#);
    assert_eq!(log.take(), ["[1]", "[1]"], "the other shards");
    let request = one_request(&sim);
    assert!(matches!(
        request.kind(),
        RequestKind::ServerEvent { name: "hello", .. }
    ));
}

// ------------------------------------------------------------------- broadcasts with acks

/// Clients `a` (shard 0) and `b` (shard 1), and an acknowledged broadcast from an `Io`
/// handle, with its ack id and its cluster event.
fn acked(sim: &mut Sim) -> ([Client; 2], crate::BroadcastAckFuture, u64, Arc<Broadcast>) {
    let a = sim.ws_client_on(0);
    let b = sim.ws_client_on(1);
    sim.take_cluster_events();
    let io = sim.io();
    let future = io.of("/").timeout(Duration::from_secs(5));
    let future = future.emit_with_ack("q", &1).unwrap();
    sim.pump();
    let mut id = 0;
    for c in [a, b] {
        let frames = texts(&sim.ws_recv(c));
        id = ack_id_of(&frames[0]);
        assert_eq!(frames, [format!(r#"42{id}["q",1]"#)]);
    }
    let (broadcast, sender) = one_broadcast(sim);
    assert_eq!(sender, None);
    assert_eq!(broadcast.ack_timeout(), Some(Duration::from_secs(5)));
    let (name, args) = broadcast.event().unwrap();
    assert_eq!((name.as_str(), args.arg::<u32>(0).unwrap()), ("q", 1));
    ([a, b], future, id, broadcast)
}

#[test]
fn a_broadcast_with_acks_waits_for_every_servers_clients() {
    let (mut sim, _) = server();
    let ([a, b], mut future, id, broadcast) = acked(&mut sim);
    sim.ws_text(a, &format!(r#"43{id}["a"]"#));
    sim.ws_text(b, &format!(r#"43{id}["b"]"#));
    still_pending(&mut sim, &mut future);
    // Two other servers: each says how many clients it reached, then they answer.
    broadcast.cluster_servers(2);
    still_pending(&mut sim, &mut future);
    broadcast.cluster_client_count(1);
    broadcast.cluster_ack(answer(json!("c")));
    still_pending(&mut sim, &mut future);
    broadcast.cluster_client_count(2);
    broadcast.cluster_ack(answer(json!("d")));
    still_pending(&mut sim, &mut future);
    broadcast.cluster_ack(answer(json!("e")));
    // Complete: the time running out afterwards changes nothing.
    broadcast.cluster_expire();
    let answers = block_on(&mut sim, future).unwrap();
    assert_eq!(sorted_answers(&answers), ["a", "b", "c", "d", "e"]);
}

#[test]
fn a_broadcast_with_acks_and_no_other_server_completes_with_this_ones() {
    let (mut sim, _) = server();
    let ([a, b], mut future, id, broadcast) = acked(&mut sim);
    sim.ws_text(a, &format!(r#"43{id}["a"]"#));
    sim.ws_text(b, &format!(r#"43{id}["b"]"#));
    still_pending(&mut sim, &mut future);
    broadcast.cluster_servers(0);
    let answers = block_on(&mut sim, future).unwrap();
    assert_eq!(sorted_answers(&answers), ["a", "b"]);
}

#[test]
fn a_broadcast_with_acks_fails_when_the_clusters_time_runs_out() {
    let (mut sim, _) = server();
    let ([a, _], mut future, id, broadcast) = acked(&mut sim);
    sim.ws_text(a, &format!(r#"43{id}["a"]"#));
    broadcast.cluster_servers(1);
    broadcast.cluster_client_count(2);
    broadcast.cluster_ack(answer(json!("c")));
    still_pending(&mut sim, &mut future);
    broadcast.cluster_expire();
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error once the time ran out")
    };
    assert_eq!(sorted_answers(&e.answers), ["a", "c"]);
    assert_eq!(e.missing, 2, "b here and one client there");
}

#[test]
fn a_clients_timeout_after_the_clusters_counts_it_once() {
    // The adapter's timer and the shards' are not ordered: the cluster's time may run out
    // first, then the silent local client's.
    let (mut sim, _) = server();
    let ([a, _], mut future, id, broadcast) = acked(&mut sim);
    sim.ws_text(a, &format!(r#"43{id}["a"]"#));
    broadcast.cluster_servers(1);
    broadcast.cluster_client_count(1);
    still_pending(&mut sim, &mut future);
    broadcast.cluster_expire();
    // b's own timeout comes, and a late answer from the other server.
    sim.advance(Duration::from_secs(5));
    broadcast.cluster_ack(answer(json!("late")));
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error once the time ran out")
    };
    assert_eq!(sorted_answers(&e.answers), ["a"]);
    assert_eq!(e.missing, 2, "b and the other server's client, each once");
}

#[test]
fn a_handlers_broadcast_with_acks_waits_for_the_cluster_too() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on("ask", |s, _| {
                let future = s.broadcast().timeout(Duration::from_secs(5));
                let (future, me) = (future.emit_with_ack("q", &()).unwrap(), s.handle());
                s.spawn(async move {
                    let text = match future.await {
                        Ok(answers) => format!("ok {}", answers.len()),
                        Err(e) => format!("missing {} of {}", e.missing, e.answers.len()),
                    };
                    me.emit("done", &text).unwrap()
                });
            })
        })
        .build();
    let mut sim = Sim::with_cluster(app, 2, Instant::now());
    let a = sim.ws_client_on(0);
    let b = sim.ws_client_on(1);
    sim.take_cluster_events();
    assert!(say(&mut sim, a, r#"42["ask"]"#).is_empty());
    let id = ack_id_of(&texts(&sim.ws_recv(b))[0]);
    let (broadcast, sender) = one_broadcast(&sim);
    assert!(sender.is_some());
    sim.ws_text(b, &format!("43{id}[1]"));
    assert!(sim.ws_recv(a).is_empty(), "the cluster's part is missing");
    broadcast.cluster_servers(1);
    broadcast.cluster_client_count(1);
    sim.pump();
    assert!(sim.ws_recv(a).is_empty());
    broadcast.cluster_ack(answer(json!(2)));
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42["done","ok 2"]"#]);
}

// ---------------------------------------------------------------------------- inbound

/// Clients: `a` on shard 0 in `r`, `b` and `c` on shard 1, `b` in `r` and `x`.
fn three_clients(sim: &mut Sim) -> [(Client, String); 3] {
    let a = join(sim, 0, r#"40{"name":"a"}"#);
    let b = join(sim, 1, r#"40{"name":"b"}"#);
    let c = join(sim, 1, r#"40{"name":"c"}"#);
    sim.ws_text(a.0, r#"42["join","r"]"#);
    sim.ws_text(b.0, r#"42["join","r"]"#);
    sim.ws_text(b.0, r#"42["join","x"]"#);
    sim.take_cluster_events();
    [a, b, c]
}

#[test]
fn an_inbound_broadcast_reaches_every_shards_clients_once() {
    let (mut sim, _) = server();
    let [(a, _), (b, _), (c, c_id)] = three_clients(&mut sim);
    let inbound = Inbound::new(sim.mesh());
    assert_eq!(inbound.shards(), 2);
    inbound
        .broadcast(&Selection::all("/"), false, "news", &(1,))
        .unwrap();
    sim.pump();
    for x in [a, b, c] {
        assert_eq!(texts(&sim.ws_recv(x)), [r#"42["news",1]"#]);
    }
    assert!(
        sim.take_cluster_events().is_empty(),
        "never published again"
    );
    // Rooms and except, binary.
    let to = Selection {
        nsp: "/".into(),
        rooms: vec!["r".into()],
        except: vec!["x".into()],
    };
    let bin = Binary(Bytes::from_static(b"\xff\x00"));
    inbound.broadcast(&to, false, "bin", &("t", bin)).unwrap();
    sim.pump();
    let frames = sim.ws_recv(a);
    assert_eq!(
        texts(&frames),
        [r#"451-["bin","t",{"_placeholder":true,"num":0}]"#]
    );
    assert_eq!(frames[1], (2, vec![0xff, 0]));
    assert_eq!(frames.len(), 2);
    assert!(sim.ws_recv(b).is_empty(), "in x");
    assert!(sim.ws_recv(c).is_empty(), "not in r");
    // Rooms over shards: a and b in r, a socket id.
    let to = Selection {
        nsp: "/".into(),
        rooms: vec!["r".into(), c_id],
        except: vec![],
    };
    inbound.broadcast(&to, false, "some", &()).unwrap();
    sim.pump();
    for x in [a, b, c] {
        assert_eq!(texts(&sim.ws_recv(x)), [r#"42["some"]"#]);
    }
    // A bad event name is refused; another namespace reaches nobody here.
    assert!(inbound
        .broadcast(&Selection::all("/"), false, "connect", &())
        .is_err());
    inbound
        .broadcast(&Selection::all("/other"), false, "n", &())
        .unwrap();
    sim.pump();
    for x in [a, b, c] {
        assert!(sim.ws_recv(x).is_empty());
    }
}

#[test]
fn an_inbound_broadcast_with_acks_counts_then_relays_each_answer() {
    let (mut sim, _) = server();
    let [(a, _), (b, _), (c, _)] = three_clients(&mut sim);
    let inbound = Inbound::new(sim.mesh());
    let timeout = Duration::from_secs(5);
    inbound
        .broadcast_with_ack(&Selection::all("/"), timeout, 42, "q", &("x",))
        .unwrap();
    sim.pump();
    let mut id = 0;
    for x in [a, b, c] {
        let frames = texts(&sim.ws_recv(x));
        id = ack_id_of(&frames[0]);
        assert_eq!(frames, [format!(r#"42{id}["q","x"]"#)]);
    }
    let events = sim.take_cluster_events();
    assert!(
        matches!(
            events[..],
            [ClusterEvent::ClientCount {
                token: 42,
                count: 3
            }]
        ),
        "{events:?}"
    );
    sim.ws_text(a, &format!(r#"43{id}["from a"]"#));
    sim.ws_text(c, &format!(r#"43{id}["from c",2]"#));
    let events = sim.take_cluster_events();
    assert_eq!(events.len(), 2, "{events:?}");
    let mut got = Vec::new();
    for e in events {
        let ClusterEvent::Ack { token: 42, args } = e else {
            panic!("not an ack: {e:?}")
        };
        got.push(args.arg::<String>(0).unwrap());
    }
    got.sort();
    assert_eq!(got, ["from a", "from c"]);
    // b stays silent: nothing more comes, at its timeout or after.
    sim.advance(timeout);
    sim.ws_text(b, &format!(r#"43{id}["late"]"#));
    assert!(sim.take_cluster_events().is_empty());
    // Nobody selected: a count of 0 at once.
    let to = Selection {
        nsp: "/".into(),
        rooms: vec!["nobody".into()],
        except: vec![],
    };
    inbound
        .broadcast_with_ack(&to, timeout, 43, "q", &())
        .unwrap();
    sim.pump();
    let events = sim.take_cluster_events();
    assert!(
        matches!(
            events[..],
            [ClusterEvent::ClientCount {
                token: 43,
                count: 0
            }]
        ),
        "{events:?}"
    );
}

#[test]
fn an_inbound_fetch_gathers_every_shards_sockets() {
    let (mut sim, _) = server();
    let [(_, a_id), (_, b_id), (_, c_id)] = three_clients(&mut sim);
    let inbound = Inbound::new(sim.mesh());
    inbound.fetch(&Selection::all("/"), 5);
    sim.pump();
    let ClusterEvent::Fetched { token, sockets } = one_event(&sim) else {
        panic!("not fetched")
    };
    assert_eq!(token, 5);
    let mut sockets = sockets;
    sockets.sort_by(|x, y| x.data["name"].as_str().cmp(&y.data["name"].as_str()));
    let ids: Vec<&str> = sockets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [&*a_id, &*b_id, &*c_id]);
    assert_eq!(sockets[1].rooms, [b_id.clone(), "r".into(), "x".into()]);
    assert_eq!(sockets[1].nsp, "/");
    assert_eq!(sockets[1].handshake.auth, json!({"name": "b"}));
    // Rooms and except.
    let from = Selection {
        nsp: "/".into(),
        rooms: vec!["r".into()],
        except: vec!["x".into()],
    };
    inbound.fetch(&from, 6);
    sim.pump();
    let ClusterEvent::Fetched { token: 6, sockets } = one_event(&sim) else {
        panic!("not fetched")
    };
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].id, a_id);
    // An unknown namespace: an empty answer, still given.
    inbound.fetch(&Selection::all("/nowhere"), 7);
    sim.pump();
    let ClusterEvent::Fetched { token: 7, sockets } = one_event(&sim) else {
        panic!("not fetched")
    };
    assert!(sockets.is_empty());
}

/// The names of this server's sockets in `room`, sorted (a local fetch).
fn local_names(sim: &mut Sim, room: &str) -> Vec<String> {
    let io = sim.io();
    let found = block_on(sim, io.of("/").local().to(room).fetch_sockets()).unwrap();
    let mut names: Vec<String> = found
        .iter()
        .map(|s| s.data::<Player>().unwrap().name)
        .collect();
    names.sort();
    names
}

#[test]
fn inbound_join_leave_disconnect_and_rooms_act_on_every_shard() {
    let (mut sim, _) = server();
    let [(a, _), (b, _), (c, _)] = three_clients(&mut sim);
    let inbound = Inbound::new(sim.mesh());
    let r_but_x = Selection {
        nsp: "/".into(),
        rooms: vec!["r".into()],
        except: vec!["x".into()],
    };
    inbound.join(&Selection::all("/"), "all");
    inbound.join(&r_but_x, "only-a");
    sim.pump();
    assert_eq!(local_names(&mut sim, "all"), ["a", "b", "c"]);
    assert_eq!(local_names(&mut sim, "only-a"), ["a"]);
    inbound.leave(&r_but_x, "all");
    sim.pump();
    assert_eq!(local_names(&mut sim, "all"), ["b", "c"]);
    assert!(sim.take_cluster_events().is_empty(), "no answer, no echo");
    inbound.rooms("/", 9);
    sim.pump();
    let ClusterEvent::Rooms { token: 9, rooms } = one_event(&sim) else {
        panic!("not rooms")
    };
    assert_eq!(rooms, ["all", "only-a", "r", "x"], "sorted, each once");
    // Disconnect: from the namespace, then whole connections.
    let x = Selection {
        nsp: "/".into(),
        rooms: vec!["x".into()],
        except: vec![],
    };
    inbound.disconnect(&x, false);
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(b)), ["41"]);
    assert!(!sim.is_shut(b));
    inbound.disconnect(&Selection::all("/"), true);
    sim.pump();
    for x in [a, c] {
        assert_eq!(texts(&sim.ws_recv(x)), ["41"]);
        assert!(sim.is_shut(x));
    }
    assert_eq!(
        sim.shard(0).stats().sockets + sim.shard(1).stats().sockets,
        0
    );
    assert!(sim.take_cluster_events().is_empty());
}

#[test]
fn an_inbound_server_event_runs_the_listeners_of_every_shard_and_answers_once() {
    let (mut sim, log) = server();
    let inbound = Inbound::new(sim.mesh());
    inbound.server_event("/", "hello", json!([1, "a"]), None);
    sim.pump();
    assert_eq!(
        log.take(),
        [r#"[1,"a"]"#, r#"[1,"a"]"#],
        "on each of the two shards"
    );
    assert!(sim.take_cluster_events().is_empty(), "no answer wanted");
    inbound.server_event("/", "hello", json!([2]), Some(3));
    sim.pump();
    assert_eq!(log.take(), ["[2]", "[2]"]);
    let ClusterEvent::ServerEventAnswered { token, answers } = one_event(&sim) else {
        panic!("not answered")
    };
    assert_eq!(token, 3);
    assert_eq!(
        answers,
        [json!("pong"), json!("pong")],
        "the adapter sends the first"
    );
    // No listener: an empty answer.
    inbound.server_event("/", "other", json!([]), Some(4));
    sim.pump();
    assert!(log.take().is_empty());
    let ClusterEvent::ServerEventAnswered { token: 4, answers } = one_event(&sim) else {
        panic!("not answered")
    };
    assert!(answers.is_empty());
}

// ---------------------------------------------------------------------------- namespaces

#[test]
fn a_dynamic_namespaces_child_is_told_to_the_adapter() {
    let (mut sim, _) = server();
    let c = open(&mut sim, 1);
    assert!(say(&mut sim, c, "40/dyn-1,")[0].starts_with("40/dyn-1,"));
    let ClusterEvent::Namespace { name, parent } = one_event(&sim) else {
        panic!("not a namespace")
    };
    assert_eq!((&*name, &*parent), ("/dyn-1", r"^/dyn-\d+$"));
    // Another client of the same child on that shard: nothing new.
    let d = open(&mut sim, 1);
    say(&mut sim, d, "40/dyn-1,");
    assert!(sim.take_cluster_events().is_empty());
    // The same child made on the other shard: told again (the adapter keeps a set).
    let e = open(&mut sim, 0);
    say(&mut sim, e, "40/dyn-1,");
    let ClusterEvent::Namespace { name, .. } = one_event(&sim) else {
        panic!("not a namespace")
    };
    assert_eq!(&*name, "/dyn-1");
    // A broadcast to the dynamic namespace reaches the adapter readable, by the pattern.
    let io = sim.io();
    io.of(r"^/dyn-\d+$").emit("all", &(1, "x")).unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(c)), [r#"42/dyn-1,["all",1,"x"]"#]);
    let (broadcast, _) = one_broadcast(&sim);
    assert_eq!(broadcast.nsp(), r"^/dyn-\d+$");
    let (name, args) = broadcast.event().expect("an event");
    assert_eq!(name, "all");
    assert_eq!(args.parse::<(u32, String)>().unwrap(), (1, "x".into()));
    // With binary, an ack, and a namespace name with a comma (a pattern may have one).
    let bin = Binary(Bytes::from_static(b"\x07"));
    io.of("/a,b").emit("bin", &(bin,)).unwrap();
    let future = io.of(r"^/dyn-\d+$").timeout(Duration::from_secs(1));
    let _ack = future.emit_with_ack("q", &2).unwrap();
    sim.pump();
    sim.ws_recv(c);
    let events = sim.take_cluster_events();
    assert_eq!(events.len(), 2, "{events:?}");
    let mut broadcasts = events.into_iter().map(|e| match e {
        ClusterEvent::Broadcast { broadcast, .. } => broadcast,
        other => panic!("not a broadcast: {other:?}"),
    });
    let broadcast = broadcasts.next().unwrap();
    let (name, args) = broadcast.event().expect("an event");
    assert_eq!(name, "bin");
    assert_eq!(args.arg::<Binary>(0).unwrap().0, &b"\x07"[..]);
    let broadcast = broadcasts.next().unwrap();
    assert_eq!(broadcast.ack_timeout(), Some(Duration::from_secs(1)));
    let (name, args) = broadcast.event().expect("an event");
    assert_eq!((name.as_str(), args.arg::<u32>(0).unwrap()), ("q", 2));
    // A static namespace or a refused name: nothing.
    say(&mut sim, e, "40");
    say(&mut sim, e, "40/nope,");
    assert!(sim.take_cluster_events().is_empty());
}
