// The `chat` demo (contract: `chat_app` in example-apps/src/lib.rs, reference/chat.mjs): its
// events with the official client, and its page. Each test starts its own server (the online
// count is the server's); the Rust server runs with two shards.
import { it } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, waitFor, waitForUnlessConnectError } from "../lib/util.mjs";

async function chat(t) {
  const srv = await startServer("chat", { args: ["--shards", "2"] });
  t.after(() => srv.stop());
  return srv;
}

/** A client of the chat and its `welcome`. */
async function join(t, srv, auth, transports = ["websocket"]) {
  const s = useClient(t, srv.url, { transports, auth });
  const [welcome] = await waitForUnlessConnectError(s, "welcome");
  return [s, welcome];
}

it("welcome, joined, chat message (acknowledged), typing and left, with the names the users chose", { timeout: TEST_TIMEOUT }, async (t) => {
  const srv = await chat(t);
  const [alice, aliceWelcome] = await join(t, srv, { name: "alice" });
  assert.deepEqual(aliceWelcome, { name: "alice", online: 1 });
  const joined = waitFor(alice, "joined");
  // A blank name: a guest name from the socket id.
  const [bob, bobWelcome] = await join(t, srv, { name: "  " }, ["polling"]);
  const guest = `guest-${bob.id.slice(2, 6)}`;
  assert.deepEqual(bobWelcome, { name: guest, online: 2 });
  assert.deepEqual((await joined)[0], { name: guest, online: 2 });

  const typing = waitFor(alice, "typing");
  let bobTyping = 0;
  bob.on("typing", () => bobTyping++);
  bob.emit("typing");
  assert.deepEqual(await typing, [guest]);

  const heard = [alice, bob].map((s) => waitFor(s, "chat message"));
  assert.equal(await alice.emitWithAck("chat message", "hi"), "delivered");
  for (const p of heard) assert.deepEqual(await p, [{ name: "alice", text: "hi" }]);
  assert.equal(bobTyping, 0, "typing goes to the others");

  // Without an acknowledgement, and too long: cut at 2000 characters.
  const long = waitFor(alice, "chat message");
  bob.emit("chat message", "é".repeat(2500));
  assert.deepEqual(await long, [{ name: guest, text: "é".repeat(2000) }]);

  const left = waitFor(alice, "left");
  bob.disconnect();
  assert.deepEqual((await left)[0], { name: guest, online: 1 });
});

it("a missing name is a guest name, a long one is cut at 32 characters", { timeout: TEST_TIMEOUT }, async (t) => {
  const srv = await chat(t);
  const [anon, anonWelcome] = await join(t, srv, undefined);
  assert.deepEqual(anonWelcome, { name: `guest-${anon.id.slice(2, 6)}`, online: 1 });
  const [, longWelcome] = await join(t, srv, { name: "😀".repeat(40) });
  assert.deepEqual(longWelcome, { name: "😀".repeat(32), online: 2 });
});

it("serves the page at / and the client bundle at /socket.io.min.js", { timeout: TEST_TIMEOUT }, async (t) => {
  const srv = await chat(t);
  const page = await fetch(`${srv.url}/`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await page.text(), /<title>corelay chat<\/title>/);
  const bundle = await fetch(`${srv.url}/socket.io.min.js`);
  assert.equal(bundle.status, 200);
  assert.equal(bundle.headers.get("content-type"), "application/javascript; charset=utf-8");
  assert.match(await bundle.text(), /socket\.io/i);
  assert.equal((await fetch(`${srv.url}/nope`)).status, 404);
});
