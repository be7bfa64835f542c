// Cases only several shards can break (the Rust server runs with --shards 2 here; the Node
// reference has one thread and ignores the flag). A socket id's first two characters name
// the shard that owns it, which lets the tests see that clients really are spread.
import { it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, serverKind } from "../lib/server.mjs";
import { TEST_TIMEOUT, useClient, waitForUnlessConnectError, waitFor, until, spreadOverShards } from "../lib/util.mjs";

const CLIENTS = 8;
// The Rust servers log each hand-over of a connection to the shard owning its session
// (target corelay::handover, DEBUG, "connection handed over"); the hand-over tests assert
// that they caused at least one. Node has one thread and hands nothing over.
const HANDOVER_LOG = { RUST_LOG: "corelay::handover=debug", NO_COLOR: "1" };
const HANDED_OVER = /connection handed over/;
let bench;
let echo;
before(async () => {
  [bench, echo] = await Promise.all([
    startServer("bench", { args: ["--shards", "2"], env: HANDOVER_LOG }),
    startServer("echo", { args: ["--shards", "2"], env: HANDOVER_LOG }),
  ]);
});
after(async () => {
  await Promise.all([bench?.stop(), echo?.stop()]);
});

async function clients(t, url, n, opts) {
  const all = Array.from({ length: n }, () => useClient(t, url, opts));
  await Promise.all(all.map((s) => (s.connected ? null : waitForUnlessConnectError(s, "connect"))));
  return all;
}

/** Hand-overs `srv` logged since `mark` (a `stderrMark()`). */
const handOvers = (srv, mark) => srv.stderrSince(mark).filter((l) => HANDED_OVER.test(l)).length;

/** With corelay: `srv` logged a hand-over since `mark` (waits a little for stderr to arrive). */
async function assertHandedOver(srv, mark) {
  if (serverKind() === "node") return;
  await until(
    () => handOvers(srv, mark) > 0,
    () => `no "connection handed over" line in the server's stderr since the test began:\n${srv.stderrSince(mark).join("\n")}`,
  );
}

/** `n` connected clients; with corelay, more until they sit on both shards (`spreadOverShards`). */
function spreadClients(t, url, n, opts) {
  return spreadOverShards(n, async () => (await clients(t, url, 1, opts))[0], serverKind());
}

for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
  it(`room members spread over both shards all get its broadcasts (${transports.join("+")})`, { timeout: TEST_TIMEOUT }, async (t) => {
    const members = await spreadClients(t, bench.url, CLIENTS, { transports });
    const [outsider] = await clients(t, bench.url, 1, { transports });
    const got = new Map([...members, outsider].map((s) => [s, []]));
    for (const [s, list] of got) s.on("tick", (x) => list.push(x));
    await Promise.all(members.map((s) => s.emitWithAck("join", "spread")));
    outsider.emit("room-broadcast", "spread", { n: 1 });
    outsider.emit("broadcast", "barrier");
    await until(() => [...got.values()].every((l) => l.includes("barrier")), "every client got the barrier");
    for (const s of members) assert.deepEqual(got.get(s), [{ n: 1 }, "barrier"]);
    assert.deepEqual(got.get(outsider), ["barrier"]);
  });
}

it("polling requests landing on the shard that does not own the session are served", { timeout: TEST_TIMEOUT }, async () => {
  const mark = echo.stderrMark();
  // Every request on a new TCP connection: the kernel picks the shard each time.
  const base = `${echo.url}/socket.io/?EIO=4&transport=polling`;
  const opts = { headers: { Connection: "close" } };
  const open = await (await fetch(base, opts)).text();
  const sid = JSON.parse(open.slice(1)).sid;
  const q = `${base}&sid=${sid}`;
  const post = async (body) => {
    const r = await fetch(q, { ...opts, method: "POST", body, headers: { ...opts.headers, "Content-Type": "text/plain;charset=UTF-8" } });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), "ok");
  };
  await post("40");
  const first = await (await fetch(q, opts)).text();
  assert.match(first, /^40\{"sid":"[\w-]{20}"\}\x1e42\["auth",\{\}\]$/);
  for (let i = 0; i < 12; i++) {
    await post(`42["message",${i}]`);
    const r = await fetch(q, opts);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), `42["message-back",${i}]`);
  }
  // 26 requests on new connections: some landed on the shard that does not own the session.
  await assertHandedOver(echo, mark);
});

it("polling sessions upgrade when the WebSocket lands on the other shard", { timeout: TEST_TIMEOUT }, async (t) => {
  const mark = echo.stderrMark();
  const opts = { transports: ["polling", "websocket"] };
  const upgraded = (list) =>
    Promise.all(list.map((s) => (s.io.engine.transport.name === "websocket" ? null : waitFor(s.io.engine, "upgrade"))));
  const all = await spreadClients(t, echo.url, CLIENTS, opts);
  await upgraded(all);
  // Each upgrade is a new connection whose shard the kernel picks: with corelay, add clients
  // (up to 64 in all) until one was handed over, so that the case the title names happened.
  while (serverKind() !== "node" && handOvers(echo, mark) === 0 && all.length < 64) {
    const more = await clients(t, echo.url, 1, opts);
    await upgraded(more);
    all.push(...more);
    await new Promise((r) => setTimeout(r, 5)); // stderr written before the upgrade's answer
  }
  await assertHandedOver(echo, mark);
  for (const s of all) assert.equal(s.io.engine.transport.name, "websocket");
  const echoes = await Promise.all(all.map((s, i) => s.emitWithAck("message-with-ack", i)));
  assert.deepEqual(echoes, all.map((_, i) => i));
});

it("broadcast reaches every socket of its namespace on every shard, the sender included, and no other", { timeout: TEST_TIMEOUT }, async (t) => {
  for (const nsp of ["/", "/custom"]) {
    const other = nsp === "/" ? "/custom" : "/";
    const members = await spreadClients(t, `${echo.url}${nsp === "/" ? "" : nsp}`, 2, { transports: ["websocket"] });
    const [outsider] = await clients(t, `${echo.url}${other === "/" ? "" : other}`, 1, { transports: ["polling"] });
    const heard = [];
    outsider.on("broadcast", (x) => heard.push(x));
    const got = members.map((s) => waitFor(s, "broadcast"));
    members[1].emit("broadcast", { nsp, n: 1 });
    for (const p of got) assert.deepEqual((await p)[0], { nsp, n: 1 });
    // The outsider's own broadcast is the barrier: it came after the first, from one client.
    const back = waitFor(outsider, "broadcast");
    outsider.emit("broadcast", "barrier");
    await back;
    assert.deepEqual(heard, ["barrier"], `${other} heard a broadcast of ${nsp}`);
  }
});

it("an Io handle used from a foreign thread reaches clients on every shard", { timeout: TEST_TIMEOUT }, async (t) => {
  const all = await spreadClients(t, echo.url, CLIENTS, { transports: ["websocket"] });
  const polling = await clients(t, echo.url, 2, { transports: ["polling"] });
  const everyone = [...all, ...polling];
  const got = everyone.map((s) => waitFor(s, "foreign"));
  all[0].emit("foreign-broadcast", { from: "elsewhere" });
  for (const p of got) assert.deepEqual((await p)[0], { from: "elsewhere" });
});
