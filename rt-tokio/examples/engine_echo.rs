//! A bare Engine.IO server at `/engine.io/` that sends every message back as it came.

mod common;

use corelay_tokio::App;

fn main() {
    let flags = common::Flags::parse();
    let app = App::engine()
        .configure(|c| flags.apply(c))
        .on_message(|socket, message| socket.send_message(&message))
        .build();
    common::serve(app, &flags);
}
