// The `api` example in a cluster: N servers joined through a `redis-server` of the file's own
// (`--redis URL`), with official `socket.io-client` clients spread over them (two or more per
// server, WebSocket and polling alternately). The whole file runs twice: with the classic
// Redis adapter and with the sharded one (`--redis-sharded`, Redis 7 SSUBSCRIBE/SPUBLISH).
// The servers are CORELAY_CLUSTER's kinds (default `node,node,node`; lib/cluster.mjs), so that
// corelay servers can be mixed with Node's; what Node's servers do is by definition correct.
//
// Before the tests of a run: redis-server on a free port, the servers, one "monitor" client per
// server (kept for the run; it answers `question` with its name), then readiness without sleeps:
// Redis counts N subscribers of the adapter's request channel (classic `PUBSUB NUMSUB
// socket.io-request#/#`, sharded `PUBSUB SHARDNUMSUB socket.io#/#`), and every server counts
// the N monitors in their room. Every client also joins `everyone` (so that the run knows when
// the clients of an ended test are gone).
//
// Tests (each run; in this order, the two faults last):
// - say: `say` issued on each server in turn reaches every client of every server, each once;
// - room-say: `io.to(room).except(room2)` from each server reaches the members of `room` not in
//   `room2` on every server, and nobody else (a `say` after it is the barrier: the messages of
//   one server reach another one in order);
// - count / whois / members: the room's sockets of every server, counted, their users sorted,
//   their ids, rooms and data as fetchSockets carries them, asked on each server;
// - move on each server: the members of every server move; remote joins and leaves are
//   fire-and-forget, so each server's count is polled (bounded) until it shows the move;
// - kick on each server: answers the cluster's count, every member on every server is
//   disconnected ("io server disconnect"), the room is then empty on every server;
// - server-ask from each server: the ids of every other server (`server-id`), once each;
// - server-tell / last-told: the other servers keep the value, not the one that told it (a
//   server-side emit does not reach its emitter);
// - gather: `asked` is the whole cluster's sockets: every answer comes back, the silent client
//   of each server is missing;
// - emitter (classic only): @socket.io/redis-emitter in the test process, with its own Redis
//   client, emits `news` to a room and then to all: the room's members on every server get
//   both, the others only the second. Sharded: skipped, as Node's sharded servers never get it
//   (the emitter PUBLISHes in the classic format; the sharded adapter listens with SSUBSCRIBE);
// - Redis stopped, then started again on the same port (observed Node behaviour below);
// - a server killed (SIGKILL): once Redis dropped its subscriptions (at once on loopback: polled
//   on the request channel as above), `count` on each surviving server counts the live servers'
//   members only, and `server-ask` answers one "pong" per other live server.
//
// Observed with Node's servers (socket.io 4.8.4, @socket.io/redis-adapter 8.3.0, redis 4.7.1
// with its defaults: reconnection every 500 ms at most and an offline queue, so a command issued
// while Redis is unreachable waits for the reconnection instead of failing):
// - while Redis is down, a broadcast from a server reaches its own clients at once with the
//   classic adapter (the PUBLISH is not awaited), but not with the sharded one: its
//   ClusterAdapter awaits the PUBLISH before the local delivery, so the server's own clients
//   get the message only once Redis is back;
// - while Redis is down, `count` does not answer at all (no `{error}`, not within
//   requestsTimeout + 1 s either: PUBSUB NUMSUB waits in the offline queue, and the adapter's
//   timeout only starts after it); it answers once Redis is back, with the members of the
//   servers whose subscriptions were back when the queued NUMSUB ran: seen, the local members
//   only, and the local ones plus those of one other server (of two);
// - a broadcast PUBLISHed while Redis is down may or may not reach the other servers once it is
//   back (it waits in the queue; their subscriptions may come back after it): not checked;
// - after the restart, broadcasts reach every server again within about a second;
// - the classic adapter does not catch a failed broadcast PUBLISH: Node would end the process
//   on that unhandled rejection (observed "Error: write EPIPE" when Redis was killed during a
//   burst), which reference/common.mjs logs instead.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { Emitter } from "@socket.io/redis-emitter";
import {
  clusterKinds,
  redisRequired,
  redisServerFound,
  shardedRun,
  startCluster,
  startRedis,
} from "../lib/cluster.mjs";
import { WAIT_MS, client, closeAll, record, until, useClient, waitFor, waitForUnlessConnectError } from "../lib/util.mjs";

