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
//! - `count` (room) (ack) → how many sockets of `/` are in `room`, on every shard, or
//!   `{"error": <message>}` when another server of a cluster did not answer in time;
//! - `kick` (room) (ack) → counts the room's sockets (as `count`; nothing is kicked on an
//!   error), disconnects them and their connections, then answers how many there were;
//! - `move` (from, to) (ack) → the sockets of `from` join `to`, then leave `from`; `true`
//!   once both are done on every shard;
//! - `whois` (room) (ack) → the sorted `user` values of the room's sockets;
//! - `gather` (timeout_ms) (ack) → asks every socket of `/` (the asker included) `question`
//!   with an acknowledgement and that timeout, then answers `{"answers": [...], "missing": N}`:
//!   the first argument of each answer, sorted by JSON text, and how many did not answer
//!   (counted as the sockets `fetch_sockets` found before asking, less the answers);
//! - `later` (ms, event) → no answer; `ms` later, a plain OS thread emits `event` (no
//!   arguments) to this socket through [`Io`];
//! - `tenant-all` (...args) → `tenant-news` (...args) in every namespace of [`TENANTS`];
//! - the cluster events (with `--redis`, "every socket" means on every server of the cluster;
//!   the Node twin's header says the same): `members` (room) (ack) → the room's sockets as
//!   `{"id", "user", "rooms"}` (rooms sorted) sorted by id; `say` (text) (ack `true`) →
//!   `said` (text) to every socket of `/`; `room-say` (room, except, text) (ack `true`) →
//!   `said` (text) to the sockets of `room` not in `except`; `server-id` (ack) → this server's
//!   id (random at start, the same on every shard); `server-ask` (ms) (ack) → asks the other
//!   servers `ping-servers` with `server_side_emit_with_ack` (each answers its server id) and
//!   answers `{"answers": <the distinct ids, its own left out, sorted>}`, or
//!   `{"error": <message>, "answers": [...]}` when one did not answer in time (Node's error
//!   after 5 s), or `{"error": "operation has timed out", "answers": []}` after `ms`;
//!   `server-tell` (value) (ack `true`) → `told` (value) to the other servers' (and shards')
//!   server-side listeners; `last-told` (ack) → the last value told to the shard of this socket
//!   (`null` until then);
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
    let id: Arc<str> = server_id().into();
    App::builder()
        .configure(|c| flags.apply(c))
        .namespace("/", move |ns| cluster::<R>(root::<R>(ns), id))
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
        if let Some((sockets, ack)) = fetched(io.of("/").to(&room), ack).await {
            let _ = ack.send(&sockets.len());
        }
    })
    .on_async("kick", |socket, event| async move {
        let Some((io, room, ack)) = room_request(&socket, event) else {
            return;
        };
        // Counted first: in a cluster, the other servers disconnect theirs without answering.
        let Some((there, ack)) = fetched(io.of("/").to(&room), ack).await else {
            return;
        };
        io.of("/").to(&room).disconnect_sockets(true).await;
        let _ = ack.send(&there.len());
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
        let Some((sockets, ack)) = fetched(io.of("/").to(&room), ack).await else {
            return;
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
        let Some((asked, ack)) = fetched(io.of("/"), ack).await else {
            return;
        };
        let asked = asked.len();
        let question = io
            .of("/")
            .timeout(Duration::from_millis(ms))
            .emit_with_ack("question", &());
        let Ok(question) = question else { return };
        let answers = match question.await {
            Ok(answers) => answers,
            Err(e) => e.answers,
        };
        let mut answers: Vec<Value> = answers
            .iter()
            .map(|a| a.arg::<Value>(0).unwrap_or(Value::Null))
            .collect();
        answers.sort_by_cached_key(Value::to_string);
        let missing = asked.saturating_sub(answers.len());
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

/// The sockets an operator selects on every shard (and server), and `ack` back to answer
/// with, or `None` once `ack` was answered `{"error": <message>}` (another server of a cluster did not answer in time).
async fn fetched(
    selected: corelay_core::IoOperator<'_>,
    ack: corelay_core::AckSender,
) -> Option<(Vec<corelay_core::RemoteSocket>, corelay_core::AckSender)> {
    match selected.fetch_sockets().await {
        Ok(sockets) => Some((sockets, ack)),
        Err(e) => {
            let _ = ack.send(&json!({ "error": e.message }));
            None
        }
    }
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

thread_local! {
    /// What the other servers (and shards) last told this shard (`server-tell`).
    static LAST_TOLD: std::cell::RefCell<Value> = const { std::cell::RefCell::new(Value::Null) };
}

/// A random id for this server (the same on every shard).
fn server_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!("{random:016x}")
}

/// The events of `/` about the cluster (the contract's last part): `members`, `say`,
/// `room-say`, `server-id`, `server-ask`, `server-tell`, `last-told`, and the server-side
/// listeners `ping-servers` and `told`.
fn cluster<R: Runtime>(ns: Namespace, id: Arc<str>) -> Namespace {
    let ping_id = id.clone();
    let own_id = id.clone();
    ns.on_async("members", |socket, event| async move {
        let Some((io, room, ack)) = room_request(&socket, event) else {
            return;
        };
        let Some((sockets, ack)) = fetched(io.of("/").to(&room), ack).await else {
            return;
        };
        let mut members: Vec<(String, Value)> = sockets
            .iter()
            .map(|s| {
                let mut rooms = s.rooms().to_vec();
                rooms.sort();
                let user = s.data::<User>().map(|u| u.user);
                let member = json!({ "id": s.id(), "user": user, "rooms": rooms });
                (s.id().to_owned(), member)
            })
            .collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let members: Vec<Value> = members.into_iter().map(|(_, m)| m).collect();
        let _ = ack.send(&members);
    })
    .on("say", |socket, event| {
        let text = event.args.arg::<Value>(0).unwrap_or(Value::Null);
        if let Some(io) = socket.io() {
            let _ = io.emit("said", &text);
        }
        if let Some(ack) = event.ack {
            let _ = socket.ack(ack, &true);
        }
    })
    .on("room-say", |socket, event| {
        let room = event.args.arg::<String>(0);
        let except = event.args.arg::<String>(1);
        let text = event.args.arg::<Value>(2).unwrap_or(Value::Null);
        if let (Ok(room), Ok(except), Some(io)) = (room, except, socket.io()) {
            let _ = io.to(&room).except(&except).emit("said", &text);
        }
        if let Some(ack) = event.ack {
            let _ = socket.ack(ack, &true);
        }
    })
    .on("server-id", move |socket, event| {
        if let Some(ack) = event.ack {
            let _ = socket.ack(ack, &*id);
        }
    })
    .on_async("server-ask", move |socket, event| {
        let own = own_id.clone();
        async move {
            let ms = event.args.arg::<u64>(0).unwrap_or(0);
            let (Some(io), Some(ack)) = (socket.io(), event.ack) else {
                return;
            };
            let Ok(asked) = io.server_side_emit_with_ack("/", "ping-servers", &()) else {
                return;
            };
            let deadline = R::sleep_until(Instant::now() + Duration::from_millis(ms));
            let distinct = |answers: Vec<Value>| {
                let mut ids: Vec<Value> = answers
                    .into_iter()
                    .filter(|a| a.as_str() != Some(&*own))
                    .collect();
                ids.sort_by_cached_key(Value::to_string);
                ids.dedup();
                ids
            };
            let answer = match first(asked, deadline).await {
                Some(Ok(answers)) => json!({ "answers": distinct(answers) }),
                Some(Err(e)) => json!({ "error": e.message, "answers": distinct(e.responses) }),
                None => json!({ "error": "operation has timed out", "answers": [] }),
            };
            let _ = ack.send(&answer);
        }
    })
    .on("server-tell", |socket, event| {
        let value = event.args.arg::<Value>(0).unwrap_or(Value::Null);
        if let Some(io) = socket.io() {
            let _ = io.server_side_emit("/", "told", &(value,));
        }
        if let Some(ack) = event.ack {
            let _ = socket.ack(ack, &true);
        }
    })
    .on("last-told", |socket, event| {
        if let Some(ack) = event.ack {
            let told = LAST_TOLD.with(|t| t.borrow().clone());
            let _ = socket.ack(ack, &told);
        }
    })
    .on_server_event("ping-servers", move |_, _| Some(json!(&*ping_id)))
    .on_server_event("told", |_, args| {
        let value = args.get(0).cloned().unwrap_or(Value::Null);
        LAST_TOLD.with(|t| *t.borrow_mut() = value);
        None
    })
}

/// The output of `a`, or `None` when `b` completes first.
async fn first<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> Option<A::Output> {
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    std::future::poll_fn(|cx| {
        if let std::task::Poll::Ready(out) = a.as_mut().poll(cx) {
            return std::task::Poll::Ready(Some(out));
        }
        b.as_mut().poll(cx).map(|_| None)
    })
    .await
}
