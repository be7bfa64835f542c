//! The servers under test: how each is built, started (one shard pinned to one CPU, or several
//! shards free on every CPU), watched and stopped.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::sys::{self, CpuMark};

/// A server implementation of the bench application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    CorelayTokio,
    CorelayMonoio,
    CorelayGlommio,
    Socketioxide,
    Node,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::CorelayTokio,
        Kind::CorelayMonoio,
        Kind::CorelayGlommio,
        Kind::Socketioxide,
        Kind::Node,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::CorelayTokio => "corelay-tokio",
            Kind::CorelayMonoio => "corelay-monoio",
            Kind::CorelayGlommio => "corelay-glommio",
            Kind::Socketioxide => "socketioxide",
            Kind::Node => "node",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == s || k.name().strip_prefix("corelay-") == Some(s))
    }

    pub fn is_corelay(self) -> bool {
        matches!(
            self,
            Kind::CorelayTokio | Kind::CorelayMonoio | Kind::CorelayGlommio
        )
    }

    /// Whether it can run several shards (socketioxide: tokio worker threads); Node can not.
    pub fn multi_threaded(self) -> bool {
        self != Kind::Node
    }

    fn runtime(self) -> &'static str {
        match self {
            Kind::CorelayTokio => "tokio",
            Kind::CorelayMonoio => "monoio",
            Kind::CorelayGlommio => "glommio",
            _ => "",
        }
    }
}

/// Where a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// One shard (one thread), pinned to the server CPU; the generator has a CPU of its own.
    Pinned,
    /// `n` shards (socketioxide: `n` tokio worker threads), free to run on every CPU, as the
    /// generator is: with as many shards as CPUs, it can not have one of its own.
    Spread(usize),
}

impl Placement {
    pub fn shards(self) -> usize {
        match self {
            Placement::Pinned => 1,
            Placement::Spread(n) => n,
        }
    }
}

/// Where things are and the settings every server gets.
#[derive(Debug, Clone)]
pub struct Setup {
    pub workspace: PathBuf,
    pub target_dir: PathBuf,
    pub build: bool,
    pub server_cpu: usize,
    pub gen_cpu: usize,
    pub max_payload: u64,
    pub ping_interval_ms: u64,
    pub ping_timeout_ms: u64,
    /// socketioxide's per-socket packet queue (its default of 128 drops broadcasts).
    pub sx_buffer: usize,
    /// A server started by hand (address, pid) instead of the ones the harness starts: for
    /// profiling under perf or valgrind.
    pub external: Option<(SocketAddr, u32)>,
}

impl Setup {
    /// The CPUs of the server and of the generator.
    fn cpus(&self, placement: Placement) -> Vec<usize> {
        match placement {
            Placement::Pinned => {
                let mut v = vec![self.server_cpu, self.gen_cpu];
                v.dedup();
                v
            }
            Placement::Spread(_) => sys::all_cpus(),
        }
    }

    fn bin_dir(&self) -> PathBuf {
        self.target_dir.join("release").join("perf-bin")
    }

    /// The command that runs `kind` (binary path or node script), built beforehand.
    fn program(&self, kind: Kind) -> (PathBuf, Vec<String>) {
        match kind {
            Kind::Node => (
                PathBuf::from("node"),
                vec![self
                    .workspace
                    .join("interop/reference/bench.mjs")
                    .display()
                    .to_string()],
            ),
            Kind::Socketioxide => (self.target_dir.join("release/socketioxide-bench"), vec![]),
            k => (self.bin_dir().join(format!("{}-bench", k.name())), vec![]),
        }
    }

