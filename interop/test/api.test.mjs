// The `api` example (contract: example-apps/src/api.rs, reference/api.mjs): the application
// API end to end with the official client. The Rust server runs with two shards (the Node
// reference has one thread and ignores the flag); every request about a room (count, kick,
// move, whois), the broadcast with acknowledgements (gather) and the broadcast to the dynamic
// namespaces (tenant-all) is checked with clients spread over both shards: a socket id's
// first two characters name the shard that owns it (core/src/sid.rs).
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, serverKind } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, waitFor, waitForUnlessConnectError, until, spreadOverShards } from "../lib/util.mjs";

const SHARDS = ["--shards", "2"];
let srv;
before(async () => {
  srv = await startServer("api", { args: SHARDS });
});
after(async () => {
  await srv?.stop();
});

/** Even clients over WebSocket, odd ones over HTTP long-polling. */
const transportsOf = (i) => (i % 2 === 0 ? ["websocket"] : ["polling"]);

/** A connected client of `url` (a path of the server, `/` by default). */
async function connect(t, opts = {}, path = "", url = srv.url) {
  const s = useClient(t, `${url}${path}`, opts);
  if (!s.connected) await waitForUnlessConnectError(s, "connect");
  return s;
}

/**
 * At least `n` connected clients of `path`, client `i` with `optsOf(i)`; with corelay, more
 * are added until they sit on both shards (`spreadOverShards`).
 */
function spread(t, n, optsOf, path = "", url = srv.url) {
  return spreadOverShards(n, (i) => connect(t, optsOf(i), path, url), serverKind());
}

/** Client `i` of a test: token `${prefix}${i}` (two digits, so that names sort as numbers). */
const user = (prefix) => (i) => ({ transports: transportsOf(i), auth: { token: `${prefix}${String(i).padStart(2, "0")}` } });

for (const transports of [["websocket"], ["polling"]]) {
  it(`the middleware refuses token "bad": connect_error "unauthorized" with data {code: 401} (${transports})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const s = useClient(t, srv.url, { transports, auth: { token: "bad" } });
    const [err] = await waitFor(s, "connect_error");
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { code: 401 });
    assert.equal(s.connected, false);
  });
}

it("whoami answers the user the middleware stored in the socket's data, and the socket id", { timeout: TEST_TIMEOUT }, async (t) => {
  const alice = await connect(t, { auth: { token: "alice" } });
  const bob = await connect(t, { transports: ["polling"], auth: { token: "bob" } });
  assert.deepEqual(await alice.emitWithAck("whoami"), { user: "alice", id: alice.id });
  assert.deepEqual(await bob.emitWithAck("whoami"), { user: "bob", id: bob.id });
  const nobody = await connect(t);
  assert.deepEqual(await nobody.emitWithAck("whoami"), { user: "anonymous", id: nobody.id });
});

for (const transports of [["websocket"], ["polling"]]) {
  it(`50 slow-echo of 300 ms in flight on one socket all come back, together (async handlers, ${transports})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const s = await connect(t, { transports, auth: { token: "sleepy" } });
    const MS = 300;
    const start = Date.now();
    const values = Array.from({ length: 50 }, (_, i) => ({ i, text: `v${i}` }));
    const echoes = await Promise.all(values.map((v) => s.emitWithAck("slow-echo", MS, v)));
    const elapsed = Date.now() - start;
    assert.deepEqual(echoes, values);
    // Each waited its sleep (a little slack for timer granularity), and they overlapped: one
    // after the other they would take 50 × 300 ms. A generous bound, not a timing test.
    assert.ok(elapsed >= MS - 20, `answered after ${elapsed} ms, before the ${MS} ms sleep`);
    assert.ok(elapsed < 5 * MS, `50 sleeps of ${MS} ms took ${elapsed} ms: they did not overlap`);
  });
}

it("join then count: the members of a room on both shards are counted", { timeout: TEST_TIMEOUT }, async (t) => {
  const members = await spread(t, 6, user("count-"));
  const [asker] = await spread(t, 1, user("asker-"));
  assert.equal(await asker.emitWithAck("count", "count-room"), 0);
  const joined = await Promise.all(members.map((s) => s.emitWithAck("join", "count-room")));
  assert.deepEqual(joined, members.map(() => true));
  // Asked from each shard, the answer is the same.
  for (const s of [asker, ...members]) assert.equal(await s.emitWithAck("count", "count-room"), members.length);
  assert.equal(await asker.emitWithAck("count", "count-elsewhere"), 0);
});

