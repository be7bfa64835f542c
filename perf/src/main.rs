//! `corelay-perf`: the side-by-side load harness of corelay.
//!
//! Runs the same scenarios against corelay on each runtime, socketioxide and the Node
//! `socket.io` server, one after the other, each server alone on CPU 0 with one thread (one
//! shard) and the same settings, the load generator on CPU 1; `fanout-shards`, a fanout
//! against servers with several shards (threads), free on every CPU; and `cluster-fanout`
//! (not part of `all`), a fanout across two servers joined through a redis-server of the
//! harness. See `perf/README.md`.

mod gen;
mod redis;
mod report;
mod scenarios;
mod servers;
mod sys;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use report::{Failure, Record};
use scenarios::{progress, Params};
use servers::{Kind, Setup};

const USAGE: &str = "\
usage: corelay-perf <fanout|echo|connect|idle|polling|fanout-shards|all|cluster-fanout> [options]
(`all` runs every scenario but cluster-fanout)

servers and machine:
  --servers LIST            corelay-tokio,corelay-monoio,corelay-glommio,socketioxide,node (default: all five;
                            `tokio` is short for corelay-tokio)
  --target-dir DIR          cargo target dir for building the servers (default: $CARGO_TARGET_DIR,
                            else the workspace's target/)
  --no-build                use the binaries already built (build only what is missing)
  --out DIR                 results directory (default: perf/results)
  --server-cpu N            CPU of the server under test (0)
  --gen-cpu N               CPU of the load generator (1)
  --max-payload BYTES       every server's max payload (1000000)
  --ping-interval-ms MS     (25000)    --ping-timeout-ms MS (20000)
  --sx-buffer N             socketioxide's per-socket packet buffer (1048576; its default 128 drops)
  --external ADDR[,PID]     drive a server started by hand (e.g. under perf or valgrind) instead
                            of starting one; give one --servers name to label it
fanout:   --clients 1000,10000  --sizes 64,1024  --messages M (default: deliveries / clients)
          --deliveries 1000000  --reps 3  --timeout-s 60
fanout-shards (servers not pinned, the generator shares their CPUs; not Node):
          --shards 2  --shards-clients 4000  --shards-size 64  --shards-messages 200
          (and --reps, --timeout-s)
echo:     --echo-clients 100  --echo-size 64  --echo-secs 5  --warmup-secs 1
connect:  --connect-concurrency 64  --connect-secs 4
idle:     --idle-clients 10000
polling:  --polling-clients 100  --polling-size 64  --polling-secs 4
          --ramp-in-flight 256      handshakes in flight while opening many clients
cluster-fanout (pairs of servers joined through Redis; both servers of a pair on --server-cpu,
the generator and redis-server on --gen-cpu; and --reps, --timeout-s):
          --cluster-clients 1000,10000   clients, split evenly over the two servers
          --cluster-size 64              payload bytes (the first 16: the send time)
          --cluster-deliveries 1000000   per burst: M = deliveries / clients broadcasts
          --cluster-messages M           (instead of --cluster-deliveries)
          --latency-deliveries 200000    latency phase: deliveries / clients broadcasts
          --latency-broadcasts K         (instead of --latency-deliveries), one at a time
          --cluster-sharded              the sharded adapters (SPUBLISH; not socketioxide)
          --redis-server PATH            (redis-server)   --redis-cpu N (the generator's CPU)
          --redis-hz 1                   redis-server's timers (Redis's default: 10)
";

fn usage(msg: &str) -> ! {
    eprintln!("{msg}\n\n{USAGE}");
    std::process::exit(2)
}

/// The scenarios of `all`.
const SCENARIOS: [&str; 6] = [
    "fanout",
    "echo",
    "connect",
    "idle",
    "polling",
    "fanout-shards",
];

/// Scenarios run only when named (kept out of `all` for its time).
const BY_NAME: [&str; 1] = ["cluster-fanout"];

struct Options {
    scenario: String,
    servers: Vec<Kind>,
    out: PathBuf,
    setup: Setup,
    params: Params,
}

fn parse_args() -> Options {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let workspace = workspace.canonicalize().unwrap_or(workspace);
    let mut args = std::env::args().skip(1);
    let scenario = args.next().unwrap_or_else(|| usage("missing scenario"));
    if scenario == "-h" || scenario == "--help" {
        print!("{USAGE}");
        std::process::exit(0);
    }
    if scenario != "all"
        && !SCENARIOS.contains(&scenario.as_str())
        && !BY_NAME.contains(&scenario.as_str())
    {
        usage(&format!("unknown scenario {scenario}"));
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    let mut o = Options {
        scenario,
        servers: Kind::ALL.to_vec(),
        out: workspace.join("perf/results"),
        setup: Setup {
            workspace,
            target_dir,
            build: true,
            server_cpu: 0,
            gen_cpu: 1,
            max_payload: 1_000_000,
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            sx_buffer: 1 << 20,
            external: None,
        },
        params: Params::default(),
    };
    while let Some(flag) = args.next() {
        if flag == "--no-build" {
            o.setup.build = false;
            continue;
        }
        if flag == "--cluster-sharded" {
            o.params.cluster_sharded = true;
            continue;
        }
        let v = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| -> u64 {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}")))
        };
        let list = |v: &str| -> Vec<usize> { v.split(',').map(|x| num(x) as usize).collect() };
        let secs = |v: &str| -> Duration {
            Duration::from_secs_f64(
                v.parse()
                    .unwrap_or_else(|_| usage(&format!("{flag}: not a number: {v}"))),
            )
        };
        let p = &mut o.params;
        match flag.as_str() {
            "--servers" => {
                o.servers = v
                    .split(',')
                    .map(|s| {
                        Kind::parse(s.trim())
                            .unwrap_or_else(|| usage(&format!("unknown server {s}")))
                    })
                    .collect()
            }
            "--target-dir" => o.setup.target_dir = PathBuf::from(v),
            "--external" => {
                // ADDR[,PID]: a server started by hand, measured as the one named by --servers.
                let (addr, pid) = v.split_once(',').unwrap_or((v.as_str(), "0"));
                let addr = addr
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("--external: bad address {addr}")));
                o.setup.external = Some((addr, num(pid) as u32));
                o.setup.build = false;
            }
            "--out" => o.out = PathBuf::from(v),
            "--server-cpu" => o.setup.server_cpu = num(&v) as usize,
            "--gen-cpu" => o.setup.gen_cpu = num(&v) as usize,
            "--max-payload" => o.setup.max_payload = num(&v),
            "--ping-interval-ms" => o.setup.ping_interval_ms = num(&v),
            "--ping-timeout-ms" => o.setup.ping_timeout_ms = num(&v),
            "--sx-buffer" => o.setup.sx_buffer = num(&v) as usize,
            "--clients" => p.fanout_clients = list(&v),
            "--sizes" => p.fanout_sizes = list(&v),
            "--messages" => p.fanout_messages = num(&v) as usize,
            "--deliveries" => p.fanout_deliveries = num(&v) as usize,
            "--reps" => p.fanout_reps = num(&v).max(1) as usize,
            "--timeout-s" => p.fanout_timeout = secs(&v),
            "--shards" => p.shards = num(&v).max(1) as usize,
            "--shards-clients" => p.shards_clients = num(&v).max(1) as usize,
            "--shards-size" => p.shards_size = num(&v) as usize,
            "--shards-messages" => p.shards_messages = num(&v).max(1) as usize,
            "--echo-clients" => p.echo_clients = num(&v) as usize,
            "--echo-size" => p.echo_size = num(&v) as usize,
            "--echo-secs" => p.echo_time = secs(&v),
            "--warmup-secs" => p.warmup = secs(&v),
            "--connect-concurrency" => p.connect_concurrency = num(&v).max(1) as usize,
            "--connect-secs" => p.connect_time = secs(&v),
            "--idle-clients" => p.idle_clients = num(&v) as usize,
            "--polling-clients" => p.polling_clients = num(&v) as usize,
            "--polling-size" => p.polling_size = num(&v) as usize,
            "--polling-secs" => p.polling_time = secs(&v),
            "--ramp-in-flight" => p.ramp_in_flight = num(&v).max(1) as usize,
            "--cluster-clients" => p.cluster_clients = list(&v),
            "--cluster-size" => p.cluster_size = num(&v) as usize,
            "--cluster-deliveries" => p.cluster_deliveries = num(&v) as usize,
            "--cluster-messages" => p.cluster_messages = num(&v) as usize,
            "--latency-deliveries" => p.cluster_latency_deliveries = num(&v) as usize,
            "--latency-broadcasts" => p.cluster_latency_broadcasts = num(&v) as usize,
            "--redis-server" => p.redis_server = v,
            "--redis-hz" => p.redis_hz = num(&v).clamp(1, 500) as u32,
            "--redis-cpu" => p.redis_cpu = Some(num(&v) as usize),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    o
}

/// `YYYY-MM-DD` and `HHMMSS` (UTC) of now.
fn now_utc() -> (String, String) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!("{:02}{:02}{:02}", rem / 3600, rem % 3600 / 60, rem % 60),
    )
}

