// Test 13: raw HTTP answers of the Engine.IO layer (fetch against `echo`,
// default flags): error codes, the polling handshake, content types, CORS.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT } from "../lib/util.mjs";

const ORIGIN = "http://example.com";
const SID_RE = /^[A-Za-z0-9_-]{20}$/;
let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

const ep = (query) => `${srv.url}/socket.io/?${query}`;

async function expectError(res, code, message) {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get("content-type"), "application/json");
  const body = await res.text();
  assert.equal(body, JSON.stringify({ code, message }));
  assert.deepEqual(JSON.parse(body), { code, message });
}

it('unknown transport -> 400 {"code":0,"message":"Transport unknown"}', { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(ep("EIO=4&transport=carrier-pigeon"), { headers: { Origin: ORIGIN } });
  await expectError(res, 0, "Transport unknown");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  await expectError(await fetch(ep("EIO=4")), 0, "Transport unknown");
});

it('unknown sid -> 400 {"code":1,"message":"Session ID unknown"}', { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(ep("EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA"), { headers: { Origin: ORIGIN } });
  await expectError(res, 1, "Session ID unknown");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  // also for a POST
  const post = await fetch(ep("EIO=4&transport=polling&sid=nope"), { method: "POST", body: "40" });
  await expectError(post, 1, "Session ID unknown");
});

it('handshake with POST -> 400 {"code":2,"message":"Bad handshake method"}', { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(ep("EIO=4&transport=polling"), { method: "POST", body: "40", headers: { Origin: ORIGIN } });
  await expectError(res, 2, "Bad handshake method");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
});

it('EIO=3 -> 400 {"code":5,"message":"Unsupported protocol version"}', { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(ep("EIO=3&transport=polling"), { headers: { Origin: ORIGIN } });
  await expectError(res, 5, "Unsupported protocol version");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  // no EIO at all is rejected the same way
  await expectError(await fetch(ep("transport=polling")), 5, "Unsupported protocol version");
});

it("polling handshake: 200 text/plain open packet with default settings", { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(ep("EIO=4&transport=polling"), { headers: { Origin: ORIGIN } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  const body = await res.text();
  assert.ok(body.startsWith("0{"), `body starts with 0{: ${JSON.stringify(body)}`);
  const open = JSON.parse(body.slice(1));
  assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
  assert.match(open.sid, SID_RE);
  assert.deepEqual(open.upgrades, ["websocket"]);
  assert.equal(open.pingInterval, 25000);
  assert.equal(open.pingTimeout, 20000);
  assert.equal(open.maxPayload, 1000000);
  // each handshake opens a new session
  const again = JSON.parse((await (await fetch(ep("EIO=4&transport=polling"))).text()).slice(1));
  assert.notEqual(again.sid, open.sid);
});

it("CORS preflight (OPTIONS) -> 204 with the allowed methods", { timeout: TEST_TIMEOUT }, async () => {
  const res = await fetch(ep("EIO=4&transport=polling"), {
    method: "OPTIONS",
    headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST" },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("access-control-allow-methods"), "GET,HEAD,PUT,PATCH,POST,DELETE");
  assert.equal(await res.text(), "");
});

/** GET the session until `n` packets were received (bounded). */
async function pollPackets(url, n) {
  const packets = [];
  const deadline = Date.now() + 5000;
  while (packets.length < n) {
    if (Date.now() > deadline) throw new Error(`only got ${JSON.stringify(packets)}`);
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; charset=UTF-8");
    packets.push(...(await res.text()).split("\x1e"));
  }
  return packets;
}

it("raw Socket.IO over polling: POST answers 200 ok text/html; CONNECT, auth and events as exact packets", { timeout: TEST_TIMEOUT }, async () => {
  const open = JSON.parse((await (await fetch(ep("EIO=4&transport=polling"))).text()).slice(1));
  const url = ep(`EIO=4&transport=polling&sid=${open.sid}`);
  const post = async (body) => {
    const res = await fetch(url, { method: "POST", body, headers: { "Content-Type": "text/plain;charset=UTF-8", Origin: ORIGIN } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html");
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.equal(await res.text(), "ok");
  };

  await post('40{"token":"t1"}');
  const [connect, auth] = await pollPackets(url, 2);
  assert.match(connect, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  assert.notEqual(JSON.parse(connect.slice(2)).sid, open.sid, "the socket id is not the engine id");
  assert.equal(auth, '42["auth",{"token":"t1"}]');

  // a second namespace on the same session, then two events in one POST body
  await post('40/custom,{"k":[1]}');
  const [connect2, auth2] = await pollPackets(url, 2);
  assert.match(connect2, /^40\/custom,\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  assert.equal(auth2, '42/custom,["auth",{"k":[1]}]');

  await post('42["message",1,"a",{"b":null}]\x1e42/custom,1["message-with-ack","x",2]');
  const echoed = await pollPackets(url, 2);
  assert.deepEqual(echoed, ['42["message-back",1,"a",{"b":null}]', '43/custom,1["x",2]']);

  // binary event sent over polling as a base64 attachment ("b" prefix), echoed the same way
  await post('451-["message",{"_placeholder":true,"num":0}]\x1ebAQID/w==');
  const bin = await pollPackets(url, 2);
  assert.deepEqual(bin, ['451-["message-back",{"_placeholder":true,"num":0}]', "bAQID/w=="]);

  // close the session cleanly: engine close packet
  await post("1");
});
