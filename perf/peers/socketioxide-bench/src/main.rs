//! The corelay `bench` application (see `corelay-example-apps::bench_app`) on socketioxide 0.18, for the
//! side-by-side load harness `corelay-perf`.
//!
//! Namespace `/`: `echo` (args..., ack) → ack with the argument; `broadcast` (payload) → `tick`
//! to every socket of `/`; `join` (room, ack) → join, ack; `room-broadcast` (room, payload) →
//! `tick` to the room. One tokio current-thread runtime (one core), hyper http1 with upgrades;
//! with `--shards N` (N > 1), tokio's multi-thread runtime with N worker threads instead.
//!
//! Flags as the corelay examples: `--port` (3000), `--host` (127.0.0.1), `--max-payload`
//! (1 000 000), `--ping-interval-ms` (25 000), `--ping-timeout-ms` (20 000),
//! `--max-buffer-size` (packets queued per socket, 1 048 576 here: socketioxide's default of 128
//! drops packets under a broadcast burst), `--shards` (1: the current-thread runtime; N: N
//! worker threads), `--redis URL` (joins a cluster of these servers through socketioxide's own
//! Redis adapter, `socketioxide-redis` 0.4: RESP3 pub/sub, msgpack messages; NOT
//! wire-compatible with `@socket.io/redis-adapter`, so it clusters only with itself),
//! `--redis-stream-buffer N` (messages from Redis queued per channel, 1 048 576 here: the
//! adapter drops what does not fit; its default is 1 024) and `--redis-response-timeout-ms N`
//! (0 here: none; the crate's driver keeps redis-rs's 500 ms, and under a burst of broadcasts
//! PUBLISHes then time out and those broadcasts are dropped: see `driver.rs`).
//! Prints `listening on http://HOST:PORT` once it accepts connections (with `--redis`, once the
//! adapter's subscriptions are confirmed); exits on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::{SocketIo, SocketIoBuilder};
use socketioxide_redis::drivers::redis::redis_client as redis;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

mod driver;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};

struct Flags {
    host: String,
    port: u16,
    max_payload: u64,
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    max_buffer_size: usize,
    threads: usize,
    redis: Option<String>,
    redis_stream_buffer: usize,
    redis_response_timeout_ms: u64,
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}");
    eprintln!(
        "usage: [--host 127.0.0.1] [--port 3000] [--max-payload 1000000] [--ping-interval-ms 25000] \
         [--ping-timeout-ms 20000] [--max-buffer-size 1048576] [--shards 1 (worker threads)] \
         [--redis redis://HOST:PORT] [--redis-stream-buffer 1048576] \
         [--redis-response-timeout-ms 0 (none)]"
    );
    std::process::exit(2)
}

fn parse_flags() -> Flags {
    let mut f = Flags {
        host: "127.0.0.1".into(),
        port: 3000,
        max_payload: 1_000_000,
        ping_interval_ms: 25_000,
        ping_timeout_ms: 20_000,
        max_buffer_size: 1 << 20,
        threads: 1,
        redis: None,
        redis_stream_buffer: 1 << 20,
        redis_response_timeout_ms: 0,
    };
    let mut args = std::env::args().skip(1);
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
            "--max-payload" => f.max_payload = num(),
            "--ping-interval-ms" => f.ping_interval_ms = num(),
            "--ping-timeout-ms" => f.ping_timeout_ms = num(),
            "--max-buffer-size" => f.max_buffer_size = num() as usize,
            "--shards" => f.threads = (num() as usize).max(1),
            "--redis" => f.redis = Some(value.clone()),
            "--redis-stream-buffer" => f.redis_stream_buffer = (num() as usize).max(1),
            "--redis-response-timeout-ms" => f.redis_response_timeout_ms = num(),
            "--connect-timeout-ms" => {} // socketioxide's connect timeout is fixed; accepted
            _ => usage(&format!("unknown flag {flag}")),
        }
    }
    f
}

fn main() {
    let flags = parse_flags();
    let addr: SocketAddr = format!("{}:{}", flags.host, flags.port)
        .parse()
        .unwrap_or_else(|_| usage(&format!("--host: not an IP address: {}", flags.host)));
    let rt = if flags.threads == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(flags.threads)
            .enable_all()
            .build()
    }
    .expect("tokio runtime");
    rt.block_on(serve(flags, addr));
}

