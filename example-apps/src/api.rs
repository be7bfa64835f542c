//! The `api` example: one application that uses each part of the application API a Node
//! Socket.IO user reaches for (middleware and socket data, async handlers on the shard's
//! runtime, requests across shards, broadcasts with acknowledgements, an [`Io`] handle on a
//! plain thread, dynamic namespaces, `on_any`). Its events are a contract: the interop suite
//! (`interop/test/api.test.mjs`) checks them with the official client, against this
//! application on every runtime and against its Node twin (`interop/reference/api.mjs`).
//!
//! Namespace `/`:
//!
//! - a middleware reads the handshake auth `{"token": T}`: `T == "bad"` is refused with
//!   CONNECT_ERROR `unauthorized`, data `{"code": 401}`; otherwise the socket's data is
//!   [`User`] `{"user": T}` (`"anonymous"` when `T` is not a string);
//! - `whoami` (ack) → `{"user": T, "id": <socket id>}`;
//! - `slow-echo` (ms, value) (ack) → `value`, after sleeping `ms` on the shard's runtime;
//! - `join` (room) (ack) → `true` once joined;
//! - `count` (room) (ack) → how many sockets of `/` are in `room`, on every shard;
//! - `kick` (room) (ack) → disconnects the room's sockets and their connections, then
//!   answers how many there were;
//! - `move` (from, to) (ack) → the sockets of `from` join `to`, then leave `from`; `true`
//!   once both are done on every shard;
//! - `whois` (room) (ack) → the sorted `user` values of the room's sockets;
//! - `gather` (timeout_ms) (ack) → asks every socket of `/` (the asker included) `question`
//!   with an acknowledgement and that timeout, then answers `{"answers": [...], "missing": N}`:
//!   the first argument of each answer, sorted by JSON text, and how many did not answer;
//! - `later` (ms, event) → no answer; `ms` later, a plain OS thread emits `event` (no
//!   arguments) to this socket through [`Io`];
//! - `tenant-all` (...args) → `tenant-news` (...args) in every namespace of [`TENANTS`];
//! - `any-count` (ack) → how many events this socket sent before this one (every event
//!   counts, `any-count` included, unknown names too; the current one does not).
//!
//! Namespaces matching [`TENANTS`] (`/tenant-1`, `/tenant-42`) are created on first
//! connection: `name` (ack) → the namespace's name. Any other namespace is refused
//! `Invalid namespace`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use corelay_core::{App, ConnectError, Namespace, OwnedEvent, SocketRef};
use corelay_rt::Runtime;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{serve, Flags};

/// The pattern of the `api` example's dynamic namespaces (`io.of(/^\/tenant-[0-9]+$/)`).
pub const TENANTS: &str = "^/tenant-[0-9]+$";

/// What the `api` example keeps on each socket of `/` (its `socket.data`): the user, which
/// `fetch_sockets` carries to other shards as `{"user": ...}`, and the count of events the
/// socket sent, which stays on its shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    /// The handshake's `token`.
    pub user: String,
    /// Events received from this socket, the current one included (counted by `on_any`,
    /// which runs before the event's listeners).
    #[serde(skip)]
    pub events: u64,
}

/// The `api` example on runtime `R`, from the command line.
pub fn api<R: Runtime>() -> ExitCode {
    let flags = Flags::parse();
    serve::<R>(&flags, api_app::<R>(&flags))
}

/// The `api` application; `R` is the runtime its async handlers sleep on.
pub fn api_app<R: Runtime>(flags: &Flags) -> Arc<App> {
    App::builder()
        .configure(|c| flags.apply(c))
        .namespace("/", root::<R>)
        .dynamic_namespace(TENANTS, |ns| {
            ns.on("name", |socket, event| {
                let Some(ack) = event.ack else { return };
                let name = socket.namespace().to_owned();
                let _ = socket.ack(ack, &name);
            })
        })
        .build()
}

