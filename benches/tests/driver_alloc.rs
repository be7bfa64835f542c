//! The real driver's write path allocates nothing per recipient either: a broadcast to many
//! WebSocket clients over real loopback sockets, on every runtime, counted on the shard's own
//! thread (the counting allocator counts per thread, and only while asked). Counts, not times.

use std::cell::RefCell;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use corelay_benches::counting::{Counter, Counting};
use corelay_core::wire::ws::{self, OpCode};
use corelay_core::App;
use corelay_rt::{Runtime, Server};

#[global_allocator]
static GLOBAL: Counting = Counting;

thread_local! {
    /// The count running on a shard thread, between `count-start` and `count-stop`.
    static COUNTER: RefCell<Option<Counter>> = const { RefCell::new(None) };
}

const WAIT: Duration = Duration::from_secs(10);
const PAYLOAD: &str = "a broadcast payload of some sixty-four bytes, the same for everyone";

/// `b` broadcasts to every socket of `/`; `count-start` and `count-stop` bracket a count of
/// the shard thread's allocations, which `count-stop` reports as `counted`.
fn app() -> std::sync::Arc<App> {
    App::builder()
        .namespace("/", |ns| {
            ns.on("b", |s, e| drop(s.within().emit("tick", &e.args)))
                .on("count-start", |_, _| {
                    COUNTER.with(|c| *c.borrow_mut() = Some(Counter::start()));
                })
                .on("count-stop", |s, _| {
                    let counted = COUNTER.with(|c| c.borrow_mut().take()).map(Counter::stop);
                    let calls = counted.map_or(usize::MAX, |a| a.calls);
                    let _ = s.emit("counted", &calls);
                })
        })
        .build()
}

fn frame(text: &str) -> Vec<u8> {
    ws::encode_client_frame(OpCode::Text, true, text.as_bytes(), [9, 8, 7, 6])
}

/// Reads exactly `n` bytes (blocking, bounded).
fn read_n(tcp: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    tcp.read_exact(&mut buf).expect("the bytes expected");
    buf
}

/// A WebSocket client joined to `/`.
fn client(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(WAIT)).unwrap();
    tcp.write_all(
        b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
    )
    .unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.extend(read_n(&mut tcp, 1));
    }
    let open = read_n(&mut tcp, 2);
    read_n(&mut tcp, open[1] as usize); // the open packet (under 126 bytes)
    tcp.write_all(&frame("40")).unwrap();
    let connected = read_n(&mut tcp, 2);
    let text = read_n(&mut tcp, connected[1] as usize);
    assert!(text.starts_with(b"40{\"sid\":"));
    tcp
}

/// Waits until every client has received `expected`, reading all of them in turn.
fn everyone_gets(clients: &mut [TcpStream], expected: &[u8]) {
    let mut got = vec![0usize; clients.len()];
    let mut buf = [0u8; 256];
    let deadline = Instant::now() + WAIT;
    for c in clients.iter() {
        c.set_nonblocking(true).unwrap();
    }
    while got.iter().any(|&n| n < expected.len()) {
        assert!(
            Instant::now() < deadline,
            "not every client got the broadcast"
        );
        for (c, n) in clients.iter_mut().zip(got.iter_mut()) {
            if *n >= expected.len() {
                continue;
            }
            let want = expected.len() - *n;
            match c.read(&mut buf[..want]) {
                Ok(0) => panic!("a client was closed"),
                Ok(k) => {
                    assert_eq!(&buf[..k], &expected[*n..*n + k]);
                    *n += k;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }
    for c in clients.iter() {
        c.set_nonblocking(false).unwrap();
    }
}

/// The shard thread's allocations for one warm broadcast to `n` clients, written to their
/// sockets by the driver.
fn broadcast_allocations<R: Runtime>(options: R::Options, n: usize) -> usize {
    let server = Server::<R>::builder(app())
        .options(options)
        .bind("127.0.0.1:0".parse().unwrap())
        .shards(1)
        .start()
        .expect("start");
    let mut clients: Vec<TcpStream> = (0..n).map(|_| client(server.local_addr())).collect();
    let tick = ws::encode_frame(
        OpCode::Text,
        format!(r#"42["tick","{PAYLOAD}"]"#).as_bytes(),
    );
    let b = frame(&format!(r#"42["b","{PAYLOAD}"]"#));
    let mut most = 0;
    // The first round warms the buffers up; the most of the next ones counts.
    for round in 0..4 {
        let mut start = frame(r#"42["count-start"]"#);
        start.extend_from_slice(&b);
        clients[0].write_all(&start).unwrap();
        everyone_gets(&mut clients, &tick);
        clients[0].write_all(&frame(r#"42["count-stop"]"#)).unwrap();
        let head = read_n(&mut clients[0], 2);
        let text = String::from_utf8(read_n(&mut clients[0], head[1] as usize)).unwrap();
        let calls: usize = text
            .strip_prefix(r#"42["counted","#)
            .and_then(|t| t.strip_suffix(']'))
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("{text}"));
        if round > 0 {
            most = most.max(calls);
        }
    }
    // Clients that go away let the shutdown end at once (it lingers for their end otherwise).
    drop(clients);
    server.shutdown();
    server.wait().expect("a clean stop");
    most
}

/// What a runtime's own bookkeeping may vary by between two runs (glommio's reactor: a few
/// allocations); one allocation per recipient would add 380.
const NOISE: usize = 16;

fn check<R: Runtime>(name: &str, options: R::Options) {
    let few = broadcast_allocations::<R>(options.clone(), 20);
    let many = broadcast_allocations::<R>(options, 400);
    assert!(
        many <= few + NOISE,
        "{name}: a broadcast written by the driver to 400 clients made {many} allocations on \
         the shard thread, to 20 clients {few}: {:.3} per extra recipient",
        (many as f64 - few as f64) / 380.0
    );
}

#[test]
fn the_driver_writes_a_broadcast_without_allocating_per_recipient() {
    assert!(corelay_benches::counting::installed());
    check::<corelay_tokio::Tokio>("tokio", ());
    check::<corelay_monoio::Monoio>("monoio", Default::default());
    check::<corelay_monoio::Monoio>(
        "monoio (epoll)",
        corelay_monoio::Options {
            driver: corelay_monoio::Driver::Legacy,
        },
    );
    check::<corelay_glommio::Glommio>("glommio", ());
}
