//! connect: Socket.IO handshakes per second, a fixed number in flight. Two variants share the
//! bookkeeping ([`Handshakes`]) and the measurement ([`measure`]):
//!
//! - *websocket*: TCP connect, upgrade request, 101, `0{…}` open packet, `40`, `40{"sid":…}`,
//!   close frame, close (the pool does the handshake; [`Driver::ready`] ends it);
//! - *polling+upgrade*: `GET` handshake, `POST 40`, `GET` (the `40{…}` answer) on one
//!   keep-alive connection, then a WebSocket with the `sid`, `2probe` → `3probe`, `5`, close.

use std::collections::HashMap;
use std::io;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{cpu_text, fmt_rate, new_hist, pct, progress, record, start, Params};
use crate::gen::wire::{self, json_str};
use crate::gen::{polling_get, polling_packets, polling_post, Driver, Id, Lost, Pool};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Setup};

/// The handshakes in flight (each with when it began and the variant's state `S`), those
/// completed while recording and their latency, the failures.
#[derive(Debug)]
struct Handshakes<S> {
    concurrency: usize,
    /// Opens the connection a handshake begins with.
    open: fn(&mut Pool) -> io::Result<Id>,
    flight: HashMap<Id, (Instant, S)>,
    hist: Histogram<u64>,
    count: u64,
    errors: u64,
    recording: bool,
    stop: bool,
}

impl<S: Default> Handshakes<S> {
    fn new(concurrency: usize, open: fn(&mut Pool) -> io::Result<Id>) -> Self {
        Handshakes {
            concurrency,
            open,
            flight: HashMap::new(),
            hist: new_hist(),
            count: 0,
            errors: 0,
            recording: false,
            stop: false,
        }
    }

    /// Begins handshakes until `concurrency` are in flight (none once stopping).
    fn refill(&mut self, pool: &mut Pool) {
        while !self.stop && self.flight.len() < self.concurrency {
            match (self.open)(pool) {
                Ok(id) => {
                    self.flight.insert(id, (Instant::now(), S::default()));
                }
                Err(_) => {
                    self.errors += 1;
                    break; // try again on the next tick
                }
            }
        }
    }

    /// The handshake on `id` completed.
    fn complete(&mut self, pool: &mut Pool, id: Id) {
        if let Some((t0, _)) = self.flight.remove(&id) {
            if self.recording {
                self.count += 1;
                let _ = self.hist.record(t0.elapsed().as_nanos().max(1) as u64);
            }
        }
        self.refill(pool);
    }

    /// The handshake on `id` failed (its connection is gone or given up).
    fn fail(&mut self, pool: &mut Pool, id: Id) {
        if self.flight.remove(&id).is_some() && self.recording {
            self.errors += 1;
        }
        self.refill(pool);
    }

    fn done(&self) -> bool {
        self.stop && self.flight.is_empty()
    }
}

/// What a connect variant does with its connections, told about them by [`Connect`] (which
/// keeps the bookkeeping: failures, refills, the end of the run). Every method has a no-op
/// default, as in [`Driver`].
trait Variant {
    type State: Default;
    fn ready(&mut self, _hs: &mut Handshakes<Self::State>, _pool: &mut Pool, _id: Id) {}
    fn connected(&mut self, _hs: &mut Handshakes<Self::State>, _pool: &mut Pool, _id: Id) {}
    fn response(
        &mut self,
        _hs: &mut Handshakes<Self::State>,
        _pool: &mut Pool,
        _id: Id,
        _status: u16,
        _body: &[u8],
    ) {
    }
    fn upgraded(&mut self, _hs: &mut Handshakes<Self::State>, _pool: &mut Pool, _id: Id) {}
    fn message(
        &mut self,
        _hs: &mut Handshakes<Self::State>,
        _pool: &mut Pool,
        _id: Id,
        _packet: &[u8],
    ) {
    }
}

/// The [`Driver`] of a connect run: a variant and its handshakes.
#[derive(Debug)]
struct Connect<V: Variant> {
    hs: Handshakes<V::State>,
    v: V,
}

impl<V: Variant> Driver for Connect<V> {
    fn ready(&mut self, pool: &mut Pool, id: Id) {
        self.v.ready(&mut self.hs, pool, id);
    }
    fn connected(&mut self, pool: &mut Pool, id: Id) {
        self.v.connected(&mut self.hs, pool, id);
    }
    fn response(&mut self, pool: &mut Pool, id: Id, status: u16, body: &[u8]) {
        self.v.response(&mut self.hs, pool, id, status, body);
    }
    fn upgraded(&mut self, pool: &mut Pool, id: Id) {
        self.v.upgraded(&mut self.hs, pool, id);
    }
    fn message(&mut self, pool: &mut Pool, id: Id, packet: &[u8]) {
        self.v.message(&mut self.hs, pool, id, packet);
    }
    fn lost(&mut self, pool: &mut Pool, id: Id, _why: Lost) {
        self.hs.fail(pool, id);
    }
    fn tick(&mut self, pool: &mut Pool, _now: Instant) {
        self.hs.refill(pool);
    }
    fn done(&self) -> bool {
        self.hs.done()
    }
}

