//! cluster-fanout: broadcasts across a cluster of two servers of one kind joined through Redis
//! (corelay and Node: the `@socket.io/redis-adapter` protocol; socketioxide: its own
//! `socketioxide-redis`, which clusters only with itself). N clients split evenly over
//! servers A and B; one client of A sends `broadcast` events, A emits `tick` to its own
//! clients and publishes once to Redis, and B delivers what Redis hands it to the other half.
//!
//! Three phases on the same clients:
//! 1. warm-up: one broadcast at a time until one reaches every client (the cluster is up:
//!    B is subscribed);
//! 2. latency: broadcasts one at a time (the next once every client has the last one), each
//!    stamped by the generator with its send time; p50/p99 of send → receipt over every
//!    delivery, and over B's alone (the Redis hop);
//! 3. bursts, as in `fanout`: M broadcasts in one write, repeated; deliveries per second (the
//!    median), the servers' CPU, and Redis's CPU time and PUBLISH/SPUBLISH calls
//!    (`INFO cpu commandstats`) before and after each burst, per broadcast.
//!
//! Every delivery that should have reached B's clients and did not is reported (`B lost`,
//! `B delivered` < 100 %).

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{cpu_text, fmt_rate, new_hist, pct, progress, record, Params};
use crate::gen::wire;
use crate::gen::{Driver, Id, Idle, Lost, Pool, Ramp};
use crate::redis::{Counters, Redis};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Server, Setup};
use crate::sys::{CpuMark, CpuUse};

/// Server A (the sender's) and server B, as [`Pool::server_of`] numbers them.
const A: usize = 0;
const B: usize = 1;
/// Not a client of this round.
const NONE: u8 = u8::MAX;

/// What a tick packet starts with; the stamp follows.
const TICK: &[u8] = br#"42["tick",""#;
/// Decimal digits of a stamp (nanoseconds since the scenario's epoch: 115 days).
const STAMP_DIGITS: usize = 16;

/// A broadcast payload of `size` bytes (at least the stamp's 16) that starts with `stamp`.
fn stamped_payload(stamp: u64, size: usize) -> String {
    let mut s = format!("{stamp:0w$}", w = STAMP_DIGITS);
    s.push_str(&wire::payload(size.saturating_sub(STAMP_DIGITS)));
    s
}

/// The stamp of a tick packet (`42["tick","<16 digits>…`): `None` for another packet, or a
/// tick whose argument does not start with a stamp.
fn tick_stamp(packet: &[u8]) -> Option<u64> {
    let digits = packet.strip_prefix(TICK)?.get(..STAMP_DIGITS)?;
    digits.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// The clients of a round: each ready client's server (`NONE` for other ids), how many each
/// server has, and the sender (the first client of A).
#[derive(Debug)]
struct Sides {
    of: Vec<u8>,
    count: [usize; 2],
    sender: Option<Id>,
}

impl Sides {
    fn new(ids: impl IntoIterator<Item = (Id, usize)>) -> Sides {
        let mut s = Sides {
            of: Vec::new(),
            count: [0; 2],
            sender: None,
        };
        for (id, server) in ids {
            if server > B {
                continue;
            }
            if s.of.len() <= id {
                s.of.resize(id + 1, NONE);
            }
            s.of[id] = server as u8;
            s.count[server] += 1;
            if server == A && s.sender.is_none() {
                s.sender = Some(id);
            }
        }
        s
    }

    fn of_pool(pool: &Pool) -> Sides {
        Sides::new(
            pool.ready_ids()
                .into_iter()
                .filter_map(|id| Some((id, pool.server_of(id)?))),
        )
    }

    fn clients(&self) -> usize {
        self.count[A] + self.count[B]
    }
}

/// One round: `want` ticks stamped `since` or later to every client of `sides`; counts them
/// per server, records their latency when asked, and is done once every client has them all
/// (or nothing came for `stall`).
#[derive(Debug)]
struct Round<'a> {
    sides: &'a Sides,
    epoch: Instant,
    since: u64,
    want: u32,
    counts: Vec<u32>,
    complete: usize,
    received: [u64; 2],
    /// Ticks of an earlier round (arrived after it gave up on them).
    stale: u64,
    /// Ticks without a stamp (counted, no latency).
    unstamped: u64,
    hist: Option<&'a mut [Histogram<u64>; 2]>,
    last_complete: Instant,
    last_progress: (u64, Instant),
    stall: Duration,
    stalled: bool,
    dropped: usize,
}

