// Test vectors of the @socket.io/redis-adapter 8.3 wire format, made by the library itself.
//
// Rerun (needs Node 18+ and the npm registry):
//
//   mkdir -p /tmp/redisref && cd /tmp/redisref && npm init -y \
//     && npm install @socket.io/redis-adapter@8.3.0 socket.io@4.8.1 notepack.io
//   NODE_PATH=/tmp/redisref/node_modules node redis/vectors/generate.mjs redis/vectors
//
// It writes `classic.json` (createAdapter) and `sharded.json` (createShardedAdapter). Every
// vector is what the adapter handed to PUBLISH / SPUBLISH, captured by fake Redis clients: the
// library's own code paths build and encode each message (a real socket.io 4.8.1 Server drives
// the sending side; `onrequest` / `onRawMessage` drive the answering side, with fake sockets
// standing in for connected clients). The one exception is the classic SOCKETS request, which
// 8.3 answers but no longer sends: it is built with the expression of the 7.x source
// (`JSON.stringify({ uid, requestId, type: 0, rooms })`).
//
// `crypto.randomBytes` is replaced by a counter so that server uids and request ids are the
// same on every run. Each vector: { name, channel, format: "json" | "msgpack", hex }.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(process.env.NODE_PATH ? join(process.env.NODE_PATH, "x.js") : import.meta.url);
const crypto = require("crypto");
let counter = 0;
crypto.randomBytes = (n) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (counter++ * 37 + 11) & 0xff;
  return b;
};
const { Server } = require("socket.io");
const { createAdapter, createShardedAdapter } = require("@socket.io/redis-adapter");
const msgpack = require("notepack.io");

const outDir = process.argv[2] || ".";
const tick = () => new Promise((r) => setTimeout(r, 5));

function record(list, name, channel, msg) {
  const buf = Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
  list.push({ name, channel, format: buf[0] === 0x7b ? "json" : "msgpack", hex: buf.toString("hex") });
}

// A fake connected socket, enough for the in-memory adapter's apply(), fetchSockets() and
// broadcastWithAck().
function fakeSocket(nsp, id, rooms) {
  const socket = {
    id,
    handshake: {
      headers: { host: "localhost:3000", "user-agent": "node" },
      time: "Mon Jan 01 2024 00:00:00 GMT+0000 (Coordinated Universal Time)",
      address: "::1",
      xdomain: false,
      secure: false,
      issued: 1704067200000,
      url: "/socket.io/?EIO=4&transport=websocket",
      query: { EIO: "4", transport: "websocket" },
      auth: { token: "abc" },
    },
    rooms: new Set([id, ...rooms]),
    data: { user: "ann", level: 3 },
    acks: new Map(),
    client: { writeToEngine() {} },
  };
  nsp.sockets.set(id, socket);
  nsp.adapter.addAll(id, new Set([id, ...rooms]));
  return socket;
}

