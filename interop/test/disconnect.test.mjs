// Test 9: server-side disconnect.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
  it(`disconnect-me -> "io server disconnect" (${transports.join("+")})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const s = useClient(t, srv.url, { transports });
    await connectWithAuth(s);
    const gone = waitFor(s, "disconnect");
    s.emit("disconnect-me");
    const [reason] = await gone;
    assert.equal(reason, "io server disconnect");
    assert.equal(s.connected, false);
    assert.equal(s.active, false, "the client does not reconnect after a server-side disconnect");
  });
}

it("the same client can connect again after a server-side disconnect", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, srv.url, { transports: ["websocket"], auth: { again: 1 } });
  await connectWithAuth(s);
  const gone = waitFor(s, "disconnect");
  s.emit("disconnect-me");
  assert.equal((await gone)[0], "io server disconnect");
  const authP = connectWithAuth(s);
  s.connect();
  assert.deepEqual(await authP, { again: 1 });
  assert.equal(await s.emitWithAck("message-with-ack", "back"), "back");
});
