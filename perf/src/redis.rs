//! The redis-server of `cluster-fanout`: started by the harness on a free loopback port with
//! nothing persisted (`--save '' --appendonly no`) and its timers at `--hz 1` by default (they
//! are most of what it spends at rest, which the CPU per broadcast is taken less of), pinned
//! like a server, asked for its counters (`INFO cpu commandstats`) over a plain RESP
//! connection, and stopped at the end (or killed with the servers on ctrl-c).

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::servers;
use crate::sys;

/// What Redis counted so far: its CPU time and the publishes it served.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counters {
    /// `used_cpu_sys` + `used_cpu_user` (every thread of the process), in seconds.
    pub cpu_s: f64,
    /// Calls of PUBLISH (`cmdstat_publish`).
    pub publish: u64,
    /// Calls of SPUBLISH (`cmdstat_spublish`, sharded pub/sub).
    pub spublish: u64,
    /// Reads and writes of its clients' sockets (`total_reads_processed`,
    /// `total_writes_processed`): how batched the traffic came and went.
    pub reads: u64,
    pub writes: u64,
}

impl Counters {
    /// The counters of an `INFO cpu commandstats stats` answer (a command never called has no
    /// line).
    pub fn parse(info: &str) -> Counters {
        let mut c = Counters::default();
        for line in info.lines() {
            let Some((key, value)) = line.trim_end().split_once(':') else {
                continue;
            };
            match key {
                "used_cpu_sys" | "used_cpu_user" => c.cpu_s += value.parse().unwrap_or(0.0),
                "cmdstat_publish" => c.publish = calls(value),
                "cmdstat_spublish" => c.spublish = calls(value),
                "total_reads_processed" => c.reads = value.parse().unwrap_or(0),
                "total_writes_processed" => c.writes = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        c
    }

    /// What happened between `self` and `later`.
    pub fn until(self, later: Counters) -> Counters {
        Counters {
            cpu_s: (later.cpu_s - self.cpu_s).max(0.0),
            publish: later.publish.saturating_sub(self.publish),
            spublish: later.spublish.saturating_sub(self.spublish),
            reads: later.reads.saturating_sub(self.reads),
            writes: later.writes.saturating_sub(self.writes),
        }
    }

    /// Adds another window.
    pub fn add(&mut self, o: Counters) {
        self.cpu_s += o.cpu_s;
        self.publish += o.publish;
        self.spublish += o.spublish;
        self.reads += o.reads;
        self.writes += o.writes;
    }

    /// PUBLISH and SPUBLISH calls.
    pub fn publishes(&self) -> u64 {
        self.publish + self.spublish
    }

    /// The window's counters less what Redis spends doing nothing (its timers, the `INFO`
    /// that reads it) over `wall` at `idle_cpu` CPU seconds per second: what the window's
    /// traffic cost.
    pub fn less_idle(self, idle_cpu: f64, wall: Duration) -> Counters {
        Counters {
            cpu_s: (self.cpu_s - idle_cpu * wall.as_secs_f64()).max(0.0),
            ..self
        }
    }
}

/// Redis's counters at the start of a window, and when it started.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: Instant,
    counters: Counters,
}

impl Mark {
    /// What Redis counted since the mark, and how long that was.
    pub fn since(&self, redis: &mut Redis) -> Result<(Counters, Duration), String> {
        let now = redis.counters()?;
        Ok((self.counters.until(now), self.at.elapsed()))
    }
}

/// `calls=N` of a `cmdstat_*` value (`calls=3,usec=27,usec_per_call=9.00,…`).
fn calls(value: &str) -> u64 {
    value
        .split(',')
        .find_map(|kv| kv.strip_prefix("calls="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A RESP command as an array of bulk strings.
fn command(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// Reads one RESP2 answer that is a simple string, an error or a bulk string.
fn read_reply(r: &mut impl BufRead) -> Result<String, String> {
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| format!("redis: {e}"))?;
    let line = line.trim_end();
    match line.as_bytes().first() {
        Some(b'+') => Ok(line[1..].to_owned()),
        Some(b'-') => Err(format!("redis: {}", &line[1..])),
        Some(b'$') => {
            let n: i64 = line[1..]
                .parse()
                .map_err(|_| format!("redis: bad bulk length {line}"))?;
            if n < 0 {
                return Ok(String::new());
            }
            let mut buf = vec![0; n as usize + 2];
            r.read_exact(&mut buf).map_err(|e| format!("redis: {e}"))?;
            buf.truncate(n as usize);
            String::from_utf8(buf).map_err(|_| "redis: answer is not UTF-8".to_owned())
        }
        None => Err("redis: connection closed".into()),
        _ => Err(format!("redis: unexpected answer {line}")),
    }
}

/// A redis-server child of the harness.
#[derive(Debug)]
pub struct Redis {
    child: Option<Child>,
    pub pid: u32,
    pub port: u16,
    conn: Option<BufReader<TcpStream>>,
    output: Arc<Mutex<VecDeque<String>>>,
}

impl Redis {
    /// Starts `program` (redis-server) on a free loopback port, on `cpus`, with its timers at
    /// `hz` per second, and waits until it answers PING (10 s at most).
    pub fn start(program: &str, cpus: &[usize], hz: u32) -> Result<Redis, String> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let mut cmd = Command::new(program);
        cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--hz", &hz.to_string()])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mine = sys::affinity();
        sys::set_affinity(cpus)?;
        let spawned = cmd.spawn();
        let _ = sys::set_affinity(&mine);
        let mut child = spawned.map_err(|e| format!("{program}: {e}"))?;
        let pid = child.id();
        servers::track_child(pid);
        let output = Arc::new(Mutex::new(VecDeque::new()));
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tail = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut t = tail.lock().expect("redis output");
                    if t.len() == 20 {
                        t.pop_front();
                    }
                    t.push_back(line);
                }
            });
        }
        let mut redis = Redis {
            child: Some(child),
            pid,
            port,
            conn: None,
            output,
        };
        let t0 = Instant::now();
        loop {
            if let Ok(answer) = redis.call(&["PING"]) {
                if answer == "PONG" {
                    return Ok(redis);
                }
            }
            redis.conn = None;
            let exited = redis
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if exited.is_some() || t0.elapsed() > Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(200));
                return Err(format!(
                    "{program} did not answer PING on port {port} ({}); output:\n{}",
                    exited.map_or("still running".to_owned(), |s| s.to_string()),
                    redis.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The last lines it printed.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// Sends one command on the harness's own connection (opened on first use) and reads
    /// its answer.
    fn call(&mut self, args: &[&str]) -> Result<String, String> {
        if self.conn.is_none() {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
            let s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
                .map_err(|e| format!("redis: {e}"))?;
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.set_nodelay(true);
            self.conn = Some(BufReader::new(s));
        }
        let conn = self.conn.as_mut().expect("connected above");
        let sent = conn.get_mut().write_all(&command(args));
        let answer = sent
            .map_err(|e| format!("redis: {e}"))
            .and_then(|()| read_reply(conn));
        if answer.is_err() {
            self.conn = None;
        }
        answer
    }

    /// Its CPU time and publish counts now.
    pub fn counters(&mut self) -> Result<Counters, String> {
        self.call(&["INFO", "cpu", "commandstats", "stats"])
            .map(|info| Counters::parse(&info))
    }

    /// Marks the start of a window.
    pub fn mark(&mut self) -> Result<Mark, String> {
        let counters = self.counters()?;
        Ok(Mark {
            at: Instant::now(),
            counters,
        })
    }

    /// Stops it: SIGTERM (nothing to save), a bounded wait, then SIGKILL.
    pub fn stop(&mut self) {
        self.conn = None;
        let Some(mut child) = self.child.take() else {
            return;
        };
        let alive = |c: &mut Child| matches!(c.try_wait(), Ok(None));
        if alive(&mut child) {
            let _ = kill(Pid::from_raw(self.pid as i32), Signal::SIGTERM);
            let t0 = Instant::now();
            while alive(&mut child) && t0.elapsed() < Duration::from_secs(3) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(&mut child) {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
        servers::untrack_child(self.pid);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:0.500000\r\n\
        used_cpu_sys_children:0.000000\r\nused_cpu_user_children:0.000000\r\n\
        used_cpu_sys_main_thread:1.200000\r\nused_cpu_user_main_thread:0.450000\r\n\r\n\
        # Commandstats\r\n\
        cmdstat_publish:calls=1000,usec=2500,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_subscribe:calls=6,usec=12,usec_per_call=2.00,rejected_calls=0,failed_calls=0\r\n\
        cmdstat_info:calls=3,usec=90,usec_per_call=30.00,rejected_calls=0,failed_calls=0\r\n\r\n\
        # Stats\r\ntotal_connections_received:7\r\ntotal_reads_processed:120\r\n\
        total_writes_processed:250\r\n";

    #[test]
    fn counters_add_the_process_cpu_and_read_the_publish_calls() {
        let c = Counters::parse(INFO);
        // the process totals only: the main thread's figures are part of them, and no child
        assert!((c.cpu_s - 1.75).abs() < 1e-9, "{c:?}");
        assert_eq!(c.publish, 1000);
        assert_eq!(c.spublish, 0, "never called: no line");
        assert_eq!((c.reads, c.writes), (120, 250));
        let later = Counters::parse(
            &INFO
                .replace("used_cpu_user:0.500000", "used_cpu_user:0.750000")
                .replace("calls=1000,", "calls=1300,")
                .replace(
                    "cmdstat_info",
                    "cmdstat_spublish:calls=7,usec=1\r\ncmdstat_info",
                ),
        );
        let d = c.until(later);
        assert!((d.cpu_s - 0.25).abs() < 1e-9, "{d:?}");
        assert_eq!((d.publish, d.spublish, d.publishes()), (300, 7, 307));
        // 2 ms of CPU per second doing nothing: 0.5 s of it is not the traffic's
        let net = d.less_idle(0.002, Duration::from_millis(500));
        assert!((net.cpu_s - 0.249).abs() < 1e-9, "{net:?}");
        assert_eq!(net.publishes(), 307);
        assert_eq!(
            d.less_idle(1.0, Duration::from_secs(1)).cpu_s,
            0.0,
            "never below 0"
        );
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings_and_replies_are_read_whole() {
        assert_eq!(
            command(&["INFO", "cpu"]),
            b"*2\r\n$4\r\nINFO\r\n$3\r\ncpu\r\n".to_vec()
        );
        let mut r = &b"$12\r\na:1\r\nb:2\r\nxy\r\n+PONG\r\n-ERR no\r\n"[..];
        assert_eq!(read_reply(&mut r).as_deref(), Ok("a:1\r\nb:2\r\nxy"));
        assert_eq!(read_reply(&mut r).as_deref(), Ok("PONG"));
        assert_eq!(read_reply(&mut r), Err("redis: ERR no".to_owned()));
        assert!(read_reply(&mut r).is_err(), "closed");
    }
}
