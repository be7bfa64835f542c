// Exact Socket.IO v5 / Engine.IO v4 frames over a raw WebSocket (npm `ws`,
// no engine.io-client), against `echo`. Pins the wire format the official
// clients rely on. Packets carrying an object with more than one key are
// compared parsed (key order is not part of the protocol); everything else
// byte for byte.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { rawSocket } from "../lib/rawws.mjs";
import { hasSs, tcpConn } from "../lib/tcp.mjs";
import { TEST_TIMEOUT } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

const CONNECT_ROOT = /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/;
const CONNECT_CUSTOM = /^40\/custom,\{"sid":"[A-Za-z0-9_-]{20}"\}$/;

/** Assert `frame` is the text `prefix` followed by JSON deep-equal to `json`. */
function assertPacket(frame, prefix, json) {
  assert.equal(typeof frame, "string", `expected a text frame, got ${frame}`);
  assert.ok(frame.startsWith(prefix), `${JSON.stringify(frame)} should start with ${JSON.stringify(prefix)}`);
  assert.deepEqual(JSON.parse(frame.slice(prefix.length)), json);
}

/** Raw Engine.IO session over WebSocket, connected to "/" (auth consumed). */
async function session(t, { connect = true } = {}) {
  const raw = rawSocket(t, `${srv.url}/socket.io/?EIO=4&transport=websocket`);
  const open = await raw.next();
  assert.ok(open.startsWith("0{"), open);
  const o = JSON.parse(open.slice(1));
  assert.match(o.sid, /^[A-Za-z0-9_-]{20}$/);
  assert.deepEqual(
    { upgrades: o.upgrades, pingInterval: o.pingInterval, pingTimeout: o.pingTimeout, maxPayload: o.maxPayload },
    { upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 },
    "a websocket-only session offers no upgrades",
  );
  if (connect) {
    raw.send("40");
    assert.match(await raw.next(), CONNECT_ROOT);
    assert.equal(await raw.next(), '42["auth",{}]');
  }
  return raw;
}

it("CONNECT: 40 -> 40{\"sid\"} then 42[\"auth\",...], on / and /custom", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t, { connect: false });
  raw.send('40{"token":"abc"}');
  assert.match(await raw.next(), CONNECT_ROOT);
  assert.equal(await raw.next(), '42["auth",{"token":"abc"}]');

  raw.send('40/custom,{"token":"xyz","n":[1,2]}');
  assert.match(await raw.next(), CONNECT_CUSTOM);
  assertPacket(await raw.next(), "42/custom,", ["auth", { token: "xyz", n: [1, 2] }]);

  // the socket ids are distinct from each other
  const ids = raw.frames.filter((f) => typeof f === "string" && /^40/.test(f)).map((f) => JSON.parse(f.slice(f.indexOf("{"))).sid);
  assert.equal(new Set(ids).size, 2);
});

// Node's engine.io hands its WebSocket one packet at a time and sends the next once the
// write of the previous one completed, so the CONNECT answer leaves in a write of its own
// and the connection handler's emits (`auth` here) in later writes. Writes are counted as
// the data segments the server's end of the connection sent (`ss`): on an idle loopback
// connection each small write leaves as one segment.
it("CONNECT: 40{\"sid\"} leaves in a TCP write of its own, the handler's emits in later writes", { timeout: TEST_TIMEOUT, skip: !hasSs && "needs ss (iproute2)" }, async (t) => {
  const raw = await session(t, { connect: false });
  const port = raw.ws._socket.localPort;
  const before = tcpConn(srv.port, port);
  raw.send("40");
  assert.match(await raw.next(), CONNECT_ROOT);
  assert.equal(await raw.next(), '42["auth",{}]');
  const after = tcpConn(srv.port, port);
  const sent = (c) => c.dataSegsOut - c.retransmitted; // a delayed ACK can cause a probe
  const writes = sent(after) - sent(before);
  assert.equal(writes, 2, `the CONNECT answer and the auth emit left in ${writes} write(s), not 2`);
});

it("unknown namespace: 40/nope, -> 44/nope,{\"message\":\"Invalid namespace\"}", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t, { connect: false });
  raw.send("40/nope,");
  assert.equal(await raw.next(), '44/nope,{"message":"Invalid namespace"}');
  // the Engine.IO session stays usable
  raw.send("40");
  assert.match(await raw.next(), CONNECT_ROOT);
  assert.equal(await raw.next(), '42["auth",{}]');
});

