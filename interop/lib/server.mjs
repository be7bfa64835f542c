// Test harness: starts an example server (Node reference or Rust binary),
// waits for its `listening on http://HOST:PORT` line and hands back a handle.
//
//   CORELAY_SERVER=node   -> node interop/reference/<example>.mjs <flags>
//   otherwise             -> <CORELAY_BIN_DIR>/<example> <flags>
//                            (default CORELAY_BIN_DIR = <repo>/target/release/examples)
//   CORELAY_SERVER_ARGS   -> extra space-separated flags appended for both kinds
//   CORELAY_SERVER_LOG=1  -> mirror the server's stdout/stderr to this process' stderr
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const INTEROP_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const REPO_ROOT = resolve(INTEROP_DIR, "..");
const HOST = "127.0.0.1";
const STARTUP_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const LISTENING_RE = /^listening on http:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+)\s*$/;

const live = new Set();

// Safety net: no server process may outlive the test process.
process.on("exit", () => {
  for (const proc of live) {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
});

export function serverKind() {
  return process.env.CORELAY_SERVER === "node" ? "node" : "rust";
}

function command(example, flags) {
  if (serverKind() === "node") {
    return {
      file: process.execPath,
      argv: [join(INTEROP_DIR, "reference", `${example}.mjs`), ...flags],
    };
  }
  const binDir = process.env.CORELAY_BIN_DIR
    ? resolve(process.env.CORELAY_BIN_DIR)
    : join(REPO_ROOT, "target", "release", "examples");
  const file = join(binDir, example);
  if (!existsSync(file)) {
    throw new Error(
      `server binary not found: ${file} (build the examples, set CORELAY_BIN_DIR, or use CORELAY_SERVER=node)`,
    );
  }
  return { file, argv: flags };
}

function extraArgs() {
  const raw = process.env.CORELAY_SERVER_ARGS;
  return raw ? raw.trim().split(/\s+/).filter(Boolean) : [];
}

function spawnOnce(example, args, port) {
  const flags = ["--port", String(port), "--host", HOST, ...args, ...extraArgs()];
  const { file, argv } = command(example, flags);
  const mirror = process.env.CORELAY_SERVER_LOG === "1";
  const proc = spawn(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(proc);

  let stderr = "";
  let stdoutBuf = "";
  const exited = new Promise((res) => {
    proc.once("exit", (code, signal) => {
      live.delete(proc);
      res({ code, signal });
    });
  });

  const ready = new Promise((res, rej) => {
    const describe = (what) =>
      `${example} server (${file} ${argv.join(" ")}) ${what}\n--- stderr ---\n${stderr}\n--- stdout so far ---\n${stdoutBuf}`;
    const timer = setTimeout(() => {
      rej(new Error(describe(`did not print "listening on" within ${STARTUP_TIMEOUT_MS} ms`)));
    }, STARTUP_TIMEOUT_MS);
    let found = false;
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk) => {
      if (mirror) process.stderr.write(`[${example} stdout] ${chunk}`);
      if (found) return;
      stdoutBuf += chunk;
      const lines = stdoutBuf.split("\n");
      for (const line of lines.slice(0, -1)) {
        const m = LISTENING_RE.exec(line.replace(/\r$/, ""));
        if (m) {
          found = true;
          clearTimeout(timer);
          res({ host: m[1], port: Number(m[2]) });
          return;
        }
      }
    });
    proc.on("error", (err) => {
      clearTimeout(timer);
      rej(new Error(describe(`failed to spawn: ${err.message}`)));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      if (!found) rej(new Error(describe(`exited before listening (code ${code}, signal ${signal})`)));
    });
  });
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk) => {
    if (mirror) process.stderr.write(`[${example} stderr] ${chunk}`);
    if (stderr.length < 64 * 1024) stderr += chunk;
  });

  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return exited;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  return { proc, ready, stop, exited, stderr: () => stderr };
}

/**
 * Start an example server.
 * @param {string} example  "echo" | "engine_echo" | "bench"
 * @param {{ args?: string[], port?: number }} [options]
 * @returns {Promise<{ url: string, port: number, proc: import("node:child_process").ChildProcess,
 *   stop(): Promise<{code: number|null, signal: string|null}>, restart(): Promise<void>, stderr(): string }>}
 */
export async function startServer(example, { args = [], port = 0 } = {}) {
  let current = null; // the running child (if any)
  let launching = null; // promise of an in-progress launch
  const handle = {
    url: "",
    port: 0,
    proc: null,
    stderr: () => "",
    /** SIGTERM, wait for exit (SIGKILL after a timeout). Resolves with { code, signal }. */
    async stop() {
      if (launching) await launching.catch(() => {});
      return current ? current.stop() : { code: null, signal: null };
    },
    /** Stop, then start again on the same port. */
    async restart() {
      await handle.stop();
      launching = launch(handle.port, true);
      try {
        await launching;
      } finally {
        launching = null;
      }
    },
  };

  async function launch(wantedPort, isRestart) {
    // On restart the old port may be briefly unavailable; retry a few times.
    const attempts = isRestart ? 5 : 1;
    let lastErr;
    for (let i = 0; i < attempts; i++) {
      const child = spawnOnce(example, args, wantedPort);
      current = child;
      try {
        const { port: actual } = await child.ready;
        if (wantedPort !== 0 && actual !== wantedPort) {
          throw new Error(`${example} server listened on port ${actual}, expected ${wantedPort}`);
        }
        handle.port = actual;
        handle.url = `http://${HOST}:${actual}`;
        handle.proc = child.proc;
        handle.stderr = child.stderr;
        return;
      } catch (err) {
        lastErr = err;
        await child.stop();
        if (i + 1 < attempts) await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw lastErr;
  }

  launching = launch(port, false);
  try {
    await launching;
  } finally {
    launching = null;
  }
  return handle;
}
