// The `extras` example (contract: example-apps/src/extras.rs, reference/extras.mjs): the
// Engine.IO hooks (allowRequest awaited, connection_error, initial_headers, headers), once,
// prependAny/onAny/offAny, onAnyOutgoing, per-packet middleware and its error listener,
// volatile events and the adapter's room events, with the official client and `fetch`. The
// Rust server runs with two shards (the Node reference ignores the flag).
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, WAIT_MS, useClient, waitFor, waitForUnlessConnectError, record } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("extras", { args: ["--shards", "2"] });
});
after(async () => {
  await srv?.stop();
});

const polling = (query = "") => `${srv.url}/socket.io/?EIO=4&transport=polling${query}`;

/** A connected client. */
async function connect(t, opts = {}) {
  const s = useClient(t, srv.url, opts);
  if (!s.connected) await waitForUnlessConnectError(s, "connect");
  return s;
}

/** Whether `promise` (an acknowledgement with a client timeout) was answered. */
const answered = (promise) => promise.then(() => true, () => false);

it("a handshake with deny=1 is refused after an async step: 403 {code:4, message:denied}", { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(polling("&deny=1"));
  assert.equal(res.status, 403);
  assert.equal(await res.text(), '{"code":4,"message":"denied"}');
  const ok = await fetch(polling("&deny=0"));
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /^0\{"sid":/);
});

it("the official client refused with deny=1 over polling: connect_error xhr poll error, 403", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = useClient(t, srv.url, { transports: ["polling"], query: { deny: "1" } });
  const [err] = await waitFor(s, "connect_error");
  assert.equal(err.message, "xhr poll error");
  assert.equal(err.type, "TransportError");
  assert.equal(err.description, 403);
  assert.equal(err.context.status, 403);
  assert.equal(s.connected, false);
});

it("connection_error counts refusals: an unknown sid, a denied handshake (errors)", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = await connect(t);
  const before = await s.emitWithAck("errors");
  const res = await fetch(polling("&sid=nope"));
  assert.equal(res.status, 400);
  assert.equal(await res.text(), '{"code":1,"message":"Session ID unknown"}');
  assert.equal(await s.emitWithAck("errors"), before + 1);
  assert.equal((await fetch(polling("&deny=1"))).status, 403);
  assert.equal(await s.emitWithAck("errors"), before + 2);
});

it("initial_headers on the handshake only, headers on every polling answer (GET and POST)", { timeout: TEST_TIMEOUT }, async () => {
  const open = await fetch(polling());
  assert.equal(open.status, 200);
  assert.equal(open.headers.get("x-initial"), "1");
  assert.equal(open.headers.get("x-every"), "1");
  const { sid } = JSON.parse((await open.text()).slice(1));
  const post = await fetch(polling(`&sid=${sid}`), { method: "POST", body: "40" });
  assert.equal(post.status, 200);
  assert.equal(await post.text(), "ok");
  assert.equal(post.headers.get("x-every"), "1");
  assert.equal(post.headers.get("x-initial"), null);
  const get = await fetch(polling(`&sid=${sid}`));
  assert.equal(get.status, 200);
  assert.match(await get.text(), /^40\{"sid":/);
  assert.equal(get.headers.get("x-every"), "1");
  assert.equal(get.headers.get("x-initial"), null);
  const close = await fetch(polling(`&sid=${sid}`), { method: "POST", body: "1" });
  assert.equal(close.status, 200);
  await close.text();
});

it("once: the first `first` is answered \"once\", a later one is not; the plain listener runs each time", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = await connect(t);
  let again = waitFor(s, "first-again");
  assert.equal(await s.timeout(WAIT_MS).emitWithAck("first"), "once");
  await again;
  again = waitFor(s, "first-again");
  const second = answered(s.timeout(300).emitWithAck("first"));
  await again;
  assert.equal(await second, false, "the second `first` was answered");
  // Per socket: another socket's first `first` is answered.
  const other = await connect(t, { transports: ["polling"] });
  assert.equal(await other.timeout(WAIT_MS).emitWithAck("first"), "once");
});

it("prepend_any runs before on_any; off-any turns both off for this socket only", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = await connect(t);
  const other = await connect(t);
  assert.deepEqual(await s.emitWithAck("order"), ["prepend", "any"]);
  s.emit("no-such-listener", 1);
  assert.deepEqual(await s.emitWithAck("order"), ["prepend", "any", "prepend", "any"]);
  assert.equal(await s.emitWithAck("off-any"), true);
  assert.deepEqual(await s.emitWithAck("order"), []);
  s.emit("no-such-listener", 2);
  assert.deepEqual(await s.emitWithAck("order"), []);
  // The event listeners keep running; the other socket's catch-all listeners too.
  assert.equal(await s.emitWithAck("outgoing"), 0);
  assert.deepEqual(await other.emitWithAck("order"), ["prepend", "any"]);
});

