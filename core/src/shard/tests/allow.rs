//! An async `allow_request`: the handshake waits on its connection for the decision.

use super::*;
use futures_channel::oneshot;

#[test]
fn async_allow_request_parks_the_handshake_until_it_decides() {
    type Decisions = Arc<Mutex<Vec<oneshot::Sender<Result<(), Option<String>>>>>>;
    let decisions: Decisions = Arc::default();
    let pending = decisions.clone();
    let app = App::builder()
        .allow_request_async(move |head| {
            assert!(head.path.starts_with("/socket.io/"));
            let (tx, rx) = oneshot::channel();
            pending.lock().unwrap().push(tx);
            async move { rx.await.unwrap_or(Err(None)) }
        })
        .namespace("/", |ns| ns)
        .build();
    let mut sim = Sim::new(app, Instant::now());

    // Allowed later: nothing is answered until the decision.
    let c = sim.connect();
    sim.send(
        c,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(sim.take(c).is_empty());
    let tx = decisions
        .lock()
        .unwrap()
        .pop()
        .expect("a decision asked for");
    tx.send(Ok(())).unwrap();
    sim.pump();
    let r = parse_responses(&sim.take(c)).pop().expect("an answer");
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("0{\"sid\":"), "{}", r.text());

    // Refused with a message: Node's 403 with that message.
    let c = sim.connect();
    sim.send(
        c,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let tx = decisions
        .lock()
        .unwrap()
        .pop()
        .expect("a decision asked for");
    tx.send(Err(Some("banned".into()))).unwrap();
    sim.pump();
    let r = parse_responses(&sim.take(c)).pop().expect("an answer");
    assert_eq!(r.status, 403);
    assert_eq!(r.text(), "{\"code\":4,\"message\":\"banned\"}");

    // The client leaves while the application decides: nothing is left behind.
    let c = sim.connect();
    sim.send(
        c,
        b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    sim.disconnect(c);
    let tx = decisions
        .lock()
        .unwrap()
        .pop()
        .expect("a decision asked for");
    tx.send(Ok(())).unwrap();
    sim.pump();
    // The first two connections and the first session remain; the third left no trace.
    let stats = sim.shard(0).stats();
    assert_eq!((stats.connections, stats.sessions), (2, 1));
    assert_eq!(sim.tasks(), 0);
}
