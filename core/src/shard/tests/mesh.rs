//! Several shards in one process and one simulated clock: the mesh messages and the
//! hand-over of connections to the shard that owns their session.

use std::io::IoSlice;

use super::*;
use crate::mesh::{MeshMessage, MeshPost};
use crate::wire::ws;
use crate::Io;

#[test]
fn a_broadcast_reaches_every_shard_with_the_same_bytes() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let a = cl.ws_client_on(0);
    let b = cl.ws_client_on(1);
    let c = cl.ws_client_on(1);
    assert_eq!(cl.location(b).0, 1);
    // The sender is on shard 1; `to` a room nobody joined reaches nobody anywhere.
    cl.ws_text(b, "42[\"to\",\"nobody\",0]");
    assert!(cl.ws_recv(a).is_empty());
    // Join members on both shards, then broadcast from shard 0.
    cl.ws_text(b, "42[\"join\",\"r\"]");
    cl.ws_text(c, "42[\"join\",\"r\"]");
    cl.ws_text(a, "42[\"join\",\"r\"]");
    let before = cl.handovers();
    let frame =
        ws::encode_client_frame(OpCode::Text, true, b"42[\"to\",\"r\",\"x\"]", [1, 1, 1, 1]);
    let now = cl.now();
    let (s, Some(id)) = cl.location(a) else {
        panic!("a connection")
    };
    cl.shard_mut(s).receive(now, id, &frame);
    // Before anything is written: shard 0 queued the frame for `a`; the mesh message carries
    // the very same allocation to shard 1.
    let local = {
        let shard = cl.shard(0);
        let mut slices = [IoSlice::new(&[]); 4];
        assert_eq!(shard.send_queue(id, &mut slices), 1);
        slices[0].as_ptr()
    };
    let (_, message) = cl.shard_mut(0).poll_mesh().expect("a mesh message");
    let MeshMessage::Broadcast(bc) = &message else {
        panic!("a broadcast")
    };
    assert_eq!(
        bc.packets[0].ws_frame().as_ptr(),
        local,
        "no copy, no re-encode"
    );
    cl.deliver(1, message);
    for l in [a, b, c] {
        assert_eq!(texts(&cl.ws_recv(l)), vec!["42[\"tick\",\"x\"]"], "{l:?}");
    }
    assert_eq!(cl.handovers(), before, "WebSockets never move");
}

#[test]
fn room_membership_is_per_shard_and_except_works_across_shards() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let members: Vec<Client> = (0..4).map(|i| cl.ws_client_on(i % 2)).collect();
    let outsider = cl.ws_client_on(1);
    for &m in &members {
        cl.ws_text(m, "42[\"join\",\"r1\"]");
    }
    cl.ws_text(members[3], "42[\"join\",\"quiet\"]");
    cl.ws_text(members[0], "42[\"leave\",\"r1\"]");
    cl.ws_text(outsider, "42[\"to\",\"r1\",1]");
    assert!(cl.ws_recv(members[0]).is_empty());
    for &m in &members[1..] {
        assert_eq!(texts(&cl.ws_recv(m)), vec!["42[\"tick\",1]"]);
    }
    assert!(cl.ws_recv(outsider).is_empty());
}

#[test]
fn polling_requests_on_the_wrong_shard_are_handed_to_the_owner() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    // The handshake lands on shard 0: shard 0 owns the session.
    let l0 = cl.connect_to(0);
    let r = cl.get(l0, "/socket.io/?EIO=4&transport=polling").unwrap();
    let sid = r.text()[9..29].to_owned();
    assert_eq!(crate::sid::shard_of(&sid), Some(0));
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // A POST and a GET arrive on shard 1.
    let l1 = cl.connect_to(1);
    let r = cl.post(l1, &q, "40").unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(cl.location(l1).0, 0, "the connection moved to the owner");
    let l2 = cl.connect_to(1);
    let r = cl.get(l2, &q).unwrap();
    assert!(r.text().starts_with("40{\"sid\""), "{}", r.text());
    assert_eq!(cl.handovers(), 2);
    // A second session owned by shard 1, whose requests come on the keep-alive connection
    // that now lives on shard 0: handed back.
    let l3 = cl.connect_to(1);
    let r = cl.get(l3, "/socket.io/?EIO=4&transport=polling").unwrap();
    let sid1 = r.text()[9..29].to_owned();
    assert_eq!(crate::sid::shard_of(&sid1), Some(1));
    let q1 = format!("/socket.io/?EIO=4&transport=polling&sid={sid1}");
    let r = cl.post(l1, &q1, "40").unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(cl.location(l1).0, 1);
    let r = cl.post(l1, &q, "42[\"message\",\"again\"]").unwrap();
    assert_eq!(r.text(), "ok");
    assert_eq!(cl.location(l1).0, 0);
    let r = cl.get(l2, &q).unwrap();
    assert_eq!(r.text(), "42[\"message-back\",\"again\"]");
    assert_eq!(cl.shard_mut(0).stats().sessions, 1);
    assert_eq!(cl.shard_mut(1).stats().sessions, 1);
}

