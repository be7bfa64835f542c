//! Emits one event into a Socket.IO cluster (servers joined by the Redis adapter) from a
//! plain process, as `@socket.io/redis-emitter` would:
//!
//! ```text
//! emit --redis URL [--key PREFIX] [--nsp /] [--room R]... [--except R]... [--volatile]
//!      EVENT [JSON_ARG]...
//! ```
//!
//! Each `JSON_ARG` is one argument of the event, a JSON value (`'"text"'`, `42`,
//! `'{"a":[1,2]}'`). Options come before `EVENT` (or end with `--`). On success it prints the
//! number of Redis subscribers that received the message (the servers of the namespace, or 0)
//! and exits 0; it exits 2 on a usage error, 1 when publishing failed.
//!
//! ```text
//! cargo run -p corelay-redis --example emit -- --redis redis://127.0.0.1:6379 \
//!     --nsp /chat --room room1 hello '"world"' 42
//! ```

use std::process::ExitCode;

use corelay_redis::connection::RedisUrl;
use corelay_redis::emitter::{Args, BlockingEmitter};

const USAGE: &str = "usage: emit --redis URL [--key PREFIX] [--nsp /] [--room R]... \
[--except R]... [--volatile] EVENT [JSON_ARG]...";

#[derive(Debug, Default)]
struct Options {
    redis: Option<String>,
    key: Option<String>,
    nsp: Option<String>,
    rooms: Vec<String>,
    except: Vec<String>,
    volatile: bool,
    event: String,
    args: Vec<serde_json::Value>,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    let mut event = None;
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--redis" => options.redis = Some(value("--redis")?),
            "--key" => options.key = Some(value("--key")?),
            "--nsp" => options.nsp = Some(value("--nsp")?),
            "--room" => options.rooms.push(value("--room")?),
            "--except" => options.except.push(value("--except")?),
            "--volatile" => options.volatile = true,
            "-h" | "--help" => return Err(String::new()),
            "--" => {
                event = argv.next();
                break;
            }
            option if option.starts_with("--") => return Err(format!("unknown option {option}")),
            _ => {
                event = Some(arg);
                break;
            }
        }
    }
    options.event = event.ok_or("no EVENT")?;
    for (i, text) in argv.enumerate() {
        let value = serde_json::from_str(&text)
            .map_err(|e| format!("argument {} is not JSON ({e}): {text}", i + 1))?;
        options.args.push(value);
    }
    if options.redis.is_none() {
        return Err("--redis URL is required".into());
    }
    Ok(options)
}

fn run(options: Options) -> Result<u64, Box<dyn std::error::Error>> {
    let url = RedisUrl::parse(options.redis.as_deref().unwrap_or_default())?;
    let mut client = BlockingEmitter::new(url)?;
    if let Some(key) = options.key {
        client = client.with_key(key);
    }
    let mut emitter = client
        .of(options.nsp.as_deref().unwrap_or("/"))
        .to(options.rooms)
        .except(options.except);
    if options.volatile {
        emitter = emitter.volatile();
    }
    Ok(emitter.emit(&options.event, Args(options.args))?)
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("emit: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options) {
        Ok(receivers) => {
            println!("{receivers}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("emit: {error}");
            ExitCode::FAILURE
        }
    }
}
