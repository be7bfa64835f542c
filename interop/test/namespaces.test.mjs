// Tests 6 & 8: two namespaces multiplexed on one Engine.IO session, and a
// namespace the server does not know.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { io, Manager } from "socket.io-client";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor, waitForUnlessConnectError, closeAll, until } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

for (const transports of [["polling", "websocket"], ["websocket"], ["polling"]]) {
  const label = transports.join("+");
  it(`"/" and "/custom" share one Engine.IO session (${label})`, { timeout: TEST_TIMEOUT }, async (t) => {
    let root, custom;
    if (transports.length === 2) {
      // Exactly what an application does: io(url) then io(url + "/custom"),
      // no forceNew, so io()'s per-origin cache hands out the same Manager.
      // (Only one test per origin may use the cache.)
      root = io(srv.url, { reconnection: false, auth: { ns: "root", n: 1 } });
      custom = io(`${srv.url}/custom`, { auth: { ns: "custom", n: 2 } });
    } else {
      const manager = new Manager(srv.url, { reconnection: false, transports });
      root = manager.socket("/", { auth: { ns: "root", n: 1 } });
      custom = manager.socket("/custom", { auth: { ns: "custom", n: 2 } });
      root.connect();
      custom.connect();
    }
    t.after(() => closeAll(custom, root));
    assert.equal(root.io, custom.io, "both sockets use the same Manager");

    const [rootAuth, customAuth] = await Promise.all([connectWithAuth(root), connectWithAuth(custom)]);
    assert.deepEqual(rootAuth, { ns: "root", n: 1 });
    assert.deepEqual(customAuth, { ns: "custom", n: 2 });
    assert.equal(root.io.engine.id, custom.io.engine.id);
    if (transports.length === 1) assert.equal(root.io.engine.transport.name, transports[0]);
    assert.equal(typeof root.io.engine.id, "string");
    assert.notEqual(root.id, custom.id, "each namespace has its own socket id");

    // Events are answered on the namespace they were sent on.
    const rootBack = [];
    const customBack = [];
    root.on("message-back", (...a) => rootBack.push(a));
    custom.on("message-back", (...a) => customBack.push(a));
    for (let i = 0; i < 3; i++) {
      root.emit("message", "to-root", i);
      custom.emit("message", "to-custom", i);
    }
    assert.equal(await custom.emitWithAck("message-with-ack", "custom-ack"), "custom-ack");
    assert.equal(await root.emitWithAck("message-with-ack", "root-ack"), "root-ack");
    await until(() => rootBack.length >= 3 && customBack.length >= 3, "3 echoes per namespace");
    assert.deepEqual(rootBack, [0, 1, 2].map((i) => ["to-root", i]));
    assert.deepEqual(customBack, [0, 1, 2].map((i) => ["to-custom", i]));

    // A server-side disconnect of /custom leaves / connected on the same session.
    const customGone = waitFor(custom, "disconnect");
    custom.emit("disconnect-me");
    assert.equal((await customGone)[0], "io server disconnect");
    assert.equal(root.connected, true);
    assert.equal(await root.emitWithAck("message-with-ack", "still-here"), "still-here");
  });
}

it('refuses an unknown namespace with connect_error "Invalid namespace"', { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, `${srv.url}/nope`, { transports: ["websocket"] });
  const [err] = await waitFor(s, "connect_error");
  assert.ok(err instanceof Error);
  assert.equal(err.message, "Invalid namespace");
  assert.equal(s.connected, false);
});

it("refuses an unknown namespace over polling too", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, `${srv.url}/nope`, { transports: ["polling"] });
  const [err] = await waitFor(s, "connect_error");
  assert.equal(err.message, "Invalid namespace");
});

it("refusing a namespace does not affect another namespace on the same session", { timeout: TEST_TIMEOUT }, async (t) => {
  const root = useClient(t, srv.url, { transports: ["websocket"] });
  await connectWithAuth(root);
  const nope = root.io.socket("/nope");
  nope.connect();
  t.after(() => nope.disconnect());
  const [err] = await waitFor(nope, "connect_error");
  assert.equal(err.message, "Invalid namespace");
  assert.equal(root.connected, true);
  assert.equal(await root.emitWithAck("message-with-ack", 1), 1);
  // And a valid namespace can still join the same session afterwards.
  const custom = root.io.socket("/custom", { auth: { late: true } });
  const authP = waitForUnlessConnectError(custom, "auth");
  custom.connect();
  t.after(() => custom.disconnect());
  assert.deepEqual((await authP)[0], { late: true });
});
