//! The listeners of a socket's events: several per event, `once`, `on_any`,
//! `prepend_any`, `on_any_outgoing`, per-packet middlewares and `on_error`.

use super::*;

#[test]
fn the_listeners_of_one_event_run_in_order_and_once_runs_once_per_socket() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let (l1, l2, l3, l4) = (log2.clone(), log2.clone(), log2.clone(), log2.clone());
            ns.on("e", move |s, e| {
                l1.push(format!("first {} {}", s.id(), e.args.len()))
            })
            .once("e", move |s, _| l2.push(format!("once {}", s.id())))
            .on("e", move |s, _| l3.push(format!("third {}", s.id())))
            .once("other", move |s, _| {
                l4.push(format!("other once {}", s.id()))
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (a, a_id) = join(&mut sim, 0, "40");
    let (b, b_id) = join(&mut sim, 0, "40");
    sim.ws_text(a, r#"42["e",1]"#);
    sim.ws_text(a, r#"42["e",1,2]"#);
    sim.ws_text(b, r#"42["e"]"#);
    sim.ws_text(b, r#"42["other"]"#);
    sim.ws_text(b, r#"42["e"]"#);
    sim.ws_text(b, r#"42["other"]"#);
    assert_eq!(
        log.take(),
        [
            format!("first {a_id} 1"),
            format!("once {a_id}"),
            format!("third {a_id}"),
            format!("first {a_id} 2"),
            format!("third {a_id}"),
            format!("first {b_id} 0"),
            format!("once {b_id}"),
            format!("third {b_id}"),
            format!("other once {b_id}"),
            format!("first {b_id} 0"),
            format!("third {b_id}"),
        ]
    );
    // A socket that joins again is a new socket: its `once` listeners run again.
    sim.ws_text(a, "41");
    let a_id = sid_of(&say(&mut sim, a, "40")[0]);
    sim.ws_text(a, r#"42["e"]"#);
    assert_eq!(
        log.take(),
        [
            format!("first {a_id} 0"),
            format!("once {a_id}"),
            format!("third {a_id}")
        ]
    );
}

#[test]
fn every_listener_runs_though_an_earlier_one_disconnects_the_socket() {
    // Node's EventEmitter calls every listener of the event it dispatches.
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let (l1, l2) = (log2.clone(), log2.clone());
            ns.on("bye", move |s, _| {
                l1.push("first");
                s.disconnect(false);
            })
            .on("bye", move |s, _| {
                l2.push(format!("second, connected {}", s.connected()))
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    assert_eq!(say(&mut sim, c, r#"42["bye"]"#), ["41"]);
    assert_eq!(log.take(), ["first", "second, connected false"]);
}

#[test]
fn on_any_runs_for_every_event_before_the_listeners() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let l = [0; 5].map(|_| log2.clone());
            let [l1, l2, l3, l4, l5] = l;
            ns.on("e", move |_, _| l1.push("on e"))
                .on_any(move |_, e| l2.push(format!("any {}", e.name)))
                .prepend_any(move |_, e| l3.push(format!("prepended {}", e.name)))
                .on_any(move |_, e| l4.push(format!("any2 {} {:?}", e.name, e.ack)))
                .on_any_async(move |socket, event| {
                    let log = l5.clone();
                    async move {
                        log.push(format!("any async {}", event.name));
                        if let Some(ack) = event.ack {
                            ack.send(&"from any").unwrap();
                        }
                        socket.emit("seen", &&*event.name).unwrap();
                    }
                })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    assert_eq!(say(&mut sim, c, r#"42["e"]"#), [r#"42["seen","e"]"#]);
    assert_eq!(
        log.take(),
        ["prepended e", "any e", "any2 e None", "on e", "any async e"]
    );
    // An event no listener has: the `on_any` listeners still run (onAny is no fallback).
    assert_eq!(
        say(&mut sim, c, r#"423["nobody"]"#),
        [r#"433["from any"]"#, r#"42["seen","nobody"]"#]
    );
    assert_eq!(
        log.take(),
        [
            "prepended nobody",
            "any nobody",
            "any2 nobody Some(3)",
            "any async nobody"
        ]
    );
}

#[test]
fn on_any_outgoing_sees_what_is_emitted_to_the_socket_broadcasts_included() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let log = log2.clone();
            ns.on_any_outgoing(move |s, event, args| {
                log.push(format!("{} {event} {args}", s.id().len()))
            })
            .on("go", |s, e| {
                s.emit("direct", &(1, "two")).unwrap();
                let _ = s.emit_with_ack("asked", &3, Duration::from_secs(1));
                if let Some(id) = e.ack {
                    s.ack(id, &"acked").unwrap();
                }
                s.within().emit("to all", &4).unwrap();
                s.broadcast().emit("to others", &5).unwrap();
                s.io().unwrap().emit("from io", &6).unwrap();
            })
            .on_async("go-async", |socket, _| async move {
                socket.emit("from task", &()).unwrap();
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    assert_eq!(
        say(&mut sim, c, r#"421["go"]"#),
        [
            r#"42["direct",1,"two"]"#,
            r#"420["asked",3]"#,
            r#"431["acked"]"#,
            r#"42["to all",4]"#,
            r#"42["from io",6]"#
        ]
    );
    // As Node's adapter: broadcasts that select the socket count too (not acks), once the
    // fan-out is done; "to others" leaves the sender out.
    assert_eq!(
        log.take(),
        [
            r#"20 direct [1,"two"]"#,
            "20 asked [3]",
            "20 to all [4]",
            "20 from io [6]"
        ]
    );
    say(&mut sim, c, r#"42["go-async"]"#);
    assert_eq!(log.take(), ["20 from task []"]);
}

#[test]
fn a_packet_middleware_refusal_drops_the_event_and_reaches_on_error() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let l = [0; 6].map(|_| log2.clone());
            let [l1, l2, l3, l4, l5, l6] = l;
            ns.on_any(move |_, e| l1.push(format!("any {}", e.name)))
                .packet_middleware(move |_, e| {
                    l2.push(format!("mw1 {}", e.name));
                    match e.name {
                        "forbidden" => Err(format!("{} is forbidden", e.name)),
                        _ => Ok(()),
                    }
                })
                .packet_middleware(move |_, e| {
                    l3.push(format!("mw2 {}", e.name));
                    Ok(())
                })
                .on("forbidden", move |_, _| l4.push("forbidden ran"))
                .on("fine", move |_, _| l5.push("fine ran"))
                .on_error(move |s, message| {
                    l6.push(format!("error {message}"));
                    s.emit("error-seen", &message).unwrap();
                })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    assert_eq!(
        say(&mut sim, c, r#"42["forbidden"]"#),
        [r#"42["error-seen","forbidden is forbidden"]"#]
    );
    assert_eq!(
        log.take(),
        [
            "any forbidden",
            "mw1 forbidden",
            "error forbidden is forbidden"
        ]
    );
    assert!(say(&mut sim, c, r#"42["fine"]"#).is_empty());
    assert_eq!(log.take(), ["any fine", "mw1 fine", "mw2 fine", "fine ran"]);
}
