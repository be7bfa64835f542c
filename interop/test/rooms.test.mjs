// Test 7: room broadcast on the `bench` example.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, waitForUnlessConnectError, until } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("bench");
});
after(async () => {
  await srv?.stop();
});

async function connected(t, opts = {}) {
  const s = useClient(t, srv.url, opts);
  if (!s.connected) await waitForUnlessConnectError(s, "connect");
  return s;
}

it("echo acks its arguments", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = await connected(t, { transports: ["websocket"] });
  const res = await new Promise((resolve) => s.emit("echo", 1, "two", { three: 3 }, (...r) => resolve(r)));
  assert.deepEqual(res, [1, "two", { three: 3 }]);
});

for (const transports of [["websocket"], ["polling"]]) {
  it(`room broadcast reaches members only (${transports[0]})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const [a, b, c] = await Promise.all([connected(t, { transports }), connected(t, { transports }), connected(t, { transports })]);
    const ticks = new Map([a, b, c].map((s) => [s, []]));
    for (const s of [a, b, c]) s.on("tick", (arg) => ticks.get(s).push(arg));

    // join acks with no arguments once the socket is in the room
    assert.deepEqual(await new Promise((resolve) => a.emit("join", "r1", (...r) => resolve(r))), []);
    assert.equal(await b.emitWithAck("join", "r1"), undefined);

    const payload = { hello: "room", n: [1, 2, 3] };
    c.emit("room-broadcast", "r1", payload);
    c.emit("broadcast", "barrier");

    await until(() => [a, b, c].every((s) => ticks.get(s).includes("barrier")), () => `every client got the barrier tick; ticks: ${JSON.stringify([a, b, c].map((s) => ticks.get(s)))}`);
    assert.deepEqual(ticks.get(a), [payload, "barrier"]);
    assert.deepEqual(ticks.get(b), [payload, "barrier"]);
    assert.deepEqual(ticks.get(c), ["barrier"], "the non-member never got the room tick");

    // A member emitting to its own room gets the tick too.
    a.emit("room-broadcast", "r1", "from-a");
    a.emit("broadcast", "barrier2");
    await until(() => [a, b, c].every((s) => ticks.get(s).includes("barrier2")), () => `every client got barrier2; ticks: ${JSON.stringify([a, b, c].map((s) => ticks.get(s)))}`);
    assert.deepEqual(ticks.get(a).slice(2), ["from-a", "barrier2"]);
    assert.deepEqual(ticks.get(b).slice(2), ["from-a", "barrier2"]);
    assert.deepEqual(ticks.get(c).slice(1), ["barrier2"]);
  });
}
