//! The adapter events of Node (`create-room`, `delete-room`, `join-room`, `leave-room`).

use super::*;
use crate::RoomEvent;

#[test]
fn room_events_in_node_order() {
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = log.clone();
    let app = App::builder()
        .namespace("/", move |ns| {
            ns.on_room_event(move |e| {
                let line = match e {
                    RoomEvent::Create(r) => format!("create {}", short(r)),
                    RoomEvent::Delete(r) => format!("delete {}", short(r)),
                    RoomEvent::Join(r, id) => format!("join {} {}", short(r), short(id)),
                    RoomEvent::Leave(r, id) => format!("leave {} {}", short(r), short(id)),
                };
                seen.lock().unwrap().push(line);
            })
            .on("join", |s, e| s.join(&e.args.arg::<String>(0).unwrap()))
            .on("leave", |s, e| s.leave(&e.args.arg::<String>(0).unwrap()))
        })
        .build();
    let mut sim = Sim::new(app, Instant::now());
    let (c, _) = sim.ws_open("EIO=4&transport=websocket");
    sim.ws_text(c, "40");
    let frames = texts(&sim.ws_recv(c));
    let id = short(&frames[0][10..30]).to_owned();
    sim.ws_text(c, r#"42["join","r"]"#);
    sim.ws_text(c, r#"42["join","r"]"#);
    sim.ws_text(c, r#"42["leave","r"]"#);
    sim.ws_text(c, r#"42["join","q"]"#);
    sim.disconnect(c);
    let expected = [
        format!("create {id}"),
        format!("join {id} {id}"),
        "create r".to_owned(),
        format!("join r {id}"),
        format!("leave r {id}"),
        "delete r".to_owned(),
        "create q".to_owned(),
        format!("join q {id}"),
        format!("leave {id} {id}"),
        format!("delete {id}"),
        format!("leave q {id}"),
        "delete q".to_owned(),
    ];
    assert_eq!(*log.lock().unwrap(), expected);
}

/// Socket ids are long: their first four characters name them here.
fn short(s: &str) -> &str {
    match s.len() {
        20 => &s[..4],
        _ => s,
    }
}
