// A polling client closes its session (POST of the Engine.IO close packet `1`) while its
// long-poll GET is pending, as Node's engine.io does it (transports/polling.js, onClose):
// the pending GET is answered with a noop (`6`), the POST with `ok`, and the session is gone
// (400 {"code":1,"message":"Session ID unknown"} for every later request). The same for the
// Socket.IO `echo` and the bare Engine.IO `engine_echo`.
//
// "Pending" without sleeping: the GET goes out on a connection of its own, and the test waits
// until the server has read it (lib/tcp.mjs, `ss`); the servers run one shard, so what a
// shard reads it handles before reading the POST that comes next.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { once } from "node:events";
import { startServer } from "../lib/server.mjs";
import { hasSs, readByServer } from "../lib/tcp.mjs";
import { TEST_TIMEOUT, WAIT_MS } from "../lib/util.mjs";

const servers = {};
before(async () => {
  [servers.echo, servers.engine_echo] = await Promise.all([
    startServer("echo", { args: ["--shards", "1"] }),
    startServer("engine_echo", { args: ["--shards", "1"] }),
  ]);
});
after(async () => {
  await Promise.all(Object.values(servers).map((s) => s?.stop()));
});

const UNKNOWN_SID = JSON.stringify({ code: 1, message: "Session ID unknown" });

/** A GET on a connection of its own; resolves, once the server has read it, to { response }. */
async function pendingGet(url) {
  const req = http.request(url, { agent: false, headers: { Connection: "close" } });
  const response = new Promise((resolve, reject) => {
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, type: res.headers["content-type"], body }));
    });
    req.on("error", reject);
  });
  const [socket] = await once(req, "socket");
  req.end();
  await once(req, "finish");
  if (socket.connecting) await once(socket, "connect");
  await readByServer(socket.localPort, new URL(url).port);
  return { response }; // not the promise itself: awaiting this must not wait for the answer
}

for (const [example, path, socketio] of [
  ["echo", "socket.io", true],
  ["engine_echo", "engine.io", false],
]) {
  it(`${example}: a close packet POSTed while a GET is pending answers that GET with a noop (6), then the session is unknown`, { timeout: TEST_TIMEOUT, skip: !hasSs && "needs ss (iproute2)" }, async () => {
    const srv = servers[example];
    const base = `${srv.url}/${path}/?EIO=4&transport=polling`;
    const signal = () => AbortSignal.timeout(WAIT_MS);
    const open = await (await fetch(base, { signal: signal() })).text();
    const url = `${base}&sid=${JSON.parse(open.slice(1)).sid}`;
    const post = (body) =>
      fetch(url, { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8" }, signal: signal() });
    if (socketio) {
      assert.equal(await (await post("40")).text(), "ok");
      assert.match(await (await fetch(url, { signal: signal() })).text(), /^40\{"sid":"[\w-]{20}"\}\x1e42\["auth",\{\}\]$/);
    }

    const { response: pending } = await pendingGet(url);
    const close = await post("1");
    assert.equal(close.status, 200);
    assert.equal(close.headers.get("content-type"), "text/html");
    assert.equal(await close.text(), "ok");
    const answer = await Promise.race([
      pending,
      new Promise((_, reject) => setTimeout(() => reject(new Error("the pending GET was not answered")), WAIT_MS)),
    ]);
    assert.deepEqual(answer, { status: 200, type: "text/plain; charset=UTF-8", body: "6" });

    for (const later of [fetch(url, { signal: signal() }), post("2")]) {
      const res = await later;
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("content-type"), "application/json");
      assert.equal(await res.text(), UNKNOWN_SID);
    }
  });
}
