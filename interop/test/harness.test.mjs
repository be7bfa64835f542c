// The harness itself (lib/server.mjs): a server that panics, exits by itself or exits
// uncleanly when stopped fails the test it happened in, with its stderr in the message.
// Runs lib/selftest/misbehaving.mjs in a nested `node --test` against lib/selftest/fake-server,
// then checks that a real example (Rust or Node reference) exits with code 0 on SIGTERM.
import { it } from "node:test";
import { spawn } from "node:child_process";
import { once } from "node:events";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, serverKind } from "../lib/server.mjs";
import { TEST_TIMEOUT } from "../lib/util.mjs";

const SELFTEST = join(dirname(fileURLToPath(import.meta.url)), "..", "lib", "selftest");

/** Runs the fixture file with the fake server; resolves with { passed, failed: Map name → message }. */
async function runFixture() {
  const env = { ...process.env, CORELAY_BIN_DIR: SELFTEST };
  // The nested run must start its own servers the Rust way, and report to us, not to the
  // `node --test` running this file.
  for (const k of ["CORELAY_SERVER", "CORELAY_SERVER_ARGS", "CORELAY_EXPECT_IO_DRIVER", "NODE_TEST_CONTEXT"]) {
    delete env[k];
  }
  const child = spawn(
    process.execPath,
    ["--test", "--test-force-exit", `--test-reporter=${join(SELFTEST, "json-reporter.mjs")}`, join(SELFTEST, "misbehaving.mjs")],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (c) => (out += c));
  child.stderr.on("data", (c) => (err += c));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code] = await once(child, "close");
  clearTimeout(killer);
  const passed = [];
  const failed = new Map();
  for (const line of out.split("\n").filter(Boolean)) {
    const { result, name, message } = JSON.parse(line);
    if (result === "pass") passed.push(name);
    else failed.set(name, message);
  }
  return { code, passed, failed, err };
}

it("fails the tests during which a server panicked or exited other than as asked", { timeout: 25_000 }, async () => {
  const { code, passed, failed, err } = await runFixture();
  const show = () => JSON.stringify({ code, passed, failed: [...failed.keys()], stderr: err });
  assert.equal(code, 1, show());
  assert.deepEqual(
    passed.sort(),
    [
      "passes: a server left running for the file's after hook, which fails",
      "passes: a server that behaves",
      "passes: extra environment reaches the server",
      "passes: the next test, on the same server still running",
    ],
    show(),
  );
  const expect = {
    "fails: a panic printed during the test": [
      /fake-server server \(pid \d+/,
      /printed a panic: thread 'corelay-shard-1' panicked at core\/src\/shard\/mod\.rs:1:1:/,
      /--- end of its stderr ---\n[^]*fake panic in a request/,
    ],
    "fails: an exit nobody asked for": [/exited without being asked to \(code 3, signal null\)/],
    "fails: a stop() whose exit is not clean": [/did not exit cleanly on SIGTERM: code 1, signal null/],
    "fails: a panic printed while stopping": [/printed a panic: [^]*fake panic at shutdown/],
    // the harness' `after` hook, reported under the name of the file that registered it
    "server.mjs": [/did not exit cleanly on SIGTERM: code 2, signal null/],
  };
  const failedNames = [...failed.keys()].map((n) => n.replace(/^.*\//, ""));
  assert.deepEqual(failedNames.sort(), Object.keys(expect).sort(), show());
  for (const [name, message] of failed) {
    for (const re of expect[name.replace(/^.*\//, "")]) assert.match(message, re, `${name}: ${message}`);
  }
});

it(`a ${serverKind()} example exits with code 0 on SIGTERM`, { timeout: TEST_TIMEOUT }, async () => {
  for (const example of ["echo", "engine_echo", "bench"]) {
    const srv = await startServer(example);
    // it served a handshake before stopping
    const path = example === "engine_echo" ? "engine.io" : "socket.io";
    const res = await fetch(`${srv.url}/${path}/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    await res.text();
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, example);
  }
});