// ---------------------------------------------------------------- classic (createAdapter)
async function classic() {
  const out = [];
  let last = null;
  const pub = {
    publish(channel, msg) { last = { channel, msg }; out.push(last); return Promise.resolve(1); },
    on() {}, off() {},
    send_command(cmd, args, cb) { cb(null, [args[1], 3]); }, // PUBSUB NUMSUB: 3 servers
  };
  const sub = { psubscribe() {}, subscribe() {}, punsubscribe() {}, unsubscribe() {}, on() {}, off() {} };
  const vectors = [];
  const take = (name) => { for (const m of out.splice(0)) record(vectors, name, m.channel, m.msg); };

  const io = new Server();
  io.adapter(createAdapter(pub, sub));
  const nsp = io.of("/");
  const adapter = nsp.adapter;
  vectors.push({ name: "uid", channel: "", format: "text", hex: Buffer.from(adapter.uid).toString("hex") });

  io.emit("hello", 1, "two", { three: [3.5, true, null] });
  take("broadcast");
  io.emit("bin", Buffer.from([1, 2, 3]), { nested: Buffer.from([0xff]) });
  take("broadcast_binary");
  io.to("room1").except("room2").volatile.compress(false).emit("ev");
  take("broadcast_room");
  io.to(["room1", "room3"]).except(["a", "b"]).local.emit("nothing"); // local: not published
  io.to(["room1", "room3"]).except(["a", "b"]).emit("two rooms");
  take("broadcast_rooms");
  io.of("/admin").emit("in admin", "x");
  take("broadcast_admin");

  io.timeout(1000).emit("question", 42, () => {});
  take("request_broadcast_ack");
  io.in("room1").socketsJoin(["room4", "room5"]);
  take("request_remote_join");
  io.except("room1").socketsLeave("room4");
  take("request_remote_leave");
  io.in("room2").disconnectSockets(true);
  take("request_remote_disconnect");
  io.in("room1").fetchSockets().catch(() => {});
  await tick();
  take("request_remote_fetch");
  nsp.serverSideEmit("hello", "world", 1);
  take("request_server_side_emit");
  nsp.serverSideEmit("ping", () => {});
  await tick();
  take("request_server_side_emit_ack");
  adapter.allRooms().catch(() => {});
  await tick();
  take("request_all_rooms");
  // 8.3 answers SOCKETS but no longer sends it: the 7.x expression.
  record(vectors, "request_sockets", adapter.requestChannel,
    JSON.stringify({ uid: adapter.uid, requestId: "req001", type: 0, rooms: ["room1"] }));

  // The answering side: requests from another server, answered through the library.
  fakeSocket(nsp, "AAAAAAAAAAAAAAAAAAAA", ["room1"]);
  const other = "other1";
  const ask = async (req, asJson = true) => {
    const msg = asJson ? Buffer.from(JSON.stringify(req)) : msgpack.encode(req);
    await adapter.onrequest(adapter.requestChannel, msg);
    await tick();
  };
  await ask({ uid: other, requestId: "req002", type: 0, rooms: ["room1"] });
  take("response_sockets");
  await ask({ uid: other, requestId: "req003", type: 1 });
  take("response_all_rooms");
  await ask({ uid: other, requestId: "req004", type: 5, opts: { rooms: ["room1"], except: [] } });
  take("response_remote_fetch");
  nsp.on("ping", (a, cb) => cb({ pong: a }));
  await ask({ uid: other, requestId: "req005", type: 6, data: ["ping", 7] });
  take("response_server_side_emit");
  const bpacket = { type: 2, data: ["question", 1], nsp: "/" };
  await ask({ uid: other, requestId: "req006", type: 7, packet: bpacket, opts: { rooms: [], except: [], flags: { timeout: 1000 } } }, false);
  take("response_broadcast_client_count");
  const s = nsp.sockets.get("AAAAAAAAAAAAAAAAAAAA");
  for (const [, ack] of s.acks) ack({ answer: Buffer.from([9, 8]) });
  take("response_broadcast_ack");

  // Options: `key` prefix and publishOnSpecificResponseChannel.
  const io2 = new Server();
  io2.adapter(createAdapter(pub, sub, { key: "myapp", publishOnSpecificResponseChannel: true }));
  const nsp2 = io2.of("/chat");
  vectors.push({ name: "uid_prefixed", channel: "", format: "text", hex: Buffer.from(nsp2.adapter.uid).toString("hex") });
  io2.of("/chat").to("r").emit("prefixed");
  take("prefixed_broadcast_room");
  io2.of("/chat").socketsJoin("r2");
  take("prefixed_request_remote_join");
  await nsp2.adapter.onrequest(nsp2.adapter.requestChannel, Buffer.from(JSON.stringify({ uid: other, requestId: "req007", type: 1 })));
  await tick();
  take("prefixed_response_all_rooms");
  return vectors;
}

