//! The driver's behaviour, checked the same way on every runtime (feature `conformance`).
//!
//! A runtime crate runs these from one test file:
//!
//! ```text
//! corelay_rt::conformance_tests!(corelay_tokio::Tokio);
//! // or with the runtime's own settings:
//! corelay_rt::conformance_tests!(corelay_monoio::Monoio, Options { driver: Driver::Legacy });
//! ```
//!
//! Each check starts real servers on loopback, talks to them over real sockets with plain
//! blocking clients, and bounds every wait.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corelay_core::App;

use crate::{Runtime, Server, ServerError};

/// How long any single wait of a check may take.
const WAIT: Duration = Duration::from_secs(5);

/// Sends one HTTP request on a new connection and reads the whole answer (the request says
/// `Connection: close`).
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(WAIT)).expect("timeout");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tcp.write_all(head.as_bytes()).expect("write");
    let mut answer = String::new();
    let _ = tcp.read_to_string(&mut answer);
    answer
}

/// Opens an Engine.IO session over polling: its id.
pub fn handshake(addr: SocketAddr) -> String {
    let answer = request(addr, "GET", "/socket.io/?EIO=4&transport=polling", "");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let at = answer.find("\"sid\":\"").expect("sid") + 7;
    answer[at..at + 20].to_owned()
}

/// A client that joined `/` over polling: the path of its session's requests.
fn join(addr: SocketAddr) -> String {
    let sid = handshake(addr);
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    assert!(request(addr, "POST", &path, "40").ends_with("ok"));
    path
}

/// A client's `boom` event panics in a handler of `app`: the server stops, and `wait` says
/// which shard panicked and why.
fn boom_stops_the_server<R: Runtime>(app: Arc<App>, options: R::Options) {
    let server = start::<R>(app, options);
    let addr = server.local_addr();
    let path = join(addr);
    request(addr, "POST", &path, "42[\"boom\"]");
    let (done, waited) = std::sync::mpsc::channel();
    std::thread::spawn(move || drop(done.send(server.wait())));
    match waited.recv_timeout(WAIT) {
        Ok(Err(ServerError::Panicked { message, .. })) => {
            assert!(message.contains("on purpose"), "{message}")
        }
        other => panic!("expected a reported panic, got {other:?}"),
    }
}

/// Two shards of `app` on a free port of 127.0.0.1.
fn start<R: Runtime>(app: Arc<App>, options: R::Options) -> crate::RunningServer {
    Server::<R>::builder(app)
        .options(options)
        .bind("127.0.0.1:0".parse().unwrap())
        .shards(2)
        .pin_cores(true)
        .start()
        .expect("start")
}

/// Two shards serve handshakes on one port, and a shutdown asked from another thread ends
/// the server promptly and cleanly.
pub fn serves_then_shuts_down<R: Runtime>(options: R::Options) {
    let app = App::builder().namespace("/", |ns| ns).build();
    let server = start::<R>(app, options);
    assert_ne!(server.local_addr().port(), 0);
    assert_eq!(server.shards(), 2);
    let mut owners = std::collections::HashSet::new();
    for _ in 0..16 {
        owners.insert(handshake(server.local_addr())[..2].to_owned());
    }
    assert!(!owners.is_empty());
    let handle = server.shutdown_handle();
    std::thread::spawn(move || handle.shutdown());
    let t0 = Instant::now();
    server.wait().expect("a clean stop");
    assert!(t0.elapsed() < WAIT, "slow shutdown");
}

/// A polling session keeps working when its requests land on the shard that does not own
/// it: the connection is handed over, with the bytes read.
pub fn hands_connections_over<R: Runtime>(options: R::Options) {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.on("message", |socket, event| {
                let _ = socket.emit("message-back", &event.args);
            })
        })
        .build();
    let server = start::<R>(app, options);
    let addr = server.local_addr();
    let path = join(addr);
    let connected = request(addr, "GET", &path, "");
    assert!(connected.contains("40{\"sid\":"), "{connected}");
    // Every request on a new connection: the kernel picks the shard at random.
    for i in 0..12 {
        let sent = format!("42[\"message\",{i}]");
        assert!(request(addr, "POST", &path, &sent).ends_with("ok"));
        let answer = request(addr, "GET", &path, "");
        assert!(
            answer.ends_with(&format!("42[\"message-back\",{i}]")),
            "{answer}"
        );
    }
    server.shutdown();
    server.wait().expect("a clean stop");
}

