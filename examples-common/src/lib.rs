//! The example applications of corelay (`echo`, `engine_echo`, `bench`, `chat`) and their
//! command line, shared by the examples of every runtime crate, so that each runtime serves
//! exactly the same applications with the same flags.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use corelay_core::{App, Args, Config, Cors, HttpResponse, Namespace};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The command line of an example.
#[derive(Debug, Clone)]
pub struct Flags {
    pub host: String,
    pub port: u16,
    pub shards: usize,
    pub ping_interval_ms: Option<u64>,
    pub ping_timeout_ms: Option<u64>,
    pub max_payload: Option<usize>,
    pub connect_timeout_ms: Option<u64>,
}

impl Flags {
    /// Parses `std::env::args`; exits with a usage line on a bad flag.
    pub fn parse() -> Flags {
        Self::parse_from(std::env::args().skip(1))
    }

    /// Parses flags; exits with a usage line on a bad flag.
    pub fn parse_from(args: impl Iterator<Item = String>) -> Flags {
        let mut f = Flags {
            host: "127.0.0.1".to_owned(),
            port: 3000,
            shards: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ping_interval_ms: None,
            ping_timeout_ms: None,
            max_payload: None,
            connect_timeout_ms: None,
        };
        let mut args = args;
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
            let num = || -> u64 {
                value
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {value}")))
            };
            match flag.as_str() {
                "--host" => f.host = value.clone(),
                "--port" => f.port = num() as u16,
                "--shards" => f.shards = num().max(1) as usize,
                "--ping-interval-ms" => f.ping_interval_ms = Some(num()),
                "--ping-timeout-ms" => f.ping_timeout_ms = Some(num()),
                "--max-payload" => f.max_payload = Some(num() as usize),
                "--connect-timeout-ms" => f.connect_timeout_ms = Some(num()),
                _ => usage(&format!("unknown flag {flag}")),
            }
        }
        f
    }

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
    }

    /// The address to bind.
    pub fn addr(&self) -> SocketAddr {
        let ip: std::net::IpAddr = self
            .host
            .parse()
            .unwrap_or_else(|_| usage(&format!("--host: not an IP address: {}", self.host)));
        SocketAddr::new(ip, self.port)
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}");
    eprintln!(
        "usage: [--host 127.0.0.1] [--port 3000] [--shards N] [--ping-interval-ms 25000] \
         [--ping-timeout-ms 20000] [--max-payload 1000000] [--connect-timeout-ms 45000]"
    );
    std::process::exit(2)
}

/// Logs to stderr as `RUST_LOG` says, prints the line the test harness waits for, then blocks
/// until SIGINT or SIGTERM.
pub fn announce_and_wait(local_addr: SocketAddr) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    println!("listening on http://{local_addr}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
    ])
    .expect("signal handlers");
    let _ = signals.forever().next();
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
        let _ = socket.emit_with_ack("ack-request", &payload, Duration::from_millis(timeout), |socket, result| {
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
    .on("disconnect-me", |socket, _| socket.disconnect(false))
}

/// The `echo` application: namespaces `/` and `/custom`.
pub fn echo(flags: &Flags) -> Arc<App> {
    App::builder()
        .configure(|c| flags.apply(c))
        .namespace("/", echo_handlers)
        .namespace("/custom", echo_handlers)
        .build()
}

/// The `engine_echo` application: a bare Engine.IO server at `/engine.io/` that sends every
/// message back as it came.
pub fn engine_echo(flags: &Flags) -> Arc<App> {
    App::engine()
        .configure(|c| flags.apply(c))
        .on_message(|socket, message| socket.send_message(&message))
        .build()
}

/// The `bench` application every peer runs in the benchmarks.
pub fn bench(flags: &Flags) -> Arc<App> {
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

/// The chat demo; `bundle` is the official socket.io-client browser bundle, served at
/// `/socket.io.min.js`.
pub fn chat(flags: &Flags, bundle: Bytes) -> Arc<App> {
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
            ns.on_connection(move |socket| {
                let name = serde_json::from_str::<Hello>(socket.auth())
                    .ok()
                    .and_then(|h| h.name)
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("guest-{}", &socket.id()[2..6]));
                let name: String = name.chars().take(32).collect();
                socket.join(&format!("user:{name}"));
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
                let name = socket
                    .rooms()
                    .into_iter()
                    .find_map(|r| r.strip_prefix("user:").map(str::to_owned))
                    .unwrap_or_default();
                let _ = socket
                    .within()
                    .emit("chat message", &json!({ "name": name, "text": text }));
                if let Some(id) = event.ack {
                    let _ = socket.ack(id, &"delivered");
                }
            })
            .on("typing", |socket, _| {
                let name = socket
                    .rooms()
                    .into_iter()
                    .find_map(|r| r.strip_prefix("user:").map(str::to_owned))
                    .unwrap_or_default();
                let _ = socket.broadcast().emit("typing", &name);
            })
            .on_disconnecting(move |socket, _| {
                let name = socket
                    .rooms()
                    .into_iter()
                    .find_map(|r| r.strip_prefix("user:").map(str::to_owned))
                    .unwrap_or_default();
                let n = on_leave.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
                let _ = socket
                    .broadcast()
                    .emit("left", &json!({ "name": name, "online": n }));
            })
        })
        .build()
}

/// The chat example's command line: the usual flags plus `--client-js PATH` (default: the
/// bundle installed by `npm ci --prefix interop`). Exits with a message when it is missing.
pub fn chat_from_args() -> (Flags, Arc<App>) {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut client_js = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../interop/node_modules/socket.io-client/dist/socket.io.min.js");
    if let Some(i) = args.iter().position(|a| a == "--client-js") {
        if i + 1 < args.len() {
            client_js = args.remove(i + 1).into();
        }
        args.remove(i);
    }
    let bundle = std::fs::read(&client_js).unwrap_or_else(|e| {
        eprintln!(
            "cannot read the socket.io-client bundle at {}: {e}\n\
             run `npm ci --prefix interop` (scripts/demo.sh does) or pass --client-js PATH",
            client_js.display()
        );
        std::process::exit(1)
    });
    let flags = Flags::parse_from(args.into_iter());
    let app = chat(&flags, Bytes::from(bundle));
    (flags, app)
}