impl<'a> Round<'a> {
    fn new(
        sides: &'a Sides,
        epoch: Instant,
        since: u64,
        want: usize,
        hist: Option<&'a mut [Histogram<u64>; 2]>,
    ) -> Round<'a> {
        let now = Instant::now();
        Round {
            sides,
            epoch,
            since,
            want: want as u32,
            counts: vec![0; sides.of.len()],
            complete: 0,
            received: [0; 2],
            stale: 0,
            unstamped: 0,
            hist,
            last_complete: now,
            last_progress: (0, now),
            stall: Duration::from_secs(5),
            stalled: false,
            dropped: 0,
        }
    }

    fn total(&self) -> u64 {
        self.received[A] + self.received[B]
    }

    fn finished(&self) -> bool {
        self.complete >= self.sides.clients()
    }

    /// What each server's clients should have received.
    fn expected(&self) -> [u64; 2] {
        self.sides.count.map(|n| n as u64 * u64::from(self.want))
    }

    /// A tick arrived at `now` on client `id`.
    fn tick_at(&mut self, id: Id, packet: &[u8], now: Instant) {
        let side = self.sides.of.get(id).copied().unwrap_or(NONE);
        if side == NONE {
            return;
        }
        match tick_stamp(packet) {
            Some(stamp) if stamp < self.since => {
                self.stale += 1;
                return;
            }
            Some(stamp) => {
                if let Some(h) = self.hist.as_deref_mut() {
                    let ns = (now - self.epoch).as_nanos() as u64;
                    let _ = h[side as usize].record(ns.saturating_sub(stamp).max(1));
                }
            }
            None => self.unstamped += 1,
        }
        self.received[side as usize] += 1;
        let c = &mut self.counts[id];
        *c += 1;
        if *c == self.want {
            self.complete += 1;
            if self.finished() {
                self.last_complete = now;
            }
        }
    }
}

impl Driver for Round<'_> {
    fn message(&mut self, _pool: &mut Pool, id: Id, packet: &[u8]) {
        if packet.starts_with(TICK) {
            self.tick_at(id, packet, Instant::now());
        }
    }
    fn lost(&mut self, _pool: &mut Pool, _id: Id, _why: Lost) {
        self.dropped += 1;
    }
    fn tick(&mut self, _pool: &mut Pool, now: Instant) {
        let total = self.total();
        if total != self.last_progress.0 {
            self.last_progress = (total, now);
        } else if now - self.last_progress.1 > self.stall {
            self.stalled = true;
        }
    }
    fn done(&self) -> bool {
        self.finished() || self.stalled
    }
}

/// Deliveries expected and received per server, over rounds.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    expected: [u64; 2],
    received: [u64; 2],
    stale: u64,
    unstamped: u64,
    dropped: usize,
    broadcasts: u64,
}

impl Tally {
    fn add(&mut self, r: &Round<'_>, broadcasts: usize) {
        let expected = r.expected();
        for side in [A, B] {
            self.expected[side] += expected[side];
            self.received[side] += r.received[side];
        }
        self.stale += r.stale;
        self.unstamped += r.unstamped;
        self.dropped += r.dropped;
        self.broadcasts += broadcasts as u64;
    }

    fn merge(&mut self, o: Tally) {
        for side in [A, B] {
            self.expected[side] += o.expected[side];
            self.received[side] += o.received[side];
        }
        self.stale += o.stale;
        self.unstamped += o.unstamped;
        self.dropped += o.dropped;
        self.broadcasts += o.broadcasts;
    }

