// Cluster harness: a `redis-server` of the test's own on a free loopback port, and example
// servers of several kinds joined through it (`--redis URL`, `--redis-sharded`). The servers are
// started by lib/server.mjs (`startServer(example, { kind })`), so they are watched like every
// other server of the suite (a panic or an exit nobody asked for fails the test).
//
//   CORELAY_CLUSTER=node,node,node  the kinds of the cluster's servers, one per server (the
//                                   default); a kind is "node", "rust" or a runtime's name
//                                   ("tokio", "monoio", "glommio": see lib/server.mjs)
//   CORELAY_CLUSTER_SHARDED=0       skip the sharded run (a kind without --redis-sharded)
//   CORELAY_REQUIRE_REDIS=1         fail, not skip, without `redis-server` on PATH
//   CORELAY_SERVER_LOG=1            also mirror redis-server's output to stderr
import { spawn, spawnSync } from "node:child_process";
import { createConnection, createServer } from "node:net";
import { startServer } from "./server.mjs";

const HOST = "127.0.0.1";
const REDIS_START_MS = 5_000;
const REDIS_STOP_MS = 5_000;
/** Output bytes of redis-server quoted in a failure message (its end). */
const QUOTED_OUTPUT = 4 * 1024;

/** The kinds of the cluster's servers (CORELAY_CLUSTER, default three Node servers). */
export function clusterKinds() {
  const raw = process.env.CORELAY_CLUSTER;
  const kinds = (raw ?? "node,node,node")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  if (kinds.length === 0) throw new Error(`CORELAY_CLUSTER names no server: ${JSON.stringify(raw)}`);
  return kinds;
}

/** Whether the sharded run is wanted (all but CORELAY_CLUSTER_SHARDED=0). */
export function shardedRun() {
  return process.env.CORELAY_CLUSTER_SHARDED !== "0";
}

/** Whether a missing `redis-server` is a failure (CORELAY_REQUIRE_REDIS=1), not a skip. */
export function redisRequired() {
  return process.env.CORELAY_REQUIRE_REDIS === "1";
}

/** Whether `redis-server` runs here (`redis-server --version` succeeds). */
export function redisServerFound() {
  const r = spawnSync("redis-server", ["--version"], { stdio: "ignore", timeout: 5_000 });
  return r.status === 0;
}

/** A free loopback TCP port (bound, read, released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Whether something accepts TCP connections on HOST:port (one attempt, bounded). */
function accepts(port) {
  return new Promise((resolve) => {
    const sock = createConnection({ host: HOST, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(200, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

const redisProcs = new Set();
// No redis-server of ours may outlive the test process.
process.on("exit", () => {
  for (const proc of redisProcs) {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
});

/**
 * Start a `redis-server` on a free loopback port (`--save '' --appendonly no`: nothing on disk).
 * Resolves once it accepts connections, to `{ port, url, stop(), start(), stopped() }`:
 * `stop()` SIGTERMs it (SIGKILL after 5 s) and waits for the exit; `start()` starts it again
 * on the same port.
 */
export async function startRedis({ port } = {}) {
  port ??= await freePort();
  let proc = null;
  let output = "";
  let exited = null; // promise of the running process' exit

  const handle = {
    port,
    url: `redis://${HOST}:${port}`,
    /** The end of redis-server's output (stdout and stderr), for messages. */
    output: () => output,
    async start() {
      if (proc) throw new Error(`redis-server on port ${port} is already running`);
      const child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--daemonize", "no"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      proc = child;
      redisProcs.add(child);
      const mirror = process.env.CORELAY_SERVER_LOG === "1";
      for (const stream of [child.stdout, child.stderr]) {
        stream.setEncoding("utf8");
        stream.on("data", (chunk) => {
          if (mirror) process.stderr.write(`[redis-server ${port}] ${chunk}`);
          output = (output + chunk).slice(-QUOTED_OUTPUT);
        });
      }
      let exit = null;
      exited = new Promise((resolve) => {
        child.once("exit", (code, signal) => {
          redisProcs.delete(child);
          exit = { code, signal };
          if (proc === child) proc = null;
          resolve(exit);
        });
        child.once("error", (err) => {
          if (child.pid !== undefined) return;
          redisProcs.delete(child);
          exit = { code: null, signal: null, error: err };
          if (proc === child) proc = null;
          resolve(exit);
        });
      });
      const deadline = Date.now() + REDIS_START_MS;
      for (;;) {
        if (exit) {
          throw new Error(
            `redis-server on port ${port} exited (${JSON.stringify(exit)}${exit.error ? `: ${exit.error.message}` : ""}):\n${output}`,
          );
        }
        if (await accepts(port)) return;
        if (Date.now() > deadline) {
          await handle.stop();
          throw new Error(`redis-server on port ${port} did not accept within ${REDIS_START_MS} ms:\n${output}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      const child = proc;
      if (!child) return null;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), REDIS_STOP_MS);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    /** Whether it is not running. */
    stopped: () => proc === null,
  };
  await handle.start();
  return handle;
}

/**
 * Start one `example` server per kind, each joined through `redisUrl` (`--redis URL`, plus
 * `--redis-sharded` when `sharded`), with `args` added. Resolves to the handles of
 * lib/server.mjs, in the order of `kinds`.
 */
export function startCluster({ redisUrl, sharded = false, kinds = clusterKinds(), example = "api", args = [] }) {
  const flags = ["--redis", redisUrl, ...(sharded ? ["--redis-sharded"] : []), ...args];
  return Promise.all(kinds.map((kind) => startServer(example, { kind, args: flags })));
}
