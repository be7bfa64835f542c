//! Engine.IO requests in simulated time: refusals, the `connection_error` hook, and the
//! `initial_headers` and `headers` hooks.
#![cfg(feature = "sim")]

use std::sync::Arc;
use std::time::Instant;

use corelay_core::sim::{parse_frames, texts, Sim};
use corelay_core::App;

fn plain_app() -> Arc<App> {
    App::builder().namespace("/", |ns| ns).build()
}

/// The id of a session opened over WebSocket, from its open packet.
fn ws_sid(rest: &[u8]) -> String {
    let open = texts(&parse_frames(rest));
    assert!(open[0].starts_with("0{\"sid\":\""), "{open:?}");
    open[0][9..29].to_owned()
}

#[test]
fn a_plain_request_for_a_websocket_session_is_refused() {
    let mut sim = Sim::new(plain_app(), Instant::now());
    let (ws, rest) = sim.ws_open("EIO=4&transport=websocket");
    let sid = ws_sid(&rest);
    let path = format!("/socket.io/?EIO=4&transport=websocket&sid={sid}");
    let c = sim.connect();
    assert_eq!(sim.get(c, &path).unwrap().status, 400);
    assert_eq!(sim.post(c, &path, "4hello").unwrap().status, 400);
    // The session goes on, untouched.
    sim.ws_text(ws, "40");
    assert!(texts(&sim.ws_recv(ws))[0].starts_with("40{\"sid\":"));
}
