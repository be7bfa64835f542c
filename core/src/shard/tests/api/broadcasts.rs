//! Broadcast flags and acknowledgements: every answer gathered from every shard, missing
//! recipients, `volatile`.

use super::*;

/// Two clients, on shards 0 and 1, and the frames of a broadcast with an acknowledgement
/// sent to `/`: the future and the ack id.
fn broadcast_with_ack(
    sim: &mut Sim,
    clients: &[Client],
    timeout: Duration,
) -> (crate::BroadcastAckFuture, u64) {
    let io = sim.io();
    let future = io.of("/").timeout(timeout).emit_with_ack("q", &1).unwrap();
    sim.pump();
    let mut ids = Vec::new();
    for &c in clients {
        let frames = texts(&sim.ws_recv(c));
        assert_eq!(frames.len(), 1, "{frames:?}");
        let id = ack_id_of(&frames[0]);
        assert_eq!(frames[0], format!(r#"42{id}["q",1]"#));
        ids.push(id);
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "one id for all");
    (future, ids[0])
}

#[test]
fn a_broadcast_with_acks_gathers_every_answer() {
    let mut sim = Sim::with_shards(app(), 2, Instant::now());
    let a = sim.ws_client_on(0);
    let b = sim.ws_client_on(1);
    let (mut future, id) = broadcast_with_ack(&mut sim, &[a, b], Duration::from_secs(5));
    sim.ws_text(a, &format!(r#"43{id}["from a"]"#));
    assert!(poll_once(&mut future).is_pending());
    sim.ws_text(b, &format!(r#"43{id}["from b"]"#));
    let answers = block_on(&mut sim, future).unwrap();
    let mut answers: Vec<String> = answers.iter().map(|a| a.arg(0).unwrap()).collect();
    answers.sort();
    assert_eq!(answers, ["from a", "from b"]);
}

#[test]
fn a_silent_recipient_is_missing_after_the_timeout() {
    let mut sim = Sim::with_shards(app(), 2, Instant::now());
    let a = sim.ws_client_on(0);
    let b = sim.ws_client_on(1);
    let (mut future, id) = broadcast_with_ack(&mut sim, &[a, b], Duration::from_secs(5));
    sim.ws_text(a, &format!("43{id}[1]"));
    sim.advance(Duration::from_millis(4999));
    assert!(poll_once(&mut future).is_pending());
    sim.advance(Duration::from_millis(1));
    let Poll::Ready(Err(e)) = poll_once(&mut future) else {
        panic!("an error after the timeout")
    };
    assert_eq!(e.missing, 1);
    assert_eq!(e.answers.len(), 1);
    assert_eq!(e.answers[0].arg::<u32>(0).unwrap(), 1);
    // A late answer changes nothing.
    sim.ws_text(b, &format!("43{id}[2]"));
}

#[test]
fn a_recipient_that_leaves_counts_as_missing() {
    let mut sim = Sim::with_shards(app(), 2, Instant::now());
    let a = sim.ws_client_on(0);
    let b = sim.ws_client_on(1);
    let c = sim.ws_client_on(1);
    let (mut future, id) = broadcast_with_ack(&mut sim, &[a, b, c], Duration::from_secs(5));
    sim.ws_text(a, &format!("43{id}[1]"));
    sim.disconnect(b);
    assert!(poll_once(&mut future).is_pending());
    sim.ws_text(c, "41");
    let e = block_on(&mut sim, future).unwrap_err();
    assert_eq!((e.answers.len(), e.missing), (1, 2), "no need to wait");
}

#[test]
fn a_broadcast_with_acks_and_no_recipient_answers_at_once() {
    let mut sim = Sim::with_shards(app(), 2, Instant::now());
    let a = sim.ws_client_on(0);
    let io = sim.io();
    let future = io.to("nobody").timeout(Duration::from_secs(5));
    let future = future.emit_with_ack("q", &()).unwrap();
    assert!(block_on(&mut sim, future).unwrap().is_empty());
    let future = io.of("/nowhere").emit_with_ack("q", &()).unwrap();
    assert!(block_on(&mut sim, future).unwrap().is_empty());
    assert!(sim.ws_recv(a).is_empty());
}

#[test]
fn a_handlers_broadcast_with_acks_leaves_the_sender_out() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on("ask-others", |s, _| {
                let timeout = Duration::from_secs(5);
                let future = s.broadcast().timeout(timeout).emit_with_ack("q", &());
                let (future, me) = (future.unwrap(), s.handle());
                s.spawn(async move {
                    match future.await {
                        Ok(answers) => {
                            let mut got: Vec<String> =
                                answers.iter().map(|a| a.arg(0).unwrap()).collect();
                            got.sort();
                            me.emit("answers", &got).unwrap()
                        }
                        Err(e) => me.emit("missing", &e.missing).unwrap(),
                    }
                });
            })
        })
        .build();
    let mut sim = Sim::with_shards(app, 2, Instant::now());
    let a = sim.ws_client_on(0);
    let b = sim.ws_client_on(1);
    let c = sim.ws_client_on(0);
    assert!(say(&mut sim, a, r#"42["ask-others"]"#).is_empty());
    let id = ack_id_of(&texts(&sim.ws_recv(b))[0]);
    assert_eq!(texts(&sim.ws_recv(c)), [format!(r#"42{id}["q"]"#)]);
    sim.ws_text(b, &format!(r#"43{id}["b"]"#));
    assert!(sim.ws_recv(a).is_empty());
    sim.ws_text(c, &format!(r#"43{id}["c"]"#));
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42["answers",["b","c"]]"#]);
    // Someone stays silent.
    sim.ws_text(a, r#"42["ask-others"]"#);
    let id = ack_id_of(&texts(&sim.ws_recv(b))[0]);
    sim.ws_text(b, &format!(r#"43{id}["b"]"#));
    sim.advance(Duration::from_secs(5));
    assert_eq!(texts(&sim.ws_recv(a)), [r#"42["missing",1]"#]);
}

#[test]
fn a_volatile_broadcast_reaches_only_clients_that_can_take_it_now() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on("burst", |s, _| {
                s.emit("first", &()).unwrap();
                s.within().volatile().emit("v", &0).unwrap();
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (p, sid) = sim.polling_open();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert_eq!(sim.post(p, &q, "40").unwrap().text(), "ok");
    assert!(sim.get(p, &q).unwrap().text().starts_with("40{"));
    let w = sim.ws_client();
    let io = sim.io();
    // No GET waiting: the volatile event is dropped for the polling client.
    io.of("/").volatile().emit("v", &1).unwrap();
    io.emit("n", &2).unwrap();
    sim.pump();
    assert_eq!(sim.get(p, &q).unwrap().text(), r#"42["n",2]"#);
    assert_eq!(texts(&sim.ws_recv(w)), [r#"42["v",1]"#, r#"42["n",2]"#]);
    // A GET waiting: it gets the volatile event.
    assert!(sim.get(p, &q).is_none(), "the GET waits");
    io.of("/").volatile().emit("v", &3).unwrap();
    sim.pump();
    let r = parse_responses(&sim.take(p));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].text(), r#"42["v",3]"#);
    assert_eq!(texts(&sim.ws_recv(w)), [r#"42["v",3]"#]);
    // A WebSocket with bytes still queued can not take it either: the sender of "burst" has
    // "first" queued when the volatile event goes out; another WebSocket has nothing queued.
    let other = sim.ws_client();
    assert_eq!(say(&mut sim, w, r#"42["burst"]"#), [r#"42["first"]"#]);
    assert_eq!(texts(&sim.ws_recv(other)), [r#"42["v",0]"#]);
}
