//! polling: echo with an ack over long-polling, one keep-alive connection per client.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::{cpu_text, fmt_rate, new_hist, pct, progress, record, start, Params};
use crate::gen::wire::{self, json_str};
use crate::gen::{polling_get, polling_packets, polling_post, Driver, Id, Lost, Pool};
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Setup};

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

pub fn polling(setup: &Setup, p: &Params, kind: Kind) -> Result<Vec<Record>, String> {
    let (server, mut pool) = start(setup, kind, Placement::Pinned)?;
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
    let mark = server.mark();
    pool.run(&mut e, Instant::now() + p.polling_time);
    let cpu = mark.since();
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
    Ok(vec![r])
}