/// Where the servers and the generator run, in words.
fn placement_text(scenario: &str, setup: &Setup, params: &Params) -> String {
    let pinned = format!(
        "servers on CPU {}, generator on CPU {}",
        setup.server_cpu, setup.gen_cpu
    );
    let spread = "servers with several shards and the generator not pinned (sharing every CPU)";
    match scenario {
        "fanout-shards" => spread.to_owned(),
        "cluster-fanout" => format!(
            "both servers of a pair on CPU {}, generator and redis-server on CPU {}",
            setup.server_cpu,
            params.redis_cpu.unwrap_or(setup.gen_cpu)
        ),
        "all" => format!("{pinned}; fanout-shards: {spread}"),
        _ => pinned,
    }
}

struct Run {
    opts: Options,
    stamp: String,
    date: String,
    started: String,
    records: Vec<Record>,
    failures: Vec<Failure>,
    notes: Vec<String>,
}

impl Run {
    /// Runs `f` for each server, keeping its records or its failure.
    fn each(
        &mut self,
        servers: &[Kind],
        scenario: &str,
        mut f: impl FnMut(Kind) -> Result<Vec<Record>, String>,
    ) {
        for &kind in servers {
            match f(kind) {
                Ok(rs) => self.records.extend(rs),
                Err(e) => self.fail(scenario, kind, e),
            }
        }
    }

