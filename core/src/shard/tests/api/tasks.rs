//! Async handlers and their tasks: `SocketRef`, `AckSender`, `AckFuture`.

use super::*;

#[test]
fn an_async_handler_awaits_the_clients_answer_then_answers_its_own() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on_async("ask", |socket, event| async move {
                let n: u32 = event.args.arg(0).unwrap();
                let timeout = Duration::from_secs(5);
                let answer = socket.emit_with_ack("question", &n, timeout).unwrap();
                let answer = answer.await.unwrap();
                let reply: u32 = answer.arg(0).unwrap();
                socket.emit("thinking", &()).unwrap();
                event.ack.unwrap().send(&(n, reply)).unwrap();
                socket.emit("done", &()).unwrap();
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    assert_eq!(
        say(&mut sim, c, r#"421["ask",7]"#),
        [r#"420["question",7]"#]
    );
    assert_eq!(sim.tasks(), 1, "the task awaits the answer");
    assert_eq!(
        say(&mut sim, c, "430[8]"),
        [r#"42["thinking"]"#, "431[7,8]", r#"42["done"]"#]
    );
    assert_eq!(sim.tasks(), 0);
}

#[test]
fn a_task_on_connection_reaches_its_socket() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on_connection_async(|socket| async move {
                let id = socket.id().to_owned();
                socket.join("lobby").unwrap();
                socket.emit("hello", &(id, socket.rooms())).unwrap();
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = open(&mut sim, 0);
    let frames = say(&mut sim, c, "40");
    let id = sid_of(&frames[0]);
    assert_eq!(
        frames[1..],
        [format!(r#"42["hello","{id}",["{id}","lobby"]]"#)]
    );
}

#[test]
fn a_socket_ref_kept_after_the_socket_left_answers_disconnected() {
    let log = Log::default();
    let gates = Gates::<()>::default();
    let (log2, gates2) = (log.clone(), gates.clone());
    let app = App::builder()
        .namespace("/", move |ns| {
            ns.on_async("hold", move |socket, _| {
                let (log, gate) = (log2.clone(), gates2.gate());
                async move {
                    gate.await.unwrap();
                    let emit = socket.emit("late", &());
                    let ack = socket.emit_with_ack("late", &(), Duration::from_secs(1));
                    let join = socket.with(|s| s.join("r"));
                    log.push(format!(
                        "{emit:?} {:?} {join:?} {} {:?} {:?}",
                        ack.err(),
                        socket.connected(),
                        socket.rooms(),
                        socket.data::<u32>()
                    ));
                    assert!(!socket.id().is_empty(), "the id stays readable");
                }
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    // The socket leaves its namespace while the task waits.
    sim.ws_text(c, r#"42["hold"]"#);
    sim.ws_text(c, "41");
    gates.open(());
    sim.pump();
    let left = "Err(Disconnected) Some(Disconnected) Err(Disconnected) false [] None";
    assert_eq!(log.take(), [left]);
    // The client joins again (the socket's slot is reused): the old handle still answers
    // "disconnected" and never reaches the new socket.
    say(&mut sim, c, "40");
    sim.ws_text(c, r#"42["hold"]"#);
    sim.ws_text(c, "41");
    say(&mut sim, c, "40");
    gates.open(());
    sim.pump();
    assert_eq!(log.take(), [left]);
    assert!(sim.ws_recv(c).is_empty());
    // The connection closes while the task waits.
    sim.ws_text(c, r#"42["hold"]"#);
    sim.disconnect(c);
    gates.open(());
    sim.pump();
    assert_eq!(log.take(), [left]);
    assert_eq!(sim.tasks(), 0);
}

#[test]
fn a_socket_ref_inside_a_synchronous_handler_answers_in_use() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on("sync", |socket, _| {
                let handle = socket.handle();
                let emit = handle.emit("x", &());
                let join = handle.join("r");
                socket
                    .emit("result", &format!("{emit:?} {join:?}"))
                    .unwrap();
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = sim.ws_client();
    assert_eq!(
        say(&mut sim, c, r#"42["sync"]"#),
        [r#"42["result","Err(InUse) Err(InUse)"]"#]
    );
}

#[test]
fn an_ack_sender_answers_from_another_thread() {
    let senders: Arc<Mutex<Vec<AckSender>>> = Arc::default();
    let senders2 = senders.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let senders = senders2.clone();
            ns.on("later", move |socket, event| {
                let sender = socket.ack_sender(event.ack.unwrap()).unwrap();
                senders.lock().unwrap().push(sender);
            })
        })
        .build();
    let mut sim = Sim::with_shards(app, 2, Instant::now());
    let (c, _) = join(&mut sim, 1, "40");
    assert!(say(&mut sim, c, r#"425["later",1]"#).is_empty());
    let sender = senders.lock().unwrap().pop().unwrap();
    assert_eq!(sender.id(), 5);
    std::thread::spawn(move || sender.send(&("far", 1)).unwrap())
        .join()
        .unwrap();
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(c)), [r#"435["far",1]"#]);
    // Answered from another thread after the socket left: nothing is sent, nothing breaks.
    sim.ws_text(c, r#"426["later"]"#);
    let sender = senders.lock().unwrap().pop().unwrap();
    sim.ws_text(c, "41");
    std::thread::spawn(move || sender.send(&()).unwrap())
        .join()
        .unwrap();
    sim.pump();
    assert!(sim.ws_recv(c).is_empty());
}

#[test]
fn an_ack_sender_answered_in_a_task_is_written_in_order_with_its_emits() {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on_async("ordered", |socket, event| async move {
                socket.emit("before", &()).unwrap();
                event.ack.unwrap().send(&"answer").unwrap();
                socket.emit("after", &()).unwrap();
            })
        })
        .build();
    let mut sim = Sim::with_shards(app, 2, Instant::now());
    for shard in 0..2 {
        let (c, _) = join(&mut sim, shard, "40");
        assert_eq!(
            say(&mut sim, c, r#"423["ordered"]"#),
            [r#"42["before"]"#, r#"433["answer"]"#, r#"42["after"]"#]
        );
    }
}

#[test]
fn an_ack_future_times_out_or_fails_when_the_socket_leaves() {
    let log = Log::default();
    let log2 = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let log = log2.clone();
            ns.on_async("probe", move |socket, _| {
                let log = log.clone();
                async move {
                    let answer = socket.emit_with_ack("q", &(), Duration::from_secs(2));
                    let answer = answer.unwrap().await;
                    log.push(format!("{:?}", answer.as_ref().map(|a| a.len())));
                    if let Err(e) = answer {
                        let _ = socket.emit("result", &e.to_string());
                    }
                }
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let a = sim.ws_client();
    assert_eq!(say(&mut sim, a, r#"42["probe"]"#), [r#"420["q"]"#]);
    sim.advance(Duration::from_millis(1999));
    assert!(log.take().is_empty());
    sim.advance(Duration::from_millis(1));
    assert_eq!(log.take(), ["Err(Timeout)"]);
    assert_eq!(
        texts(&sim.ws_recv(a)),
        [r#"42["result","operation has timed out"]"#]
    );
    // A late answer finds nothing waiting.
    assert!(say(&mut sim, a, "430[]").is_empty());
    // An answer in time.
    assert_eq!(say(&mut sim, a, r#"42["probe"]"#), [r#"421["q"]"#]);
    sim.ws_text(a, "431[1,2]");
    assert_eq!(log.take(), ["Ok(2)"]);
    // The socket leaves before it answers.
    let b = sim.ws_client();
    assert_eq!(say(&mut sim, b, r#"42["probe"]"#), [r#"420["q"]"#]);
    sim.ws_text(b, "41");
    assert_eq!(log.take(), ["Err(Disconnected)"]);
    assert_eq!(sim.tasks(), 0);
}

#[test]
fn an_ack_future_can_be_awaited_anywhere() {
    let futures: Arc<Mutex<Vec<crate::AckFuture>>> = Arc::default();
    let futures2 = futures.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            let futures = futures2.clone();
            ns.on_connection(move |socket| {
                let f = socket.emit_with_ack("ready?", &(), Duration::from_secs(1));
                futures.lock().unwrap().push(f.unwrap());
            })
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let c = open(&mut sim, 0);
    let frames = say(&mut sim, c, "40");
    assert_eq!(frames[1], r#"420["ready?"]"#);
    let answered = futures.lock().unwrap().pop().unwrap();
    sim.ws_text(c, r#"430["yes"]"#);
    let args = block_on(&mut sim, answered).unwrap();
    assert_eq!(args.arg::<String>(0).unwrap(), "yes");
    // Another socket does not answer: the future is pending until the clock moves.
    let d = open(&mut sim, 0);
    say(&mut sim, d, "40");
    let mut silent = futures.lock().unwrap().pop().unwrap();
    assert!(poll_once(&mut silent).is_pending());
    sim.advance(Duration::from_secs(1));
    assert!(matches!(
        poll_once(&mut silent),
        Poll::Ready(Err(crate::AckError::Timeout))
    ));
}
