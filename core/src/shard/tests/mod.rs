//! The shard driven in simulated time ([`crate::sim`]): no sockets, no sleeps; time jumps
//! to each deadline.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::sim::{parse_frames, parse_responses, texts, Client, Sim};
use crate::wire::ws::{self, OpCode};
use crate::{App, Stats};

/// An app like the `echo` example, recording disconnect reasons.
fn echo_app(log: Arc<Mutex<Vec<String>>>, tweak: impl FnOnce(&mut crate::Config)) -> Arc<App> {
    let handlers = move |log: Arc<Mutex<Vec<String>>>| {
        move |ns: crate::Namespace| {
            let log2 = log.clone();
            ns.on_connection(|s| {
                let auth = serde_json::value::RawValue::from_string(s.auth().to_owned()).unwrap();
                s.emit("auth", &*auth).unwrap();
            })
            .on("message", |s, e| s.emit("message-back", &e.args).unwrap())
            .on("message-with-ack", |s, e| {
                if let Some(id) = e.ack {
                    s.ack(id, &e.args).unwrap();
                }
            })
            .on("join", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                s.join(&room);
            })
            .on("leave", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                s.leave(&room);
            })
            .on("to", |s, e| {
                let room: String = e.args.arg(0).unwrap();
                s.within()
                    .to(&room)
                    .emit("tick", &e.args.raw(1).unwrap())
                    .unwrap();
            })
            .on("request-ack", |s, _| {
                s.emit_with_ack_callback("ask", &(), Duration::from_secs(2), |s, r| {
                    let text = match r {
                        Ok(a) => format!("ok {}", a.len()),
                        Err(e) => e.to_string(),
                    };
                    s.emit("ack-result", &text).unwrap();
                })
                .unwrap();
            })
            .on("disconnect-me", |s, _| s.disconnect(false))
            .on("close-me", |s, _| s.disconnect(true))
            .on_disconnecting(move |s, reason| {
                log.lock().unwrap().push(format!(
                    "disconnecting {} rooms={}",
                    reason,
                    s.rooms().len()
                ));
            })
            .on_disconnect(move |_, reason| {
                log2.lock().unwrap().push(format!("disconnect {reason}"))
            })
        }
    };
    App::builder()
        .configure(tweak)
        .namespace("/", handlers(log.clone()))
        .namespace("/custom", handlers(log))
        .build()
}

/// A bare Engine.IO app echoing every message.
fn engine_app() -> Arc<App> {
    App::engine()
        .configure(|c| c.path = "/socket.io/".into())
        .on_message(|s, m| s.send_message(&m))
        .build()
}

fn app() -> Arc<App> {
    echo_app(Arc::default(), |_| {})
}

/// A Socket.IO client over WebSocket joined to `/`; returns (conn, socket id).
fn ws_client(sim: &mut Sim) -> (Client, String) {
    let (c, rest) = sim.ws_open("EIO=4&transport=websocket");
    let open = texts(&parse_frames(&rest));
    assert!(open[0].starts_with("0{"), "{open:?}");
    sim.ws_text(c, "40");
    let frames = texts(&sim.ws_recv(c));
    assert!(frames[0].starts_with("40{\"sid\":\""), "{frames:?}");
    let id = frames[0][10..30].to_owned();
    assert_eq!(frames[1], "42[\"auth\",{}]");
    (c, id)
}

mod adapter;
mod allow;
mod api;
mod cors;
mod engine;
mod mesh;
mod msgpack;
mod remove;
mod socketio;