    /// Builds (or checks) what `kind` needs: cargo for the Rust servers (a no-op when fresh;
    /// skipped with `--no-build` when the binary exists), `npm ci` for Node when
    /// `interop/node_modules` is missing.
    pub fn prepare(&self, kind: Kind) -> Result<(), String> {
        let (program, _) = self.program(kind);
        match kind {
            Kind::Node => {
                let ok = Command::new("node")
                    .arg("--version")
                    .output()
                    .map(|o| o.status.success());
                if !matches!(ok, Ok(true)) {
                    return Err("node is not installed".into());
                }
                // The Redis adapter, once interop/package.json lists it (the cluster scenario).
                let interop = self.workspace.join("interop");
                let lists_adapter = std::fs::read_to_string(interop.join("package.json"))
                    .is_ok_and(|p| p.contains("\"@socket.io/redis-adapter\""));
                let modules = interop.join("node_modules");
                if !modules.join("socket.io").exists()
                    || (lists_adapter && !modules.join("@socket.io/redis-adapter").exists())
                {
                    println!("  npm ci (interop/) ...");
                    run(Command::new("npm")
                        .arg("ci")
                        .current_dir(self.workspace.join("interop")))?;
                }
                Ok(())
            }
            _ if !self.build && program.exists() => Ok(()),
            Kind::Socketioxide => {
                println!("  cargo build --release (socketioxide-bench) ...");
                let manifest = self
                    .workspace
                    .join("perf/peers/socketioxide-bench/Cargo.toml");
                run(cargo(&self.target_dir)
                    .args(["build", "--release", "--quiet", "--manifest-path"])
                    .arg(&manifest))?;
                exists(&program)
            }
            k => {
                println!(
                    "  cargo build --release -p corelay-{} --example bench ...",
                    k.runtime()
                );
                let pkg = format!("corelay-{}", k.runtime());
                run(cargo(&self.target_dir)
                    .args([
                        "build",
                        "--release",
                        "--quiet",
                        "-p",
                        &pkg,
                        "--example",
                        "bench",
                    ])
                    .current_dir(&self.workspace))?;
                // Every runtime's example is called `bench` and lands on the same path: keep a
                // copy per runtime right after its build.
                let built = self.target_dir.join("release/examples/bench");
                std::fs::create_dir_all(self.bin_dir()).map_err(|e| e.to_string())?;
                std::fs::copy(&built, &program).map_err(|e| {
                    format!("copy {} -> {}: {e}", built.display(), program.display())
                })?;
                Ok(())
            }
        }
    }

    /// Starts `kind` on a free port with `placement`, and waits for its
    /// `listening on http://HOST:PORT` line.
    pub fn start(&self, kind: Kind, placement: Placement) -> Result<Server, String> {
        self.start_with(kind, placement, &[])
    }

    /// [`Setup::start`] with more flags (`--redis URL`).
    pub fn start_with(
        &self,
        kind: Kind,
        placement: Placement,
        extra: &[String],
    ) -> Result<Server, String> {
        let cpus = self.cpus(placement);
        if let Some((addr, pid)) = self.external {
            return Ok(Server {
                child: None,
                pid,
                addr,
                cpus,
                stderr_tail: Arc::default(),
            });
        }
        let (program, mut args) = self.program(kind);
        args.extend(
            [
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--shards",
                &placement.shards().to_string(),
                "--max-payload",
                &self.max_payload.to_string(),
                "--ping-interval-ms",
                &self.ping_interval_ms.to_string(),
                "--ping-timeout-ms",
                &self.ping_timeout_ms.to_string(),
            ]
            .map(String::from),
        );
        if kind == Kind::Socketioxide {
            args.extend(["--max-buffer-size".to_owned(), self.sx_buffer.to_string()]);
        }
        args.extend(extra.iter().cloned());
        let mut cmd = Command::new(&program);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if kind == Kind::Node {
            cmd.current_dir(self.workspace.join("interop"));
        }
        // A child inherits the CPU mask of the thread that spawns it: give this thread the
        // server's mask for the spawn, then back the generator's.
        let generator = sys::affinity();
        let server_cpus = match placement {
            Placement::Pinned => vec![self.server_cpu],
            Placement::Spread(_) => sys::all_cpus(),
        };
        sys::set_affinity(&server_cpus)?;
        let spawned = cmd.spawn();
        let _ = sys::set_affinity(&generator);
        let mut child = spawned.map_err(|e| format!("{}: {e}", program.display()))?;
        let pid = child.id();
        track_child(pid);

        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            for line in lines.by_ref().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                    break;
                }
            }
            for _ in lines {} // keep draining so the server never blocks on stdout
        });
        let stderr = child.stderr.take().expect("piped stderr");
        let tail = stderr_tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut t = tail.lock().expect("stderr tail");
                if t.len() == 20 {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });
        let mut server = Server {
            child: Some(child),
            pid,
            addr: "0.0.0.0:0".parse().expect("addr"),
            cpus,
            stderr_tail,
        };
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => {
                server.addr = addr
                    .parse()
                    .map_err(|_| format!("{}: bad address {addr}", kind.name()))?;
                let allowed = sys::cpus_allowed(pid);
                if placement == Placement::Pinned && allowed != self.server_cpu.to_string() {
                    eprintln!(
                        "warning: {} runs on CPUs {allowed}, not {}",
                        kind.name(),
                        self.server_cpu
                    );
                }
                Ok(server)
            }
            Err(_) => {
                // It exited (stdout closed) or hangs: give stderr a moment, then report both.
                let t0 = Instant::now();
                let mut status = None;
                while status.is_none() && t0.elapsed() < Duration::from_secs(2) {
                    status = server
                        .child
                        .as_mut()
                        .and_then(|c| c.try_wait().ok().flatten());
                    std::thread::sleep(Duration::from_millis(50));
                }
                std::thread::sleep(Duration::from_millis(200));
                Err(format!(
                    "{} did not print `listening on` ({}); stderr:\n{}",
                    kind.name(),
                    status.map_or("still running".to_owned(), |s| s.to_string()),
                    server.stderr()
                ))
            }
        }
    }
}

