// Test harness: starts an example server (Node reference or Rust binary),
// waits for its `listening on http://HOST:PORT` line and hands back a handle.
//
//   CORELAY_SERVER=node   -> node interop/reference/<example>.mjs <flags>
//   otherwise             -> <CORELAY_BIN_DIR>/<example> <flags>
//                            (default CORELAY_BIN_DIR = <repo>/target/release/examples)
// That is the default kind of server; `startServer(example, { kind })` picks one per server
// (the cluster suite mixes them):
//   kind "node"           -> the Node reference, as above
//   kind "rust"           -> the Rust binary in CORELAY_BIN_DIR, as above
//   kind RT (e.g. "tokio", "monoio", "glommio")
//                         -> <repo>/target/interop/RT/<example> <flags>, where scripts/test.sh
//                            copies each runtime's release examples (CORELAY_BIN_DIR_RT, e.g.
//                            CORELAY_BIN_DIR_TOKIO, overrides the directory)
//   CORELAY_SERVER_ARGS   -> extra space-separated flags appended for both kinds
//   CORELAY_SERVER_LOG=1  -> mirror the server's stdout/stderr to this process' stderr
//   CORELAY_EXPECT_IO_DRIVER=io_uring -> a Rust server must report that I/O driver on stderr
//
// Importing this module also watches every server it starts, so that no test file has to:
// a test fails when, while it ran, one of the file's servers printed a panic (a stderr line
// containing `panicked at`, Rust's default panic message) or exited without being asked to
// (a top-level `afterEach` hook); `stop()` (and `restart()`) throws when the exit it asked
// for is not clean (SIGTERM must give exit code 0, for the Rust examples and the Node
// reference servers alike) or when a panic was printed since the last check; a top-level
// `after` hook stops what the file left running and checks it the same way. Every failure
// message carries the end of the server's stderr.
import { after, afterEach } from "node:test";
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
const PANIC_RE = /panicked at/;
/** stderr lines kept per server (the oldest are dropped beyond). */
const KEPT_LINES = 20_000;
/** stderr bytes quoted in a failure message (its end). */
const QUOTED_STDERR = 8 * 1024;

const live = new Set();
/** Every server process this test process started (checked after each test). */
const children = [];

// Safety net: no server process may outlive the test process.
process.on("exit", () => {
  for (const proc of live) {
    try {
      proc.kill("SIGKILL");
    } catch {}
  }
});

// A test fails when one of the servers misbehaved while it ran.
afterEach(async () => {
  await settle();
  throwIf(await Promise.all(children.map((c) => c.problems())));
});

// Stop what the test file left running (its own `after` hooks, registered later, find the
// servers already stopped) and fail the file's last hook when a server misbehaved.
after(async () => {
  const found = await Promise.all(
    children.map(async (c) => {
      await c.stop();
      return c.problems();
    }),
  );
  throwIf(found);
});

/** Lets stderr written before the test's last event reach us (one short I/O turn). */
function settle() {
  return new Promise((r) => setTimeout(r, 5));
}

function throwIf(reports) {
  const text = reports.filter(Boolean);
  if (text.length > 0) throw new Error(text.join("\n\n"));
}

/** The default kind of server: "node" with CORELAY_SERVER=node, "rust" otherwise. */
export function serverKind() {
  return process.env.CORELAY_SERVER === "node" ? "node" : "rust";
}

const KIND_RE = /^[a-z0-9_]+$/;

/** The directory of the Rust example binaries of `kind` ("rust" or a runtime's name). */
function binDir(kind) {
  if (kind === "rust") {
    return process.env.CORELAY_BIN_DIR
      ? resolve(process.env.CORELAY_BIN_DIR)
      : join(REPO_ROOT, "target", "release", "examples");
  }
  const own = process.env[`CORELAY_BIN_DIR_${kind.toUpperCase()}`];
  return own ? resolve(own) : join(REPO_ROOT, "target", "interop", kind);
}

