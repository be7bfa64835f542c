//! What a handler costs per event: a synchronous handler, and an async one (its future
//! boxed, handed to the runtime, polled once), each answering the client's acknowledgement.
//!
//! Setup (not timed): one shard, one WebSocket client in `/`. Timed: one masked
//! `421["echo","<16 B>"]` frame fed, the handler run, the answer `431["<16 B>"]` written
//! (every queue drained). `handler/sync` answers with `Socket::ack` inside the handler;
//! `handler/async` is an `on_async` handler whose task answers through its `AckSender` (the
//! task is spawned and polled by the simulated-time harness's executor, as a runtime would).
//! `handler/sync_shard_only` is `handler/sync` with the shard driven through its own API (no
//! simulated-time harness): the core's cost alone, comparable across versions.
//! `spawn/tokio_local` is the part a real runtime adds: one `spawn_local` of such a boxed
//! task on a tokio `LocalSet`, run to completion.

use std::time::Duration;

use corelay_benches::handlers::{Echo, ShardEcho};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn handlers(c: &mut Criterion) {
    let mut g = c.benchmark_group("handler");
    g.throughput(Throughput::Elements(1));
    for kind in ["sync", "async"] {
        let mut echo = Echo::new(kind == "async");
        g.bench_function(kind, |b| b.iter(|| echo.run()));
    }
    let mut echo = ShardEcho::new();
    g.bench_function("sync_shard_only", |b| b.iter(|| echo.run()));
    g.finish();

    let mut g = c.benchmark_group("spawn");
    g.throughput(Throughput::Elements(1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    g.bench_function("tokio_local", |b| {
        b.iter_custom(|iters| {
            local.block_on(&rt, async {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    let task: corelay_core::LocalTask = Box::pin(async {});
                    tokio::task::spawn_local(task).await.expect("the task ran");
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = handlers
}
criterion_main!(benches);
