//! The `extras` example: the parts of the API around the events themselves, each as a Node
//! Socket.IO user writes it: the Engine.IO hooks (`allowRequest` awaited, `connection_error`,
//! `initial_headers`, `headers`), `once`, `prependAny`/`onAny`/`offAny`, `onAnyOutgoing`,
//! per-packet middleware (`socket.use`) with its `error` listener, `volatile` and the
//! adapter's room events. Its events are a contract: the interop suite
//! (`interop/test/extras.test.mjs`) checks them with the official client, against this
//! application on every runtime and against its Node twin (`interop/reference/extras.mjs`).
//!
//! Engine.IO:
//!
//! - a handshake whose query has `deny=1` is refused after an asynchronous step (10 ms on the
//!   shard's runtime) with the message `denied`: 403 `{"code":4,"message":"denied"}` over
//!   polling (the official client's `connect_error` is `xhr poll error`, `description`
//!   403);
//! - the answer that opens a session carries `x-initial: 1`, every Engine.IO answer that is
//!   not an error `x-every: 1`;
//! - every request the server refuses with an error code is counted (`errors` below).
//!
//! Namespace `/`:
//!
//! - `first` (ack): the first one of each socket is answered `"once"` (a `once` listener);
//!   every one, the first included, makes the server emit `first-again` (no arguments);
//! - the socket's catch-all listeners (a `prepend_any` added after an `on_any`) note that
//!   they ran, `"prepend"` then `"any"`; `order` (ack) → what they noted since the last
//!   `order` answer (the `order` event's own included), and forgets it;
//! - `off-any` (ack) → `true`: this socket's catch-all listeners are off, what they noted is
//!   forgotten, and `order` answers `[]` from then on;
//! - `outgoing` (ack) → how many events were emitted to this socket (`on_any_outgoing`:
//!   `first-again`, `error-event`, `b`, and the broadcasts that selected it, `v` included
//!   even when dropped, as Node's adapter counts them; not acknowledgements);
//! - `errors` (ack) → how many requests the Engine.IO server refused so far (all sockets);
//! - `forbidden` is refused by a per-packet middleware with message `not allowed`: its
//!   listener (which would answer the ack) never runs, the server emits `error-event`
//!   `{"message": "not allowed"}` instead;
//! - `volatile-burst` (n) (ack) → emits `v` (0..n) with a volatile broadcast to the
//!   socket's own room, then answers `n`: over WebSocket the client gets between 1 and `n`
//!   of them before the answer (those its transport could not take at once are dropped);
//! - `burst` (n) (ack) → emits `b` (0..n) to the socket, then answers `n`: all arrive;
//! - `join` (room) (ack) / `leave` (room) (ack) → `true` once done;
//! - `room-events` (ack) → the changes of rooms named `r-…`, in order, as `"create r-x"`,
//!   `"join r-x"`, `"leave r-x"`, `"delete r-x"` (socket ids left out): Node's adapter events
//!   `create-room`, `join-room`, `leave-room`, `delete-room`. A room with members on two
//!   shards is created on each, so the list matches Node's for rooms on one shard.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use corelay_core::{App, Namespace, RoomEvent};
use corelay_rt::Runtime;
use serde::Serialize;

use crate::{serve, Flags};

/// How long the handshake check of `deny=1` waits before refusing.
const DENY_AFTER: Duration = Duration::from_millis(10);

/// What the `extras` example keeps on each socket of `/`.
#[derive(Debug, Default, Serialize)]
struct Seen {
    /// The catch-all listeners that ran since the last `order` answer.
    order: Vec<&'static str>,
    /// Events emitted to the socket.
    outgoing: u64,
}

/// The `extras` example on runtime `R`, from the command line.
pub fn extras<R: Runtime>() -> ExitCode {
    let flags = Flags::parse();
    serve::<R>(&flags, extras_app::<R>(&flags))
}

