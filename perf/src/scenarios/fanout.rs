//! fanout: N WebSocket clients in `/`; one of them sends M `broadcast` events in one write and
//! the server emits `tick` to every socket of `/`. Deliveries per second, from the sender's
//! write to the last client's last `tick`.
//!
//! fanout-shards: the same burst against servers with several shards (socketioxide: worker
//! threads), next to the same runtime with one shard, all free to run on every CPU.

use std::time::{Duration, Instant};

use super::{cpu_text, fmt_rate, progress, record, start, Params};
use crate::gen::wire;
use crate::gen::{Driver, Id, Idle, Lost, Pool, Ramp};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Server, Setup};
use crate::sys::{self, CpuUse};

/// Counts `tick`s per client until each has all of them.
#[derive(Debug)]
struct Fanout {
    want: u32,
    counts: Vec<u32>,
    clients: usize,
    received: u64,
    complete: usize,
    last_complete: Instant,
    last_progress: (u64, Instant),
    stall: Duration,
    stalled: bool,
    dropped: usize,
}

impl Fanout {
    fn new(ids: &[Id], want: usize) -> Fanout {
        let now = Instant::now();
        Fanout {
            want: want as u32,
            counts: vec![0; ids.iter().copied().max().unwrap_or(0) + 1],
            clients: ids.len(),
            received: 0,
            complete: 0,
            last_complete: now,
            last_progress: (0, now),
            stall: Duration::from_secs(5),
            stalled: false,
            dropped: 0,
        }
    }
}

impl Driver for Fanout {
    fn message(&mut self, _pool: &mut Pool, id: Id, packet: &[u8]) {
        if packet.starts_with(br#"42["tick""#) {
            let c = &mut self.counts[id];
            *c += 1;
            self.received += 1;
            if *c == self.want {
                self.complete += 1;
                if self.complete == self.clients {
                    self.last_complete = Instant::now();
                }
            }
        }
    }
    fn lost(&mut self, _pool: &mut Pool, _id: Id, _why: Lost) {
        self.dropped += 1;
    }
    fn tick(&mut self, _pool: &mut Pool, now: Instant) {
        if self.received != self.last_progress.0 {
            self.last_progress = (self.received, now);
        } else if now - self.last_progress.1 > self.stall {
            self.stalled = true;
        }
    }
    fn done(&self) -> bool {
        self.complete >= self.clients || self.stalled
    }
}

/// Opens `clients` Socket.IO clients over WebSocket; the ramp, once at least one connected.
fn connect(pool: &mut Pool, p: &Params, label: &str, clients: usize) -> Result<Ramp, String> {
    let mut ramp = Ramp::new(clients, p.ramp_in_flight);
    let took = ramp.run(pool, Duration::from_secs(120));
    let connected = pool.ready_ids().len();
    progress(&format!(
        "  {label}: {connected} of {clients} clients connected in {:.1}s{}",
        took.as_secs_f64(),
        ramp.first_error
            .as_deref()
            .map(|e| format!(" (first error: {e})"))
            .unwrap_or_default()
    ));
    if connected == 0 {
        return Err(format!("{label}: no client connected"));
    }
    Ok(ramp)
}

/// What the repetitions of one burst measured.
#[derive(Debug, Default)]
struct Bursts {
    /// Deliveries per second, one per repetition.
    rates: Vec<f64>,
    cpu: CpuUse,
    /// Ticks that never arrived.
    lost: u64,
    /// Clients that dropped.
    dropped: usize,
}