it("EVENT and ACK frames", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t);
  raw.send('42["message","x",1,null,true,[2]]');
  assert.equal(await raw.next(), '42["message-back","x",1,null,true,[2]]');

  raw.send('4212["message-with-ack","a",{"b":2}]');
  assert.equal(await raw.next(), '4312["a",{"b":2}]');

  raw.send('427["message-with-ack"]');
  assert.equal(await raw.next(), "437[]");

  raw.send('40/custom,');
  assert.match(await raw.next(), CONNECT_CUSTOM);
  assert.equal(await raw.next(), '42/custom,["auth",{}]');
  raw.send('42/custom,3["message-with-ack","c"]');
  assert.equal(await raw.next(), '43/custom,3["c"]');
  raw.send('42/custom,["message","d"]');
  assert.equal(await raw.next(), '42/custom,["message-back","d"]');
});

it("server -> client ack: 42[\"request-ack\",...] -> 420[\"ack-request\",...]; 430[...] -> ack-result", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t);
  raw.send('42["request-ack",5000,"p",{"q":1}]');
  const req = await raw.next();
  const m = /^42(\d+)\[/.exec(req);
  assert.ok(m, `an EVENT with an ack id: ${req}`);
  assert.equal(req, `42${m[1]}["ack-request","p",{"q":1}]`);
  raw.send(`43${m[1]}["r1",2]`);
  assertPacket(await raw.next(), "42", ["ack-result", { err: null, args: ["r1", 2] }]);

  // an unanswered one times out on the server
  raw.send('42["request-ack",100,"late"]');
  const req2 = await raw.next();
  assert.match(req2, /^42\d+\["ack-request","late"\]$/);
  assertPacket(await raw.next(), "42", ["ack-result", { err: "operation has timed out", args: [] }]);
});

it("binary EVENT and ACK: placeholder header frame, then one raw binary frame per attachment", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t);
  raw.send('451-["message",{"_placeholder":true,"num":0}]');
  raw.send(Buffer.from([1, 2, 3, 255]));
  assertPacket(await raw.next(), "451-", ["message-back", { _placeholder: true, num: 0 }]);
  const bin = await raw.next();
  assert.ok(Buffer.isBuffer(bin), "a binary frame (no Engine.IO prefix)");
  assert.deepEqual([...bin], [1, 2, 3, 255]);

  // two attachments, an ack id, and an empty buffer
  raw.send('452-9["message-with-ack",{"_placeholder":true,"num":0},"s",{"_placeholder":true,"num":1}]');
  raw.send(Buffer.from([9]));
  raw.send(Buffer.alloc(0));
  assertPacket(await raw.next(), "462-9", [{ _placeholder: true, num: 0 }, "s", { _placeholder: true, num: 1 }]);
  const a0 = await raw.next();
  const a1 = await raw.next();
  assert.deepEqual([...a0], [9]);
  assert.ok(Buffer.isBuffer(a1));
  assert.equal(a1.length, 0);

  // a binary event on /custom
  raw.send("40/custom,");
  assert.match(await raw.next(), CONNECT_CUSTOM);
  assert.equal(await raw.next(), '42/custom,["auth",{}]');
  raw.send('451-/custom,["message",{"_placeholder":true,"num":0}]');
  raw.send(Buffer.from("hi"));
  assertPacket(await raw.next(), "451-/custom,", ["message-back", { _placeholder: true, num: 0 }]);
  assert.equal((await raw.next()).toString(), "hi");
});

it("server-side disconnect sends 41 for the namespace; client DISCONNECT is accepted", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t);
  raw.send("40/custom,");
  assert.match(await raw.next(), CONNECT_CUSTOM);
  assert.equal(await raw.next(), '42/custom,["auth",{}]');

  raw.send('42/custom,["disconnect-me"]');
  assert.equal(await raw.next(), "41/custom,");
  // "/" is still connected
  raw.send('421["message-with-ack","still"]');
  assert.equal(await raw.next(), '431["still"]');

  raw.send('42["disconnect-me"]');
  assert.equal(await raw.next(), "41");
});

it("an invalid Socket.IO packet type (49) makes the server close the connection", { timeout: TEST_TIMEOUT }, async (t) => {
  const raw = await session(t);
  // Socket.IO packet with an invalid type -> the server closes the connection
  raw.send("49");
  const info = await raw.closed(5000);
  assert.equal(typeof info.code, "number");
});
