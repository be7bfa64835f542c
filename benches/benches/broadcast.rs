//! One broadcast to N WebSocket sockets of one shard, in memory.
//!
//! Setup (not timed): a shard whose `b` handler does `s.within().emit("tick", &e.args)`,
//! N WebSocket clients opened through `accept`/`receive` (handshake and `40`), their queues
//! drained, and one broadcast checked frame by frame. Timed: one masked
//! `42["b","<64 B>"]` frame fed to one client, then every queue drained through
//! `poll_transmit`/`send_queue`/`advance`, the bytes written counted and checked. The
//! throughput is in recipients (`Throughput::Elements(N)`), so criterion's "elem/s" is
//! recipients per second and time / N is the time per recipient.

use std::time::Duration;

use corelay_benches::Broadcast;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn broadcast(c: &mut Criterion) {
    let mut g = c.benchmark_group("broadcast");
    for n in [1, 1_000, 10_000] {
        let mut b = Broadcast::new(n);
        let expected = b.expected();
        g.throughput(Throughput::Elements(n as u64));
        // About 0.6 ms a broadcast at N = 10 000: fewer samples fit the measurement time.
        g.sample_size(if n >= 10_000 { 50 } else { 100 });
        g.bench_function(BenchmarkId::from_parameter(n), |bench| {
            bench.iter(|| {
                let written = b.run();
                assert_eq!(written, expected);
                written
            })
        });
    }
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
    targets = broadcast
}
criterion_main!(benches);