/// The `extras` application; `R` is the runtime its handshake check sleeps on.
pub fn extras_app<R: Runtime>(flags: &Flags) -> Arc<App> {
    let refused = Arc::new(AtomicU64::new(0));
    let counted = refused.clone();
    App::builder()
        .configure(|c| flags.apply(c))
        .allow_request_async(|head| async move {
            let deny = head.query.split('&').any(|pair| pair == "deny=1");
            if !deny {
                return Ok(());
            }
            R::sleep_until(Instant::now() + DENY_AFTER).await;
            Err(Some("denied".to_owned()))
        })
        .on_connection_error(move |_| {
            counted.fetch_add(1, Ordering::Relaxed);
        })
        .on_initial_headers(|headers, _| {
            headers.set("x-initial", "1");
        })
        .on_headers(|headers, _| {
            headers.set("x-every", "1");
        })
        .namespace("/", |ns| root(ns, refused))
        .build()
}

/// The handlers of `/`; `refused` counts the Engine.IO server's refusals.
fn root(ns: Namespace, refused: Arc<AtomicU64>) -> Namespace {
    let room_events = Arc::new(Mutex::new(Vec::<String>::new()));
    let recorder = room_events.clone();
    ns.on_connection(|socket| socket.set_data(Seen::default()))
        .on_any(|socket, _| noted(socket, "any"))
        .prepend_any(|socket, _| noted(socket, "prepend"))
        .on_any_outgoing(|socket, _, _| {
            if let Some(seen) = socket.data_mut::<Seen>() {
                seen.outgoing += 1;
            }
        })
        .packet_middleware(|_, event| match event.name {
            "forbidden" => Err("not allowed".to_owned()),
            _ => Ok(()),
        })
        .on_error(|socket, message| {
            let _ = socket.emit("error-event", &serde_json::json!({ "message": message }));
        })
        .once("first", |socket, event| {
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &"once");
            }
        })
        .on("first", |socket, _| {
            let _ = socket.emit("first-again", &());
        })
        .on("order", |socket, event| {
            let order = socket
                .data_mut::<Seen>()
                .map(|seen| std::mem::take(&mut seen.order))
                .unwrap_or_default();
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &order);
            }
        })
        .on("off-any", |socket, event| {
            socket.off_any();
            if let Some(seen) = socket.data_mut::<Seen>() {
                seen.order.clear();
            }
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &true);
            }
        })
        .on("outgoing", |socket, event| {
            let outgoing = socket.data::<Seen>().map_or(0, |seen| seen.outgoing);
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &outgoing);
            }
        })
        .on("errors", move |socket, event| {
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &refused.load(Ordering::Relaxed));
            }
        })
        .on("forbidden", |socket, event| {
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &"reached the listener");
            }
        })
        .on("volatile-burst", |socket, event| {
            let n = event.args.arg::<u64>(0).unwrap_or(0);
            let id = socket.id().to_owned();
            for i in 0..n {
                let _ = socket.within().to(&id).volatile().emit("v", &i);
            }
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &n);
            }
        })
        .on("burst", |socket, event| {
            let n = event.args.arg::<u64>(0).unwrap_or(0);
            for i in 0..n {
                let _ = socket.emit("b", &i);
            }
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &n);
            }
        })
        .on("join", |socket, event| {
            if let Ok(room) = event.args.arg::<String>(0) {
                socket.join(&room);
            }
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &true);
            }
        })
        .on("leave", |socket, event| {
            if let Ok(room) = event.args.arg::<String>(0) {
                socket.leave(&room);
            }
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &true);
            }
        })
        .on("room-events", move |socket, event| {
            let list = room_events.lock().map(|l| l.clone()).unwrap_or_default();
            if let Some(ack) = event.ack {
                let _ = socket.ack(ack, &list);
            }
        })
        .on_room_event(move |event| {
            let (word, room) = match event {
                RoomEvent::Create(room) => ("create", room),
                RoomEvent::Join(room, _) => ("join", room),
                RoomEvent::Leave(room, _) => ("leave", room),
                RoomEvent::Delete(room) => ("delete", room),
            };
            if room.starts_with("r-") {
                if let Ok(mut list) = recorder.lock() {
                    list.push(format!("{word} {room}"));
                }
            }
        })
}

/// Notes that catch-all listener `which` ran for this socket.
fn noted(socket: &mut corelay_core::Socket<'_>, which: &'static str) {
    if let Some(seen) = socket.data_mut::<Seen>() {
        seen.order.push(which);
    }
}
