// Test 4: binary both ways, on each transport: Buffers (empty, small,
// ~100 KB), binary nested in objects and arrays, several attachments in one
// event, and a binary ack.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor, bytes, normalize, toBuffer } from "../lib/util.mjs";

let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

const TRANSPORTS = {
  websocket: ["websocket"],
  polling: ["polling"],
  upgraded: ["polling", "websocket"],
};

for (const [name, transports] of Object.entries(TRANSPORTS)) {
  describe(`binary over ${name}`, () => {
    async function connect(t) {
      const s = useClient(t, srv.url, { transports });
      await connectWithAuth(s);
      if (name === "upgraded" && s.io.engine.transport.name !== "websocket") {
        await waitFor(s.io.engine, "upgrade");
      }
      assert.equal(s.io.engine.transport.name, name === "polling" ? "polling" : "websocket");
      return s;
    }

    async function roundTrip(s, args) {
      const back = waitFor(s, "message-back");
      s.emit("message", ...args);
      return back;
    }

    it("echoes an empty, a small and a ~100 KB Buffer with identical bytes", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      for (const buf of [Buffer.alloc(0), bytes(16, 7), bytes(100 * 1024, 11)]) {
        const [got] = await roundTrip(s, [buf]);
        const gotBuf = toBuffer(got);
        assert.equal(gotBuf.length, buf.length);
        assert.ok(gotBuf.equals(buf), `bytes of a ${buf.length}-byte buffer`);
      }
      // All 256 byte values, in one buffer.
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const [got] = await roundTrip(s, [all]);
      assert.ok(toBuffer(got).equals(all));
    });

    it("echoes binary nested in objects and arrays, 10 attachments in one event", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      // Exactly 10 binary attachments: the maximum the Node server's parser accepts.
      const args = [
        "text first",
        bytes(3, 1),
        { nested: { bin: bytes(5, 2), list: [bytes(1, 3), "x", Buffer.alloc(0), 42] }, plain: "y" },
        [bytes(7, 4), { deep: [[bytes(9, 5)]] }, null],
        bytes(2000, 6),
        new Uint8Array([1, 2, 3, 250]),
        { same: bytes(4, 8), again: bytes(4, 8) },
      ];
      const got = await roundTrip(s, args);
      assert.equal(got.length, args.length);
      assert.deepEqual(normalize(got), normalize(args));
      // received binaries are real binaries, not placeholders
      assert.ok(Buffer.isBuffer(got[1]) || got[1] instanceof ArrayBuffer);
      assert.equal(got[2].nested.list[2].byteLength, 0);
      // An ArrayBuffer argument comes back with the same bytes too.
      const [ab] = await roundTrip(s, [new Uint8Array([9, 8, 7]).buffer]);
      assert.deepEqual([...toBuffer(ab)], [9, 8, 7]);
    });

    if (name !== "upgraded") {
      it("closes the connection on an event with 11 attachments (Node parser limit is 10)", { timeout: TEST_TIMEOUT }, async (t) => {
        const s = await connect(t);
        const echoes = [];
        s.on("message-back", (...args) => echoes.push(args));
        const disconnected = waitFor(s, "disconnect");
        s.emit("message", ...Array.from({ length: 11 }, (_, i) => bytes(i + 1, i + 1)));
        const [reason] = await disconnected;
        assert.equal(reason, "transport close");
        assert.equal(echoes.length, 0, "the event was not echoed");
      });
    }

    it("answers a binary ack with identical bytes", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const args = [bytes(1000, 9), { meta: "m", bin: [bytes(10, 10), Buffer.alloc(0)] }, "tail"];
      const res = await new Promise((resolve, reject) => {
        s.timeout(5000).emit("message-with-ack", ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
      });
      assert.deepEqual(normalize(res), normalize(args));
      const big = bytes(100 * 1024, 12);
      const first = await s.timeout(5000).emitWithAck("message-with-ack", big, "ignored-by-emitWithAck");
      assert.ok(toBuffer(first).equals(big));
    });
  });
}