#[test]
fn a_pipelined_request_moves_with_the_connection() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let l0 = cl.connect_to(0);
    let r = cl.get(l0, "/socket.io/?EIO=4&transport=polling").unwrap();
    let sid = r.text()[9..29].to_owned();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let l1 = cl.connect_to(1);
    let body = "42[\"message\",\"piped\"]";
    let raw = format!(
        "POST {q} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n40POST {q} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    cl.send(l1, raw.as_bytes());
    let rs = parse_responses(&cl.take(l1));
    assert_eq!(rs.len(), 2);
    assert!(rs.iter().all(|r| r.text() == "ok"));
    let r = cl.get(l0, &q).unwrap();
    assert!(
        r.text().ends_with("42[\"message-back\",\"piped\"]"),
        "{}",
        r.text()
    );
}

#[test]
fn the_upgrade_of_a_session_arriving_on_another_shard() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let l0 = cl.connect_to(0);
    let r = cl.get(l0, "/socket.io/?EIO=4&transport=polling").unwrap();
    let sid = r.text()[9..29].to_owned();
    let q = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    cl.post(l0, &q, "40").unwrap();
    cl.get(l0, &q).unwrap();
    let w = cl.connect_to(1);
    cl.send(
        w,
        format!(
            "GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(cl.location(w).0, 0);
    assert!(cl.take(w).starts_with(b"HTTP/1.1 101"));
    cl.ws_text(w, "2probe");
    assert_eq!(texts(&cl.ws_recv(w)), vec!["3probe"]);
    cl.ws_text(w, "5");
    cl.ws_text(w, "42[\"message\",1]");
    assert_eq!(texts(&cl.ws_recv(w)), vec!["42[\"message-back\",1]"]);
}

#[test]
fn unknown_and_malformed_sids_are_answered_where_they_land() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let l = cl.connect_to(1);
    // "AA…" names shard 0, which does not know it.
    let r = cl
        .get(
            l,
            "/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
        )
        .unwrap();
    assert_eq!(r.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
    assert_eq!(cl.location(l).0, 0);
    // A sid naming a shard that does not exist, or too short: served here.
    let l = cl.connect_to(1);
    let r = cl
        .get(
            l,
            "/socket.io/?EIO=4&transport=polling&sid=__AAAAAAAAAAAAAAAAAA",
        )
        .unwrap();
    assert_eq!(r.text(), r#"{"code":1,"message":"Session ID unknown"}"#);
    let r = cl
        .get(l, "/socket.io/?EIO=4&transport=polling&sid=A")
        .unwrap();
    assert_eq!(r.status, 400);
    assert_eq!(cl.location(l).0, 1);
}

/// Collects what an `Io` handle posts, as a runtime's channels would.
#[derive(Default)]
struct Mailbox {
    shards: usize,
    posted: Mutex<Vec<(usize, MeshMessage)>>,
}

impl MeshPost for Mailbox {
    fn shards(&self) -> usize {
        self.shards
    }
    fn post(&self, shard: usize, message: MeshMessage) {
        self.posted.lock().unwrap().push((shard, message));
    }
}

#[test]
fn an_io_handle_on_a_foreign_thread_reaches_every_shard() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let a = cl.ws_client_on(0);
    let b = cl.ws_client_on(1);
    let c = cl.ws_client_on(1);
    cl.ws_text(c, "40/custom,");
    // The socket id of c in /custom is what the client saw.
    let connected = texts(&cl.ws_recv(c));
    let c_id = connected[0]["40/custom,{\"sid\":\"".len()..][..20].to_owned();
    cl.ws_text(b, "42[\"join\",\"vip\"]");
    let mailbox = Arc::new(Mailbox {
        shards: 2,
        ..Mailbox::default()
    });
    let io = Io::new(mailbox.clone());
    std::thread::spawn(move || {
        io.emit("news", &("all", 1)).unwrap();
        io.to("vip").emit("news", &"vip").unwrap();
        io.of("/custom").to(&c_id).emit("news", &"direct").unwrap();
        io.of("/").except("vip").emit("news", &"not vip").unwrap();
        assert!(io.emit("disconnect", &()).is_err());
    })
    .join()
    .unwrap();
    let posted = std::mem::take(&mut *mailbox.posted.lock().unwrap());
    assert_eq!(posted.len(), 8, "four emits to two shards");
    for (shard, message) in posted {
        cl.deliver(shard, message);
    }
    assert_eq!(
        texts(&cl.ws_recv(a)),
        vec!["42[\"news\",\"all\",1]", "42[\"news\",\"not vip\"]"]
    );
    assert_eq!(
        texts(&cl.ws_recv(b)),
        vec!["42[\"news\",\"all\",1]", "42[\"news\",\"vip\"]"]
    );
    assert_eq!(
        texts(&cl.ws_recv(c)),
        vec![
            "42[\"news\",\"all\",1]",
            "42/custom,[\"news\",\"direct\"]",
            "42[\"news\",\"not vip\"]"
        ]
    );
}

#[test]
fn a_connection_moves_only_after_its_earlier_answer_is_written() {
    let mut cl = Sim::with_shards(app(), 2, Instant::now());
    let l0 = cl.connect_to(0);
    let r = cl.get(l0, "/socket.io/?EIO=4&transport=polling").unwrap();
    let sid0 = r.text()[9..29].to_owned();
    // On shard 1: a handshake (answered by shard 1) pipelined with a POST for shard 0.
    let l1 = cl.connect_to(1);
    let raw = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n\
         POST /socket.io/?EIO=4&transport=polling&sid={sid0} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n40"
    );
    let now = cl.now();
    let (s, Some(id)) = cl.location(l1) else {
        panic!("a connection")
    };
    cl.shard_mut(s).receive(now, id, raw.as_bytes());
    // The answer to the handshake is still queued: no hand-over yet.
    assert!(cl.shard_mut(1).poll_action().is_none());
    let rs = parse_responses(&cl.take(l1));
    assert_eq!(rs.len(), 2, "both answers arrive, in order");
    assert!(
        rs[0].text().starts_with("0{\"sid\":\"AB"),
        "{}",
        rs[0].text()
    );
    assert_eq!(rs[1].text(), "ok");
    assert_eq!(cl.location(l1).0, 0);
}

