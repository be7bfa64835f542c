//! echo: clients in a closed loop of `echo` with an ack over WebSocket, one request in flight
//! per client. Acks per second and their latency.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{cpu_text, fmt_rate, new_hist, pct, progress, record, start, Params};
use crate::gen::wire;
use crate::gen::{Driver, Id, Lost, Pool, Ramp};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Setup};

#[derive(Debug)]
struct Echo {
    frame: Vec<u8>,
    sent_at: Vec<Instant>,
    hist: Histogram<u64>,
    count: u64,
    recording: bool,
    stop: bool,
    dropped: usize,
    sent: u64,
    acked: u64,
}

impl Echo {
    fn fire(&mut self, pool: &mut Pool, id: Id, now: Instant) {
        if self.sent_at.len() <= id {
            self.sent_at.resize(id + 1, now);
        }
        self.sent_at[id] = now;
        self.sent += 1;
        pool.send(id, &self.frame);
    }
}

impl Driver for Echo {
    fn message(&mut self, pool: &mut Pool, id: Id, packet: &[u8]) {
        if packet.starts_with(b"43") {
            let now = Instant::now();
            self.acked += 1;
            if self.recording {
                let ns = (now - self.sent_at[id]).as_nanos() as u64;
                let _ = self.hist.record(ns.max(1));
                self.count += 1;
            }
            if !self.stop {
                self.fire(pool, id, now);
            }
        }
    }
    fn lost(&mut self, _pool: &mut Pool, _id: Id, _why: Lost) {
        self.dropped += 1;
    }
}

pub fn echo(setup: &Setup, p: &Params, kind: Kind) -> Result<Vec<Record>, String> {
    let (server, mut pool) = start(setup, kind, Placement::Pinned)?;
    let mut ramp = Ramp::new(p.echo_clients, p.ramp_in_flight);
    ramp.run(&mut pool, Duration::from_secs(60));
    let ids = pool.ready_ids();
    if ids.is_empty() {
        return Err(format!("{}: no client connected", kind.name()));
    }
    let packet = wire::event_packet("echo", &wire::payload(p.echo_size), Some(1));
    let mut e = Echo {
        frame: wire::text_frame(&packet),
        sent_at: Vec::new(),
        hist: new_hist(),
        count: 0,
        recording: false,
        stop: false,
        dropped: 0,
        sent: 0,
        acked: 0,
    };
    let now = Instant::now();
    for &id in &ids {
        e.fire(&mut pool, id, now);
    }
    pool.run(&mut e, Instant::now() + p.warmup);
    e.recording = true;
    let mark = server.mark();
    pool.run(&mut e, Instant::now() + p.echo_time);
    let cpu = mark.since();
    e.recording = false;
    e.stop = true;
    // Collect the answers still in flight, then count what never came.
    pool.run(&mut e, Instant::now() + Duration::from_millis(500));
    let rate = e.count as f64 / cpu.wall_s;
    let (p50, p99, p999) = (pct(&e.hist, 0.5), pct(&e.hist, 0.99), pct(&e.hist, 0.999));
    progress(&format!(
        "  {} echo n={} s={}: {}/s acks, p50 {p50:.0}µs p99 {p99:.0}µs p99.9 {p999:.0}µs, {}",
        kind.name(),
        ids.len(),
        p.echo_size,
        fmt_rate(rate),
        cpu_text(&cpu)
    ));
    let mut r = record(
        "echo",
        format!("n={} s={}", p.echo_clients, p.echo_size),
        kind,
        vec![
            Metric::high("acks/s", "/s", rate, true),
            Metric::low("p50", "µs", p50, false),
            Metric::low("p99", "µs", p99, true),
            Metric::low("p99.9", "µs", p999, false),
        ],
        cpu,
    );
    // Every client has one echo in flight at a time: after the drain, none may be missing.
    r.lost = Some(e.sent - e.acked);
    r.errors = (ramp.failed + e.dropped) as u64;
    r.note = format!(
        "{}s after {}s warm-up",
        p.echo_time.as_secs_f64(),
        p.warmup.as_secs_f64()
    );
    pool.close_all();
    drop(server);
    Ok(vec![r])
}