it("kick disconnects a room's members on both shards (io server disconnect) and answers how many", { timeout: TEST_TIMEOUT }, async (t) => {
  const members = await spread(t, 6, user("kick-"));
  const bystander = await connect(t, { auth: { token: "bystander" } });
  await Promise.all(members.map((s) => s.emitWithAck("join", "kick-room")));
  const gone = members.map((s) => waitFor(s, "disconnect"));
  const kicked = await bystander.emitWithAck("kick", "kick-room");
  assert.equal(kicked, members.length);
  for (const p of gone) assert.equal((await p)[0], "io server disconnect");
  for (const s of members) assert.equal(s.connected, false);
  assert.equal(bystander.connected, true);
  assert.equal(await bystander.emitWithAck("count", "kick-room"), 0);
  assert.equal(await bystander.emitWithAck("kick", "kick-room"), 0, "nobody left to kick");
});

it("move takes a room's members on both shards to another room, done when answered", { timeout: TEST_TIMEOUT }, async (t) => {
  const members = await spread(t, 6, user("move-"));
  const [stayer, mover] = [await connect(t, { auth: { token: "stayer" } }), members[0]];
  await Promise.all(members.map((s) => s.emitWithAck("join", "move-from")));
  await stayer.emitWithAck("join", "move-to");
  assert.equal(await mover.emitWithAck("move", "move-from", "move-to"), true);
  // Heard back: the move is complete on every shard.
  assert.equal(await stayer.emitWithAck("count", "move-from"), 0);
  assert.equal(await stayer.emitWithAck("count", "move-to"), members.length + 1);
  const expected = [...members.map((_, i) => `move-${String(i).padStart(2, "0")}`), "stayer"].sort();
  assert.deepEqual(await stayer.emitWithAck("whois", "move-to"), expected);
});

it("whois answers the sorted users of a room's members on both shards (socket data across shards)", { timeout: TEST_TIMEOUT }, async (t) => {
  const members = await spread(t, 8, user("who-"));
  const outsider = await connect(t, { auth: { token: "outsider" } });
  for (const s of [...members].reverse()) await s.emitWithAck("join", "who-room");
  const expected = members.map((_, i) => `who-${String(i).padStart(2, "0")}`);
  // Joined in reverse order: the answer is sorted, not in join order.
  assert.deepEqual(await outsider.emitWithAck("whois", "who-room"), expected);
  assert.deepEqual(await members.at(-1).emitWithAck("whois", "who-room"), expected);
  assert.deepEqual(await outsider.emitWithAck("whois", "nobody-here"), []);
});

it("gather asks every socket of / on both shards, the asker included; the one that does not answer is missing", { timeout: TEST_TIMEOUT }, async (t) => {
  // A server of its own: the sockets of other tests' clients, closed as they end, would be
  // asked too while their disconnection is under way.
  const own = await startServer("api", { args: SHARDS });
  t.after(() => own.stop());
  const answering = await spread(t, 6, user("gather-"), "", own.url);
  answering.forEach((s, i) => s.on("question", (ack) => ack(`answer-${String(i).padStart(2, "0")}`)));
  const silent = await connect(t, { auth: { token: "silent" } }, "", own.url);
  let silentAsked = 0;
  silent.on("question", () => silentAsked++);
  const asker = answering[0];
  const start = Date.now();
  const result = await asker.emitWithAck("gather", 500);
  assert.deepEqual(result, {
    answers: answering.map((_, i) => `answer-${String(i).padStart(2, "0")}`),
    missing: 1,
  });
  assert.equal(silentAsked, 1, "the silent client was asked");
  assert.ok(Date.now() - start >= 450, "the answer waited for the timeout");
  // Every socket answering: nothing missing, and no need to wait for the timeout.
  silent.on("question", (ack) => ack("late-but-here"));
  const all = await asker.emitWithAck("gather", 4000);
  assert.deepEqual(all.answers, [...answering.map((_, i) => `answer-${String(i).padStart(2, "0")}`), "late-but-here"].sort());
  assert.equal(all.missing, 0);
});

it("later: the server emits the event to this socket only, from a plain thread, after ms", { timeout: TEST_TIMEOUT }, async (t) => {
  const all = await spread(t, 4, user("later-"));
  const got = all.map(() => []);
  all.forEach((s, i) => s.onAny((event, ...args) => got[i].push([event, args])));
  const start = Date.now();
  all.forEach((s, i) => s.emit("later", 100, `ding-${i}`));
  await until(() => got.every((l) => l.length > 0), "every client got its event");
  assert.ok(Date.now() - start >= 80, "sent after the delay");
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, all.map((_, i) => [[`ding-${i}`, []]]));
});