    fn fail(&mut self, scenario: &str, kind: Kind, error: String) {
        progress(&format!("  {} {scenario}: FAILED: {error}", kind.name()));
        self.failures.push(Failure {
            scenario: scenario.into(),
            server: kind.name().into(),
            error,
        });
    }

    fn save(&self) {
        let _ = std::fs::create_dir_all(&self.opts.out);
        let p = &self.opts.params;
        let s = &self.opts.setup;
        let json = serde_json::json!({
            "date": self.date,
            "started_utc": self.started,
            "scenario": self.opts.scenario,
            "machine": {
                "cpu_model": sys::cpu_model(),
                "cpus": sys::cpu_count(),
                "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
                "loadavg_at_save": sys::loadavg(),
            },
            "settings": {
                "server_cpu": s.server_cpu,
                "generator_cpu": s.gen_cpu,
                "shards": 1,
                "fanout_shards": { "shards": p.shards, "clients": p.shards_clients,
                                   "size": p.shards_size, "messages": p.shards_messages,
                                   "reps": p.fanout_reps, "pinned": false,
                                   "one_shard_baseline": "same placement, --shards 1" },
                "max_payload": s.max_payload,
                "ping_interval_ms": s.ping_interval_ms,
                "ping_timeout_ms": s.ping_timeout_ms,
                "socketioxide_max_buffer_size": s.sx_buffer,
                "corelay_max_send_buffer": "16 MiB (default)",
                "fanout": { "clients": p.fanout_clients, "sizes": p.fanout_sizes,
                            "messages": p.fanout_messages, "deliveries": p.fanout_deliveries,
                            "reps": p.fanout_reps, "timeout_s": p.fanout_timeout.as_secs_f64() },
                "echo": { "clients": p.echo_clients, "size": p.echo_size,
                          "secs": p.echo_time.as_secs_f64(), "warmup_secs": p.warmup.as_secs_f64() },
                "connect": { "concurrency": p.connect_concurrency, "secs": p.connect_time.as_secs_f64() },
                "idle": { "clients": p.idle_clients },
                "polling": { "clients": p.polling_clients, "size": p.polling_size,
                             "secs": p.polling_time.as_secs_f64() },
                "cluster_fanout": { "clients": p.cluster_clients, "size": p.cluster_size,
                                    "deliveries_per_burst": p.cluster_deliveries,
                                    "messages": p.cluster_messages, "reps": p.fanout_reps,
                                    "latency_deliveries": p.cluster_latency_deliveries,
                                    "latency_broadcasts": p.cluster_latency_broadcasts,
                                    "sharded": p.cluster_sharded,
                                    "servers_cpu": s.server_cpu,
                                    "redis_cpu": p.redis_cpu.unwrap_or(s.gen_cpu),
                                    "redis_server": p.redis_server,
                                    "redis_flags": format!("--save '' --appendonly no --hz {} (defaults otherwise)", p.redis_hz),
                                    "timeout_s": p.fanout_timeout.as_secs_f64() },
            },
            "records": self.records,
            "failures": self.failures,
            "targets": report::targets(&self.records),
            "notes": self.notes,
            "disturbed": report::disturbed(&self.records),
        });
        let base = self
            .opts
            .out
            .join(format!("{}-{}", self.stamp, self.opts.scenario));
        let _ = std::fs::write(
            base.with_extension("json"),
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        );
    }
}