fn cargo(target_dir: &Path) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.env("CARGO_TARGET_DIR", target_dir);
    c
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

fn exists(p: &Path) -> Result<(), String> {
    if p.exists() {
        Ok(())
    } else {
        Err(format!("{} missing after the build", p.display()))
    }
}

/// Every child alive (servers, redis-server), for the SIGINT/SIGTERM handler.
fn children() -> &'static Mutex<HashSet<u32>> {
    static CHILDREN: OnceLock<Mutex<HashSet<u32>>> = OnceLock::new();
    CHILDREN.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Registers a child for the SIGINT/SIGTERM handler to kill.
pub fn track_child(pid: u32) {
    children().lock().expect("child registry").insert(pid);
}

/// A child stopped and reaped: no longer the handler's to kill.
pub fn untrack_child(pid: u32) {
    children().lock().expect("child registry").remove(&pid);
}

/// On SIGINT or SIGTERM: kill every child (servers, redis-server), then exit.
pub fn kill_children_on_signal() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        eprintln!("warning: no signal handler; servers may outlive an interrupted run");
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let pids: Vec<u32> = children()
                .lock()
                .map(|c| c.iter().copied().collect())
                .unwrap_or_default();
            for pid in pids {
                let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
            }
            eprintln!(
                "\ninterrupted: killed {} child process(es) (servers, redis-server)",
                children().lock().map(|c| c.len()).unwrap_or(0)
            );
            std::process::exit(128 + sig);
        }
    });
}

/// A running server; dropping it stops it (SIGTERM, then SIGKILL after 3 s).
#[derive(Debug)]
pub struct Server {
    /// `None` for an external server (never stopped by the harness).
    child: Option<Child>,
    pub pid: u32,
    pub addr: SocketAddr,
    /// The CPUs of the server and of the generator (whose interrupt time a window counts).
    cpus: Vec<usize>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

impl Server {
    /// Marks the start of a measured window (CPU time of both sides and of the rest).
    pub fn mark(&self) -> CpuMark {
        CpuMark::now(self.pid, &self.cpus)
    }

    /// The CPUs of the server and of the generator.
    pub fn cpus(&self) -> &[usize] {
        &self.cpus
    }

    /// Resident memory now.
    pub fn rss(&self) -> Option<u64> {
        sys::status_kb(self.pid, "VmRSS")
    }

    /// Whether it is still running.
    pub fn alive(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// The last lines it wrote to stderr.
    pub fn stderr(&self) -> String {
        self.stderr_tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    }

    /// Stops it: SIGTERM, a bounded wait, then SIGKILL.
    pub fn stop(&mut self) {
        let Some(child) = self.child.take() else {
            return;
        };
        let alive = |c: &mut Child| matches!(c.try_wait(), Ok(None));
        let mut child = child;
        if alive(&mut child) {
            let _ = kill(Pid::from_raw(self.pid as i32), Signal::SIGTERM);
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(3) {
                if !alive(&mut child) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(&mut child) {
                let _ = child.kill();
            }
        }
        let _ = child.wait();
        untrack_child(self.pid);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}