it("on_any_outgoing counts the events emitted to the socket, broadcasts included, not acknowledgements", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = await connect(t);
  assert.equal(await s.emitWithAck("outgoing"), 0);
  const bs = record(s, "b", { single: true });
  assert.equal(await s.emitWithAck("burst", 3), 3);
  assert.deepEqual(bs, [0, 1, 2]);
  assert.equal(await s.emitWithAck("outgoing"), 3);
  const again = waitFor(s, "first-again");
  await s.emitWithAck("first");
  await again;
  assert.equal(await s.emitWithAck("outgoing"), 4);
  // Broadcasts that select the socket count too, as Node's adapter counts them: the volatile
  // ones included, whether or not the transport could take them.
  assert.equal(await s.emitWithAck("volatile-burst", 5), 5);
  assert.equal(await s.emitWithAck("outgoing"), 9);
});

for (const transports of [["websocket"], ["polling"]]) {
  it(`a packet middleware refuses "forbidden": no listener, error-event {message: "not allowed"} (${transports})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const s = await connect(t, { transports });
    const error = waitFor(s, "error-event");
    const reached = answered(s.timeout(300).emitWithAck("forbidden", 1));
    assert.deepEqual(await error, [{ message: "not allowed" }]);
    assert.equal(await reached, false, "the refused event reached its listener");
    // The catch-all listeners ran before the middleware; other events pass.
    assert.deepEqual(await s.emitWithAck("order"), ["prepend", "any", "prepend", "any"]);
    assert.equal(await s.emitWithAck("outgoing"), 1);
  });
}

it("volatile-burst over WebSocket delivers between 1 and n of n; burst delivers all n", { timeout: TEST_TIMEOUT }, async (t) => {
  const N = 50;
  const s = await connect(t, { transports: ["websocket"] });
  const vs = record(s, "v", { single: true });
  assert.equal(await s.emitWithAck("volatile-burst", N), N);
  assert.ok(vs.length >= 1 && vs.length <= N, `received ${vs.length} of ${N} volatile events`);
  for (let i = 1; i < vs.length; i++) assert.ok(vs[i - 1] < vs[i], `out of order: ${vs}`);
  assert.ok(vs.every((v) => Number.isInteger(v) && v >= 0 && v < N), `${vs}`);
  const bs = record(s, "b", { single: true });
  assert.equal(await s.emitWithAck("burst", N), N);
  assert.deepEqual(bs, Array.from({ length: N }, (_, i) => i));
});

/** The room events of `room`, as `room-events` answers them. */
async function eventsOf(s, room) {
  return (await s.emitWithAck("room-events")).filter((e) => e.endsWith(` ${room}`));
}

it("room events: create and join, then leave and delete, once each (joining twice, leaving twice)", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = await connect(t);
  const room = `r-${s.id}`;
  assert.equal(await s.emitWithAck("join", room), true);
  assert.equal(await s.emitWithAck("join", room), true);
  assert.deepEqual(await eventsOf(s, room), [`create ${room}`, `join ${room}`]);
  assert.equal(await s.emitWithAck("leave", room), true);
  assert.equal(await s.emitWithAck("leave", room), true);
  assert.deepEqual(await eventsOf(s, room), [`create ${room}`, `join ${room}`, `leave ${room}`, `delete ${room}`]);
  // Other rooms are not recorded.
  await s.emitWithAck("join", `x-${s.id}`);
  assert.ok(!(await s.emitWithAck("room-events")).some((e) => e.includes(`x-${s.id}`)));
});

it("room events: a socket that disconnects leaves its rooms, which are deleted", { timeout: TEST_TIMEOUT }, async (t) => {
  const watcher = await connect(t);
  const s = await connect(t, { transports: ["polling"] });
  const [a, b] = [`r-a-${s.id}`, `r-b-${s.id}`];
  await s.emitWithAck("join", a);
  await s.emitWithAck("join", b);
  s.disconnect();
  const deadline = Date.now() + WAIT_MS;
  while ((await eventsOf(watcher, b)).length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const room of [a, b]) {
    assert.deepEqual(await eventsOf(watcher, room), [`create ${room}`, `join ${room}`, `leave ${room}`, `delete ${room}`]);
  }
});