fn main() {
    let opts = parse_args();
    servers::kill_children_on_signal();
    let nofile = sys::raise_nofile();
    let (date, time) = now_utc();
    let mut run = Run {
        stamp: format!("{date}-{time}"),
        started: format!("{date} {time}"),
        date,
        opts,
        records: Vec::new(),
        failures: Vec::new(),
        notes: Vec::new(),
    };
    let setup = run.opts.setup.clone();
    let params = run.opts.params.clone();
    if let Err(e) = sys::pin_current_thread(setup.gen_cpu) {
        let msg = format!("generator not pinned: {e}");
        eprintln!("warning: {msg}");
        run.notes.push(msg);
    }
    let placement = placement_text(&run.opts.scenario, &setup, &params);
    progress(&format!(
        "corelay-perf {}: {} on {} CPU(s), {placement}, open-file limit {nofile}, load {}",
        run.opts.scenario,
        sys::cpu_model(),
        sys::cpu_count(),
        sys::loadavg()
    ));
    progress(&format!("building into {}", setup.target_dir.display()));
    let mut servers = Vec::new();
    for kind in run.opts.servers.clone() {
        if setup.external.is_some() {
            servers.push(kind);
            continue;
        }
        match setup.prepare(kind) {
            Ok(()) => servers.push(kind),
            Err(e) => run.fail("build", kind, e),
        }
    }
    let scenarios: Vec<&str> = if run.opts.scenario == "all" {
        SCENARIOS.to_vec()
    } else {
        vec![SCENARIOS
            .iter()
            .chain(&BY_NAME)
            .find(|s| **s == run.opts.scenario)
            .copied()
            .unwrap_or("fanout")]
    };

    for scenario in scenarios {
        progress(&format!("== {scenario} (load {})", sys::loadavg()));
        let (setup, params) = (&setup, &params);
        match scenario {
            "fanout" => {
                for &n in &params.fanout_clients {
                    run.each(&servers, scenario, |k| {
                        scenarios::fanout(setup, params, k, n)
                    });
                }
            }
            "echo" => run.each(&servers, scenario, |k| scenarios::echo(setup, params, k)),
            "connect" => {
                run.each(&servers, scenario, |k| {
                    scenarios::connect_ws(setup, params, k)
                });
                run.each(&servers, scenario, |k| {
                    scenarios::connect_polling(setup, params, k)
                });
            }
            "idle" => run.each(&servers, scenario, |k| scenarios::idle(setup, params, k)),
            "polling" => run.each(&servers, scenario, |k| scenarios::polling(setup, params, k)),
            "fanout-shards" => {
                let (sharded, single): (Vec<Kind>, Vec<Kind>) =
                    servers.iter().partition(|k| k.multi_threaded());
                progress(&format!(
                    "  {} shards per server (socketioxide: worker threads), not pinned: the \
                     generator shares the {} CPUs with them{}",
                    params.shards,
                    sys::cpu_count(),
                    if single.is_empty() {
                        String::new()
                    } else {
                        let names: Vec<&str> = single.iter().map(|k| k.name()).collect();
                        format!("; left out (one thread): {}", names.join(", "))
                    }
                ));
                run.each(&sharded, scenario, |k| {
                    scenarios::fanout_shards(setup, params, k)
                });
            }
            "cluster-fanout" => {
                let cpu = params.redis_cpu.unwrap_or(setup.gen_cpu);
                match redis::Redis::start(&params.redis_server, &[cpu], params.redis_hz) {
                    Ok(mut redis) => {
                        progress(&format!(
                            "  {} (pid {}) on {}, CPU {cpu}; pairs one at a time",
                            params.redis_server,
                            redis.pid,
                            redis.url()
                        ));
                        for &n in &params.cluster_clients {
                            run.each(&servers, scenario, |k| {
                                scenarios::cluster_fanout(setup, params, k, n, &mut redis)
                            });
                        }
                        redis.stop();
                    }
                    Err(e) => {
                        for &k in &servers {
                            run.fail(scenario, k, format!("no redis-server: {e}"));
                        }
                    }
                }
            }
            _ => unreachable!("scenario names are checked when parsing"),
        }
        run.save();
    }
    progress(&format!("finished (load {})", sys::loadavg()));

    print!("{}", report::text_tables(&run.records));
    let targets = report::targets(&run.records);
    if !targets.is_empty() {
        println!("\ntargets:");
        print!("{}", report::targets_text(&targets, false));
    }
    for f in &run.failures {
        println!("FAILED {} on {}: {}", f.scenario, f.server, f.error);
    }
    let disturbed = report::disturbed(&run.records);
    if !disturbed.is_empty() {
        println!("\ndisturbed (re-run these when the machine is quiet):");
        for d in &disturbed {
            println!("  {d}");
        }
    }
    run.save();
    let base = run
        .opts
        .out
        .join(format!("{}-{}", run.stamp, run.opts.scenario));
    let md = format!(
        "# corelay-perf {} — {} UTC\n\n{} ({} CPUs); {placement}\n{}\n{}",
        run.opts.scenario,
        run.started,
        sys::cpu_model(),
        sys::cpu_count(),
        report::markdown_tables(&run.records),
        report::targets_text(&targets, true)
    ) + &disturbed
        .iter()
        .map(|d| format!("\n- disturbed: {d}"))
        .collect::<String>();
    let _ = std::fs::write(base.with_extension("md"), md);
    match report::write_charts(&run.opts.out, &run.stamp, &run.records) {
        Ok(files) => {
            println!("\nresults: {}.json, {}.md", base.display(), base.display());
            for f in files {
                println!("chart:   {}", f.display());
            }
        }
        Err(e) => eprintln!("charts not written: {e}"),
    }
}
