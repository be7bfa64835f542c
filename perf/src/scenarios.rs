//! The scenarios: each starts a fresh server, drives it with a [`Pool`] and returns records.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::gen::wire::{self, json_str};
use crate::gen::{polling_get, polling_packets, polling_post, Driver, Id, Idle, Lost, Pool, Ramp};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Server, Setup};
use crate::sys::{CpuMark, CpuUse};

/// Parameters of every scenario (command-line options).
#[derive(Debug, Clone)]
pub struct Params {
    pub fanout_clients: Vec<usize>,
    pub fanout_sizes: Vec<usize>,
    /// Broadcasts per run; 0: `fanout_deliveries / clients`.
    pub fanout_messages: usize,
    pub fanout_deliveries: usize,
    pub fanout_reps: usize,
    pub fanout_timeout: Duration,
    pub echo_clients: usize,
    pub echo_size: usize,
    pub echo_time: Duration,
    pub warmup: Duration,
    pub connect_concurrency: usize,
    pub connect_time: Duration,
    pub idle_clients: usize,
    pub polling_clients: usize,
    pub polling_size: usize,
    pub polling_time: Duration,
    /// Handshakes in flight while opening many clients.
    pub ramp_in_flight: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            fanout_clients: vec![1000, 10_000],
            fanout_sizes: vec![64, 1024],
            fanout_messages: 0,
            fanout_deliveries: 1_000_000,
            fanout_reps: 3,
            fanout_timeout: Duration::from_secs(60),
            echo_clients: 100,
            echo_size: 64,
            echo_time: Duration::from_secs(5),
            warmup: Duration::from_secs(1),
            connect_concurrency: 64,
            connect_time: Duration::from_secs(4),
            idle_clients: 10_000,
            polling_clients: 100,
            polling_size: 64,
            polling_time: Duration::from_secs(4),
            ramp_in_flight: 256,
        }
    }
}

/// Prints one progress line, prefixed by the time since the run began.
pub fn progress(msg: &str) {
    use std::sync::OnceLock;
    static T0: OnceLock<Instant> = OnceLock::new();
    let t0 = *T0.get_or_init(Instant::now);
    println!("[{:>6.1}s] {msg}", t0.elapsed().as_secs_f64());
}

fn start(setup: &Setup, kind: Kind) -> Result<(Server, Pool), String> {
    let server = setup.start(kind)?;
    let pool = Pool::new(server.addr).map_err(|e| e.to_string())?;
    Ok((server, pool))
}

fn cpu_text(c: &CpuUse) -> String {
    let pct = |x: f64| 100.0 * x / c.wall_s.max(1e-9);
    format!(
        "gen cpu {:.2}s ({:.0}%), server cpu {:.2}s ({:.0}%), other {:.2}s",
        c.gen_cpu_s,
        pct(c.gen_cpu_s),
        c.srv_cpu_s,
        pct(c.srv_cpu_s),
        c.other_cpu_s
    )
}

fn fmt_rate(v: f64) -> String {
    crate::report::human(v)
}

fn pct(h: &Histogram<u64>, q: f64) -> f64 {
    if h.is_empty() {
        f64::NAN
    } else {
        h.value_at_quantile(q) as f64 / 1000.0
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000_000, 3).expect("histogram bounds")
}

