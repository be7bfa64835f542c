//! What the harness asks the OS: CPU affinity, CPU time, file limits, a process's RSS.

use std::time::Duration;

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::sys::resource::{getrlimit, getrusage, setrlimit, Resource, UsageWho};
use nix::unistd::Pid;

/// Pins the calling thread to one CPU (children spawned from it inherit the mask).
pub fn pin_current_thread(cpu: usize) -> Result<(), String> {
    set_affinity(&[cpu])
}

/// Lets the calling thread run on `cpus` only (children spawned from it inherit the mask).
pub fn set_affinity(cpus: &[usize]) -> Result<(), String> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu).map_err(|e| format!("cpu {cpu}: {e}"))?;
    }
    sched_setaffinity(Pid::from_raw(0), &set)
        .map_err(|e| format!("sched_setaffinity(cpus {cpus:?}): {e}"))
}

/// The CPUs the calling thread may run on.
pub fn affinity() -> Vec<usize> {
    match sched_getaffinity(Pid::from_raw(0)) {
        Ok(set) => (0..CpuSet::count())
            .filter(|&c| set.is_set(c).unwrap_or(false))
            .collect(),
        Err(_) => all_cpus(),
    }
}

/// Every CPU online.
pub fn all_cpus() -> Vec<usize> {
    (0..cpu_count()).collect()
}

/// Raises the soft open-file limit to the hard limit; returns the new soft limit.
pub fn raise_nofile() -> u64 {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, hard)) => {
            if soft < hard && setrlimit(Resource::RLIMIT_NOFILE, hard, hard).is_ok() {
                hard
            } else {
                soft
            }
        }
        Err(_) => 0,
    }
}

/// CPU time (user, system) of the calling thread.
pub fn thread_cpu() -> (Duration, Duration) {
    match getrusage(UsageWho::RUSAGE_THREAD) {
        Ok(u) => {
            let us = |t: nix::sys::time::TimeVal| {
                Duration::from_micros(t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64)
            };
            (us(u.user_time()), us(u.system_time()))
        }
        Err(_) => (Duration::ZERO, Duration::ZERO),
    }
}

/// Clock ticks per second of /proc times (USER_HZ; 100 on every Linux this runs on).
const USER_HZ: u64 = 100;

/// CPU time (utime, stime; every thread) of a process, from /proc/<pid>/stat.
pub fn process_cpu(pid: u32) -> Option<(Duration, Duration)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let ms = |t: u64| Duration::from_millis(t * 1000 / USER_HZ);
    Some((ms(utime), ms(stime)))
}

/// A field of /proc/<pid>/status in kB (e.g. `VmRSS`), as bytes.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| {
        let v = l.strip_prefix(field)?.strip_prefix(':')?;
        v.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
            .map(|kb| kb * 1024)
    })
}

/// The CPUs a process may run on (`Cpus_allowed_list`).
pub fn cpus_allowed(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Cpus_allowed_list:")
                    .map(|v| v.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "?".into())
}

/// The CPU model name (`lscpu`'s "Model name", from /proc/cpuinfo).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == "model name").then(|| v.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Load average over the last minute (to tell a disturbed run).
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Number of CPUs online (not the affinity mask of this thread).
pub fn cpu_count() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| s.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0)
        .max(1)
}

/// CPU time of every other process of the machine (kernel threads included, and children
/// that exited and were reaped), from /proc/<pid>/stat: utime + stime + cutime + cstime of
/// every process but those in `exclude` and this one.
fn others_cpu(exclude: &[u32]) -> Duration {
    let me = std::process::id();
    let mut ticks = 0u64;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me || exclude.contains(&pid) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let f: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // Fields 14..17 (utime, stime, cutime, cstime) are at 11..15 after the name.
        ticks += f
            .get(11..15)
            .map_or(0, |v| v.iter().map(|x| x.parse::<u64>().unwrap_or(0)).sum());
    }
    Duration::from_millis(ticks * 1000 / USER_HZ)
}