// ---------------------------------------------------------------- sharded (createShardedAdapter)
async function sharded() {
  const out = [];
  const client = {
    sSubscribe() {}, sUnsubscribe() {},
    sPublish(channel, msg) { out.push({ channel, msg }); return Promise.resolve(1); },
    sendCommand(args) { return Promise.resolve([args[2], 3]); }, // PUBSUB SHARDNUMSUB: 3 servers
  };
  const vectors = [];
  const take = (name) => { for (const m of out.splice(0)) record(vectors, name, m.channel, m.msg); };
  const io = new Server();
  io.adapter(createShardedAdapter(client, client));
  const nsp = io.of("/");
  const adapter = nsp.adapter;
  vectors.push({ name: "uid", channel: "", format: "text", hex: Buffer.from(adapter.uid).toString("hex") });

  io.emit("hello", 1, "two", { three: [3.5, true, null] });
  await tick(); take("broadcast");
  io.emit("bin", Buffer.from([1, 2, 3]));
  await tick(); take("broadcast_binary");
  io.to("room1").except("room2").volatile.emit("ev");
  await tick(); take("broadcast_room");
  io.to("AAAAAAAAAAAAAAAAAAAB").emit("to a socket id");
  await tick(); take("broadcast_socket_id");
  io.timeout(1000).emit("question", 42, () => {});
  await tick(); take("broadcast_ack");
  io.in("room1").socketsJoin(["room4", "room5"]);
  await tick(); take("sockets_join");
  io.except("room1").socketsLeave("room4");
  await tick(); take("sockets_leave");
  io.in("room2").disconnectSockets(true);
  await tick(); take("disconnect_sockets");
  io.in("room1").fetchSockets().catch(() => {});
  await tick(); take("fetch_sockets");
  nsp.serverSideEmit("hello", "world", 1);
  await tick(); take("server_side_emit");
  nsp.serverSideEmit("ping", () => {});
  await tick(); take("server_side_emit_ack");

  fakeSocket(nsp, "AAAAAAAAAAAAAAAAAAAA", ["room1"]);
  const other = "0123456789abcdef";
  const send = async (m) => { adapter.onRawMessage(Buffer.from(JSON.stringify(m)), adapter.channel); await tick(); };
  await send({ type: 7, data: { opts: { rooms: ["room1"], except: [] }, requestId: "r1" }, uid: other, nsp: "/" });
  take("fetch_sockets_response");
  nsp.on("ping", (a, cb) => cb({ pong: a, bin: Buffer.from([1]) }));
  await send({ type: 9, data: { requestId: "r2", packet: ["ping", 7] }, uid: other, nsp: "/" });
  take("server_side_emit_response_binary");
  // An answer without binary is JSON:
  nsp.removeAllListeners("ping");
  nsp.on("ping", (a, cb) => cb("pong"));
  await send({ type: 9, data: { requestId: "r4", packet: ["ping", 9] }, uid: other, nsp: "/" });
  take("server_side_emit_response");
  await send({ type: 3, data: { packet: { type: 2, data: ["question", 1], nsp: "/" }, requestId: "r5", opts: { rooms: [], except: [], flags: { timeout: 1000 } } }, uid: other, nsp: "/" });
  take("broadcast_client_count");
  const s = nsp.sockets.get("AAAAAAAAAAAAAAAAAAAA");
  for (const [, ack] of s.acks) ack("yes");
  await tick(); take("broadcast_ack_response");

  const io2 = new Server();
  io2.adapter(createShardedAdapter(client, client, { channelPrefix: "myapp", subscriptionMode: "static" }));
  io2.of("/chat").to("r").emit("static mode");
  await tick(); take("prefixed_static_broadcast_room");
  return vectors;
}

const c = await classic();
const s = await sharded();
writeFileSync(join(outDir, "classic.json"), JSON.stringify(c, null, 1) + "\n");
writeFileSync(join(outDir, "sharded.json"), JSON.stringify(s, null, 1) + "\n");
console.log(`wrote ${c.length} classic and ${s.length} sharded vectors to ${outDir}`);
process.exit(0);
