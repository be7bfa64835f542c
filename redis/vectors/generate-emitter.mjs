// Test vectors of the @socket.io/redis-emitter 5.x wire format, made by the library itself.
//
// Rerun (needs Node 18+ and the npm registry):
//
//   mkdir -p /tmp/redisref && cd /tmp/redisref && npm init -y \
//     && npm install @socket.io/redis-emitter@5 notepack.io
//   NODE_PATH=/tmp/redisref/node_modules node redis/vectors/generate-emitter.mjs redis/vectors
//
// It writes `emitter.json`: every vector is what the emitter handed to PUBLISH, captured by a
// fake Redis client, for one call of the emitter's API (the comment before each capture is
// the call; `tests/emitter.rs` makes the same call with `corelay_redis::emitter` and compares
// channel and bytes). The emitter has no randomness (its uid is the constant "emitter"), so
// the output is the same on every run. Each vector: { name, channel, format: "json" |
// "msgpack", hex }, the shape of `classic.json`; `version` is the emitter's package version.
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(process.env.NODE_PATH ? join(process.env.NODE_PATH, "x.js") : import.meta.url);
const { Emitter } = require("@socket.io/redis-emitter");
const version = require("@socket.io/redis-emitter/package.json").version;

const outDir = process.argv[2] || ".";
const out = [];
const client = { publish(channel, msg) { out.push({ channel, msg }); return Promise.resolve(1); } };
const vectors = [{ name: "version", channel: "", format: "text", hex: Buffer.from(version).toString("hex") }];

// Records what `call` published (exactly one message) under `name`.
function take(name, call) {
  call();
  if (out.length !== 1) throw new Error(`${name}: ${out.length} messages published`);
  const { channel, msg } = out.pop();
  const buf = Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
  vectors.push({ name, channel, format: buf[0] === 0x7b ? "json" : "msgpack", hex: buf.toString("hex") });
}

const io = new Emitter(client);

take("emit_all", () => io.emit("hello", 1, "two", { three: [3.5, true, null] }));
take("emit_no_args", () => io.emit("ping"));
take("emit_room", () => io.to("room1").emit("ev", "a"));
take("emit_room_twice", () => io.to("room1").in("room1").emit("ev"));
take("emit_two_rooms", () => io.to("room1").to("room2").emit("ev", "b"));
take("emit_except", () => io.except("room2").emit("ev"));
take("emit_room_except", () => io.in("room1").except("a").except("b").emit("ev"));
take("emit_custom_nsp", () => io.of("/custom").emit("in custom", "x"));
take("emit_nsp_without_slash", () => io.of("custom").to("r").emit("ev"));
take("emit_volatile", () => io.volatile.emit("ev", 1));
take("emit_compress_false", () => io.compress(false).emit("ev", 1));
take("emit_volatile_compress", () => io.to("room1").volatile.compress(false).emit("ev"));
take("emit_compress_volatile", () => io.compress(true).volatile.compress(false).emit("ev"));
take("emit_binary", () => io.emit("bin", Buffer.from([1, 2, 3]), { nested: Buffer.from([0xff]) }));
take("emit_binary_large", () => io.emit("bin", Buffer.alloc(300, 7)));
take("emit_several_args", () => io.emit("args", "a", 2, false, null, [1, "x"], { k: "v" }));
// What a Rust struct, map, unit and float become (see `tests/emitter.rs`):
take("emit_numbers", () => io.emit("numbers",
  0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 9007199254740991,
  -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -9007199254740991,
  1.5, -0.25, 2.0, -0, 0.1, 2 ** 60, NaN, Infinity, -Infinity));
// notepack writes an integral number of 2^64 or more as a 64-bit integer, wrapped around:
// 1e300 as 0. corelay writes the float64 (a known, tested difference).
take("emit_huge_integral_float", () => io.emit("big", 1e300));
take("emit_strings", () => io.emit("strings", "", "é", "x".repeat(31), "y".repeat(32), "z".repeat(256), "日本"));
take("emit_object", () => io.emit("object",
  { name: "ann", age: 42, tags: ["a", "b"], address: { city: "Paris", zip: null }, admin: false }));
take("emit_numeric_keys", () => io.emit("keys", JSON.parse('{"b":1,"10":2,"a":3,"2":4,"01":5,"-1":6}')));
take("emit_long_array", () => io.emit("array", Array.from({ length: 20 }, (_, i) => i)));
take("emit_custom_key", () => new Emitter(client, { key: "myapp" }).of("/chat").to("r").emit("prefixed"));
take("sockets_join", () => io.to("room1").socketsJoin(["room4", "room5"]));
take("sockets_join_one", () => io.socketsJoin("room4"));
take("sockets_leave", () => io.except("room1").socketsLeave("room4"));
take("disconnect_sockets_close", () => io.in("room2").disconnectSockets(true));
take("disconnect_sockets", () => io.disconnectSockets());
take("server_side_emit", () => io.serverSideEmit("hello", "world", 1));
take("server_side_emit_binary", () => io.serverSideEmit("bin", Buffer.from([1, 2]), { f: 1.5 }));
// JSON numbers as JavaScript spells them.
take("server_side_emit_numbers", () => io.serverSideEmit("numbers",
  0.1, -2.5, 1e21, 1.5e21, 1e20, 2 ** 60, 9007199254740993, 1e-7, 1.5e-7, 0.000001, 123e-20, -1e300, 5e-324,
  1.7976931348623157e308, -0, NaN, Infinity, 42));
take("server_side_emit_custom", () => new Emitter(client, { key: "myapp" }).of("/chat").serverSideEmit("ping"));

// The reserved names: refused, nothing published.
for (const ev of ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]) {
  let refused = false;
  try { io.emit(ev); } catch { refused = true; }
  if (!refused || out.length) throw new Error(`${ev} was not refused`);
}

writeFileSync(join(outDir, "emitter.json"), JSON.stringify(vectors, null, 1) + "\n");
console.log(`wrote ${vectors.length} emitter vectors (redis-emitter ${version}) to ${outDir}`);
