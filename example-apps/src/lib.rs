//! The example applications of corelay (`echo`, `engine_echo`, `bench`, `chat`, `api`,
//! `extras`) and their command line, served by the examples of every runtime crate: each runtime's
//! `examples/echo.rs` is `corelay_example_apps::echo::<Runtime>()`, so that every runtime
//! serves exactly the same applications with the same flags. Other programs test these
//! examples with the official clients: their names, flags and events are a contract.
#![deny(missing_docs)]

mod api;
mod extras;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use corelay_core::{App, Args, Config, ConnectError, Cors, HttpResponse, Namespace, Socket};
use corelay_rt::{Runtime, Server};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub use api::{api, api_app, User, TENANTS};
pub use extras::{extras, extras_app};

/// The command line every example takes.
#[derive(Debug, Clone, Parser)]
#[command(about = "A corelay example server (CORS from any origin; stops on SIGINT or SIGTERM)")]
pub struct Flags {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Shards (threads); one per core by default.
    #[arg(long, default_value_t = default_shards())]
    pub shards: usize,
    /// `ping_interval`, in milliseconds (25000).
    #[arg(long)]
    pub ping_interval_ms: Option<u64>,
    /// `ping_timeout`, in milliseconds (20000).
    #[arg(long)]
    pub ping_timeout_ms: Option<u64>,
    /// `max_http_buffer_size`, in bytes (1000000).
    #[arg(long)]
    pub max_payload: Option<usize>,
    /// `connect_timeout`, in milliseconds (45000).
    #[arg(long)]
    pub connect_timeout_ms: Option<u64>,
    /// Joins the cluster of servers sharing this Redis (`redis://[:password@]host[:port][/db]`),
    /// as `@socket.io/redis-adapter` does.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// The Socket.IO parser: `json` (the default) or `msgpack` (`socket.io-msgpack-parser` on
    /// the client).
    #[arg(long, value_enum, default_value = "json")]
    pub parser: ParserFlag,
    /// With `--redis`: the sharded adapter (`createShardedAdapter`, Redis 7 sharded pub/sub)
    /// instead of the classic one.
    #[arg(long, requires = "redis")]
    pub redis_sharded: bool,
}

/// The values of `--parser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ParserFlag {
    /// JSON text, binary as attachments (Node's default parser).
    Json,
    /// `socket.io-msgpack-parser`.
    Msgpack,
}

fn default_shards() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Flags {
    /// Applies the flags to a config; CORS is allowed from any origin.
    pub fn apply(&self, c: &mut Config) {
        if let Some(ms) = self.ping_interval_ms {
            c.ping_interval = Duration::from_millis(ms);
        }
        if let Some(ms) = self.ping_timeout_ms {
            c.ping_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = self.max_payload {
            c.max_http_buffer_size = n;
        }
        if let Some(ms) = self.connect_timeout_ms {
            c.connect_timeout = Duration::from_millis(ms);
        }
        c.cors = Some(Cors::any());
        c.parser = match self.parser {
            ParserFlag::Json => corelay_core::Parser::Json,
            ParserFlag::Msgpack => corelay_core::Parser::Msgpack,
        };
    }

    /// The address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }
}

/// Serves `app` on runtime `R` as the flags say: logs to stderr as `RUST_LOG` says, prints
/// the I/O driver (stderr), then `listening on http://HOST:PORT` (stdout) once it accepts
/// connections, and shuts down gracefully on SIGINT or SIGTERM. Fails when the server can not
/// start or a shard panicked.
pub fn serve<R: Runtime>(flags: &Flags, app: Arc<App>) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let addr = flags.addr();
    let mut builder = Server::<R>::builder(app).bind(addr).shards(flags.shards);
    if let Some(url) = &flags.redis {
        let options = match flags.redis_sharded {
            true => corelay_rt::RedisOptions::sharded(),
            false => corelay_rt::RedisOptions::default(),
        };
        builder = builder.redis_with(url, options);
    }
    let server = match builder.start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "{} shard(s), io driver: {}",
        server.shards(),
        server.io_driver()
    );
    // The handlers are in place before the line that says the server listens: a SIGTERM sent
    // as soon as it is read stops the server gracefully, not by the signal's default action.
    let signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ]);
    let mut signals = match signals {
        Ok(signals) => signals,
        Err(e) => {
            eprintln!("signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on http://{}", server.local_addr());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let (stop, signals_handle) = (server.shutdown_handle(), signals.handle());
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            stop.shutdown();
        }
    });
    let outcome = server.wait();
    signals_handle.close();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The `echo` example on runtime `R`, from the command line.
