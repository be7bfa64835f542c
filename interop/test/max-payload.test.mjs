// Test 11: payloads over --max-payload are refused.
// Observed Node behaviour (maxHttpBufferSize = 1000):
//   - polling: the POST carrying the packet is answered 413; the client's
//     engine fails the request -> disconnect reason "transport error".
//   - websocket: the frame is over the server's WebSocket maxPayload; the
//     server closes with code 1009 -> disconnect reason "transport close".
//   - raw HTTP POST over the limit to a live session -> 413.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor } from "../lib/util.mjs";

const MAX = 1000;
let srv;
before(async () => {
  srv = await startServer("echo", { args: ["--max-payload", String(MAX)] });
});
after(async () => {
  await srv?.stop();
});

it("announces maxPayload in the handshake", { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.equal(body[0], "0");
  assert.equal(JSON.parse(body.slice(1)).maxPayload, MAX);
});

it("polling: a 2000-byte string is refused (413) -> disconnect \"transport error\"", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, srv.url, { transports: ["polling"] });
  await connectWithAuth(s);
  // Under the limit still works.
  const small = "s".repeat(500);
  const back = waitFor(s, "message-back");
  s.emit("message", small);
  assert.deepEqual(await back, [small]);

  const echoes = [];
  s.on("message-back", (...a) => echoes.push(a));
  const gone = waitFor(s, "disconnect");
  s.emit("message", "x".repeat(2000));
  const [reason, details] = await gone;
  assert.equal(reason, "transport error");
  // engine.io-client reports the HTTP status of the failed POST
  assert.equal(details?.description, 413);
  assert.equal(echoes.length, 0);
});

it("websocket: a 2000-byte string is refused (close 1009) -> disconnect \"transport close\"", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, srv.url, { transports: ["websocket"] });
  await connectWithAuth(s);
  const small = "s".repeat(500);
  const back = waitFor(s, "message-back");
  s.emit("message", small);
  assert.deepEqual(await back, [small]);

  const echoes = [];
  s.on("message-back", (...a) => echoes.push(a));
  const gone = waitFor(s, "disconnect");
  s.emit("message", "x".repeat(2000));
  const [reason, details] = await gone;
  assert.equal(reason, "transport close");
  // the CloseEvent of the underlying WebSocket: 1009 "message too big"
  assert.equal(details?.context?.code, 1009);
  assert.equal(echoes.length, 0);
});

it("raw HTTP: a POST over the limit to a live polling session answers 413", { timeout: TEST_TIMEOUT }, async () => {
  const hs = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(hs.status, 200);
  const text = await hs.text();
  const { sid } = JSON.parse(text.slice(1));
  const sessionUrl = `${srv.url}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;

  // Under the limit: accepted with 200 "ok".
  const ok = await fetch(sessionUrl, { method: "POST", body: "40", headers: { "Content-Type": "text/plain;charset=UTF-8" } });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "ok");

  const over = await fetch(sessionUrl, {
    method: "POST",
    body: "4" + "y".repeat(2000),
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
  });
  assert.equal(over.status, 413);
  await over.arrayBuffer();
});
