// The msgpack parser: the `echo` example started with `--parser msgpack` (Node:
// `socket.io-msgpack-parser` 3.0.2 as the server's `parser`), official `socket.io-client` clients
// created with `{ parser: require("socket.io-msgpack-parser") }`, over WebSocket and over
// HTTP long-polling (every test for each). The server runs with `--shards 2` (ignored by Node);
// the broadcast test spreads its clients over both shards.
//
// What the msgpack parser does, as Node shows it (and so corelay must too):
//   - every packet is one msgpack map {type, nsp, data, id?} in one binary Engine.IO message
//     (base64 `b…` in a polling payload); binary values sit in it natively, at any depth, with
//     no attachments and so no attachment limit (the JSON parser closes on 11);
//   - a Buffer is msgpack `bin` and comes back a Buffer; a Uint8Array or an ArrayBuffer is the
//     ext type 0 (notepack.io) and comes back an ArrayBuffer: the two must stay apart;
//   - integers up to 2^53-1 either way come back as such, floats as floats (notepack.io
//     encodes an integral float beyond 2^64, e.g. 1e300, wrongly on the client: not sent here).
// A client with the default (JSON) parser gets nothing from a msgpack server: its CONNECT `40`
// (a text message) does not decode, and Node closes the Engine.IO session without a word: over
// WebSocket a close frame with no status (1005 on the client), after the open packet only; over
// polling the POST is answered `ok`, the next GET `6␞1` (noop, close) and any later request
// 400 "Session ID unknown". The official client sees `disconnect` ("transport close"), never
// `connect` nor `connect_error`.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { startServer } from "../lib/server.mjs";
import { rawSocket } from "../lib/rawws.mjs";
import {
  TEST_TIMEOUT,
  WAIT_MS,
  useClient,
  connectWithAuth,
  waitFor,
  until,
  bytes,
  normalize,
  record,
  spreadOverShards,
} from "../lib/util.mjs";

const require = createRequire(import.meta.url);
const parser = require("socket.io-msgpack-parser");

let srv;
before(async () => {
  srv = await startServer("echo", { args: ["--parser", "msgpack", "--shards", "2"] });
});
after(async () => {
  await srv?.stop();
});

/** Values of every JSON kind, msgpack's format boundaries included. */
const VALUES = [
  0, 1, -1, 127, 128, -32, -33, 255, 256, -128, -129, 65535, 65536, -32768, -32769,
  2 ** 31 - 1, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 40 + 3, 2 ** 53 - 1, -(2 ** 53 - 1),
  1.5, -0.25, 0.1, 1e-300, 123456.789, 2 ** 52 + 0.5, -1.7976931348623157e-308,
  null, true, false,
  "", "ascii", "é😀 中文 \u0000 nul and \u001f", "x".repeat(31), "y".repeat(32), "z".repeat(300), "w".repeat(70_000),
  [], {}, [[[]]], { "": "", "clé": "valeur", "😀": [1, "two", { three: 3.5 }] },
  Array.from({ length: 20 }, (_, i) => i * 1000), Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i % 2 === 0])),
  { nested: { deeper: { deepest: [null, true, -(2 ** 53) + 1, "s", { e: [] }] } } },
];

/** A Buffer comes back a Buffer; a Uint8Array or an ArrayBuffer an ArrayBuffer (see the top). */
function assertBinary(got, sent, where) {
  if (Buffer.isBuffer(sent)) {
    assert.ok(Buffer.isBuffer(got), `${where}: a Buffer arrives as a Buffer, got ${Object.prototype.toString.call(got)}`);
  } else {
    assert.ok(got instanceof ArrayBuffer, `${where}: a Uint8Array/ArrayBuffer arrives as an ArrayBuffer, got ${Object.prototype.toString.call(got)}`);
  }
  assert.ok(Buffer.from(got).equals(Buffer.from(sent instanceof ArrayBuffer ? new Uint8Array(sent) : sent)), `${where}: exact bytes`);
}

/** Every binary of `sent` arrived in `got` at the same place, with its kind and its bytes. */
function assertSame(got, sent, where = "args") {
  assert.deepEqual(normalize(got), normalize(sent), where);
  const walk = (g, s, path) => {
    if (Buffer.isBuffer(s) || s instanceof ArrayBuffer || ArrayBuffer.isView(s)) return assertBinary(g, s, path);
    if (s && typeof s === "object") for (const k of Object.keys(s)) walk(g[k], s[k], `${path}.${k}`);
  };
  walk(got, sent, where);
}

