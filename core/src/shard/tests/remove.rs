//! Removing a namespace, and turning a socket's `on_any` listeners off.

use std::future::Future;

use super::*;

#[test]
fn a_removed_namespace_disconnects_its_sockets_and_refuses_new_ones() {
    let mut sim = Sim::new(app(), Instant::now());
    let (c, _) = ws_client(&mut sim);
    sim.ws_text(c, "40/custom,");
    assert!(texts(&sim.ws_recv(c))[0].starts_with("40/custom,{\"sid\""));
    let answer = sim.io().remove_namespace("/custom");
    sim.pump();
    assert_eq!(texts(&sim.ws_recv(c)), ["41/custom,"]);
    let mut answer = std::pin::pin!(answer);
    let waker = std::task::Waker::noop();
    let polled = answer
        .as_mut()
        .poll(&mut std::task::Context::from_waker(waker));
    assert_eq!(polled, std::task::Poll::Ready(1));
    sim.ws_text(c, "40/custom,");
    assert_eq!(
        texts(&sim.ws_recv(c)),
        ["44/custom,{\"message\":\"Invalid namespace\"}"]
    );
    // `/` is untouched.
    sim.ws_text(c, "42[\"message\",1]");
    assert_eq!(texts(&sim.ws_recv(c)), ["42[\"message-back\",1]"]);
}

#[test]
fn off_any_turns_one_sockets_any_listeners_off() {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            ns.on_any(move |_, e| log.lock().unwrap().push(e.name.to_owned()))
                .on("mute", |s, _| s.off_any())
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (a, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.ws_text(a, "40");
    let (b, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.ws_text(b, "40");
    sim.ws_text(a, "42[\"one\"]");
    sim.ws_text(a, "42[\"mute\"]");
    sim.ws_text(a, "42[\"two\"]");
    sim.ws_text(b, "42[\"three\"]");
    assert_eq!(*seen.lock().unwrap(), ["one", "mute", "three"]);
}
