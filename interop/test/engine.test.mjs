// Test 12: bare Engine.IO echo (`engine_echo`, path /engine.io/) with the
// pinned engine.io-client: text comes back as text, binary as binary, on
// polling-only, websocket-only and upgraded transports.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, WAIT_MS, waitFor, until, bytes, toBuffer } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("engine_echo");
});
after(async () => {
  await srv?.stop();
});

function open(t, transports, binaryType) {
  const s = new Socket(srv.url, { path: "/engine.io/", transports });
  if (binaryType) s.binaryType = binaryType;
  t.after(() => s.close());
  return s;
}

async function waitOpen(s) {
  await Promise.race([
    waitFor(s, "open"),
    waitFor(s, "error").then(([err]) => {
      throw new Error(`engine error: ${err && err.message}`);
    }),
  ]);
}

const TEXTS = ["hello", "", "bAQID (looks like base64 binary)", "2probe", "unicode ✓ é 日本 😀", "x".repeat(50_000)];
const BINARIES = [Buffer.alloc(0), bytes(1, 3), bytes(300, 4), bytes(100 * 1024, 5)];

const TRANSPORTS = { polling: ["polling"], websocket: ["websocket"], upgraded: ["polling", "websocket"] };

for (const [name, transports] of Object.entries(TRANSPORTS)) {
  describe(`engine echo over ${name}`, () => {
    async function connect(t, binaryType) {
      const s = open(t, transports, binaryType);
      await waitOpen(s);
      if (name === "upgraded" && s.transport.name !== "websocket") await waitFor(s, "upgrade");
      assert.equal(s.transport.name, name === "polling" ? "polling" : "websocket");
      return s;
    }

    it("echoes text as text and binary as Buffer", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const got = [];
      s.on("message", (m) => got.push(m));
      const sent = [...TEXTS, ...BINARIES, new Uint8Array([7, 8, 9]).buffer, new Uint8Array([1, 2])];
      for (const m of sent) s.send(m);
      await until(() => got.length >= sent.length, `${sent.length} echoes`);
      assert.equal(got.length, sent.length);
      for (let i = 0; i < sent.length; i++) {
        if (sent[i] === "") {
          // An empty text message travels as the bare packet "4"; the client
          // decodes a bare "4" as a message with no data.
          assert.equal(got[i], undefined, `message ${i} (empty text)`);
        } else if (typeof sent[i] === "string") {
          assert.equal(typeof got[i], "string", `message ${i} is text`);
          assert.equal(got[i], sent[i]);
        } else {
          assert.ok(Buffer.isBuffer(got[i]), `message ${i} is binary (Buffer)`);
          assert.ok(got[i].equals(toBuffer(sent[i])), `message ${i} bytes`);
        }
      }
    });

    it("echoes binary as ArrayBuffer with binaryType = \"arraybuffer\"", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t, "arraybuffer");
      const got = [];
      s.on("message", (m) => got.push(m));
      const sent = [new Uint8Array([0, 255, 1, 254]).buffer, bytes(5000, 9), "text stays text", new ArrayBuffer(0)];
      for (const m of sent) s.send(m);
      await until(() => got.length >= sent.length, `${sent.length} echoes`);
      assert.ok(got[0] instanceof ArrayBuffer);
      assert.deepEqual([...new Uint8Array(got[0])], [0, 255, 1, 254]);
      assert.ok(got[1] instanceof ArrayBuffer);
      assert.ok(Buffer.from(got[1]).equals(sent[1]));
      assert.equal(got[2], "text stays text");
      assert.ok(got[3] instanceof ArrayBuffer);
      assert.equal(got[3].byteLength, 0);
    });
  });
}

it("engine echo: messages sent before, during and after the upgrade arrive in order, exactly once", { timeout: TEST_TIMEOUT }, async (t) => {
  const s = open(t, ["polling", "websocket"]);
  const got = [];
  s.on("message", (m) => got.push(m));
  let seq = 0;
  let state = "beforeOpen";
  const carried = { polling: 0, buffered: 0, websocket: 0 };
  s.on("packetCreate", (p) => {
    if (p.type !== "message") return;
    if (state === "upgrading") carried.buffered++;
    else carried[s.transport.name]++;
  });
  const send = () => {
    const n = seq++;
    // alternate text and binary
    s.send(n % 2 ? `t${n}` : Buffer.from(`b${n}`));
  };
  for (let i = 0; i < 5; i++) send(); // buffered until open
  s.on("open", () => {
    state = "polling";
    for (let i = 0; i < 5; i++) send(); // written to the polling transport
  });
  s.on("upgrading", () => {
    state = "upgrading";
    for (let i = 0; i < 5; i++) send();
  });
  const upgraded = waitFor(s, "upgrade", WAIT_MS);
  s.on("upgrade", () => {
    state = "websocket";
    for (let i = 0; i < 5; i++) send();
  });
  const stream = setInterval(send, 1);
  t.after(() => clearInterval(stream));
  await upgraded;
  assert.equal(s.transport.name, "websocket");
  await until(() => carried.websocket >= 30, "30 messages after the upgrade");
  clearInterval(stream);
  const total = seq;
  await until(() => got.length >= total, `${total} echoes`);
  // one more round trip proves nothing extra is in flight
  s.send("last");
  await until(() => got.length >= total + 1, "last echo");
  t.diagnostic(`written to: ${JSON.stringify(carried)}`);
  assert.equal(got.length, total + 1);
  for (let n = 0; n < total; n++) {
    if (n % 2) assert.equal(got[n], `t${n}`);
    else assert.ok(Buffer.isBuffer(got[n]) && got[n].toString() === `b${n}`, `message ${n}`);
  }
  assert.equal(got[total], "last");
  assert.ok(carried.polling > 0, "some messages went over polling");
  assert.ok(carried.websocket > 0, "some messages went over websocket");
});