const KINDS = clusterKinds();
/** The emitter example of corelay-redis (a plain Rust process publishing into the cluster). */
const EMIT_BIN =
  process.env.CORELAY_EMIT_BIN ?? fileURLToPath(new URL("../../target/release/examples/emit", import.meta.url));
const N = KINDS.length;
/** Node's adapter's requestsTimeout (its default). */
const REQUESTS_TIMEOUT_MS = 5_000;
/** The bound on a fire-and-forget effect reaching every server, or on recovering. */
const SETTLE_MS = 5_000;
const TEST_TIMEOUT = 30_000;
const FAULT_TIMEOUT = 60_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const byJson = (a, b) => {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};
const pad = (n) => String(n).padStart(2, "0");

/** An event with an acknowledgement, bounded. */
function ask(socket, event, ...args) {
  return socket.timeout(WAIT_MS).emitWithAck(event, ...args);
}

/** Calls `attempt` until `check` accepts its value (bounded); resolves with that value. */
async function eventually(label, attempt, check, ms = SETTLE_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await attempt();
      if (check(last)) return last;
    } catch (err) {
      last = `thrown: ${err.message}`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${label}; last: ${JSON.stringify(last)}`);
    await sleep(20);
  }
}

function cluster(mode) {
  const sharded = mode === "sharded";
  describe(`${mode} Redis adapter: a cluster of ${KINDS.join(",")}`, () => {
    let redis;
    let servers = [];
    /** One client per server, for the whole run. */
    let monitors = [];
    /** The test process' own Redis client (subscriber counts, the emitter). */
    let rc;

    /** How many servers Redis counts on the adapter's request channel of `/`. */
    async function subscribers() {
      const reply = sharded
        ? await rc.sendCommand(["PUBSUB", "SHARDNUMSUB", "socket.io#/#"])
        : await rc.sendCommand(["PUBSUB", "NUMSUB", "socket.io-request#/#"]);
      return Number(reply[1]);
    }

    /** A connected client of server `i` (joined to `everyone`), closed when `t` ends. */
    async function connect(t, i, token, n) {
      const transports = n % 2 === 0 ? ["websocket"] : ["polling"];
      const opts = { transports, auth: { token } };
      const s = t ? useClient(t, servers[i].url, opts) : client(servers[i].url, opts);
      if (!s.connected) await waitForUnlessConnectError(s, "connect");
      assert.equal(await ask(s, "join", "everyone"), true);
      return s;
    }

    /** `perServer` clients on every server: `{ s, server, user }`, user `${prefix}-${server}-${j}`. */
    function spread(t, prefix, perServer = 2) {
      const specs = [];
      for (let i = 0; i < N; i++) for (let j = 0; j < perServer; j++) specs.push({ server: i, user: `${prefix}-${i}-${pad(j)}` });
      return Promise.all(specs.map(async (c, n) => ({ ...c, s: await connect(t, c.server, c.user, n) })));
    }

    const on = (clients, i) => clients.filter((c) => c.server === i);

    before(async () => {
      redis = await startRedis();
      rc = createClient({ url: redis.url });
      rc.on("error", () => {}); // Redis is stopped on purpose below; the client reconnects.
      await rc.connect();
      servers = await startCluster({ redisUrl: redis.url, sharded, kinds: KINDS });
      await eventually(`Redis counts ${N} servers`, subscribers, (n) => n === N);
      monitors = await Promise.all(servers.map((_, i) => connect(null, i, `monitor-${i}`, 0)));
      monitors.forEach((m, i) => m.on("question", (ack) => ack(`monitor-${i}`)));
      await Promise.all(monitors.map((m) => ask(m, "join", "monitors")));
      for (const m of monitors) {
        await eventually("every server counts the monitors of all", () => ask(m, "count", "monitors"), (n) => n === N);
      }
    });

    after(async () => {
      closeAll(...monitors);
      // Each server's exit must be clean (stop() throws otherwise): reported once all is stopped.
      const stopped = await Promise.allSettled(servers.map((s) => s.stop()));
      if (rc?.isOpen) await rc.disconnect().catch(() => {});
      await redis?.stop();
      const failed = stopped.filter((r) => r.status === "rejected").map((r) => r.reason?.message ?? String(r.reason));
      if (failed.length > 0) throw new Error(failed.join("\n\n"));
    });

    it(`say from each server reaches every client of every server, once (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
      const clients = await spread(t, "say");
      const heard = clients.map((c) => record(c.s, "said", { single: true }));
      const texts = [];
      for (let i = 0; i < N; i++) {
        const text = `say-from-${i}`;
        texts.push(text);
        assert.equal(await ask(on(clients, i)[0].s, "say", text), true);
        await until(
          () => heard.every((h) => h.includes(text)),
          () => `"${text}" not heard by ${clients.filter((_, n) => !heard[n].includes(text)).map((c) => c.user)}`,
        );
      }
      clients.forEach((c, n) => assert.deepEqual(heard[n], texts, c.user));
    });

    it(`room-say: to(room).except(room2) from each server reaches the room's members not in room2 on every server (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
      const [room, except] = [`rs-room-${mode}`, `rs-except-${mode}`];
      // Per server: a member, a member also in `except`, and one in `except` only.
      const clients = await spread(t, "rs", 3);
      const roomsOf = (c) => [[room], [room, except], [except]][Number(c.user.slice(-2))];
      for (const c of clients) for (const r of roomsOf(c)) assert.equal(await ask(c.s, "join", r), true);
      const heard = clients.map((c) => record(c.s, "said", { single: true }));
      const expected = clients.map(() => []);
      for (let i = 0; i < N; i++) {
        const sender = on(clients, i)[2].s; // in `except` only: the sender needs no membership
        assert.equal(await ask(sender, "room-say", room, except, `rs-${i}`), true);
        assert.equal(await ask(sender, "say", `barrier-${i}`), true);
        clients.forEach((c, n) => {
          if (roomsOf(c).length === 1 && roomsOf(c)[0] === room) expected[n].push(`rs-${i}`);
          expected[n].push(`barrier-${i}`);
        });
        await until(() => heard.every((h) => h.includes(`barrier-${i}`)), `barrier-${i} heard by every client`);
      }
      clients.forEach((c, n) => assert.deepEqual(heard[n], expected[n], `${c.user} (rooms ${roomsOf(c)})`));
    });

    it(`count, whois and members answer the room's sockets of every server, asked on each (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
      const room = `cw-room-${mode}`;
      const clients = await spread(t, "cw");
      for (const c of [...clients].reverse()) assert.equal(await ask(c.s, "join", room), true);
      const users = clients.map((c) => c.user).sort();
      const members = clients
        .map((c) => ({ id: c.s.id, user: c.user, rooms: [c.s.id, room, "everyone"].sort() }))
        .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      for (let i = 0; i < N; i++) {
        const asker = on(clients, i)[0].s;
        assert.equal(await ask(asker, "count", room), clients.length, `count asked on server ${i}`);
        assert.deepEqual(await ask(asker, "whois", room), users, `whois asked on server ${i}`);
        assert.deepEqual(await ask(asker, "members", room), members, `members asked on server ${i}`);
        assert.equal(await ask(asker, "count", `cw-nobody-${mode}`), 0);
        assert.deepEqual(await ask(asker, "whois", `cw-nobody-${mode}`), []);
      }
    });

    it(`move issued on each server moves the members of every server (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
      const clients = await spread(t, "mv");
      const from = (i) => `mv-from-${mode}-${i}`;
      const to = (i) => `mv-to-${mode}-${i}`;
      for (const c of clients) for (let i = 0; i < N; i++) assert.equal(await ask(c.s, "join", from(i)), true);
      for (let i = 0; i < N; i++) {
        assert.equal(await ask(on(clients, i)[0].s, "move", from(i), to(i)), true);
        for (let k = 0; k < N; k++) {
          const asker = monitors[k];
          await eventually(`server ${k} counts every member in ${to(i)}`, () => ask(asker, "count", to(i)), (n) => n === clients.length);
          await eventually(`server ${k} counts nobody left in ${from(i)}`, () => ask(asker, "count", from(i)), (n) => n === 0);
        }
        assert.deepEqual(await ask(monitors[i], "whois", to(i)), clients.map((c) => c.user).sort());
      }
    });

    it(`kick issued on each server disconnects the members of every server (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
      for (let i = 0; i < N; i++) {
        const room = `kick-${mode}-${i}`;
        const members = await spread(t, `kick${i}`);
        const kicker = await connect(t, i, `kicker-${i}`, 1);
        for (const c of members) assert.equal(await ask(c.s, "join", room), true);
        const gone = members.map((c) => waitFor(c.s, "disconnect", SETTLE_MS));
        assert.equal(await ask(kicker, "kick", room), members.length, `kick on server ${i} counts the cluster's members`);
        for (const [n, p] of gone.entries()) assert.equal((await p)[0], "io server disconnect", members[n].user);
        assert.equal(kicker.connected, true);
        for (let k = 0; k < N; k++) {
          await eventually(`server ${k} counts nobody in ${room}`, () => ask(monitors[k], "count", room), (n) => n === 0);
        }
      }
    });

    it(`server-ask from each server gathers one answer from each other server (${mode})`, { timeout: TEST_TIMEOUT }, async () => {
      const ids = await Promise.all(monitors.map((m) => ask(m, "server-id")));
      assert.equal(new Set(ids).size, N, "every server has its own id");
      for (let i = 0; i < N; i++) {
        const others = ids.filter((_, k) => k !== i).sort(byJson);
        assert.deepEqual(await ask(monitors[i], "server-ask", 3000), { answers: others }, `asked on server ${i}`);
      }
    });

    it(`server-tell reaches every other server, not the one that told (${mode})`, { timeout: TEST_TIMEOUT }, async () => {
      const told = Array(N).fill(null);
      for (let i = 0; i < Math.min(N, 2); i++) {
        const value = { mode, from: i, list: [1, "two", null] };
        assert.equal(await ask(monitors[i], "server-tell", value), true);
        for (let k = 0; k < N; k++) if (k !== i) told[k] = value;
        for (let k = 0; k < N; k++) {
          if (k === i) continue;
          await eventually(`server ${k} was told by server ${i}`, () => ask(monitors[k], "last-told"), (v) => JSON.stringify(v) === JSON.stringify(value));
        }
        // The others heard it: the teller did not (it keeps what it had).
        assert.deepEqual(await ask(monitors[i], "last-told"), told[i], `server ${i} after telling`);
      }
    });

    it(`gather asks every socket of the cluster; the silent one of each server is missing (${mode})`, { timeout: TEST_TIMEOUT }, async (t) => {
      const answering = await spread(t, "g");
      answering.forEach((c) => c.s.on("question", (ack) => ack(c.user)));
      const silent = await Promise.all(servers.map((_, i) => connect(t, i, `silent-${i}`, i)));
      const asked = silent.map(() => 0);
      silent.forEach((s, i) => s.on("question", () => asked[i]++));
      // Only this test's clients and the monitors: the clients of the tests before are gone.
      const total = answering.length + silent.length + monitors.length;
      await eventually("the cluster holds this test's clients and the monitors only", () => ask(monitors[0], "count", "everyone"), (n) => n === total);
      const result = await ask(answering[0].s, "gather", 600);
      assert.deepEqual(result, {
        answers: [...answering.map((c) => c.user), ...monitors.map((_, i) => `monitor-${i}`)].sort(byJson),
        missing: silent.length,
      });
      assert.deepEqual(asked, silent.map(() => 1), "each silent client was asked once");
    });

    it(
      `the Redis emitter's news reach the room's members and then every client on every server (${mode})`,
      {
        timeout: TEST_TIMEOUT,
        skip: sharded && "@socket.io/redis-emitter 5.1.0 PUBLISHes in the classic adapter's format; Node's sharded servers (SSUBSCRIBE) never get it",
      },
      async (t) => {
        const room = `news-${mode}`;
        const clients = await spread(t, "news");
        const inRoom = (c) => c.user.endsWith("-00");
        for (const c of clients) if (inRoom(c)) assert.equal(await ask(c.s, "join", room), true);
        const heard = clients.map((c) => record(c.s, "news", { single: true }));
        const emitter = new Emitter(rc);
        emitter.to(room).emit("news", { to: room });
        emitter.emit("news", { to: "all" });
        await until(() => heard.every((h) => h.some((n) => n.to === "all")), "the news to all heard by every client");
        clients.forEach((c, n) => assert.deepEqual(heard[n], inRoom(c) ? [{ to: room }, { to: "all" }] : [{ to: "all" }], c.user));
      },
    );

    it(
      `a plain Rust process's emitter (corelay_redis::emitter) reaches the room's members and then every client on every server (${mode})`,
      {
        timeout: TEST_TIMEOUT,
        skip:
          (sharded && "the emitter publishes in the classic adapter's format, as @socket.io/redis-emitter does") ||
          (!existsSync(EMIT_BIN) && `no ${EMIT_BIN} (scripts/test.sh builds it: cargo build --release -p corelay-redis --example emit)`),
      },
      async (t) => {
        const room = `rust-news-${mode}`;
        const clients = await spread(t, "rnews");
        const inRoom = (c) => c.user.endsWith("-00");
        for (const c of clients) if (inRoom(c)) assert.equal(await ask(c.s, "join", room), true);
        const heard = clients.map((c) => record(c.s, "news", { single: true }));
        const emit = (...args) => execFileSync(EMIT_BIN, ["--redis", redis.url, ...args], { timeout: WAIT_MS, encoding: "utf8" });
        emit("--room", room, "news", JSON.stringify({ to: room, from: "rust" }));
        emit("news", JSON.stringify({ to: "all", from: "rust" }));
        await until(() => heard.every((h) => h.some((n) => n.to === "all")), "the Rust emitter's news to all heard by every client");
        const expected = (c) => (inRoom(c) ? [{ to: room, from: "rust" }, { to: "all", from: "rust" }] : [{ to: "all", from: "rust" }]);
        clients.forEach((c, n) => assert.deepEqual(heard[n], expected(c), c.user));
      },
    );

    // What the server of the asking clients (server 0) does while Redis is down depends on its
    // kind: Node's as observed above; corelay's as its README promises (local delivery goes on
    // with either adapter, a request fails with Node's message after requestsTimeout).
    const node0 = KINDS[0] === "node";
    const localWaits = node0 && sharded;
    it(`Redis stopped: local delivery ${localWaits ? "waits for Redis" : "goes on"}, count ${node0 ? "does not answer" : "fails after requestsTimeout"}; Redis back: broadcasts and count recover (${mode})`, { timeout: FAULT_TIMEOUT }, async (t) => {
      const room = `rr-${mode}`;
      const clients = await spread(t, "rr");
      for (const c of clients) assert.equal(await ask(c.s, "join", room), true);
      const heard = clients.map((c) => record(c.s, "said", { single: true }));
      const local = on(clients, 0);
      const localHeard = (text) => clients.every((c, n) => c.server !== 0 || heard[n].includes(text));
      const sender = local[0].s;

      await redis.stop();
      // The servers read the end of their Redis connections (the kernel closed them with the
      // process) on their next event-loop turn.
      await sleep(200);

      assert.equal(await ask(sender, "say", "rr-during"), true);
      if (localWaits) {
        await sleep(1000);
        assert.ok(!clients.some((c, n) => heard[n].includes("rr-during")), "the sharded adapter delivered while Redis was down");
      } else {
        await until(() => localHeard("rr-during"), "the server's own clients hear its broadcast while Redis is down", 2000);
      }

      let answer = null;
      sender.emit("count", room, (n) => {
        answer = { n };
      });
      if (node0) {
        await sleep(REQUESTS_TIMEOUT_MS + 1000);
        assert.equal(answer, null, "count answered while Redis was down");
        await redis.start();
        await until(() => answer !== null, "count answers once Redis is back", SETTLE_MS * 2);
        // The members of the servers subscribed again when the queued PUBSUB NUMSUB ran: its
        // own at least (2 per server).
        assert.ok(
          Number.isInteger(answer.n) && answer.n >= local.length && answer.n <= clients.length && (answer.n - local.length) % local.length === 0,
          `count answered ${JSON.stringify(answer.n)} once Redis was back: not the members of some servers, its own included (${local.length} per server, ${clients.length} in all)`,
        );
      } else {
        await until(() => answer !== null, "count answers while Redis is down", REQUESTS_TIMEOUT_MS + 2000);
        const expected = sharded ? /^timeout reached: only 0 responses received out of \d+$/ : /^timeout reached while waiting for fetchSockets response$/;
        assert.match(answer.n?.error ?? "", expected, `count failed with Node's error: ${JSON.stringify(answer.n)}`);
        await redis.start();
      }
      if (localWaits) await until(() => localHeard("rr-during"), "the server's own clients hear the broadcast once Redis is back", SETTLE_MS);

      // Broadcasts cross servers again (bounded): one `say` every 250 ms until every client heard one.
      const deadline = Date.now() + SETTLE_MS * 2;
      for (let k = 0; ; k++) {
        assert.equal(await ask(sender, "say", `rr-after-${k}`), true);
        await sleep(250);
        if (heard.every((h) => h.some((text) => text.startsWith("rr-after-")))) break;
        assert.ok(Date.now() < deadline, `broadcasts did not reach every server within ${SETTLE_MS * 2} ms of Redis' restart`);
      }
      for (let i = 0; i < N; i++) {
        await eventually(`server ${i} counts every member again`, () => ask(on(clients, i)[0].s, "count", room), (n) => n === clients.length, REQUESTS_TIMEOUT_MS * 3);
      }
    });

    it(
      `a server killed: once Redis dropped its subscriptions, count and server-ask reflect the live servers (${mode})`,
      { timeout: FAULT_TIMEOUT, skip: N < 2 && "one server: nobody would be left" },
      async (t) => {
        const room = `dead-${mode}`;
        const clients = await spread(t, "dead");
        for (const c of clients) assert.equal(await ask(c.s, "join", room), true);
        assert.equal(await ask(monitors[0], "count", room), clients.length);
        const victim = N - 1;
        const ids = await Promise.all(monitors.map((m) => ask(m, "server-id")));
        const dropped = [...on(clients, victim).map((c) => c.s), monitors[victim]].map((s) => waitFor(s, "disconnect", SETTLE_MS));
        await servers[victim].kill("SIGKILL");
        // "transport close" over WebSocket, "transport error" over polling.
        for (const p of dropped) assert.match((await p)[0], /^transport (close|error)$/);
        await eventually(`Redis counts ${N - 1} servers`, subscribers, (n) => n === N - 1);
        const live = clients.filter((c) => c.server !== victim).length;
        for (let i = 0; i < victim; i++) {
          assert.equal(await ask(monitors[i], "count", room), live, `count on server ${i}`);
          const others = ids.filter((_, k) => k !== i && k !== victim).sort(byJson);
          assert.deepEqual(await ask(monitors[i], "server-ask", 3000), { answers: others }, `server-ask on server ${i}`);
        }
      },
    );
  });
}

if (redisServerFound()) {
  cluster("classic");
  if (shardedRun()) cluster("sharded");
  else it("sharded Redis adapter", { skip: "CORELAY_CLUSTER_SHARDED=0: the sharded run is skipped" }, () => {});
} else if (redisRequired()) {
  it("redis-server is on PATH (CORELAY_REQUIRE_REDIS=1 requires it)", () => {
    assert.fail("redis-server not found on PATH, and CORELAY_REQUIRE_REDIS=1 requires it");
  });
} else {
  it("Redis cluster", { skip: "redis-server not found on PATH: the cluster tests are skipped (CORELAY_REQUIRE_REDIS=1 makes this a failure)" }, () => {});
}