impl Bursts {
    fn median(&self) -> f64 {
        let mut sorted = self.rates.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// `p.fanout_reps` times: one client sends `m` broadcasts of `size` bytes in one write, and
/// every ready client counts its ticks.
fn bursts(
    server: &Server,
    pool: &mut Pool,
    p: &Params,
    label: &str,
    size: usize,
    m: usize,
) -> Bursts {
    let frame = wire::text_frame(&wire::event_packet("broadcast", &wire::payload(size), None));
    let burst = frame.repeat(m);
    let mut out = Bursts::default();
    for rep in 0..p.fanout_reps {
        let ids = pool.ready_ids();
        let mut f = Fanout::new(&ids, m);
        pool.set_send_buffer(ids[0], burst.len().max(1 << 16));
        let mark = server.mark();
        let t0 = Instant::now();
        pool.send(ids[0], &burst);
        let finished = pool.run(&mut f, t0 + p.fanout_timeout);
        let c = mark.since();
        let end = if finished && !f.stalled {
            f.last_complete
        } else {
            f.last_progress.1
        };
        let secs = (end - t0).as_secs_f64().max(1e-6);
        let lost = (ids.len() as u64 * m as u64).saturating_sub(f.received);
        let rate = f.received as f64 / secs;
        progress(&format!(
            "  {label} rep {}/{}: {}/s deliveries ({} in {:.2}s), lost {lost}, {}",
            rep + 1,
            p.fanout_reps,
            fmt_rate(rate),
            f.received,
            secs,
            cpu_text(&c)
        ));
        out.rates.push(rate);
        out.cpu.add(c);
        out.lost += lost;
        out.dropped += f.dropped;
        // Let the server settle (ping answers, late writes) between repetitions.
        let mut idle = Idle::default();
        pool.run(&mut idle, Instant::now() + Duration::from_millis(300));
        out.dropped += idle.lost;
    }
    out
}

/// fanout with `clients` clients, for each message size: one record per size.
pub fn fanout(
    setup: &Setup,
    p: &Params,
    kind: Kind,
    clients: usize,
) -> Result<Vec<Record>, String> {
    let (server, mut pool) = start(setup, kind, Placement::Pinned)?;
    let t = Instant::now();
    let ramp = connect(&mut pool, p, &format!("{} fanout", kind.name()), clients)?;
    let m = if p.fanout_messages > 0 {
        p.fanout_messages
    } else {
        (p.fanout_deliveries / clients).max(10)
    };
    let mut out = Vec::new();
    for &size in &p.fanout_sizes {
        let label = format!("{} fanout n={clients} s={size}", kind.name());
        let b = bursts(&server, &mut pool, p, &label, size, m);
        let mut r = record(
            "fanout",
            format!("n={clients} s={size}"),
            kind,
            vec![Metric::high("deliveries/s", "/s", b.median(), true)],
            b.cpu,
        );
        r.lost = Some(b.lost);
        r.errors = (ramp.failed + b.dropped) as u64;
        r.reps = b.rates;
        r.note = format!(
            "M={m} broadcasts per repetition, median of {}",
            p.fanout_reps
        );
        out.push(r);
    }
    pool.close_all();
    drop(server);
    progress(&format!(
        "  {} fanout n={clients} done in {:.1}s",
        kind.name(),
        t.elapsed().as_secs_f64()
    ));
    Ok(out)
}

/// One fanout burst (`p.shards_clients` clients, `p.shards_messages` broadcasts of
/// `p.shards_size` bytes) against `kind` with one shard, then with `p.shards` shards; every
/// process free to run on every CPU (the generator included: it shares them with the
/// shards). One record: the several-shard figure, the one-shard figure and their ratio.
pub fn fanout_shards(setup: &Setup, p: &Params, kind: Kind) -> Result<Vec<Record>, String> {
    if !kind.multi_threaded() {
        return Err(format!("{} runs on one thread only", kind.name()));
    }
    let generator = sys::affinity();
    sys::set_affinity(&sys::all_cpus())?;
    let measured = [1, p.shards].map(|n| shard_run(setup, p, kind, n));
    let _ = sys::set_affinity(&generator);
    let [one, many] = measured;
    let ((one_failed, one), (many_failed, many)) = (one?, many?);
    let (rate_one, rate_many) = (one.median(), many.median());
    let ratio = rate_many / rate_one;
    progress(&format!(
        "  {} fanout-shards: {} shards {}/s, 1 shard {}/s: {ratio:.2}×",
        kind.name(),
        p.shards,
        fmt_rate(rate_many),
        fmt_rate(rate_one)
    ));
    let mut r = record(
        "fanout-shards",
        format!(
            "n={} s={} shards={}",
            p.shards_clients, p.shards_size, p.shards
        ),
        kind,
        vec![
            Metric::high("deliveries/s", "/s", rate_many, true),
            Metric::high("1 shard", "/s", rate_one, false),
            Metric::high("÷ 1 shard", "×", ratio, false),
        ],
        many.cpu,
    );
    r.lost = Some(one.lost + many.lost);
    r.errors = (one_failed + one.dropped + many_failed + many.dropped) as u64;
    r.reps = many.rates;
    r.note = format!(
        "M={} broadcasts per repetition, median of {}; not pinned: the generator shares the CPUs \
         with the shards; lost and errors of both runs",
        p.shards_messages, p.fanout_reps
    );
    Ok(vec![r])
}

/// The fanout-shards burst against `kind` with `shards` shards: (clients that failed to
/// connect, the bursts).
fn shard_run(
    setup: &Setup,
    p: &Params,
    kind: Kind,
    shards: usize,
) -> Result<(usize, Bursts), String> {
    let (server, mut pool) = start(setup, kind, Placement::Spread(shards))?;
    let label = format!(
        "{} fanout-shards n={} s={} shards={shards}",
        kind.name(),
        p.shards_clients,
        p.shards_size
    );
    let ramp = connect(&mut pool, p, &label, p.shards_clients)?;
    let b = bursts(
        &server,
        &mut pool,
        p,
        &label,
        p.shards_size,
        p.shards_messages,
    );
    pool.close_all();
    drop(server);
    Ok((ramp.failed, b))
}