function command(example, flags, kind) {
  if (kind === "node") {
    return {
      file: process.execPath,
      argv: [join(INTEROP_DIR, "reference", `${example}.mjs`), ...flags],
    };
  }
  if (!KIND_RE.test(kind)) throw new Error(`unknown kind of server: ${JSON.stringify(kind)}`);
  const file = join(binDir(kind), example);
  if (!existsSync(file)) {
    const how =
      kind === "rust"
        ? "build the examples, set CORELAY_BIN_DIR, or use CORELAY_SERVER=node"
        : `build them with scripts/test.sh (it copies each runtime's examples to target/interop/<runtime>), or set CORELAY_BIN_DIR_${kind.toUpperCase()}`;
    throw new Error(`server binary not found: ${file} (kind ${kind}: ${how})`);
  }
  return { file, argv: flags };
}

function extraArgs() {
  const raw = process.env.CORELAY_SERVER_ARGS;
  return raw ? raw.trim().split(/\s+/).filter(Boolean) : [];
}

/**
 * One server process. `onLine` gets every stderr line. `problems()` returns what went wrong
 * since it was last called (a text quoting stderr) or null; `dismiss()` makes the process'
 * exit none of the harness' business (a start that failed and was reported as such).
 */
function spawnOnce(example, kind, args, port, env, onLine) {
  const flags = ["--port", String(port), "--host", HOST, ...args, ...extraArgs()];
  const { file, argv } = command(example, flags, kind);
  const mirror = process.env.CORELAY_SERVER_LOG === "1";
  const proc = spawn(file, argv, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  live.add(proc);

  let stderr = ""; // its end, for messages
  let partial = ""; // an unfinished stderr line
  let stdoutBuf = "";
  const panics = []; // panic lines not reported yet
  let asked = false; // stop() sent SIGTERM, or dismiss() was called
  let killed = false; // stop() had to SIGKILL it
  let exit = null; // { code, signal } once it exited
  let exitChecked = false;
  const where = `${example} server (pid ${proc.pid}: ${file} ${argv.join(" ")})`;

  const exited = new Promise((res) => {
    proc.once("exit", (code, signal) => {
      live.delete(proc);
      exit = { code, signal };
      res(exit);
    });
    // A process that could not be spawned never emits "exit".
    proc.once("error", () => {
      if (proc.pid !== undefined) return;
      live.delete(proc);
      exit = { code: null, signal: null };
      res(exit);
    });
  });
  // After "close", every byte of stdout and stderr was read.
  const closed = new Promise((res) => proc.once("close", res));

  const ready = new Promise((res, rej) => {
    const describe = (what) =>
      `${where} ${what}\n--- stderr ---\n${stderr}\n--- stdout so far ---\n${stdoutBuf}`;
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

  const line = (text) => {
    if (PANIC_RE.test(text)) panics.push(text);
    onLine(text);
  };
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk) => {
    if (mirror) process.stderr.write(`[${example} stderr] ${chunk}`);
    stderr = (stderr + chunk).slice(-QUOTED_STDERR);
    const lines = (partial + chunk).split("\n");
    partial = lines.pop();
    for (const l of lines) line(l.replace(/\r$/, ""));
  });
  proc.stderr.on("end", () => {
    if (partial) line(partial);
    partial = "";
  });

  const stop = async () => {
    if (exit) return exit;
    asked = true;
    proc.kill("SIGTERM");
    const timer = setTimeout(() => {
      killed = true;
      proc.kill("SIGKILL");
    }, STOP_TIMEOUT_MS);
    const result = await exited;
    clearTimeout(timer);
    return result;
  };

  const problems = async () => {
    // Once it exited, wait (bounded) until its last stderr bytes are read.
    if (exit) await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
    const found = panics.splice(0).map((l) => `printed a panic: ${l}`);
    if (exit && !exitChecked) {
      exitChecked = true;
      const { code, signal } = exit;
      if (!asked) {
        found.push(`exited without being asked to (code ${code}, signal ${signal})`);
      } else if (killed) {
        found.push(`did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed with SIGKILL)`);
      } else if (code !== 0 || signal !== null) {
        found.push(`did not exit cleanly on SIGTERM: code ${code}, signal ${signal} (clean: code 0)`);
      }
    }
    if (found.length === 0) return null;
    return `${where}:\n  ${found.join("\n  ")}\n--- end of its stderr ---\n${stderr || "(nothing)\n"}`;
  };

  const dismiss = () => {
    asked = true;
    exitChecked = true;
    panics.length = 0;
  };

  const child = { proc, ready, stop, exited, problems, dismiss, stderr: () => stderr };
  children.push(child);
  return child;
}

/**
 * With CORELAY_EXPECT_IO_DRIVER (e.g. "io_uring"), a Rust server must report that I/O driver
 * on stderr ("io driver: io_uring"), so that a run meant for one driver can not silently run
 * on another.
 */
async function expectIoDriver(example, kind, child) {
  const expected = process.env.CORELAY_EXPECT_IO_DRIVER;
  if (!expected || kind === "node") return;
  const deadline = Date.now() + 2_000;
  while (!child.stderr().includes(`io driver: ${expected}`)) {
    if (Date.now() > deadline) {
      throw new Error(`${example} server did not report "io driver: ${expected}":\n${child.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Start an example server.
 * @param {string} example  "echo" | "engine_echo" | "bench" (a file in CORELAY_BIN_DIR)
 * @param {{ args?: string[], env?: Record<string, string>, port?: number, kind?: string }} [options]
 *   `env`: extra environment of this server (e.g. `{ RUST_LOG: "corelay::handover=debug" }`);
 *   `kind`: "node", "rust" or a runtime's name (see the top of this file), `serverKind()` by default
 * @returns {Promise<{ url: string, port: number, kind: string,
 *   proc: import("node:child_process").ChildProcess,
 *   stop(): Promise<{code: number|null, signal: string|null}>, restart(): Promise<void>,
 *   kill(signal?: string): Promise<{code: number|null, signal: string|null}>,
 *   stderr(): string, stderrMark(): number, stderrSince(mark: number): string[] }>}
 */
export async function startServer(example, { args = [], env = {}, port = 0, kind = serverKind() } = {}) {
  let current = null; // the running child (if any)
  let launching = null; // promise of an in-progress launch
  // stderr lines of every process of this handle (restarts included), the oldest dropped.
  const log = [];
  let logStart = 0; // absolute index of log[0]
  const onLine = (l) => {
    log.push(l);
    if (log.length > KEPT_LINES) logStart += log.splice(0, log.length - KEPT_LINES).length;
  };
  const handle = {
    url: "",
    port: 0,
    kind,
    proc: null,
    /** The end of the current process' stderr. */
    stderr: () => (current ? current.stderr() : ""),
    /** A position in the stderr lines (of this and later processes of the handle). */
    stderrMark: () => logStart + log.length,
    /** The stderr lines written since `mark` (as far as they are kept). */
    stderrSince: (mark) => log.slice(Math.max(0, mark - logStart)),
    /**
     * SIGTERM, wait for exit (SIGKILL after a timeout). Resolves with { code, signal };
     * throws when that exit is not clean or the server printed a panic since the last check.
     */
    async stop() {
      if (launching) await launching.catch(() => {});
      if (!current) return { code: null, signal: null };
      const result = await current.stop();
      throwIf([await current.problems()]);
      return result;
    },
    /**
     * Send `signal` (SIGKILL by default: a crash the test asks for) and wait for the exit, which
     * is then none of the harness' business. Throws when the server printed a panic before.
     */
    async kill(signal = "SIGKILL") {
      if (launching) await launching.catch(() => {});
      if (!current) return { code: null, signal: null };
      const before = await current.problems();
      current.dismiss();
      current.proc.kill(signal);
      const result = await current.exited;
      throwIf([before]);
      return result;
    },
    /** Stop (as `stop()`, so it throws the same way), then start again on the same port. */
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
      const child = spawnOnce(example, kind, args, wantedPort, env, onLine);
      current = child;
      try {
        const { port: actual } = await child.ready;
        if (wantedPort !== 0 && actual !== wantedPort) {
          throw new Error(`${example} server listened on port ${actual}, expected ${wantedPort}`);
        }
        await expectIoDriver(example, kind, child);
        handle.port = actual;
        handle.url = `http://${HOST}:${actual}`;
        handle.proc = child.proc;
        return;
      } catch (err) {
        lastErr = err;
        child.dismiss(); // the error below reports it
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