/// Runs a variant against a fresh `kind`: warm-up, the measured window, a drain; one record.
fn measure<V: Variant + std::fmt::Debug>(
    setup: &Setup,
    p: &Params,
    kind: Kind,
    open: fn(&mut Pool) -> io::Result<Id>,
    v: V,
    variant: &str,
    note: &str,
) -> Result<Vec<Record>, String> {
    let (server, mut pool) = start(setup, kind, Placement::Pinned)?;
    let mut c = Connect {
        hs: Handshakes::new(p.connect_concurrency, open),
        v,
    };
    c.hs.refill(&mut pool);
    pool.run(&mut c, Instant::now() + p.warmup / 2);
    c.hs.recording = true;
    let mark = server.mark();
    pool.run(&mut c, Instant::now() + p.connect_time);
    let cpu = mark.since();
    c.hs.recording = false;
    c.hs.stop = true;
    pool.run(&mut c, Instant::now() + Duration::from_secs(5));
    let h = &c.hs;
    let rate = h.count as f64 / cpu.wall_s;
    let (p50, p99) = (pct(&h.hist, 0.5), pct(&h.hist, 0.99));
    progress(&format!(
        "  {} connect {variant}: {}/s handshakes, p50 {p50:.0}µs p99 {p99:.0}µs, errors {}, {}",
        kind.name(),
        fmt_rate(rate),
        h.errors,
        cpu_text(&cpu)
    ));
    let mut r = record(
        "connect",
        format!("{variant} c={}", p.connect_concurrency),
        kind,
        vec![
            Metric::high("handshakes/s", "/s", rate, true),
            Metric::low("p50", "µs", p50, false),
            Metric::low("p99", "µs", p99, false),
        ],
        cpu,
    );
    r.errors = h.errors;
    r.lost = Some(h.errors);
    r.note = note.into();
    pool.close_all();
    drop(server);
    Ok(vec![r])
}

// ---------------------------------------------------------------------------------------------
// websocket

/// Sends a close frame as soon as the pool finished the Socket.IO handshake.
#[derive(Debug)]
struct ConnectWs {
    close: Vec<u8>,
}

impl Variant for ConnectWs {
    type State = ();
    fn ready(&mut self, hs: &mut Handshakes<()>, pool: &mut Pool, id: Id) {
        pool.send(id, &self.close);
        pool.close(id);
        hs.complete(pool, id);
    }
}

/// connect over WebSocket.
pub fn connect_ws(setup: &Setup, p: &Params, kind: Kind) -> Result<Vec<Record>, String> {
    let v = ConnectWs {
        close: wire::close_frame(),
    };
    measure(
        setup,
        p,
        kind,
        Pool::open_socketio,
        v,
        "websocket",
        "connect, upgrade, open packet, 40, 40{sid}, close",
    )
}

// ---------------------------------------------------------------------------------------------
// polling handshake, then the upgrade to WebSocket

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Step {
    #[default]
    Open,
    Connect,
    Answer,
    Upgrade,
    Probe,
}

#[derive(Debug, Default)]
struct Session {
    sid: String,
    step: Step,
}

/// Drives the polling requests and the upgrade itself (plain HTTP, then a raw WebSocket).
#[derive(Debug)]
struct ConnectPolling {
    probe: Vec<u8>,
    upgrade: Vec<u8>,
    close: Vec<u8>,
}

/// Gives up the handshake on `id`.
fn give_up(hs: &mut Handshakes<Session>, pool: &mut Pool, id: Id) {
    pool.close(id);
    hs.fail(pool, id);
}

impl Variant for ConnectPolling {
    type State = Session;

    fn connected(&mut self, _hs: &mut Handshakes<Session>, pool: &mut Pool, id: Id) {
        let req = polling_get(pool.host(), "");
        pool.send(id, &req);
    }

    fn response(
        &mut self,
        hs: &mut Handshakes<Session>,
        pool: &mut Pool,
        id: Id,
        status: u16,
        body: &[u8],
    ) {
        let Some((_, s)) = hs.flight.get_mut(&id) else {
            return;
        };
        if status != 200 {
            return give_up(hs, pool, id);
        }
        match s.step {
            Step::Open => {
                let Some(sid) = body.strip_prefix(b"0").and_then(|j| json_str(j, "sid")) else {
                    return give_up(hs, pool, id);
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
                    // The handshake goes on over a WebSocket: its entry moves to that id.
                    let (t0, s) = hs.flight.remove(&id).expect("present");
                    pool.close(id);
                    let path = format!("/socket.io/?EIO=4&transport=websocket&sid={}", s.sid);
                    match pool.open_raw_ws(&path) {
                        Ok(ws) => {
                            let s = Session {
                                step: Step::Upgrade,
                                ..s
                            };
                            hs.flight.insert(ws, (t0, s));
                        }
                        Err(_) => {
                            hs.errors += 1;
                            hs.refill(pool);
                        }
                    }
                } else {
                    let req = polling_get(pool.host(), &s.sid);
                    pool.send(id, &req);
                }
            }
            _ => give_up(hs, pool, id),
        }
    }

    fn upgraded(&mut self, hs: &mut Handshakes<Session>, pool: &mut Pool, id: Id) {
        if let Some((_, s)) = hs.flight.get_mut(&id) {
            s.step = Step::Probe;
            pool.send(id, &self.probe);
        }
    }

    fn message(&mut self, hs: &mut Handshakes<Session>, pool: &mut Pool, id: Id, packet: &[u8]) {
        let Some((_, s)) = hs.flight.get(&id) else {
            return;
        };
        if s.step == Step::Probe && packet == b"3probe" {
            pool.send(id, &self.upgrade);
            pool.send(id, &self.close);
            pool.close(id);
            hs.complete(pool, id);
        }
    }
}

/// connect with polling, then the upgrade to WebSocket.
pub fn connect_polling(setup: &Setup, p: &Params, kind: Kind) -> Result<Vec<Record>, String> {
    let v = ConnectPolling {
        probe: wire::text_frame(b"2probe"),
        upgrade: wire::text_frame(b"5"),
        close: wire::close_frame(),
    };
    measure(
        setup,
        p,
        kind,
        Pool::open_http,
        v,
        "polling+upgrade",
        "GET open, POST 40, GET 40{sid}, WebSocket with sid, 2probe, 3probe, 5, close",
    )
}