/// A listener that can not be bound fails the start with an error naming the shard.
pub fn start_errors_name_the_shard<R: Runtime>(options: R::Options) {
    // Bound without SO_REUSEPORT: no shard can share its port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let app = App::builder().build();
    let err = Server::<R>::builder(app)
        .options(options.clone())
        .bind(taken.local_addr().unwrap())
        .shards(2)
        .start()
        .expect_err("the port is taken");
    assert!(err.to_string().contains("shard 0"), "{err}");
}

/// A panic in a handler stops the server, and `wait` says which shard panicked.
pub fn panics_stop_the_server<R: Runtime>(options: R::Options) {
    let app: Arc<App> = App::builder()
        .namespace("/", |ns| {
            ns.on("boom", |_, _| panic!("a handler panicked on purpose"))
        })
        .build();
    boom_stops_the_server::<R>(app, options);
}

/// An async middleware lets the client in once its future is done; an async handler runs as
/// a local task of the socket's shard (here holding an `Rc`, so its future is not `Send`),
/// sleeps on the runtime's timer, and what it sends afterwards
/// reaches a polling GET that is already waiting, with no further input: the driver drains
/// after the task's poll. An acknowledgement answered from a plain thread arrives too.
pub fn async_handlers_run_on_the_shard<R: Runtime>(options: R::Options) {
    let app = App::builder()
        .namespace("/", |ns| {
            ns.middleware_async(|_| async { Ok(()) })
                .on_async("wait", |socket, event| async move {
                    let local = std::rc::Rc::new(event.args.arg::<u64>(0).unwrap_or(0));
                    R::sleep_until(Instant::now() + Duration::from_millis(*local)).await;
                    let _ = socket.emit("waited", &*local);
                    if let Some(ack) = event.ack {
                        let _ = ack.send(&"after");
                    }
                })
                .on("thread", |socket, event| {
                    let Some(ack) = event.ack.and_then(|id| socket.ack_sender(id).ok()) else {
                        return;
                    };
                    std::thread::spawn(move || drop(ack.send(&"from a thread")));
                })
        })
        .build();
    let server = start::<R>(app, options);
    let addr = server.local_addr();
    let path = join(addr);
    assert!(request(addr, "GET", &path, "").contains("40{\"sid\":"));
    let t0 = Instant::now();
    assert!(request(addr, "POST", &path, "421[\"wait\",100]").ends_with("ok"));
    let answer = request(addr, "GET", &path, "");
    assert!(t0.elapsed() >= Duration::from_millis(100), "{answer}");
    // Each call of the task on its socket is written as it happens (as Node's flush does):
    // the emit may answer the waiting GET alone, the acknowledgement then comes next.
    let answer = match answer.ends_with("42[\"waited\",100]") {
        true => answer + &request(addr, "GET", &path, ""),
        false => answer,
    };
    assert!(answer.contains("42[\"waited\",100]"), "{answer}");
    assert!(answer.ends_with("431[\"after\"]"), "{answer}");
    assert!(request(addr, "POST", &path, "422[\"thread\"]").ends_with("ok"));
    let answer = request(addr, "GET", &path, "");
    assert!(answer.ends_with("432[\"from a thread\"]"), "{answer}");
    server.shutdown();
    server.wait().expect("a clean stop");
}

/// A panic in an async handler's task stops the server as a handler's does.
pub fn async_panics_stop_the_server<R: Runtime>(options: R::Options) {
    let app: Arc<App> = App::builder()
        .namespace("/", |ns| {
            ns.on_async("boom", |_, _| async {
                panic!("a task panicked on purpose")
            })
        })
        .build();
    boom_stops_the_server::<R>(app, options);
}

/// Generates one `#[test]` per check of [`crate::conformance`] for runtime `$rt`, with its
/// default options or the ones given.
#[macro_export]
macro_rules! conformance_tests {
    ($rt:ty) => {
        $crate::conformance_tests!($rt, ::std::default::Default::default());
    };
    ($rt:ty, $options:expr) => {
        #[test]
        fn serves_then_shuts_down() {
            $crate::conformance::serves_then_shuts_down::<$rt>($options);
        }

        #[test]
        fn hands_connections_over() {
            $crate::conformance::hands_connections_over::<$rt>($options);
        }

        #[test]
        fn start_errors_name_the_shard() {
            $crate::conformance::start_errors_name_the_shard::<$rt>($options);
        }

        #[test]
        fn panics_stop_the_server() {
            $crate::conformance::panics_stop_the_server::<$rt>($options);
        }

        #[test]
        fn async_handlers_run_on_the_shard() {
            $crate::conformance::async_handlers_run_on_the_shard::<$rt>($options);
        }

        #[test]
        fn async_panics_stop_the_server() {
            $crate::conformance::async_panics_stop_the_server::<$rt>($options);
        }
    };
}
