// Test 5: acknowledgements both ways.
//   client -> server: `message-with-ack` (callback, emitWithAck, timeout().emitWithAck)
//   server -> client: `request-ack` makes the server emit `ack-request` with a
//   timeout; the result is reported back as `ack-result`.
import { describe, it, before, after } from "node:test";
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

for (const transport of ["websocket", "polling"]) {
  describe(`acks over ${transport}`, () => {
    async function connect(t) {
      const s = useClient(t, srv.url, { transports: [transport] });
      await connectWithAuth(s);
      return s;
    }

    it("client -> server: the ack callback gets the same args", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const call = (...args) =>
        new Promise((resolve, reject) => {
          s.timeout(5000).emit("message-with-ack", ...args, (err, ...res) => (err ? reject(err) : resolve(res)));
        });
      assert.deepEqual(await call(1, "two", { three: [3] }, null, true), [1, "two", { three: [3] }, null, true]);
      assert.deepEqual(await call(), [], "an ack with no arguments");
      assert.deepEqual(await call("é😀"), ["é😀"]);

      // Plain callback style (no timeout), several in flight at once, each
      // answered to its own callback.
      const results = await Promise.all(
        [0, 1, 2, 3, 4].map((i) => new Promise((resolve) => s.emit("message-with-ack", i, `n${i}`, (...res) => resolve(res)))),
      );
      assert.deepEqual(results, [0, 1, 2, 3, 4].map((i) => [i, `n${i}`]));
    });

    it("client -> server: emitWithAck resolves with the first ack argument", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      assert.deepEqual(await s.emitWithAck("message-with-ack", { a: 1 }, "second"), { a: 1 });
      assert.equal(await s.timeout(5000).emitWithAck("message-with-ack", "x"), "x");
      assert.equal(await s.emitWithAck("message-with-ack"), undefined);
    });

    it("server -> client: an answered ack is reported as {err:null,args}", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      const requests = [];
      s.on("ack-request", (...args) => {
        const cb = args.pop();
        assert.equal(typeof cb, "function", "ack-request carries an ack callback");
        requests.push(args);
        cb("answer", ...args, { n: 1 });
      });
      const result = waitFor(s, "ack-result");
      s.emit("request-ack", 5000, "p1", { p: [2] }, null);
      const [res] = await result;
      assert.deepEqual(requests, [["p1", { p: [2] }, null]]);
      assert.deepEqual(res, { err: null, args: ["answer", "p1", { p: [2] }, null, { n: 1 }] });

      // An answer with no arguments.
      s.off("ack-request");
      s.on("ack-request", (cb) => cb());
      const result2 = waitFor(s, "ack-result");
      s.emit("request-ack", 5000);
      assert.deepEqual((await result2)[0], { err: null, args: [] });
    });

    it("server -> client: an unanswered ack times out", { timeout: TEST_TIMEOUT }, async (t) => {
      const s = await connect(t);
      let requested = 0;
      s.on("ack-request", (...args) => {
        requested++;
        assert.equal(typeof args.at(-1), "function");
        // never call back
      });
      const result = waitFor(s, "ack-result");
      s.emit("request-ack", 200, "ignored");
      const [res] = await result;
      assert.equal(requested, 1);
      assert.deepEqual(res, { err: "operation has timed out", args: [] });
    });
  });
}
