//! Echo server for the interop tests: namespaces `/` and `/custom`.
//!
//! On connect it emits `auth` with the handshake's auth object; `message` comes back as
//! `message-back`; `message-with-ack` is acknowledged with its arguments; `request-ack`
//! (timeout, ...payload) asks the client for an acknowledgement and reports it as
//! `ack-result`; `disconnect-me` disconnects the socket.

mod common;

use std::time::Duration;

use corelay_tokio::{App, Args, Namespace};
use serde_json::{json, Value};

fn handlers(ns: Namespace) -> Namespace {
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
    .on("disconnect-me", |socket, _| socket.disconnect(false))
}

fn main() {
    let flags = common::Flags::parse();
    let app = App::builder()
        .configure(|c| flags.apply(c))
        .namespace("/", handlers)
        .namespace("/custom", handlers)
        .build();
    common::serve(app, &flags);
}