/** Fresh typed arrays: notepack.io sends a view's whole underlying buffer, so no pooled views. */
const u8 = (...b) => new Uint8Array(b);

/** Binary at every depth, of both kinds, empty and large ones: 20 binaries in all. */
const binaryArgs = () => [
  bytes(16, 1),
  Buffer.alloc(0),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  bytes(100 * 1024, 2),
  u8(1, 2, 3, 250),
  u8(9, 8, 7).buffer,
  new Uint8Array(0),
  new Uint8Array(70_000).fill(7),
  { nested: { bin: bytes(5, 3), list: [bytes(1, 4), "x", Buffer.alloc(0), 42, u8(0)] }, plain: "y" },
  [bytes(7, 5), { deep: [[bytes(9, 6), { deeper: { deepest: u8(255, 0, 255).buffer } }]] }, null],
  { same: bytes(4, 8), again: bytes(4, 8), text: "é😀", n: 2 ** 53 - 1 },
  bytes(300, 9),
  u8(...bytes(300, 10)),
];

for (const transport of ["websocket", "polling"]) {
  describe(`msgpack over ${transport}`, () => {
    const opts = (extra = {}) => ({ parser, transports: [transport], ...extra });

    /** A connected msgpack client of `nsp` (its `auth` event received). */
    async function connect(t, nsp = "/", extra = {}) {
      const s = useClient(t, `${srv.url}${nsp === "/" ? "" : nsp}`, opts(extra));
      await connectWithAuth(s);
      assert.equal(s.io.engine.transport.name, transport);
      return s;
    }

    const roundTrip = async (s, args) => {
      const back = waitFor(s, "message-back");
      s.emit("message", ...args);
      return back;
    };

    const ack = (s, args) =>
      new Promise((resolve, reject) => {
        s.timeout(WAIT_MS).emit("message-with-ack", ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
      });

    it("connects to / and /custom on one session; auth (binary included) comes back; {} without auth", { timeout: TEST_TIMEOUT }, async (t) => {
      const auth = { token: "t0k", n: 2 ** 53 - 1, neg: -42, f: 0.5, ok: true, none: null, list: ["é😀", [1]], bin: bytes(8, 1), raw: u8(1, 2).buffer };
      const root = useClient(t, srv.url, opts({ auth }));
      const gotAuth = await connectWithAuth(root);
      assertSame(gotAuth, auth, "auth of /");
      const custom = root.io.socket("/custom", { auth: { nsp: "custom", bin: bytes(3, 2) } });
      assertSame(await connectWithAuth(custom), { nsp: "custom", bin: bytes(3, 2) }, "auth of /custom");
      assert.equal(custom.io, root.io, "one manager");
      assert.equal(root.io.engine.transport.name, transport);
      assert.ok(root.id && custom.id && root.id !== custom.id);

      // Each namespace answers its own socket only.
      const rootBack = record(root, "message-back");
      const customBack = record(custom, "message-back");
      assert.deepEqual(await roundTrip(custom, ["to custom"]), ["to custom"]);
      assert.deepEqual(await roundTrip(root, ["to root"]), ["to root"]);
      assert.deepEqual(customBack, [["to custom"]]);
      assert.deepEqual(rootBack, [["to root"]]);

      const bare = await connect(t, "/custom");
      assert.ok(bare.connected);
      const plain = useClient(t, srv.url, opts());
      assert.deepEqual(await connectWithAuth(plain), {}, "no auth: {}");
    });

    it("values of every JSON kind come back equal (message-back and ack)", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      assert.deepEqual(await roundTrip(s, VALUES), VALUES);
      assert.deepEqual(await ack(s, VALUES), VALUES);
      for (const v of VALUES) assert.deepEqual(await roundTrip(s, [v]), [v], JSON.stringify(v).slice(0, 80));
      const back = await roundTrip(s, [2 ** 53 - 1, -(2 ** 53 - 1), 0.1]);
      assert.ok(Number.isSafeInteger(back[0]) && Number.isSafeInteger(back[1]));
      assert.equal(back[2], 0.1);
      assert.deepEqual(await roundTrip(s, []), [], "an event with no arguments");
    });

    it("binary arrives natively at any depth, Buffer as Buffer, Uint8Array/ArrayBuffer as ArrayBuffer, exact bytes (20 binaries in one event)", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const args = binaryArgs();
      assertSame(await roundTrip(s, args), args);
      // One at a time, each alone at the top.
      for (const [i, b] of args.entries()) assertSame(await roundTrip(s, [b]), [b], `args[${i}] alone`);
      // On /custom too.
      const c = await connect(t, "/custom");
      assertSame(await roundTrip(c, args), args, "on /custom");
    });

    it("the server acks the client's event with the same args, binary included", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const args = binaryArgs();
      assertSame(await ack(s, args), args, "ack");
      assert.deepEqual(await ack(s, []), [], "an ack with no arguments");
      const big = bytes(100 * 1024, 12);
      const first = await s.timeout(WAIT_MS).emitWithAck("message-with-ack", big, "ignored by emitWithAck");
      assertBinary(first, big, "emitWithAck");
      // Several in flight at once, each answered to its own callback.
      const many = await Promise.all([0, 1, 2, 3, 4].map((i) => ack(s, [i, bytes(i, i + 1)])));
      many.forEach((res, i) => assertSame(res, [i, bytes(i, i + 1)], `ack ${i}`));
      const c = await connect(t, "/custom");
      assertSame(await ack(c, [u8(1).buffer, { b: bytes(2, 2) }]), [u8(1).buffer, { b: bytes(2, 2) }], "ack on /custom");
    });

    it("the server asks an ack (request-ack): payload and answer, binary included, arrive intact; unanswered times out", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const payload = ["p1", { p: [2, bytes(10, 1)] }, null, u8(5, 6).buffer, 2 ** 53 - 1];
      const answer = ["answer", bytes(1000, 2), { deep: [u8(7).buffer] }, -0.5];
      const requests = [];
      s.on("ack-request", (...args) => {
        const cb = args.pop();
        assert.equal(typeof cb, "function", "ack-request carries an ack callback");
        requests.push(args);
        cb(...answer);
      });
      const result = waitFor(s, "ack-result");
      s.emit("request-ack", WAIT_MS, ...payload);
      const [res] = await result;
      assert.equal(requests.length, 1);
      assertSame(requests[0], payload, "the server's payload");
      assert.equal(res.err, null);
      assertSame(res.args, answer, "the answer reported back");

      s.off("ack-request");
      s.on("ack-request", (cb) => cb());
      const empty = waitFor(s, "ack-result");
      s.emit("request-ack", WAIT_MS);
      assert.deepEqual((await empty)[0], { err: null, args: [] });

      s.off("ack-request");
      s.on("ack-request", () => {}); // never answered
      const timedOut = waitFor(s, "ack-result");
      s.emit("request-ack", 200, "ignored");
      assert.deepEqual((await timedOut)[0], { err: "operation has timed out", args: [] });
    });

    it("broadcast and foreign-broadcast reach every socket of the namespace (spread over the shards), none of the other", { timeout: TEST_TIMEOUT }, async (t) => {
      const members = await spreadOverShards(4, () => connect(t, "/"), srv.kind);
      const others = await spreadOverShards(2, () => connect(t, "/custom"), srv.kind);
      const got = new Map([...members, ...others].map((s) => [s, { broadcast: record(s, "broadcast", { single: true }), foreign: record(s, "foreign", { single: true }) }]));
      const payload = { values: VALUES.slice(0, 30), bin: bytes(64, 3), raw: u8(1, 2, 3).buffer, list: [Buffer.alloc(0), { b: bytes(2, 4) }] };

      members[0].emit("broadcast", payload);
      await until(() => members.every((s) => got.get(s).broadcast.length > 0), "every member got the broadcast");
      members.at(-1).emit("foreign-broadcast", payload);
      await until(() => members.every((s) => got.get(s).foreign.length > 0), "every member got foreign");
      // A barrier in /custom: after it, nothing of / can still be on its way there.
      others[0].emit("broadcast", "barrier");
      await until(() => others.every((s) => got.get(s).broadcast.length > 0), "every /custom socket got the barrier");

      for (const [i, s] of members.entries()) {
        const { broadcast, foreign } = got.get(s);
        assert.equal(broadcast.length, 1, `member ${i}: one broadcast`);
        assertSame(broadcast[0], payload, `member ${i}: broadcast`);
        assert.equal(foreign.length, 1, `member ${i}: one foreign`);
        assertSame(foreign[0], payload, `member ${i}: foreign`);
      }
      for (const s of others) assert.deepEqual(got.get(s), { broadcast: ["barrier"], foreign: [] });
    });

    it("disconnect-me: the server disconnects the socket (io server disconnect)", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const gone = waitFor(s, "disconnect");
      s.emit("disconnect-me");
      assert.equal((await gone)[0], "io server disconnect");
      assert.equal(s.connected, false);
    });

    it("an unknown namespace: connect_error \"Invalid namespace\"; / on the same session still works", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = useClient(t, `${srv.url}/nope`, opts());
      const [err] = await waitFor(s, "connect_error");
      assert.equal(err.message, "Invalid namespace");
      assert.equal(err.data, undefined);
      assert.equal(s.connected, false);
      const root = s.io.socket("/");
      await connectWithAuth(root);
      assert.deepEqual(await roundTrip(root, [bytes(3, 1)]).then(normalize), normalize([bytes(3, 1)]));
    });

    it("a client with the default (JSON) parser never connects: disconnect \"transport close\"", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = useClient(t, srv.url, { transports: [transport] });
      const seen = [];
      s.onAny((event) => seen.push(event));
      for (const e of ["connect", "connect_error"]) s.on(e, () => seen.push(e));
      const [reason] = await waitFor(s, "disconnect");
      assert.equal(reason, "transport close");
      assert.deepEqual(seen, [], "no connect, no connect_error, no event");
      assert.equal(s.connected, false);
    });
  });
}