#[test]
fn a_broadcast_to_a_dynamic_namespace_names_each_child_in_its_packets() {
    let app = App::builder()
        .dynamic_namespace("^/tenant-[0-9]+$", |ns| ns)
        .namespace("/", |ns| ns)
        .build();
    let mut cl = Sim::with_shards(app, 2, Instant::now());
    let tenants: Vec<(Client, &str)> = [(0, "/tenant-1"), (1, "/tenant-1"), (1, "/tenant-22")]
        .into_iter()
        .map(|(shard, nsp)| {
            let c = cl.ws_client_on(shard);
            cl.ws_text(c, &format!("40{nsp},"));
            assert!(texts(&cl.ws_recv(c))[0].starts_with(&format!("40{nsp},{{\"sid\"")));
            (c, nsp)
        })
        .collect();
    let root = cl.ws_client_on(0);
    let io = cl.io();
    io.of("^/tenant-[0-9]+$").emit("news", &("hi", 1)).unwrap();
    // With an acknowledgement too: a child's socket answers in its own namespace.
    let answers = io.of("^/tenant-[0-9]+$").emit_with_ack("ask", &()).unwrap();
    cl.pump();
    for &(c, nsp) in &tenants {
        let got = texts(&cl.ws_recv(c));
        assert_eq!(got[0], format!("42{nsp},[\"news\",\"hi\",1]"));
        let id = got[1]
            .strip_prefix(&format!("42{nsp},"))
            .and_then(|r| r.strip_suffix("[\"ask\"]"))
            .expect("the ask, headed for the child");
        cl.ws_text(c, &format!("43{nsp},{id}[\"{nsp}\"]"));
    }
    assert!(cl.ws_recv(root).is_empty(), "not a child: nothing");
    let mut got: Vec<String> = completed(answers)
        .unwrap()
        .iter()
        .map(|a| a.arg::<String>(0).unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["/tenant-1", "/tenant-1", "/tenant-22"]);
}

/// The output of a future that is already complete.
fn completed<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("not complete"),
    }
}
