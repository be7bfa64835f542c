//! The application every peer runs in the benchmarks, namespace `/`: `echo` is acknowledged
//! with its arguments; `broadcast` (payload) emits `tick` to every socket; `join` (room) joins
//! and acknowledges; `room-broadcast` (room, payload) emits `tick` to the room.

mod common;

use corelay_tokio::App;

fn main() {
    let flags = common::Flags::parse();
    let app = App::builder()
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
                let Ok(room) = event.args.arg::<String>(0) else { return };
                let Some(payload) = event.args.raw(1) else { return };
                let _ = socket.within().to(&room).emit("tick", payload);
            })
        })
        .build();
    common::serve(app, &flags);
}
