//! The application API in simulated time: async handlers and their tasks, acknowledgements as
//! values, middlewares, listeners, handshakes, requests across shards, broadcasts with
//! acknowledgements, server-side events, dynamic namespaces and volatile events, each held to
//! what the Node server (socket.io 4.8) does.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use futures_channel::oneshot;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::*;
use crate::{AckSender, ConnectError, RemoteSocket, SocketHandshake};

/// What handlers saw, in order.
#[derive(Debug, Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Channels a test completes to let a task (an async handler or middleware) go on.
#[derive(Debug, Clone, Default)]
struct Gates<T>(Arc<Mutex<Vec<oneshot::Sender<T>>>>);

impl<T> Gates<T> {
    /// A new gate: the task awaits the receiver.
    fn gate(&self) -> oneshot::Receiver<T> {
        let (tx, rx) = oneshot::channel();
        self.0.lock().unwrap().push(tx);
        rx
    }

    /// Opens the oldest gate with `value`.
    fn open(&self, value: T) {
        let tx = self.0.lock().unwrap().remove(0);
        assert!(tx.send(value).is_ok(), "the task still waits");
    }
}

/// Polls `future` with a no-op waker, pumping the sim between polls, until it is ready (the
/// sim stands in for the runtime; its clock does not move).
fn block_on<F: Future>(sim: &mut Sim, future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..64 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        sim.pump();
    }
    panic!("the future is still pending");
}

/// Polls `future` once.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A WebSocket client on `shard`, not in any namespace yet.
fn open(sim: &mut Sim, shard: usize) -> Client {
    let (c, rest) = sim.ws_open_on(shard, "EIO=4&transport=websocket");
    assert!(texts(&parse_frames(&rest))[0].starts_with("0{"));
    c
}

/// Sends a text frame and returns the text frames that came back.
fn say(sim: &mut Sim, c: Client, text: &str) -> Vec<String> {
    sim.ws_text(c, text);
    texts(&sim.ws_recv(c))
}

/// A client on `shard` that sent the CONNECT `packet` and was let in: the client and its
/// socket id (the rest of what it received is dropped).
fn join(sim: &mut Sim, shard: usize, packet: &str) -> (Client, String) {
    let c = open(sim, shard);
    let frames = say(sim, c, packet);
    (c, sid_of(&frames[0]))
}

/// The socket id of a CONNECT answer.
fn sid_of(frame: &str) -> String {
    assert!(frame.starts_with("40"), "{frame}");
    let v: Value = serde_json::from_str(&frame[frame.find('{').unwrap()..]).unwrap();
    v["sid"].as_str().expect("a sid").to_owned()
}

/// The ack id of an EVENT frame (`42<id>[...]` or `42/nsp,<id>[...]`).
fn ack_id_of(frame: &str) -> u64 {
    let rest = &frame[2..];
    let rest = match rest.starts_with('/') {
        true => rest.split_once(',').expect("a namespace").1,
        false => rest,
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().expect("an ack id")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Player {
    name: String,
}

/// A middleware that keeps the CONNECT auth's `name` as the socket's [`Player`] data.
fn named(socket: &mut crate::Socket<'_>) -> Result<(), ConnectError> {
    let name = socket.auth_value()["name"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    socket.set_data(Player { name });
    Ok(())
}

mod broadcasts;
mod cluster;
mod dynamic;
mod listeners;
mod requests;
mod sockets;
mod tasks;