fn record(
    scenario: &'static str,
    case: String,
    kind: Kind,
    metrics: Vec<Metric>,
    cpu: CpuUse,
) -> Record {
    Record {
        scenario,
        case,
        server: kind.name().to_owned(),
        metrics,
        lost: None,
        errors: 0,
        cpu,
        reps: Vec::new(),
        note: String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// fanout

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

pub fn fanout(
    setup: &Setup,
    p: &Params,
    kind: Kind,
    clients: usize,
) -> Result<Vec<Record>, String> {
    let (server, mut pool) = start(setup, kind)?;
    let t = Instant::now();
    let mut ramp = Ramp::new(clients, p.ramp_in_flight);
    let took = ramp.run(&mut pool, Duration::from_secs(120));
    let ids = pool.ready_ids();
    progress(&format!(
        "  {} fanout: {} of {clients} clients connected in {:.1}s{}",
        kind.name(),
        ids.len(),
        took.as_secs_f64(),
        ramp.first_error
            .as_deref()
            .map(|e| format!(" (first error: {e})"))
            .unwrap_or_default()
    ));
    if ids.is_empty() {
        return Err(format!("{}: no client connected", kind.name()));
    }
    let m = if p.fanout_messages > 0 {
        p.fanout_messages
    } else {
        (p.fanout_deliveries / clients).max(10)
    };
    let mut out = Vec::new();
    for &size in &p.fanout_sizes {
        let frame = wire::text_frame(&wire::event_packet("broadcast", &wire::payload(size), None));
        let burst: Vec<u8> = frame
            .iter()
            .copied()
            .cycle()
            .take(frame.len() * m)
            .collect();
        let mut rates = Vec::new();
        let mut cpu = CpuUse::default();
        let mut lost_total = 0u64;
        let mut dropped = 0usize;
        for rep in 0..p.fanout_reps {
            let ids = pool.ready_ids();
            let max_id = ids.iter().copied().max().unwrap_or(0);
            let now = Instant::now();
            let mut f = Fanout {
                want: m as u32,
                counts: vec![0; max_id + 1],
                clients: ids.len(),
                received: 0,
                complete: 0,
                last_complete: now,
                last_progress: (0, now),
                stall: Duration::from_secs(5),
                stalled: false,
                dropped: 0,
            };
            pool.set_send_buffer(ids[0], burst.len().max(1 << 16));
            let mark = CpuMark::now(server.pid, &setup.cpus());
            let t0 = Instant::now();
            pool.send(ids[0], &burst);
            let finished = pool.run(&mut f, t0 + p.fanout_timeout);
            let c = mark.since(server.pid);
            let end = if finished && !f.stalled {
                f.last_complete
            } else {
                f.last_progress.1
            };
            let secs = (end - t0).as_secs_f64().max(1e-6);
            let expected = ids.len() as u64 * m as u64;
            let lost = expected.saturating_sub(f.received);
            let rate = f.received as f64 / secs;
            progress(&format!(
                "  {} fanout n={clients} s={size} rep {}/{}: {}/s deliveries ({} in {:.2}s), lost {lost}, {}",
                kind.name(),
                rep + 1,
                p.fanout_reps,
                fmt_rate(rate),
                f.received,
                secs,
                cpu_text(&c)
            ));
            rates.push(rate);
            cpu.add(c);
            lost_total += lost;
            dropped += f.dropped;
            // Let the server settle (ping answers, late writes) between repetitions.
            let mut idle = Idle::default();
            pool.run(&mut idle, Instant::now() + Duration::from_millis(300));
            dropped += idle.lost;
        }
        let mut sorted = rates.clone();
        sorted.sort_by(|a, b| a.total_cmp(b));
        let median = sorted[sorted.len() / 2];
        let mut r = record(
            "fanout",
            format!("n={clients} s={size}"),
            kind,
            vec![Metric::high("deliveries/s", "/s", median, true)],
            cpu,
        );
        r.lost = Some(lost_total);
        r.errors = (ramp.failed + dropped) as u64;
        r.reps = rates;
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

// ---------------------------------------------------------------------------------------------
// echo over WebSocket

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
    let (server, mut pool) = start(setup, kind)?;
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
    let mark = CpuMark::now(server.pid, &setup.cpus());
    pool.run(&mut e, Instant::now() + p.echo_time);
    let cpu = mark.since(server.pid);
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

// ---------------------------------------------------------------------------------------------
// connect: Socket.IO handshakes over WebSocket

#[derive(Debug)]
struct ConnectWs {
    concurrency: usize,
    active: usize,
    started: HashMap<Id, Instant>,
    close: Vec<u8>,
    hist: Histogram<u64>,
    count: u64,
    errors: u64,
    recording: bool,
    stop: bool,
}

impl ConnectWs {
    fn refill(&mut self, pool: &mut Pool) {
        while !self.stop && self.active < self.concurrency {
            match pool.open_socketio() {
                Ok(id) => {
                    self.active += 1;
                    self.started.insert(id, Instant::now());
                }
                Err(_) => {
                    self.errors += 1;
                    break; // try again on the next tick
                }
            }
        }
    }
}

impl Driver for ConnectWs {
    fn ready(&mut self, pool: &mut Pool, id: Id) {
        let now = Instant::now();
        self.active -= 1;
        if let Some(t) = self.started.remove(&id) {
            if self.recording {
                self.count += 1;
                let _ = self.hist.record((now - t).as_nanos().max(1) as u64);
            }
        }
        pool.send(id, &self.close);
        pool.close(id);
        self.refill(pool);
    }
    fn lost(&mut self, pool: &mut Pool, id: Id, _why: Lost) {
        self.active -= 1;
        self.started.remove(&id);
        if self.recording {
            self.errors += 1;
        }
        self.refill(pool);
    }
    fn tick(&mut self, pool: &mut Pool, _now: Instant) {
        self.refill(pool);
    }
    fn done(&self) -> bool {
        self.stop && self.active == 0
    }
}

pub fn connect_ws(setup: &Setup, p: &Params, kind: Kind) -> Result<Record, String> {
    let (server, mut pool) = start(setup, kind)?;
    let mut c = ConnectWs {
        concurrency: p.connect_concurrency,
        active: 0,
        started: HashMap::new(),
        close: wire::close_frame(),
        hist: new_hist(),
        count: 0,
        errors: 0,
        recording: false,
        stop: false,
    };
    c.refill(&mut pool);
    pool.run(&mut c, Instant::now() + p.warmup / 2);
    c.recording = true;
    let mark = CpuMark::now(server.pid, &setup.cpus());
    pool.run(&mut c, Instant::now() + p.connect_time);
    let cpu = mark.since(server.pid);
    c.recording = false;
    c.stop = true;
    pool.run(&mut c, Instant::now() + Duration::from_secs(5));
    let rate = c.count as f64 / cpu.wall_s;
    let (p50, p99) = (pct(&c.hist, 0.5), pct(&c.hist, 0.99));
    progress(&format!(
        "  {} connect websocket: {}/s handshakes, p50 {p50:.0}µs p99 {p99:.0}µs, errors {}, {}",
        kind.name(),
        fmt_rate(rate),
        c.errors,
        cpu_text(&cpu)
    ));
    let mut r = record(
        "connect",
        format!("websocket c={}", p.connect_concurrency),
        kind,
        vec![
            Metric::high("handshakes/s", "/s", rate, true),
            Metric::low("p50", "µs", p50, false),
            Metric::low("p99", "µs", p99, false),
        ],
        cpu,
    );
    r.errors = c.errors;
    r.lost = Some(c.errors);
    r.note = "connect, upgrade, open packet, 40, 40{sid}, close".into();
    pool.close_all();
    drop(server);
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// connect: polling handshake, then the upgrade to WebSocket

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Open,
    Connect,
    Answer,
    Upgrade,
    Probe,
}

#[derive(Debug)]
struct Session {
    t0: Instant,
    sid: String,
    step: Step,
}

#[derive(Debug)]
struct ConnectPolling {
    concurrency: usize,
    sessions: HashMap<Id, Session>,
    probe: Vec<u8>,
    upgrade: Vec<u8>,
    close: Vec<u8>,
    hist: Histogram<u64>,
    count: u64,
    errors: u64,
    recording: bool,
    stop: bool,
}

impl ConnectPolling {
    fn refill(&mut self, pool: &mut Pool) {
        while !self.stop && self.sessions.len() < self.concurrency {
            match pool.open_http() {
                Ok(id) => {
                    self.sessions.insert(
                        id,
                        Session {
                            t0: Instant::now(),
                            sid: String::new(),
                            step: Step::Open,
                        },
                    );
                }
                Err(_) => {
                    self.errors += 1;
                    break;
                }
            }
        }
    }

    fn fail(&mut self, pool: &mut Pool, id: Id) {
        pool.close(id);
        self.sessions.remove(&id);
        if self.recording {
            self.errors += 1;
        }
        self.refill(pool);
    }
}

impl Driver for ConnectPolling {
    fn connected(&mut self, pool: &mut Pool, id: Id) {
        let req = polling_get(pool.host(), "");
        pool.send(id, &req);
    }

    fn response(&mut self, pool: &mut Pool, id: Id, status: u16, body: &[u8]) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        if status != 200 {
            return self.fail(pool, id);
        }
        match s.step {
            Step::Open => {
                let Some(sid) = body.strip_prefix(b"0").and_then(|j| json_str(j, "sid")) else {
                    return self.fail(pool, id);
                };
                s.sid = sid.to_owned();
                s.step = Step::Connect;
                let req = polling_post(pool.host(), &s.sid, b"40");
                pool.send(id, &req);
            }
            Step::Connect => {
                s.step = Step::Answer;
                let req = polling_get(pool.host(), &s.sid);
                pool.send(id, &req);
            }
            Step::Answer => {
                if polling_packets(body).any(|p| p.starts_with(b"40")) {
                    let s = self.sessions.remove(&id).expect("present");
                    pool.close(id);
                    let path = format!("/socket.io/?EIO=4&transport=websocket&sid={}", s.sid);
                    match pool.open_raw_ws(&path) {
                        Ok(ws) => {
                            self.sessions.insert(
                                ws,
                                Session {
                                    step: Step::Upgrade,
                                    ..s
                                },
                            );
                        }
                        Err(_) => {
                            self.errors += 1;
                            self.refill(pool);
                        }
                    }
                } else {
                    let req = polling_get(pool.host(), &s.sid);
                    pool.send(id, &req);
                }
            }
            _ => self.fail(pool, id),
        }
    }

    fn upgraded(&mut self, pool: &mut Pool, id: Id) {
        if let Some(s) = self.sessions.get_mut(&id) {
            s.step = Step::Probe;
            pool.send(id, &self.probe);
        }
    }

    fn message(&mut self, pool: &mut Pool, id: Id, packet: &[u8]) {
        let Some(s) = self.sessions.get(&id) else {
            return;
        };
        if s.step == Step::Probe && packet == b"3probe" {
            pool.send(id, &self.upgrade);
            let now = Instant::now();
            if self.recording {
                self.count += 1;
                let _ = self.hist.record((now - s.t0).as_nanos().max(1) as u64);
            }
            self.sessions.remove(&id);
            pool.send(id, &self.close);
            pool.close(id);
            self.refill(pool);
        }
    }

    fn lost(&mut self, pool: &mut Pool, id: Id, _why: Lost) {
        if self.sessions.remove(&id).is_some() && self.recording {
            self.errors += 1;
        }
        self.refill(pool);
    }

    fn tick(&mut self, pool: &mut Pool, _now: Instant) {
        self.refill(pool);
    }

    fn done(&self) -> bool {
        self.stop && self.sessions.is_empty()
    }
}

pub fn connect_polling(setup: &Setup, p: &Params, kind: Kind) -> Result<Record, String> {
    let (server, mut pool) = start(setup, kind)?;
    let mut c = ConnectPolling {
        concurrency: p.connect_concurrency,
        sessions: HashMap::new(),
        probe: wire::text_frame(b"2probe"),
        upgrade: wire::text_frame(b"5"),
        close: wire::close_frame(),
        hist: new_hist(),
        count: 0,
        errors: 0,
        recording: false,
        stop: false,
    };
    c.refill(&mut pool);
    pool.run(&mut c, Instant::now() + p.warmup / 2);
    c.recording = true;
    let mark = CpuMark::now(server.pid, &setup.cpus());
    pool.run(&mut c, Instant::now() + p.connect_time);
    let cpu = mark.since(server.pid);
    c.recording = false;
    c.stop = true;
    pool.run(&mut c, Instant::now() + Duration::from_secs(5));
    let rate = c.count as f64 / cpu.wall_s;
    let (p50, p99) = (pct(&c.hist, 0.5), pct(&c.hist, 0.99));
    progress(&format!(
        "  {} connect polling+upgrade: {}/s handshakes, p50 {p50:.0}µs p99 {p99:.0}µs, errors {}, {}",
        kind.name(),
        fmt_rate(rate),
        c.errors,
        cpu_text(&cpu)
    ));
    let mut r = record(
        "connect",
        format!("polling+upgrade c={}", p.connect_concurrency),
        kind,
        vec![
            Metric::high("handshakes/s", "/s", rate, true),
            Metric::low("p50", "µs", p50, false),
            Metric::low("p99", "µs", p99, false),
        ],
        cpu,
    );
    r.errors = c.errors;
    r.lost = Some(c.errors);
    r.note = "GET open, POST 40, GET 40{sid}, WebSocket with sid, 2probe, 3probe, 5, close".into();
    pool.close_all();
    drop(server);
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// idle

pub fn idle(setup: &Setup, p: &Params, kind: Kind) -> Result<Record, String> {
    let (mut server, mut pool) = start(setup, kind)?;
    // One client in and out first, so lazy one-time allocations are not billed per client.
    let mut warm = Ramp::new(1, 1);
    warm.run(&mut pool, Duration::from_secs(10));
    pool.close_all();
    pool.run(
        &mut Idle::default(),
        Instant::now() + Duration::from_millis(500),
    );
    let before = server.rss().ok_or("no VmRSS")?;
    let mark = CpuMark::now(server.pid, &setup.cpus());
    let mut ramp = Ramp::new(p.idle_clients, p.ramp_in_flight);
    let took = ramp.run(&mut pool, Duration::from_secs(120));
    let cpu = mark.since(server.pid);
    let mut idle = Idle::default();
    pool.run(&mut idle, Instant::now() + Duration::from_secs(2));
    let after = server.rss().ok_or("no VmRSS")?;
    if !server.alive() {
        return Err(format!("{} died: {}", kind.name(), server.stderr()));
    }
    let connected = pool.ready_ids().len();
    let per = (after as f64 - before as f64) / connected.max(1) as f64;
    progress(&format!(
        "  {} idle: {connected} clients in {:.1}s, RSS {:.1} MiB -> {:.1} MiB: {:.0} B per client; {}",
        kind.name(),
        took.as_secs_f64(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per,
        cpu_text(&cpu)
    ));
    let mut r = record(
        "idle",
        format!("n={}", p.idle_clients),
        kind,
        vec![
            Metric::low("bytes/client", "B", per, true),
            Metric::high("rss_before", "MiB", before as f64 / 1048576.0, false),
            Metric::high("rss_after", "MiB", after as f64 / 1048576.0, false),
            Metric::high(
                "connect rate",
                "/s",
                connected as f64 / took.as_secs_f64(),
                false,
            ),
        ],
        cpu,
    );
    r.errors = (ramp.failed + idle.lost) as u64;
    r.lost = Some((p.idle_clients - connected) as u64);
    r.note = "WebSocket clients joined to /, VmRSS 2 s after the last joined".into();
    pool.close_all();
    drop(server);
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// polling: echo with ack over long-polling

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PStep {
    Open,
    Connect,
    Join,
    Post,
    Get,
    Pong,
}

#[derive(Debug)]
struct PollClient {
    step: PStep,
    sid: String,
    post: Vec<u8>,
    get: Vec<u8>,
    sent: Instant,
}

#[derive(Debug)]
struct PollingEcho {
    event: Vec<u8>,
    clients: HashMap<Id, PollClient>,
    joined: usize,
    hist: Histogram<u64>,
    count: u64,
    requests: u64,
    errors: u64,
    recording: bool,
    stop: bool,
    posted: u64,
    acked: u64,
}

impl PollingEcho {
    fn post_event(&mut self, pool: &mut Pool, id: Id) {
        let c = self.clients.get_mut(&id).expect("client");
        if self.stop {
            return;
        }
        c.step = PStep::Post;
        c.sent = Instant::now();
        pool.send(id, &c.post);
        self.requests += 1;
        self.posted += 1;
    }
}

impl Driver for PollingEcho {
    fn connected(&mut self, pool: &mut Pool, id: Id) {
        let req = polling_get(pool.host(), "");
        pool.send(id, &req);
    }

    fn response(&mut self, pool: &mut Pool, id: Id, status: u16, body: &[u8]) {
        let host = pool.host().to_owned();
        let Some(c) = self.clients.get_mut(&id) else {
            return;
        };
        if status != 200 {
            self.errors += 1;
            self.clients.remove(&id);
            pool.close(id);
            return;
        }
        match c.step {
            PStep::Open => {
                let Some(sid) = body.strip_prefix(b"0").and_then(|j| json_str(j, "sid")) else {
                    self.errors += 1;
                    return pool.close(id);
                };
                c.sid = sid.to_owned();
                c.post = polling_post(&host, sid, &self.event);
                c.get = polling_get(&host, sid);
                c.step = PStep::Connect;
                pool.send(id, &polling_post(&host, sid, b"40"));
            }
            PStep::Connect => {
                c.step = PStep::Join;
                pool.send(id, &c.get);
            }
            PStep::Join => {
                if polling_packets(body).any(|p| p.starts_with(b"40")) {
                    self.joined += 1;
                    self.post_event(pool, id);
                } else {
                    pool.send(id, &c.get);
                }
            }
            PStep::Post => {
                c.step = PStep::Get;
                pool.send(id, &c.get);
                self.requests += 1;
            }
            PStep::Get => {
                let mut acked = false;
                let mut ping = false;
                for p in polling_packets(body) {
                    acked |= p.starts_with(b"43");
                    ping |= p == b"2";
                }
                self.acked += acked as u64;
                if acked && self.recording {
                    self.count += 1;
                    let _ = self
                        .hist
                        .record((Instant::now() - c.sent).as_nanos().max(1) as u64);
                }
                if ping {
                    c.step = if acked { PStep::Pong } else { PStep::Post };
                    let pong = polling_post(&host, &c.sid, b"3");
                    pool.send(id, &pong);
                    self.requests += 1;
                } else if acked {
                    self.post_event(pool, id);
                } else {
                    pool.send(id, &c.get);
                    self.requests += 1;
                }
            }
            PStep::Pong => self.post_event(pool, id),
        }
    }

    fn lost(&mut self, _pool: &mut Pool, id: Id, _why: Lost) {
        if self.clients.remove(&id).is_some() {
            self.errors += 1;
        }
    }
}

pub fn polling(setup: &Setup, p: &Params, kind: Kind) -> Result<Record, String> {
    let (server, mut pool) = start(setup, kind)?;
    let mut e = PollingEcho {
        event: wire::event_packet("echo", &wire::payload(p.polling_size), Some(1)),
        clients: HashMap::new(),
        joined: 0,
        hist: new_hist(),
        count: 0,
        requests: 0,
        errors: 0,
        recording: false,
        stop: false,
        posted: 0,
        acked: 0,
    };
    for _ in 0..p.polling_clients {
        match pool.open_http() {
            Ok(id) => {
                e.clients.insert(
                    id,
                    PollClient {
                        step: PStep::Open,
                        sid: String::new(),
                        post: Vec::new(),
                        get: Vec::new(),
                        sent: Instant::now(),
                    },
                );
            }
            Err(_) => e.errors += 1,
        }
    }
    pool.run(&mut e, Instant::now() + p.warmup);
    e.recording = true;
    e.requests = 0;
    let mark = CpuMark::now(server.pid, &setup.cpus());
    pool.run(&mut e, Instant::now() + p.polling_time);
    let cpu = mark.since(server.pid);
    e.recording = false;
    e.stop = true;
    // Collect the answers still in flight.
    pool.run(&mut e, Instant::now() + Duration::from_secs(1));
    let rate = e.count as f64 / cpu.wall_s;
    let req_rate = e.requests as f64 / cpu.wall_s;
    let (p50, p99) = (pct(&e.hist, 0.5), pct(&e.hist, 0.99));
    progress(&format!(
        "  {} polling n={} ({} joined): {}/s acks ({}/s HTTP requests), p50 {p50:.0}µs p99 {p99:.0}µs, errors {}, {}",
        kind.name(),
        p.polling_clients,
        e.joined,
        fmt_rate(rate),
        fmt_rate(req_rate),
        e.errors,
        cpu_text(&cpu)
    ));
    let mut r = record(
        "polling",
        format!("n={} s={}", p.polling_clients, p.polling_size),
        kind,
        vec![
            Metric::high("acks/s", "/s", rate, true),
            Metric::high("requests/s", "/s", req_rate, false),
            Metric::low("p50", "µs", p50, false),
            Metric::low("p99", "µs", p99, false),
        ],
        cpu,
    );
    r.errors = e.errors;
    r.lost = Some(e.posted - e.acked);
    r.note = "POST 421[\"echo\",…], GET 431[…], one keep-alive connection per client".into();
    pool.close_all();
    drop(server);
    Ok(r)
}
