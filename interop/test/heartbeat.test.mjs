// Test 14: heartbeat. With --ping-interval-ms 200 --ping-timeout-ms 200:
// a client stays connected across several pings; a raw WebSocket client that
// does not answer pings is closed by the server. Also: --connect-timeout-ms
// closes an Engine.IO session that never connects to a namespace.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { rawSocket } from "../lib/rawws.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, until } from "../lib/util.mjs";

const INTERVAL = 200;
const TIMEOUT = 200;
let hb;
let ct;
before(async () => {
  [hb, ct] = await Promise.all([
    startServer("echo", { args: ["--ping-interval-ms", String(INTERVAL), "--ping-timeout-ms", String(TIMEOUT)] }),
    startServer("echo", { args: ["--connect-timeout-ms", "300"] }),
  ]);
});
after(async () => {
  await Promise.all([hb?.stop(), ct?.stop()]);
});

const wsUrl = (srv) => `${srv.url}/socket.io/?EIO=4&transport=websocket`;

for (const transport of ["websocket", "polling"]) {
  it(`a ${transport} client stays connected across several ping intervals`, { timeout: TEST_TIMEOUT }, async (t) => {
    const s = useClient(t, hb.url, { transports: [transport] });
    const disconnects = [];
    s.on("disconnect", (reason) => disconnects.push(reason));
    await connectWithAuth(s);
    let pings = 0;
    s.io.engine.on("ping", () => pings++);
    await until(() => pings >= 3, "3 pings", 5000);
    assert.ok(pings >= 3);
    assert.deepEqual(disconnects, []);
    assert.equal(s.connected, true);
    assert.equal(await s.emitWithAck("message-with-ack", "alive"), "alive");
  });
}

describe("raw WebSocket heartbeat", () => {
  it("the open packet carries the configured ping settings and no upgrades", { timeout: TEST_TIMEOUT }, async (t) => {
    const raw = rawSocket(t, wsUrl(hb));
    const open = await raw.next();
    assert.equal(typeof open, "string");
    assert.ok(open.startsWith("0{"), open);
    const o = JSON.parse(open.slice(1));
    assert.match(o.sid, /^[A-Za-z0-9_-]{20}$/);
    assert.deepEqual(
      { upgrades: o.upgrades, pingInterval: o.pingInterval, pingTimeout: o.pingTimeout, maxPayload: o.maxPayload },
      { upgrades: [], pingInterval: INTERVAL, pingTimeout: TIMEOUT, maxPayload: 1000000 },
    );
  });

  it("a client that never answers pings is closed by the server", { timeout: TEST_TIMEOUT }, async (t) => {
    const raw = rawSocket(t, wsUrl(hb));
    const open = await raw.next();
    assert.ok(open.startsWith("0{"));
    assert.equal(await raw.next(2000), "2", "the server pings first");
    const info = await raw.closed(5000);
    t.diagnostic(`close: ${JSON.stringify(info)}; frames: ${JSON.stringify(raw.frames.map(String))}`);
    // only the open packet and pings were ever sent
    assert.ok(raw.frames.slice(1).every((f) => f === "2"), JSON.stringify(raw.frames));
  });

  it("a client that answers pings with pongs stays open", { timeout: TEST_TIMEOUT }, async (t) => {
    const raw = rawSocket(t, wsUrl(hb), { answerPings: true });
    assert.ok((await raw.next()).startsWith("0{"));
    raw.send("40");
    assert.match(await raw.next(), /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
    assert.equal(await raw.next(), '42["auth",{}]');
    for (let i = 0; i < 4; i++) assert.equal(await raw.next(2000), "2");
    assert.equal(raw.isClosed, false);
  });
});

it("--connect-timeout-ms: a session that never connects to a namespace is closed", { timeout: TEST_TIMEOUT }, async (t) => {
  const idle = rawSocket(t, wsUrl(ct));
  const connected = rawSocket(t, wsUrl(ct));
  assert.ok((await idle.next()).startsWith("0{"));
  assert.ok((await connected.next()).startsWith("0{"));
  connected.send("40");
  assert.match(await connected.next(), /^40\{"sid":/);
  const info = await idle.closed(5000);
  t.diagnostic(`close: ${JSON.stringify(info)}`);
  assert.deepEqual(idle.frames.length, 1, "nothing but the open packet was sent to the idle session");
  assert.equal(connected.isClosed, false, "the connected session is still open");
});
