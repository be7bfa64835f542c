// Test 10: reconnect after a server restart on the same port.
// The server is stopped with SIGTERM; the client reports a disconnect reason,
// keeps trying, and reconnects (manager `reconnect` event) once the server is
// back on the same port.
import { it, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor } from "../lib/util.mjs";

const servers = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

// Reason the client reports when the server goes away, per transport.
// - WebSocket: the connection is closed -> "transport close" (deterministic).
// - Polling: depends on whether a long-poll GET is pending when the server
//   shuts down: it is answered with a close packet ("transport close") or it
//   fails / the next request finds no session ("transport error"). Node
//   produces both, so both are accepted.
const CASES = [
  { transports: ["websocket"], reasons: ["transport close"] },
  { transports: ["polling", "websocket"], reasons: ["transport close"], upgraded: true },
  { transports: ["polling"], reasons: ["transport close", "transport error"] },
];

for (const { transports, reasons, upgraded } of CASES) {
  it(`reconnects after the server restarts on the same port (${transports.join("+")})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const srv = await startServer("echo");
    servers.push(srv);
    const s = useClient(t, srv.url, {
      transports,
      reconnection: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      randomizationFactor: 0,
      auth: { who: "reconnector" },
    });
    assert.deepEqual(await connectWithAuth(s), { who: "reconnector" });
    if (upgraded && s.io.engine.transport.name !== "websocket") await waitFor(s.io.engine, "upgrade");
    assert.equal(s.io.engine.transport.name, upgraded ? "websocket" : transports[0]);
    const firstSid = s.io.engine.id;
    const firstId = s.id;

    const disconnected = waitFor(s, "disconnect");
    const attempts = [];
    s.io.on("reconnect_attempt", (n) => attempts.push(n));

    const exit = await srv.stop();
    assert.equal(exit.signal === null || exit.signal === "SIGTERM", true, `server exit: ${JSON.stringify(exit)}`);
    const [reason] = await disconnected;
    assert.ok(reasons.includes(reason), `disconnect reason ${JSON.stringify(reason)} not in ${JSON.stringify(reasons)}`);
    t.diagnostic(`disconnect reason: ${reason}`);
    assert.equal(s.connected, false);
    assert.equal(s.active, true, "the socket keeps trying to reconnect");

    // While the server is down the attempts fail (connect_error /
    // reconnect_error); both waits below ignore those.
    const reconnected = waitFor(s.io, "reconnect", 10_000);
    const authAgain = waitFor(s, "auth", 10_000);
    await srv.restart();
    const [attempt] = await reconnected;
    assert.equal(typeof attempt, "number");
    assert.ok(attempt >= 1);
    assert.deepEqual(attempts, Array.from({ length: attempt }, (_, i) => i + 1));
    assert.deepEqual(await authAgain, [{ who: "reconnector" }]);
    assert.equal(s.connected, true);
    assert.notEqual(s.io.engine.id, firstSid, "a new Engine.IO session");
    assert.notEqual(s.id, firstId, "a new socket id");

    // Echo works on the new connection.
    const back = waitFor(s, "message-back");
    s.emit("message", "after-restart", { n: 1 });
    assert.deepEqual(await back, ["after-restart", { n: 1 }]);
    assert.equal(await s.emitWithAck("message-with-ack", "ack-after-restart"), "ack-after-restart");
  });
}