describe("msgpack on the wire", () => {
  const base = () => `${srv.url}/socket.io/?EIO=4`;

  it("WebSocket: a CONNECT in a binary message is answered with binary messages (CONNECT, then auth)", { timeout: TEST_TIMEOUT }, async (t) => {
    const raw = rawSocket(t, `${base()}&transport=websocket`);
    assert.match(await raw.next(), /^0\{"sid":"[\w-]{20}"/, "the Engine.IO open packet stays text");
    const [frame] = new parser.Encoder().encode({ type: 0, nsp: "/", data: { bin: u8(1, 2).buffer } });
    raw.send(frame);
    const decode = (buf) => {
      assert.ok(Buffer.isBuffer(buf), `a binary message, got ${JSON.stringify(buf)}`);
      let out;
      const d = new parser.Decoder();
      d.on("decoded", (p) => (out = p));
      d.add(buf);
      return out;
    };
    const connect = decode(await raw.next());
    assert.equal(connect.type, 0);
    assert.equal(connect.nsp, "/");
    assert.match(connect.data.sid, /^[\w-]{20}$/);
    assert.deepEqual(Object.keys(connect).sort(), ["data", "nsp", "type"]);
    const auth = decode(await raw.next());
    assert.deepEqual(normalize(auth), { type: 2, nsp: "/", data: ["auth", { bin: { $bin: "0102" } }] });
    assert.ok(auth.data[1].bin instanceof ArrayBuffer);
  });

  it("WebSocket: a JSON client's CONNECT (text 40) closes the connection without a word (close 1005)", { timeout: TEST_TIMEOUT }, async (t) => {
    const raw = rawSocket(t, `${base()}&transport=websocket`);
    assert.match(await raw.next(), /^0\{"sid":"[\w-]{20}"/);
    raw.send("40");
    const { code } = await raw.closed();
    assert.equal(code, 1005, "a close frame without a status code");
    assert.equal(raw.frames.length, 1, `nothing after the open packet: ${JSON.stringify(raw.frames.map(String))}`);
  });

  it("polling: a JSON client's CONNECT (40) is answered ok, the next GET 6␞1 (noop, close), then the session is unknown", { timeout: TEST_TIMEOUT }, async () => {
    const signal = () => AbortSignal.timeout(WAIT_MS);
    const open = await (await fetch(`${base()}&transport=polling`, { signal: signal() })).text();
    const url = `${base()}&transport=polling&sid=${JSON.parse(open.slice(1)).sid}`;
    const post = await fetch(url, { method: "POST", body: "40", headers: { "Content-Type": "text/plain;charset=UTF-8" }, signal: signal() });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), "ok");
    const get = await fetch(url, { signal: signal() });
    assert.equal(get.status, 200);
    assert.equal(await get.text(), "6\x1e1");
    const unknown = JSON.stringify({ code: 1, message: "Session ID unknown" });
    for (const later of [fetch(url, { signal: signal() }), fetch(url, { method: "POST", body: "2", signal: signal() })]) {
      const res = await later;
      assert.equal(res.status, 400);
      assert.equal(await res.text(), unknown);
    }
  });
});