/// The handlers of `/`.
fn root<R: Runtime>(ns: Namespace) -> Namespace {
    ns.middleware(|socket| {
        let auth = socket.auth_value();
        let token = auth.get("token");
        if token.and_then(Value::as_str) == Some("bad") {
            return Err(ConnectError::new("unauthorized").with_data(&json!({ "code": 401 })));
        }
        let user = token.and_then(Value::as_str).unwrap_or("anonymous");
        socket.set_data(User {
            user: user.to_owned(),
            events: 0,
        });
        Ok(())
    })
    .on_any(|socket, _| {
        if let Some(user) = socket.data_mut::<User>() {
            user.events += 1;
        }
    })
    .on("any-count", |socket, event| {
        let Some(ack) = event.ack else { return };
        // `on_any` has already counted this event.
        let before = socket
            .data::<User>()
            .map_or(0, |u| u.events.saturating_sub(1));
        let _ = socket.ack(ack, &before);
    })
    .on("whoami", |socket, event| {
        let Some(ack) = event.ack else { return };
        let user = socket.data::<User>().map(|u| u.user.clone());
        let answer = json!({ "user": user, "id": socket.id() });
        let _ = socket.ack(ack, &answer);
    })
    .on_async("slow-echo", |_socket, event| async move {
        let ms = event.args.arg::<u64>(0).unwrap_or(0);
        R::sleep_until(Instant::now() + Duration::from_millis(ms)).await;
        if let Some(ack) = event.ack {
            let _ = ack.send(&event.args.raw(1));
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
    .on_async("count", |socket, event| async move {
        let Some((io, room, ack)) = room_request(&socket, event) else {
            return;
        };
        let _ = match io.of("/").to(&room).fetch_sockets().await {
            Ok(sockets) => ack.send(&sockets.len()),
            Err(e) => ack.send(&json!({ "error": e.message })),
        };
    })
    .on_async("kick", |socket, event| async move {
        let Some((io, room, ack)) = room_request(&socket, event) else {
            return;
        };
        // Counted first: in a cluster, the other servers disconnect theirs without answering.
        let there = match io.of("/").to(&room).fetch_sockets().await {
            Ok(sockets) => sockets.len(),
            Err(e) => {
                let _ = ack.send(&json!({ "error": e.message }));
                return;
            }
        };
        io.of("/").to(&room).disconnect_sockets(true).await;
        let _ = ack.send(&there);
    })
    .on_async("move", |socket, event| async move {
        let (Ok(from), Ok(to)) = (event.args.arg::<String>(0), event.args.arg::<String>(1)) else {
            return;
        };
        let (Some(io), Some(ack)) = (socket.io(), event.ack) else {
            return;
        };
        // One after the other: the leave must not overtake the join on any shard, and the
        // client hears back once both are done everywhere.
        io.of("/").to(&from).sockets_join(&to).await;
        io.of("/").to(&from).sockets_leave(&from).await;
        let _ = ack.send(&true);
    })
    .on_async("whois", |socket, event| async move {
        let Some((io, room, ack)) = room_request(&socket, event) else {
            return;
        };
        let sockets = match io.of("/").to(&room).fetch_sockets().await {
            Ok(sockets) => sockets,
            Err(e) => {
                let _ = ack.send(&json!({ "error": e.message }));
                return;
            }
        };
        let mut users: Vec<String> = sockets
            .iter()
            .filter_map(|s| s.data::<User>())
            .map(|u| u.user)
            .collect();
        users.sort();
        let _ = ack.send(&users);
    })
    .on_async("gather", |socket, event| async move {
        let ms = event.args.arg::<u64>(0).unwrap_or(0);
        let (Some(io), Some(ack)) = (socket.io(), event.ack) else {
            return;
        };
        let asked = io
            .of("/")
            .timeout(Duration::from_millis(ms))
            .emit_with_ack("question", &());
        let Ok(asked) = asked else { return };
        let (answers, missing) = match asked.await {
            Ok(answers) => (answers, 0),
            Err(e) => (e.answers, e.missing),
        };
        let mut answers: Vec<Value> = answers
            .iter()
            .map(|a| a.arg::<Value>(0).unwrap_or(Value::Null))
            .collect();
        answers.sort_by_cached_key(Value::to_string);
        let _ = ack.send(&json!({ "answers": answers, "missing": missing }));
    })
    .on("later", |socket, event| {
        let (Ok(ms), Ok(name)) = (event.args.arg::<u64>(0), event.args.arg::<String>(1)) else {
            return;
        };
        let Some(io) = socket.io() else { return };
        let id = socket.id().to_owned();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            let _ = io.to(&id).emit(&name, &());
        });
    })
    .on("tenant-all", |socket, event| {
        if let Some(io) = socket.io() {
            let _ = io.of(TENANTS).emit("tenant-news", &event.args);
        }
    })
}

/// The `Io` handle, the room (first argument) and the acknowledgement of a request about a
/// room; `None` when one is missing.
fn room_request(
    socket: &SocketRef,
    event: OwnedEvent,
) -> Option<(corelay_core::Io, String, corelay_core::AckSender)> {
    let room = event.args.arg::<String>(0).ok()?;
    Some((socket.io()?, room, event.ack?))
}
