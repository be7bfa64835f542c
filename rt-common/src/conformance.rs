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

/// A `redis-server` of this test on a free loopback port, stopped when dropped. `None` when
/// the machine has none (unless `CORELAY_REQUIRE_REDIS=1`, then it panics).
struct Redis {
    port: u16,
    child: Option<std::process::Child>,
}

impl Redis {
    fn start() -> Option<Redis> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Redis { port, child: None };
        if !redis.run() {
            assert!(
                std::env::var("CORELAY_REQUIRE_REDIS").as_deref() != Ok("1"),
                "redis-server is required (CORELAY_REQUIRE_REDIS=1) and did not start"
            );
            eprintln!("redis-server not found: skipped");
            return None;
        }
        Some(redis)
    }

    /// Starts the server (again) on its port; whether it answers.
    fn run(&mut self) -> bool {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn();
        let Ok(child) = child else { return false };
        self.child = Some(child);
        let t0 = Instant::now();
        while t0.elapsed() < WAIT {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls a future to its end on this thread.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    let t0 = Instant::now();
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(t0.elapsed() < WAIT * 3, "a future did not complete");
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

/// Waits until a GET of the polling session `path` brings `wanted`, sending it again with
/// `send` every 100 ms meanwhile (a broadcast sent before both servers heard Redis again is
/// lost, as Node's would be).
fn until_heard(addr: SocketAddr, path: &str, wanted: &str, send: impl Fn()) {
    let t0 = Instant::now();
    loop {
        send();
        let (got, answer) = std::sync::mpsc::channel();
        let path = path.to_owned();
        std::thread::spawn(move || drop(got.send(request(addr, "GET", &path, ""))));
        if let Ok(answer) = answer.recv_timeout(Duration::from_millis(300)) {
            if answer.contains(wanted) {
                return;
            }
        }
        assert!(t0.elapsed() < WAIT * 2, "{wanted} never arrived");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The adapter's defaults, with requests given 1 s (not 5) to keep the check short.
fn options_fast() -> crate::RedisOptions {
    crate::RedisOptions {
        requests_timeout: Duration::from_secs(1),
        ..crate::RedisOptions::default()
    }
}

/// Two servers joined through a real Redis: a broadcast and a `fetch_sockets` of one reach
/// the other's socket; Redis restarted, the adapter reconnects and subscribes again.
pub fn joins_a_redis_cluster<R: Runtime>(options: R::Options) {
    let Some(mut redis) = Redis::start() else {
        return;
    };
    let app = || {
        App::builder()
            .configure(|c| c.ping_interval = Duration::from_millis(200))
            .namespace("/", |ns| ns.on_connection(|socket| socket.join("r")))
            .build()
    };
    let server = |app| {
        Server::<R>::builder(app)
            .options(options.clone())
            .bind("127.0.0.1:0".parse().unwrap())
            .shards(2)
            .redis_with(&redis.url(), options_fast())
            .start()
            .expect("start")
    };
    let (a, b) = (server(app()), server(app()));
    let addr = b.local_addr();
    let path = join(addr);
    assert!(request(addr, "GET", &path, "").contains("40{\"sid\":"));
    let io = a.io();
    until_heard(addr, &path, "42[\"hi\",1]", || {
        drop(io.to("r").emit("hi", &1))
    });
    let found = block_on(io.of("/").fetch_sockets()).expect("every server answered");
    assert_eq!(found.len(), 1, "the socket of the other server");
    assert_eq!(found[0].rooms().len(), 2, "its own room and r");
    redis.stop();
    // Local delivery goes on; a request fails with Node's error after the timeout.
    let err = block_on(io.of("/").fetch_sockets()).expect_err("no Redis");
    assert_eq!(
        err.message,
        "timeout reached while waiting for fetchSockets response"
    );
    assert!(redis.run(), "redis-server restarted");
    until_heard(addr, &path, "42[\"again\"]", || drop(io.emit("again", &())));
    for server in [a, b] {
        server.shutdown();
        server.wait().expect("a clean stop");
    }
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

        #[test]
        fn joins_a_redis_cluster() {
            $crate::conformance::joins_a_redis_cluster::<$rt>($options);
        }
    };
}