/// Time the CPUs in `cpus` spent in interrupts (irq + softirq), from /proc/stat.
fn cpu_irq(cpus: &[usize]) -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let mut irq = 0u64;
    for line in stat.lines() {
        let mut f = line.split_whitespace();
        let Some(name) = f.next() else { continue };
        let Some(cpu) = name
            .strip_prefix("cpu")
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if !cpus.contains(&cpu) {
            continue;
        }
        let v: Vec<u64> = f.map(|x| x.parse().unwrap_or(0)).collect();
        if v.len() >= 7 {
            irq += v[5] + v[6];
        }
    }
    Duration::from_millis(irq * 1000 / USER_HZ)
}

/// CPU time of both sides over one measured window.
#[derive(Debug, Clone)]
pub struct CpuMark {
    at: std::time::Instant,
    gen: (Duration, Duration),
    srv: Option<(Duration, Duration)>,
    /// The server processes (their CPU time is added up).
    servers: Vec<u32>,
    /// Processes of the harness that are neither a server nor the generator (a redis-server):
    /// left out of the others.
    helpers: Vec<u32>,
    cpus: Vec<usize>,
    irq: Duration,
    others: Duration,
}

/// CPU seconds used over a window of `wall_s` seconds: by the generator (its thread), the
/// server (every thread), every other process of the machine (a disturbed run), and the
/// interrupt time /proc/stat counts on the two CPUs (the loopback network path; the kernel
/// also bills most of it to the process it interrupted, so it overlaps the others).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CpuUse {
    pub wall_s: f64,
    pub gen_cpu_s: f64,
    /// The part of `gen_cpu_s` spent in the kernel.
    pub gen_sys_s: f64,
    pub srv_cpu_s: f64,
    /// The part of `srv_cpu_s` spent in the kernel.
    pub srv_sys_s: f64,
    pub other_cpu_s: f64,
    pub irq_cpu_s: f64,
}

impl CpuMark {
    /// Marks the start of a window; `cpus`: the server's and the generator's.
    pub fn now(server_pid: u32, cpus: &[usize]) -> CpuMark {
        CpuMark::of(&[server_pid], &[], cpus)
    }

    /// Marks the start of a window over several server processes (their CPU time added up)
    /// and `helpers`, processes left out of both the servers and the others.
    pub fn of(servers: &[u32], helpers: &[u32], cpus: &[usize]) -> CpuMark {
        let srv = servers
            .iter()
            .map(|&pid| process_cpu(pid))
            .try_fold((Duration::ZERO, Duration::ZERO), |acc, t| {
                t.map(|(u, s)| (acc.0 + u, acc.1 + s))
            });
        let excluded: Vec<u32> = servers.iter().chain(helpers).copied().collect();
        CpuMark {
            at: std::time::Instant::now(),
            gen: thread_cpu(),
            srv,
            servers: servers.to_vec(),
            helpers: helpers.to_vec(),
            cpus: cpus.to_vec(),
            irq: cpu_irq(cpus),
            others: others_cpu(&excluded),
        }
    }

    /// The CPU used since the mark.
    pub fn since(&self) -> CpuUse {
        let end = CpuMark::of(&self.servers, &self.helpers, &self.cpus);
        let d = |a: Duration, b: Duration| b.saturating_sub(a).as_secs_f64();
        let gen_sys = d(self.gen.1, end.gen.1);
        let gen = d(self.gen.0, end.gen.0) + gen_sys;
        let (srv, srv_sys) = match (self.srv, end.srv) {
            (Some(a), Some(b)) => (d(a.0, b.0) + d(a.1, b.1), d(a.1, b.1)),
            _ => (f64::NAN, f64::NAN),
        };
        let irq = d(self.irq, end.irq);
        CpuUse {
            wall_s: (end.at - self.at).as_secs_f64(),
            gen_cpu_s: gen,
            gen_sys_s: gen_sys,
            srv_cpu_s: srv,
            srv_sys_s: srv_sys,
            other_cpu_s: d(self.others, end.others),
            irq_cpu_s: irq,
        }
    }
}

impl CpuUse {
    /// Adds another window (repetitions).
    pub fn add(&mut self, o: CpuUse) {
        self.wall_s += o.wall_s;
        self.gen_cpu_s += o.gen_cpu_s;
        self.gen_sys_s += o.gen_sys_s;
        self.srv_cpu_s += o.srv_cpu_s;
        self.srv_sys_s += o.srv_sys_s;
        self.other_cpu_s += o.other_cpu_s;
        self.irq_cpu_s += o.irq_cpu_s;
    }
}
