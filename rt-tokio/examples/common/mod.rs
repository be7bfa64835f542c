//! Flags shared by the examples, parsed the same way by every runtime's examples.

use std::net::SocketAddr;
use std::time::Duration;

use corelay_tokio::{Config, Cors};

/// The command line of an example.
pub struct Flags {
    pub host: String,
    pub port: u16,
    pub shards: usize,
    pub ping_interval_ms: Option<u64>,
    pub ping_timeout_ms: Option<u64>,
    pub max_payload: Option<usize>,
    pub connect_timeout_ms: Option<u64>,
}

impl Flags {
    /// Parses `std::env::args`; exits with a usage line on a bad flag.
    #[allow(dead_code)]
    pub fn parse() -> Flags {
        Self::parse_from(std::env::args().skip(1))
    }

    /// Parses flags; exits with a usage line on a bad flag.
    pub fn parse_from(args: impl Iterator<Item = String>) -> Flags {
        let mut f = Flags {
            host: "127.0.0.1".to_owned(),
            port: 3000,
            shards: 1,
            ping_interval_ms: None,
            ping_timeout_ms: None,
            max_payload: None,
            connect_timeout_ms: None,
        };
        let mut args = args;
        while let Some(flag) = args.next() {
            let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
            let num = || -> u64 { value.parse().unwrap_or_else(|_| usage(&format!("{flag}: not a number: {value}"))) };
            match flag.as_str() {
                "--host" => f.host = value.clone(),
                "--port" => f.port = num() as u16,
                "--shards" => f.shards = num().max(1) as usize,
                "--ping-interval-ms" => f.ping_interval_ms = Some(num()),
                "--ping-timeout-ms" => f.ping_timeout_ms = Some(num()),
                "--max-payload" => f.max_payload = Some(num() as usize),
                "--connect-timeout-ms" => f.connect_timeout_ms = Some(num()),
                _ => usage(&format!("unknown flag {flag}")),
            }
        }
        f
    }

    /// Applies the flags to a config; CORS is allowed from any origin.
    pub fn apply(&self, c: &mut Config) {
        if let Some(ms) = self.ping_interval_ms {
            c.ping_interval = Duration::from_millis(ms);
        }
        if let Some(ms) = self.ping_timeout_ms {
            c.ping_timeout = Duration::from_millis(ms);
        }
        if let Some(n) = self.max_payload {
            c.max_http_buffer_size = n;
        }
        if let Some(ms) = self.connect_timeout_ms {
            c.connect_timeout = Duration::from_millis(ms);
        }
        c.cors = Some(Cors::any());
    }

    /// The address to bind.
    pub fn addr(&self) -> SocketAddr {
        let ip: std::net::IpAddr = self
            .host
            .parse()
            .unwrap_or_else(|_| usage(&format!("--host: not an IP address: {}", self.host)));
        SocketAddr::new(ip, self.port)
    }
}

fn usage(msg: &str) -> ! {
    eprintln!("{msg}");
    eprintln!(
        "usage: [--host 127.0.0.1] [--port 3000] [--shards N] [--ping-interval-ms 25000] \
         [--ping-timeout-ms 20000] [--max-payload 1000000] [--connect-timeout-ms 45000]"
    );
    std::process::exit(2)
}

/// Starts the server, prints the line the test harness waits for, and runs until SIGINT or
/// SIGTERM, then shuts down gracefully.
pub fn serve(app: std::sync::Arc<corelay_tokio::App>, flags: &Flags) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let server = corelay_tokio::Server::builder(app)
        .bind(flags.addr())
        .shards(flags.shards)
        .start()
        .unwrap_or_else(|e| {
            eprintln!("cannot listen on {}: {e}", flags.addr());
            std::process::exit(1)
        });
    println!("listening on http://{}", server.local_addr());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let handle = server.shutdown_handle();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("signal runtime");
        rt.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        });
        handle.shutdown();
    });
    server.wait();
}