pub fn echo<R: Runtime>() -> ExitCode {
    let flags = Flags::parse();
    serve::<R>(&flags, echo_app(&flags))
}

/// The `engine_echo` example on runtime `R`, from the command line.
pub fn engine_echo<R: Runtime>() -> ExitCode {
    let flags = Flags::parse();
    serve::<R>(&flags, engine_echo_app(&flags))
}

/// The `bench` example on runtime `R`, from the command line.
pub fn bench<R: Runtime>() -> ExitCode {
    let flags = Flags::parse();
    serve::<R>(&flags, bench_app(&flags))
}

/// The chat example's command line: the usual flags plus `--client-js`.
#[derive(Debug, Clone, Parser)]
#[command(about = "The corelay chat demo: open http://HOST:PORT/ in two tabs")]
pub struct ChatFlags {
    /// The usual flags.
    #[command(flatten)]
    pub common: Flags,
    /// The official socket.io-client browser bundle (default: the one `npm ci --prefix
    /// interop` installs).
    #[arg(long)]
    pub client_js: Option<PathBuf>,
}

/// The `chat` example on runtime `R`, from the command line.
pub fn chat<R: Runtime>() -> ExitCode {
    let flags = ChatFlags::parse();
    let client_js = flags.client_js.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../interop/node_modules/socket.io-client/dist/socket.io.min.js")
    });
    let bundle = match std::fs::read(&client_js) {
        Ok(bundle) => bundle,
        Err(e) => {
            eprintln!(
                "cannot read the socket.io-client bundle at {}: {e}\n\
                 run `npm ci --prefix interop` (scripts/demo.sh does) or pass --client-js PATH",
                client_js.display()
            );
            return ExitCode::FAILURE;
        }
    };
    serve::<R>(
        &flags.common,
        chat_app::<R>(&flags.common, Bytes::from(bundle)),
    )
}

/// The `echo` namespace handlers (used for `/` and `/custom`).
pub fn echo_handlers(ns: Namespace) -> Namespace {
    ns.on_connection(|socket| {
        let auth = serde_json::value::RawValue::from_string(socket.auth().to_owned())
            .unwrap_or_else(|_| serde_json::value::RawValue::from_string("{}".to_owned()).expect("valid JSON"));
        let _ = socket.emit("auth", &*auth);
    })
    .on("message", |socket, event| {
        let _ = socket.emit("message-back", &event.args);
    })
    .on("message-with-ack", |socket, event| {
        if let Some(id) = event.ack {
            let _ = socket.ack(id, &event.args);
        }
    })
    .on("request-ack", |socket, event| {
        let Ok(values) = event.args.parse::<Vec<Value>>() else { return };
        let timeout = values.first().and_then(Value::as_u64).unwrap_or(1000);
        let rest = serde_json::to_vec(&values[1.min(values.len())..]).unwrap_or_else(|_| b"[]".to_vec());
        let payload = Args::new(Some(rest.into()), false, Vec::new());
        let _ = socket.emit_with_ack_callback("ack-request", &payload, Duration::from_millis(timeout), |socket, result| {
            let report = match result {
                Ok(args) => json!({ "err": null, "args": args.parse::<Vec<Value>>().unwrap_or_default() }),
                Err(e) => json!({ "err": e.to_string(), "args": [] }),
            };
            let _ = socket.emit("ack-result", &report);
        });
    })
    .on("foreign-broadcast", |socket, event| {
        // Emit from a plain thread through the Io handle: it reaches the sockets of every shard.
        let (Some(io), Ok(payload)) = (socket.io(), event.args.arg::<Value>(0)) else { return };
        let nsp = socket.namespace().to_owned();
        std::thread::spawn(move || {
            let _ = io.of(&nsp).emit("foreign", &payload);
        });
    })
    .on("broadcast", |socket, event| {
        // To every socket of the namespace, on every shard (Node's `socket.nsp.emit`).
        let Ok(payload) = event.args.arg::<Value>(0) else { return };
        let _ = socket.within().emit("broadcast", &payload);
    })
    .on("disconnect-me", |socket, _| socket.disconnect(false))
}

/// The `echo` application: namespaces `/` and `/custom`.
pub fn echo_app(flags: &Flags) -> Arc<App> {
    App::builder()
        .configure(|c| flags.apply(c))
        .namespace("/", echo_handlers)
        .namespace("/custom", echo_handlers)
        .build()
}

/// The `engine_echo` application: a bare Engine.IO server at `/engine.io/` that sends every
/// message back as it came.
pub fn engine_echo_app(flags: &Flags) -> Arc<App> {
    App::engine()
        .configure(|c| flags.apply(c))
        .on_message(|socket, message| socket.send_message(&message))
        .build()
}