    /// Deliveries that never came, per server (counted per server: a duplicate on one
    /// client may hide a loss on another client of the same server, never on the other
    /// server; a round's end still requires every client to have all of its ticks).
    fn lost(&self) -> [u64; 2] {
        [A, B].map(|s| self.expected[s].saturating_sub(self.received[s]))
    }

    /// The share of B's expected deliveries that arrived, in percent.
    fn b_delivered(&self) -> f64 {
        if self.expected[B] == 0 {
            return f64::NAN;
        }
        100.0 * (self.expected[B] - self.lost()[B]) as f64 / self.expected[B] as f64
    }
}

/// The stamp of now.
fn stamp(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

/// One broadcast from the sender, stamped now; returns (its stamp, the frame's bytes).
fn broadcast_frames(epoch: Instant, size: usize, count: usize) -> (u64, Vec<u8>) {
    let at = stamp(epoch);
    let packet = wire::event_packet("broadcast", &stamped_payload(at, size), None);
    (at, wire::text_frame(&packet).repeat(count))
}

/// Broadcasts one at a time until one reaches every client (15 s at most): the servers are
/// up, B subscribed, and the clients joined.
fn warm_up(pool: &mut Pool, epoch: Instant, size: usize) -> Result<Duration, String> {
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(15);
    let mut last = [0u64; 2];
    while Instant::now() < end {
        let sides = Sides::of_pool(pool);
        let sender = sides.sender.ok_or("no client of server A")?;
        let (since, frame) = broadcast_frames(epoch, size, 1);
        let mut round = Round::new(&sides, epoch, since, 1, None);
        pool.send(sender, &frame);
        pool.run(
            &mut round,
            (Instant::now() + Duration::from_secs(2)).min(end),
        );
        if round.finished() {
            return Ok(t0.elapsed());
        }
        last = round.received;
    }
    Err(format!(
        "no broadcast reached every client in 15 s (the last one: {} of server A's clients, {} \
         of server B's)",
        last[A], last[B]
    ))
}

/// The latency phase: `count` broadcasts one at a time, every delivery's latency per server.
fn latency(
    pool: &mut Pool,
    p: &Params,
    epoch: Instant,
    count: usize,
) -> (Tally, [Histogram<u64>; 2], usize) {
    let mut hist = [new_hist(), new_hist()];
    let mut tally = Tally::default();
    let end = Instant::now() + p.fanout_timeout;
    let mut sent = 0;
    while sent < count && Instant::now() < end {
        let sides = Sides::of_pool(pool);
        let Some(sender) = sides.sender else { break };
        let (since, frame) = broadcast_frames(epoch, p.cluster_size, 1);
        let mut round = Round::new(&sides, epoch, since, 1, Some(&mut hist));
        pool.send(sender, &frame);
        pool.run(&mut round, end);
        tally.add(&round, 1);
        sent += 1;
    }
    (tally, hist, sent)
}

/// What the bursts measured.
#[derive(Debug, Default)]
struct Bursts {
    rates: Vec<f64>,
    cpu: CpuUse,
    /// Redis's counters over the bursts, less its idle CPU.
    redis: Counters,
    /// The same, as read.
    redis_raw: Counters,
    tally: Tally,
}

/// How long Redis's CPU at rest is measured: a few of its timer ticks at `--hz 1`.
const REDIS_AT_REST: Duration = Duration::from_secs(3);

/// Redis's CPU seconds per second while the clients are connected and nothing is sent (its
/// timers, and the `INFO` that reads it), over `wall`; and the publishes it saw meanwhile.
fn redis_idle(pool: &mut Pool, redis: &mut Redis, wall: Duration) -> Result<(f64, u64), String> {
    let mark = redis.mark()?;
    let mut idle = Idle::default();
    pool.run(&mut idle, Instant::now() + wall);
    let (used, took) = mark.since(redis)?;
    Ok((used.cpu_s / took.as_secs_f64().max(1e-9), used.publishes()))
}

/// `p.fanout_reps` bursts of `m` broadcasts in one write from the sender; `idle_cpu`:
/// Redis's CPU seconds per second at rest.
#[allow(clippy::too_many_arguments)]
fn bursts(
    servers: [&Server; 2],
    redis: &mut Redis,
    idle_cpu: f64,
    pool: &mut Pool,
    p: &Params,
    epoch: Instant,
    label: &str,
    m: usize,
) -> Result<Bursts, String> {
    let mut out = Bursts::default();
    let pids = servers.map(|s| s.pid);
    for rep in 0..p.fanout_reps {
        let sides = Sides::of_pool(pool);
        let sender = sides.sender.ok_or("no client of server A")?;
        let (since, burst) = broadcast_frames(epoch, p.cluster_size, m);
        let mut round = Round::new(&sides, epoch, since, m, None);
        pool.set_send_buffer(sender, burst.len().max(1 << 16));
        let before = redis.mark()?;
        let mark = CpuMark::of(&pids, &[redis.pid], servers[0].cpus());
        let t0 = Instant::now();
        pool.send(sender, &burst);
        let finished = pool.run(&mut round, t0 + p.fanout_timeout);
        let cpu = mark.since();
        let (raw, window) = before.since(redis)?;
        let used = raw.less_idle(idle_cpu, window);
        let end = if finished && !round.stalled {
            round.last_complete
        } else {
            round.last_progress.1
        };
        let secs = (end - t0).as_secs_f64().max(1e-6);
        let rate = round.total() as f64 / secs;
        let mut tally = Tally::default();
        tally.add(&round, m);
        let lost = tally.lost();
        progress(&format!(
            "  {label} rep {}/{}: {}/s deliveries ({} in {secs:.2}s), lost A {} B {}, redis \
             {:.1}µs, {:.2} publishes, {:.2} reads and {:.2} writes per broadcast, {}",
            rep + 1,
            p.fanout_reps,
            fmt_rate(rate),
            round.total(),
            lost[A],
            lost[B],
            used.cpu_s * 1e6 / m as f64,
            used.publishes() as f64 / m as f64,
            used.reads as f64 / m as f64,
            used.writes as f64 / m as f64,
            cpu_text(&cpu)
        ));
        out.rates.push(rate);
        out.cpu.add(cpu);
        out.redis.add(used);
        out.redis_raw.add(raw);
        out.tally.merge(tally);
        // Let the servers settle (ping answers, late writes) between repetitions.
        let mut idle = Idle::default();
        pool.run(&mut idle, Instant::now() + Duration::from_millis(300));
        out.tally.dropped += idle.lost;
    }
    Ok(out)
}

fn median(v: &[f64]) -> f64 {
    let mut sorted = v.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The flags that put `kind` in the cluster of `url`; `Err` for a kind that can not join it
/// that way.
fn cluster_flags(kind: Kind, url: &str, sharded: bool) -> Result<Vec<String>, String> {
    let mut flags = vec!["--redis".to_owned(), url.to_owned()];
    if sharded {
        if kind == Kind::Socketioxide {
            return Err(
                "socketioxide-redis shards only on a Redis Cluster (its ClusterDriver); \
                 the standalone redis-server here takes its classic adapter only"
                    .into(),
            );
        }
        flags.push("--redis-sharded".into());
    }
    Ok(flags)
}

/// cluster-fanout with `clients` clients over a pair of `kind` servers in the cluster of
/// `redis`: one record.
pub fn cluster_fanout(
    setup: &Setup,
    p: &Params,
    kind: Kind,
    clients: usize,
    redis: &mut Redis,
) -> Result<Vec<Record>, String> {
    let t = Instant::now();
    let label = format!("{} cluster-fanout n={clients}", kind.name());
    let flags = cluster_flags(kind, &redis.url(), p.cluster_sharded)?;
    let a = setup.start_with(kind, Placement::Pinned, &flags)?;
    let b = setup
        .start_with(kind, Placement::Pinned, &flags)
        .map_err(|e| format!("server B: {e}"))?;
    let mut pool = Pool::with_servers(&[a.addr, b.addr]).map_err(|e| e.to_string())?;
    let mut ramp = Ramp::new(clients, p.ramp_in_flight);
    let took = ramp.run(&mut pool, Duration::from_secs(120));
    let sides = Sides::of_pool(&pool);
    progress(&format!(
        "  {label}: {} + {} of {clients} clients connected to A + B in {:.1}s{}",
        sides.count[A],
        sides.count[B],
        took.as_secs_f64(),
        ramp.first_error
            .as_deref()
            .map(|e| format!(" (first error: {e})"))
            .unwrap_or_default()
    ));
    if sides.count[A] == 0 || sides.count[B] == 0 {
        return Err(format!("{label}: no client on server A or on server B"));
    }
    let epoch = Instant::now();
    let warm = warm_up(&mut pool, epoch, p.cluster_size).map_err(|e| {
        format!(
            "{label}: {e}; server A stderr:\n{}\nserver B stderr:\n{}\nredis:\n{}",
            a.stderr(),
            b.stderr(),
            redis.output()
        )
    })?;

    let lat_count = if p.cluster_latency_broadcasts > 0 {
        p.cluster_latency_broadcasts
    } else {
        (p.cluster_latency_deliveries / clients).max(20)
    };
    let (idle_cpu, idle_publishes) = redis_idle(&mut pool, redis, REDIS_AT_REST)?;
    let before = redis.mark()?;
    let lat_cpu = CpuMark::of(&[a.pid, b.pid], &[redis.pid], a.cpus());
    let lat_t0 = Instant::now();
    let (lat_tally, hist, lat_sent) = latency(&mut pool, p, epoch, lat_count);
    let lat_secs = lat_t0.elapsed().as_secs_f64();
    let lat_cpu = lat_cpu.since();
    let (lat_redis_raw, lat_window) = before.since(redis)?;
    let lat_redis = lat_redis_raw.less_idle(idle_cpu, lat_window);
    let mut all = new_hist();
    let _ = all.add(&hist[A]);
    let _ = all.add(&hist[B]);
    let (p50, p99) = (pct(&all, 0.5), pct(&all, 0.99));
    let (b50, b99) = (pct(&hist[B], 0.5), pct(&hist[B], 0.99));
    let (a50, a99) = (pct(&hist[A], 0.5), pct(&hist[A], 0.99));
    let lat_lost = lat_tally.lost();
    progress(&format!(
        "  {label}: cluster up after {:.2}s; redis at rest {:.0}µs/s; latency, {lat_sent} \
         broadcasts one at a time in {lat_secs:.1}s: p50 {p50:.0}µs p99 {p99:.0}µs (A p50 \
         {a50:.0}µs p99 {a99:.0}µs, B p50 {b50:.0}µs p99 {b99:.0}µs), lost A {} B {}, redis \
         {:.1}µs and {:.2} publishes per broadcast, {}",
        warm.as_secs_f64(),
        idle_cpu * 1e6,
        lat_lost[A],
        lat_lost[B],
        lat_redis.cpu_s * 1e6 / lat_sent.max(1) as f64,
        lat_redis.publishes() as f64 / lat_sent.max(1) as f64,
        cpu_text(&lat_cpu)
    ));

    let m = if p.cluster_messages > 0 {
        p.cluster_messages
    } else {
        (p.cluster_deliveries / clients).max(10)
    };
    let burst = bursts([&a, &b], redis, idle_cpu, &mut pool, p, epoch, &label, m)?;
    let mut tally = lat_tally;
    tally.merge(burst.tally);
    let lost = tally.lost();
    let per_bc = |x: f64| x / burst.tally.broadcasts.max(1) as f64;
    let redis_us = per_bc(burst.redis.cpu_s * 1e6);
    let publishes = per_bc(burst.redis.publishes() as f64);
    if lost[A] + lost[B] > 0 || tally.stale > 0 || tally.unstamped > 0 {
        progress(&format!(
            "  {label}: LOST {} deliveries to A's clients and {} to B's ({} late, {} without a \
             stamp); server A stderr:\n{}\nserver B stderr:\n{}",
            lost[A],
            lost[B],
            tally.stale,
            tally.unstamped,
            a.stderr(),
            b.stderr()
        ));
    }
    let mut r = record(
        "cluster-fanout",
        format!("n={clients} s={}", p.cluster_size),
        kind,
        vec![
            Metric::high("deliveries/s", "/s", median(&burst.rates), true),
            Metric::low("p50", "µs", p50, false),
            Metric::low("p99", "µs", p99, true),
            Metric::low("B p50", "µs", b50, false),
            Metric::low("B p99", "µs", b99, false),
            Metric::high("B delivered", "%", tally.b_delivered(), false),
            Metric::low("B lost", "count", lost[B] as f64, false),
            Metric::low("redis µs/bc", "µs/bc", redis_us, true),
            Metric::low("publishes/bc", "/bc", publishes, false),
        ],
        burst.cpu,
    );
    r.lost = Some(lost[A] + lost[B]);
    r.errors = (ramp.failed + tally.dropped) as u64;
    r.reps = burst.rates;
    r.note = format!(
        "median of {} bursts of M={m} broadcasts from a client of A; latency over {lat_sent} \
         broadcasts one at a time; redis per broadcast over the bursts (CPU less its rate at \
         rest)",
        p.fanout_reps
    );
    r.extra = Some(serde_json::json!({
        "clients": { "a": sides.count[A], "b": sides.count[B] },
        "burst": {
            "broadcasts_per_rep": m,
            "broadcasts": burst.tally.broadcasts,
            "redis_cpu_s": burst.redis.cpu_s,
            "redis_cpu_s_as_read": burst.redis_raw.cpu_s,
            "redis_cpu_us_per_broadcast_as_read": per_bc(burst.redis_raw.cpu_s * 1e6),
            "publish_calls": burst.redis.publish,
            "spublish_calls": burst.redis.spublish,
            "redis_reads_per_broadcast": per_bc(burst.redis.reads as f64),
            "redis_writes_per_broadcast": per_bc(burst.redis.writes as f64),
        },
        "redis_idle": { "cpu_s_per_s": idle_cpu, "secs": REDIS_AT_REST.as_secs_f64(),
                        "publishes": idle_publishes },
        "latency_phase": {
            "broadcasts": lat_sent,
            "secs": lat_secs,
            "deliveries_per_s": (lat_tally.received[A] + lat_tally.received[B]) as f64 / lat_secs.max(1e-9),
            "a_p50_us": a50, "a_p99_us": a99, "b_p50_us": b50, "b_p99_us": b99,
            "p999_us": pct(&all, 0.999),
            "cpu": lat_cpu,
            "redis_cpu_us_per_broadcast": lat_redis.cpu_s * 1e6 / lat_sent.max(1) as f64,
            "redis_cpu_us_per_broadcast_as_read": lat_redis_raw.cpu_s * 1e6 / lat_sent.max(1) as f64,
            "publishes_per_broadcast": lat_redis.publishes() as f64 / lat_sent.max(1) as f64,
            "redis_reads_per_broadcast": lat_redis.reads as f64 / lat_sent.max(1) as f64,
            "redis_writes_per_broadcast": lat_redis.writes as f64 / lat_sent.max(1) as f64,
            "lost": { "a": lat_lost[A], "b": lat_lost[B] },
        },
        "expected": { "a": tally.expected[A], "b": tally.expected[B] },
        "received": { "a": tally.received[A], "b": tally.received[B] },
        "lost": { "a": lost[A], "b": lost[B] },
        "late": tally.stale,
        "unstamped": tally.unstamped,
        "warm_up_s": warm.as_secs_f64(),
        "sharded": p.cluster_sharded,
    }));
    pool.close_all();
    drop((a, b));
    progress(&format!(
        "  {label} done in {:.1}s",
        t.elapsed().as_secs_f64()
    ));
    Ok(vec![r])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(payload: &str) -> Vec<u8> {
        // What every server sends: the event name and the client's string, as compact JSON.
        format!(r#"42["tick","{payload}"]"#).into_bytes()
    }

    #[test]
    fn a_stamp_goes_out_in_the_payload_and_comes_back_from_the_tick() {
        let p = stamped_payload(1_234_567_890, 64);
        assert_eq!(p.len(), 64);
        assert!(p.starts_with("0000001234567890a"), "{p}");
        assert_eq!(tick_stamp(&tick(&p)), Some(1_234_567_890));
        // a payload smaller than the stamp still carries it whole
        assert_eq!(stamped_payload(7, 8), "0000000000000007");
        assert_eq!(
            tick_stamp(&tick(&stamped_payload(u64::MAX / 2000, 16))),
            Some(u64::MAX / 2000)
        );
        assert_eq!(tick_stamp(&tick("abc")), None, "no stamp");
        assert_eq!(
            tick_stamp(br#"43["tick","0000000000000001"]"#),
            None,
            "not a tick"
        );
        assert_eq!(tick_stamp(&tick("00000000000000")), None, "cut short");
    }

    #[test]
    fn clients_alternate_between_the_servers_and_the_sender_is_on_a() {
        let s = Sides::new([(0, 1), (1, 0), (2, 1), (4, 0), (5, 7)]);
        assert_eq!(s.count, [2, 2]);
        assert_eq!(s.sender, Some(1));
        assert_eq!(s.of, vec![1, 0, 1, NONE, 0]);
        assert_eq!(Sides::new([(0, 1)]).sender, None);
    }

    #[test]
    fn a_round_counts_per_server_and_sets_late_ticks_aside() {
        let sides = Sides::new([(0, A), (1, B), (2, B)]);
        let epoch = Instant::now();
        let mut hist = [new_hist(), new_hist()];
        let since = 5_000;
        let mut r = Round::new(&sides, epoch, since, 2, Some(&mut hist));
        let now = epoch + Duration::from_micros(10);
        let fresh = tick(&stamped_payload(since, 64));
        let late = tick(&stamped_payload(since - 1, 64));
        for id in [0, 1, 2, 0, 1] {
            r.tick_at(id, &fresh, now);
        }
        r.tick_at(2, &late, now);
        r.tick_at(9, &fresh, now); // not a client of the round
        assert_eq!(r.received, [2, 3]);
        assert_eq!(r.stale, 1);
        assert!(!r.finished(), "client 2 has one of two");
        r.tick_at(2, &fresh, now);
        assert!(r.finished());
        assert_eq!(r.received, r.expected());
        assert_eq!(r.expected(), [2, 4]);
        let h = r.hist.as_ref().expect("recorded");
        assert_eq!((h[A].len(), h[B].len()), (2, 4));
        // 10 µs after the epoch, sent 5 µs after it
        assert_eq!(h[A].value_at_quantile(0.5) / 1000, 5);
        let mut t = Tally::default();
        t.add(&r, 2);
        assert_eq!(t.lost(), [0, 0]);
        assert_eq!(t.b_delivered(), 100.0);
        assert_eq!(t.broadcasts, 2);
    }

    #[test]
    fn what_b_missed_is_lost_and_lowers_its_share() {
        let mut t = Tally {
            expected: [500_000, 500_000],
            received: [500_000, 499_000],
            ..Tally::default()
        };
        assert_eq!(t.lost(), [0, 1000]);
        assert!((t.b_delivered() - 99.8).abs() < 1e-9);
        // extra ticks on A (duplicates) make up for nothing on B
        t.received[A] += 10;
        assert_eq!(t.lost(), [0, 1000]);
    }

    #[test]
    fn every_kind_joins_the_classic_cluster_and_socketioxide_no_sharded_one() {
        let url = "redis://127.0.0.1:7000";
        assert_eq!(
            cluster_flags(Kind::Node, url, false).unwrap(),
            ["--redis", url]
        );
        assert_eq!(
            cluster_flags(Kind::CorelayTokio, url, true).unwrap(),
            ["--redis", url, "--redis-sharded"]
        );
        assert!(cluster_flags(Kind::Socketioxide, url, true).is_err());
        assert!(cluster_flags(Kind::Socketioxide, url, false).is_ok());
    }
}
