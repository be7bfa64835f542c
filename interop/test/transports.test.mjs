// Tests 1 & 2: WebSocket-only and polling-only transports: connect, `auth`
// event, `message` echoed back as `message-back` with mixed JSON args.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, connectWithAuth, waitFor, until } from "../lib/util.mjs";

const MIXED_ARGS = [
  "hello",
  "",
  "unicode ✓ é 日本 😀 \u001e \" \\ \n",
  0,
  -42,
  3.5,
  Number.MAX_SAFE_INTEGER,
  true,
  false,
  null,
  {},
  [],
  { a: 1, b: "two", c: [1, "x", null, { d: false }], e: { f: { g: "deep" } } },
  [1, "two", [3, [4]], { five: 5 }],
];

let srv;
before(async () => {
  srv = await startServer("echo");
});
after(async () => {
  await srv?.stop();
});

for (const transport of ["websocket", "polling"]) {
  describe(`${transport}-only transport`, () => {
    it("connects and receives its auth object", { timeout: TEST_TIMEOUT }, async (t) => {
      const auth = { token: "abc-123", n: 7, flag: true, nested: { list: [1, "two", null] } };
      const s = useClient(t, srv.url, { transports: [transport], auth });
      assert.deepEqual(await connectWithAuth(s), auth);
      assert.equal(s.connected, true);
      assert.equal(s.io.engine.transport.name, transport);
      assert.equal(typeof s.id, "string");
      assert.ok(s.id.length > 0);
    });

    it("receives {} as auth when none was sent", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = useClient(t, srv.url, { transports: [transport] });
      assert.deepEqual(await connectWithAuth(s), {});
    });

    it("echoes message with mixed JSON args as message-back", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = useClient(t, srv.url, { transports: [transport] });
      await connectWithAuth(s);
      const back = waitFor(s, "message-back");
      s.emit("message", ...MIXED_ARGS);
      assert.deepEqual(await back, MIXED_ARGS);

      // no args at all, then a single arg: each answered in order
      const got = [];
      s.on("message-back", (...args) => got.push(args));
      s.emit("message");
      s.emit("message", "single");
      s.emit("message", { only: ["object"] });
      await until(() => got.length >= 3, "3 message-back events");
      assert.deepEqual(got, [[], ["single"], [{ only: ["object"] }]]);
      assert.equal(s.io.engine.transport.name, transport);
    });
  });
}

