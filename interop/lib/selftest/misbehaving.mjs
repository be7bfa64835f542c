// Run by test/harness.test.mjs (not by `node --test test/`): tests whose servers misbehave
// while the tests themselves assert nothing wrong. The harness (lib/server.mjs) must fail
// exactly the ones named "fails: …", with the server's stderr in the message. Needs
// CORELAY_BIN_DIR=lib/selftest and CORELAY_SERVER unset, so that `fake-server` runs.
import { it } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../server.mjs";
import { until } from "../util.mjs";

const get = async (srv, path) => (await fetch(`${srv.url}${path}`)).text();

let shared;

it("passes: a server that behaves", async () => {
  shared = await startServer("fake-server");
  assert.equal(await get(shared, "/"), "ok");
});

it("fails: a panic printed during the test", async () => {
  assert.equal(await get(shared, "/panic"), "panicked");
});

it("passes: the next test, on the same server still running", async () => {
  assert.equal(await get(shared, "/"), "ok");
});

it("fails: an exit nobody asked for", async () => {
  const srv = await startServer("fake-server");
  assert.equal(await get(srv, "/exit/3"), "bye");
  await until(() => srv.proc.exitCode !== null, "the server exited");
});

it("fails: a stop() whose exit is not clean", async () => {
  const srv = await startServer("fake-server", { args: ["--term-exit", "1"] });
  await srv.stop();
});

it("fails: a panic printed while stopping", async () => {
  const srv = await startServer("fake-server", { args: ["--term-panic"] });
  await srv.stop();
});

it("passes: extra environment reaches the server", async () => {
  const srv = await startServer("fake-server", { env: { FAKE_MARK: "x" } });
  // node exposes the environment of a process in /proc/<pid>/environ
  const { readFile } = await import("node:fs/promises");
  const environ = await readFile(`/proc/${srv.proc.pid}/environ`, "utf8");
  assert.ok(environ.split("\0").includes("FAKE_MARK=x"));
  await srv.stop();
});

it("passes: a server left running for the file's after hook, which fails", async () => {
  await startServer("fake-server", { args: ["--term-exit", "2"] });
});
