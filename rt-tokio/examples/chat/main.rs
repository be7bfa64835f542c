//! The README's demo: a small chat server. Open http://127.0.0.1:3000/ in two browser tabs.
//!
//! The page loads the official socket.io-client browser bundle, which the server reads from
//! `interop/node_modules` (installed by `scripts/demo.sh` with `npm ci`) or from
//! `--client-js PATH`.

#[path = "../common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use corelay_tokio::{App, HttpResponse};
use serde::Deserialize;
use serde_json::json;

const PAGE: &str = include_str!("page.html");

#[derive(Deserialize)]
struct Hello {
    name: Option<String>,
}

fn main() {
    let mut args: Vec<String> = std::env::args().collect();
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
    let bundle = Bytes::from(bundle);
    let flags = common::Flags::parse_from(args.into_iter().skip(1));
    let online = Arc::new(AtomicUsize::new(0));
    let (on_join, on_leave) = (online.clone(), online);
    let app = App::builder()
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
                let _ = socket.broadcast().emit("joined", &json!({ "name": name, "online": n }));
            })
            .on("chat message", |socket, event| {
                let Ok(text) = event.args.arg::<String>(0) else { return };
                let text: String = text.chars().take(2000).collect();
                let name = socket
                    .rooms()
                    .into_iter()
                    .find_map(|r| r.strip_prefix("user:").map(str::to_owned))
                    .unwrap_or_default();
                let _ = socket.within().emit("chat message", &json!({ "name": name, "text": text }));
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
                let _ = socket.broadcast().emit("left", &json!({ "name": name, "online": n }));
            })
        })
        .build();
    common::serve(app, &flags);
}