async fn serve(flags: Flags, addr: SocketAddr) {
    let builder = SocketIo::builder()
        .max_payload(flags.max_payload)
        .max_buffer_size(flags.max_buffer_size)
        .ping_interval(Duration::from_millis(flags.ping_interval_ms))
        .ping_timeout(Duration::from_millis(flags.ping_timeout_ms));
    let Some(url) = flags.redis.clone() else {
        return run(builder, addr, async |io| io.ns("/", on_connect)).await;
    };
    // RESP3, which the adapter's driver needs: added to a URL that does not choose.
    let url = match (url.contains("protocol="), url.contains('?')) {
        (true, _) => url,
        (false, true) => format!("{url}&protocol=resp3"),
        (false, false) => format!("{url}?protocol=resp3"),
    };
    let fail = |e: &dyn std::fmt::Display| -> ! {
        eprintln!("redis {url}: {e}");
        std::process::exit(1)
    };
    let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| fail(&e));
    let timeout = (flags.redis_response_timeout_ms > 0)
        .then(|| Duration::from_millis(flags.redis_response_timeout_ms));
    let driver = driver::BenchDriver::new(&client, timeout)
        .await
        .unwrap_or_else(|e| fail(&e));
    let config = RedisAdapterConfig::new().with_stream_buffer(flags.redis_stream_buffer);
    let adapter = RedisAdapterCtr::new_with_driver(driver, config);
    let builder = builder.with_adapter::<CustomRedisAdapter<_, driver::BenchDriver>>(adapter);
    run(builder, addr, async |io| {
        // The namespace's adapter subscribes to its channels before the server listens.
        if let Err(e) = io.ns("/", on_connect).await {
            eprintln!("redis adapter: cannot subscribe: {e}");
            std::process::exit(1)
        }
    })
    .await
}

/// A broadcast that failed (with the Redis adapter: its PUBLISH failed, and then it is not
/// delivered locally either): the first ones on stderr, then every thousandth, with a count.
fn emit_failed(e: &dyn std::fmt::Display) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static FAILED: AtomicU64 = AtomicU64::new(0);
    let n = FAILED.fetch_add(1, Ordering::Relaxed) + 1;
    if n <= 3 || n.is_multiple_of(1000) {
        eprintln!("broadcast failed ({n} so far): {e}");
    }
}

/// The bench application on namespace `/`, whatever the adapter.
async fn on_connect<A: Adapter>(s: SocketRef<A>) {
    s.on("echo", async |Data::<Value>(data), ack: AckSender<A>| {
        let _ = ack.send(&data);
    });
    s.on("broadcast", async |io: SocketIo<A>, Data::<Value>(data)| {
        if let Err(e) = io.emit("tick", &data).await {
            emit_failed(&e);
        }
    });
    s.on(
        "join",
        async |s: SocketRef<A>, Data::<String>(room), ack: AckSender<A>| {
            s.join(room);
            let _ = ack.send(&());
        },
    );
    s.on(
        "room-broadcast",
        async |io: SocketIo<A>, Data::<(String, Value)>((room, payload))| {
            if let Err(e) = io.to(room).emit("tick", &payload).await {
                emit_failed(&e);
            }
        },
    );
}

/// Builds the service, sets the application up (`init`), then serves until SIGTERM/SIGINT.
async fn run<A: Adapter>(
    builder: SocketIoBuilder<A>,
    addr: SocketAddr,
    init: impl AsyncFnOnce(&SocketIo<A>),
) {
    let (svc, io) = builder.build_svc();
    init(&io).await;
    let listener = TcpListener::bind(addr).await.unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1)
    });
    let local = listener.local_addr().expect("local address");
    println!("listening on http://{local}");

    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        let Ok((stream, _)) = accepted else { continue };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades()
                .await;
        });
    }
    // Graceful enough for a benchmark peer: close every session, then exit.
    let _ = tokio::time::timeout(Duration::from_secs(2), io.close()).await;
}