/// The `bench` application every peer runs in the benchmarks.
pub fn bench_app(flags: &Flags) -> Arc<App> {
    App::builder()
        .configure(|c| flags.apply(c))
        .namespace("/", |ns| {
            ns.on("echo", |socket, event| {
                if let Some(id) = event.ack {
                    let _ = socket.ack(id, &event.args);
                }
            })
            .on("broadcast", |socket, event| {
                let _ = socket.within().emit("tick", &event.args);
            })
            .on("join", |socket, event| {
                if let Ok(room) = event.args.arg::<String>(0) {
                    socket.join(&room);
                }
                if let Some(id) = event.ack {
                    let _ = socket.ack(id, &());
                }
            })
            .on("room-broadcast", |socket, event| {
                let Ok(room) = event.args.arg::<String>(0) else {
                    return;
                };
                let Some(payload) = event.args.raw(1) else {
                    return;
                };
                let _ = socket.within().to(&room).emit("tick", payload);
            })
        })
        .build()
}

const PAGE: &str = include_str!("page.html");

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

/// What the chat keeps on each socket (its `socket.data`).
#[derive(Debug, Clone, Serialize)]
struct Chatter {
    name: String,
}

/// How long the chat's simulated user lookup takes.
const LOOKUP: Duration = Duration::from_millis(10);

/// The name the chat's middleware stored on a socket.
fn chatter_name(socket: &Socket<'_>) -> String {
    socket
        .data::<Chatter>()
        .map(|c| c.name.clone())
        .unwrap_or_default()
}

/// The chat demo on runtime `R` (its user lookup sleeps there); `bundle` is the official
/// socket.io-client browser bundle, served at `/socket.io.min.js`.
pub fn chat_app<R: Runtime>(flags: &Flags, bundle: Bytes) -> Arc<App> {
    let online = Arc::new(AtomicUsize::new(0));
    let (on_join, on_leave) = (online.clone(), online);
    App::builder()
        .configure(|c| flags.apply(c))
        .http(move |req| match req.path.as_str() {
            "/" | "/index.html" => Some(HttpResponse {
                status: 200,
                content_type: "text/html; charset=utf-8".into(),
                body: Bytes::from_static(PAGE.as_bytes()),
            }),
            "/socket.io.min.js" => Some(HttpResponse {
                status: 200,
                content_type: "application/javascript; charset=utf-8".into(),
                body: bundle.clone(),
            }),
            _ => None,
        })
        .namespace("/", move |ns| {
            // Before the socket joins: a (simulated) user lookup, awaited on the shard's
            // runtime while the shard serves its other sockets; the name it settles on is
            // the socket's data, which every handler reads.
            ns.middleware_async(|socket| async move {
                let asked = socket
                    .with(|s| serde_json::from_str::<Hello>(s.auth()).ok())
                    .ok()
                    .flatten()
                    .and_then(|h| h.name);
                R::sleep_until(Instant::now() + LOOKUP).await;
                let name = asked.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
                    format!("guest-{}", socket.id().get(2..6).unwrap_or_default())
                });
                let name: String = name.chars().take(32).collect();
                // Gone during the lookup: the refusal reaches nobody.
                socket
                    .set_data(Chatter { name })
                    .map_err(|e| ConnectError::new(e.to_string()))
            })
            .on_connection(move |socket| {
                let name = chatter_name(socket);
                let n = on_join.fetch_add(1, Ordering::Relaxed) + 1;
                let _ = socket.emit("welcome", &json!({ "name": name, "online": n }));
                let _ = socket
                    .broadcast()
                    .emit("joined", &json!({ "name": name, "online": n }));
            })
            .on("chat message", |socket, event| {
                let Ok(text) = event.args.arg::<String>(0) else {
                    return;
                };
                let text: String = text.chars().take(2000).collect();
                let name = chatter_name(socket);
                let _ = socket
                    .within()
                    .emit("chat message", &json!({ "name": name, "text": text }));
                if let Some(id) = event.ack {
                    let _ = socket.ack(id, &"delivered");
                }
            })
            .on("typing", |socket, _| {
                let name = chatter_name(socket);
                let _ = socket.broadcast().emit("typing", &name);
            })
            .on_disconnecting(move |socket, _| {
                let name = chatter_name(socket);
                let n = on_leave.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
                let _ = socket
                    .broadcast()
                    .emit("left", &json!({ "name": name, "online": n }));
            })
        })
        .build()
}