it("dynamic namespaces: /tenant-N is accepted and answers its name; other names are refused", { timeout: TEST_TIMEOUT }, async (t) => {
  const one = await connect(t, {}, "/tenant-1");
  const many = await connect(t, { transports: ["polling"] }, "/tenant-4242");
  assert.equal(await one.emitWithAck("name"), "/tenant-1");
  assert.equal(await many.emitWithAck("name"), "/tenant-4242");
  for (const path of ["/tenant-", "/tenant-x", "/tenant-1/2", "/other"]) {
    const s = useClient(t, `${srv.url}${path}`, { transports: ["websocket"] });
    const [err] = await waitFor(s, "connect_error");
    assert.equal(err.message, "Invalid namespace", path);
  }
});

it("tenant-all reaches every client of every tenant namespace on both shards, and no one else", { timeout: TEST_TIMEOUT }, async (t) => {
  const a = await spread(t, 4, (i) => ({ transports: transportsOf(i) }), "/tenant-7");
  const b = await spread(t, 4, (i) => ({ transports: transportsOf(i + 1) }), "/tenant-8");
  const sender = await connect(t, { auth: { token: "announcer" } });
  let senderGot = 0;
  sender.on("tenant-news", () => senderGot++);
  const got = [...a, ...b].map((s) => waitFor(s, "tenant-news"));
  sender.emit("tenant-all", { news: "hello" }, 2);
  for (const p of got) assert.deepEqual(await p, [{ news: "hello" }, 2]);
  // A barrier on the sender's own connection: it is not a tenant, it got nothing.
  await sender.emitWithAck("whoami");
  assert.equal(senderGot, 0);
});

it("any-count answers how many events the socket sent before it (any-count included, unknown events too)", { timeout: TEST_TIMEOUT }, async (t) => {
  for (const transports of [["websocket"], ["polling"]]) {
    const s = await connect(t, { transports, auth: { token: "counter" } });
    assert.equal(await s.emitWithAck("any-count"), 0, "nothing before the first");
    assert.equal(await s.emitWithAck("any-count"), 1, "the first any-count");
    s.emit("no-such-event", 1);
    await s.emitWithAck("whoami");
    await s.emitWithAck("join", "any-room");
    assert.equal(await s.emitWithAck("any-count"), 5);
  }
});

it("members answers the room's sockets on both shards: id, user and rooms (sorted), sorted by id", { timeout: TEST_TIMEOUT }, async (t) => {
  const members = await spread(t, 4, user("mem-"));
  const outsider = await connect(t, { auth: { token: "outsider" } });
  for (const s of members) assert.equal(await s.emitWithAck("join", "mem-room"), true);
  assert.equal(await members[0].emitWithAck("join", "mem-extra"), true);
  const expected = members
    .map((s, i) => ({ id: s.id, user: `mem-${String(i).padStart(2, "0")}`, rooms: [s.id, "mem-room", ...(i === 0 ? ["mem-extra"] : [])].sort() }))
    .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  assert.deepEqual(await outsider.emitWithAck("members", "mem-room"), expected);
  assert.deepEqual(await outsider.emitWithAck("members", "mem-nobody"), []);
});

it("say reaches every socket on both shards; room-say the room's members not in except", { timeout: TEST_TIMEOUT }, async (t) => {
  const clients = await spread(t, 6, user("say-"));
  const heard = clients.map(() => []);
  clients.forEach((s, i) => s.on("said", (text) => heard[i].push(text)));
  // Members: clients 0..3; left out: clients 2 and 3 (also in "say-except").
  for (const [i, s] of clients.entries()) {
    if (i < 4) assert.equal(await s.emitWithAck("join", "say-room"), true);
    if (i === 2 || i === 3) assert.equal(await s.emitWithAck("join", "say-except"), true);
  }
  assert.equal(await clients[5].emitWithAck("room-say", "say-room", "say-except", "to the room"), true);
  assert.equal(await clients[5].emitWithAck("say", "to all"), true);
  await until(() => heard.every((h) => h.includes("to all")), "every client heard `say`");
  heard.forEach((h, i) => assert.deepEqual(h, i < 2 ? ["to the room", "to all"] : ["to all"], `client ${i}`));
});

it("server-id is the same on every shard of the server", { timeout: TEST_TIMEOUT }, async (t) => {
  const clients = await spread(t, 2, user("id-"));
  const ids = await Promise.all(clients.map((s) => s.emitWithAck("server-id")));
  assert.equal(typeof ids[0], "string");
  assert.ok(ids[0].length > 0);
  assert.equal(new Set(ids).size, 1);
});
