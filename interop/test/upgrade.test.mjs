// Test 3: polling upgraded to WebSocket (default transports). The engine's
// `upgrade` event fires, the transport becomes `websocket`, and a burst of
// messages emitted before, during and after the upgrade all arrive back in
// order, exactly once.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor, until } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

it("upgrades polling to websocket without losing, duplicating or reordering messages", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, srv.url, { auth: { via: "upgrade" } });
  const engine = s.io.engine;
  assert.ok(engine, "manager should have opened an engine");
  assert.equal(engine.transport.name, "polling", "default transports start with polling");

  const received = [];
  s.on("message-back", (n, phase) => received.push([n, phase]));

  let state = "beforeUpgrade";
  let seq = 0;
  const sent = { beforeUpgrade: 0, duringUpgrade: 0, afterUpgrade: 0 };
  const send = () => {
    sent[state]++;
    s.emit("message", seq++, state);
  };
  // Which transport the client engine actually wrote each message packet to.
  const carried = { polling: 0, buffered: 0, websocket: 0 };
  engine.on("packetCreate", (p) => {
    if (p.type !== "message") return;
    if (state === "duringUpgrade") carried.buffered++;
    else carried[engine.transport.name]++;
  });

  // Emitted before anything is connected: buffered by the client.
  for (let i = 0; i < 5; i++) send();

  let upgradingTransport = null;
  const upgradeP = waitFor(engine, "upgrade");
  engine.on("upgrading", (transport) => {
    state = "duringUpgrade";
    upgradingTransport = transport.name;
    // The engine is paused now: these are buffered and flushed after the upgrade.
    for (let i = 0; i < 5; i++) send();
  });
  engine.on("upgrade", () => {
    state = "afterUpgrade";
    for (let i = 0; i < 5; i++) send();
  });

  // A steady stream while the handshake and the upgrade run.
  const stream = setInterval(send, 1);
  t.after(() => clearInterval(stream));

  assert.deepEqual(await connectWithAuth(s), { via: "upgrade" });
  for (let i = 0; i < 5; i++) send();

  const [transport] = await upgradeP;
  assert.equal(transport.name, "websocket");
  assert.equal(upgradingTransport, "websocket", "`upgrading` fired before `upgrade`");
  assert.equal(engine.transport.name, "websocket");

  await until(() => sent.afterUpgrade >= 30, "30 messages emitted after the upgrade");
  clearInterval(stream);
  for (let i = 0; i < 5; i++) send();

  // Barrier: the ack travels the same ordered connection as the echoes.
  assert.equal(await s.emitWithAck("message-with-ack", "barrier"), "barrier");
  const total = seq;
  await until(() => received.length >= total, `${total} message-back events`);

  t.diagnostic(`emitted per phase: ${JSON.stringify(sent)}; written to: ${JSON.stringify(carried)}`);
  assert.equal(received.length, total, "every message exactly once");
  assert.deepEqual(
    received.map(([n]) => n),
    Array.from({ length: total }, (_, i) => i),
    "in order",
  );
  assert.ok(sent.beforeUpgrade > 0 && sent.duringUpgrade > 0 && sent.afterUpgrade > 0);
  assert.equal(s.io.engine.transport.name, "websocket");
});
