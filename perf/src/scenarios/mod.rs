//! The scenarios: each starts a fresh server, drives it with a [`Pool`] and returns records.
//!
//! One module per scenario: [`fanout`] (and [`fanout_shards`], the same burst against servers
//! with several shards), [`echo`], [`connect`] (WebSocket, and polling with the upgrade),
//! [`idle`], [`polling`], and [`cluster_fanout`] (a pair of servers joined through Redis). Each scenario function has the same shape: setup, parameters and
//! the server kind in, one record per case out.

mod cluster;
mod connect;
mod echo;
mod fanout;
mod idle;
mod polling;

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::gen::Pool;
use crate::report::{Metric, Record};
use crate::servers::{Kind, Placement, Server, Setup};
use crate::sys::CpuUse;

pub use cluster::cluster_fanout;
pub use connect::{connect_polling, connect_ws};
pub use echo::echo;
pub use fanout::{fanout, fanout_shards};
pub use idle::idle;
pub use polling::polling;

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
    /// `fanout-shards`: shards (worker threads) of the servers.
    pub shards: usize,
    pub shards_clients: usize,
    pub shards_size: usize,
    pub shards_messages: usize,
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
    /// `cluster-fanout`: clients (split over the two servers of a pair), payload size,
    /// deliveries per burst (M = deliveries / clients, or `cluster_messages` when not 0),
    /// deliveries of the latency phase (broadcasts = deliveries / clients, at least 20, or
    /// `cluster_latency_broadcasts` when not 0), the sharded adapter, where redis-server runs.
    pub cluster_clients: Vec<usize>,
    pub cluster_size: usize,
    pub cluster_deliveries: usize,
    pub cluster_messages: usize,
    pub cluster_latency_deliveries: usize,
    pub cluster_latency_broadcasts: usize,
    pub cluster_sharded: bool,
    pub redis_server: String,
    /// redis-server's `--hz` (its timers; 10 is Redis's default).
    pub redis_hz: u32,
    /// `None`: the generator's CPU.
    pub redis_cpu: Option<usize>,
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
            shards: 2,
            shards_clients: 4000,
            shards_size: 64,
            shards_messages: 200,
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
            cluster_clients: vec![1000, 10_000],
            cluster_size: 64,
            cluster_deliveries: 1_000_000,
            cluster_messages: 0,
            cluster_latency_deliveries: 200_000,
            cluster_latency_broadcasts: 0,
            cluster_sharded: false,
            redis_server: "redis-server".into(),
            redis_hz: 1,
            redis_cpu: None,
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

fn start(setup: &Setup, kind: Kind, placement: Placement) -> Result<(Server, Pool), String> {
    let server = setup.start(kind, placement)?;
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
        extra: None,
    }
}
