// Test vectors of the Socket.IO msgpack parser, written by the real npm packages.
//
// Rerun (from any scratch directory holding the packages):
//
//   mkdir -p /tmp/mp && cd /tmp/mp && npm install socket.io-msgpack-parser@3.0.2
//   node /path/to/corelay/core/src/wire/sio/msgpack/vectors.mjs \
//     > /path/to/corelay/core/src/wire/sio/msgpack/vectors.json
//
// Each vector is a packet as socket.io 4.8 (server) or socket.io-client 4.8 (client) builds it,
// with its members in the order those packages set them; `hex` is what the parser's Encoder
// writes for it. `decoded` is what corelay's `msgpack::decode` must yield for those bytes: the
// packet as the parser's Decoder gives it, its `data` written with `JSON.stringify` after
// every binary value (Buffer, ArrayBuffer, typed array) is replaced by the placeholder
// `{"_placeholder":true,"num":N}`, the binary values listed in order. `invalid` holds inputs
// the Decoder refuses. In `packet`, a Buffer is written `{"$bin":"<hex>"}` and `undefined`
// `{"$undefined":true}`.

import { createRequire } from "node:module";

const require = createRequire(process.cwd() + "/");
const parser = require("socket.io-msgpack-parser");
const msgpack = require("notepack.io");

const bin = (hex) => Buffer.from(hex, "hex");
const SID = "Yx3kPq9ZrT2vLmN8wQaB";

// [name, from, packet]
const packets = [
  // What the server sends (member orders of socket.io 4.8's socket.js / broadcast-operator.js).
  ["event no args", "server", { type: 2, data: ["ping"], nsp: "/" }],
  ["event strings", "server", { type: 2, data: ["chat", "hello", "héllo wörld ✓ 😀"], nsp: "/" }],
  ["event numbers", "server", { type: 2, data: ["n", 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, Number.MAX_SAFE_INTEGER, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -Number.MAX_SAFE_INTEGER], nsp: "/" }],
  ["event floats", "server", { type: 2, data: ["f", 1.5, -0.25, 0.1, 3.141592653589793, 1.5e-7, 123456.789, 5e-324, -2.5e-300], nsp: "/" }],
  ["event null bool", "server", { type: 2, data: ["x", null, true, false], nsp: "/" }],
  ["event nested", "server", { type: 2, data: ["state", { user: { name: "ann", tags: ["a", "b"], age: 31 }, list: [[1, [2, [3]]], {}], empty: [], s: "" }], nsp: "/" }],
  ["event long string and array", "server", { type: 2, data: ["big", "x".repeat(40), "y".repeat(300), Array.from({ length: 20 }, (_, i) => i), Object.fromEntries(Array.from({ length: 17 }, (_, i) => ["k" + i, i]))], nsp: "/" }],
  ["event escapes", "server", { type: 2, data: ["esc", "quote\" backslash\\ nl\n tab\t ctl\u0001 del\u007f", { "key\"x": "v" }], nsp: "/" }],
  ["event binary top", "server", { type: 2, data: ["file", bin("00010203ff")], nsp: "/" }],
  ["event binary nested", "server", { type: 2, data: ["files", { a: bin(""), b: [bin("aa"), { c: bin("bbcc") }] }, bin("dd".repeat(300))], nsp: "/" }],
  ["event admin", "server", { type: 2, data: ["hi", 1], nsp: "/admin" }],
  ["event with ack id", "server", { type: 2, data: ["ask", "q"], id: 0, nsp: "/" }],
  ["event with large ack id admin", "server", { type: 2, data: ["ask"], id: 70000, nsp: "/admin" }],
  ["ack no args", "server", { id: 3, type: 3, data: [], nsp: "/" }],
  ["ack args", "server", { id: 12, type: 3, data: ["ok", { n: 1 }, bin("0102")], nsp: "/admin" }],
  ["connect", "server", { type: 0, data: { sid: SID }, nsp: "/" }],
  ["connect admin with pid", "server", { type: 0, data: { sid: SID, pid: "pidPidPidPidPidPidPi" }, nsp: "/admin" }],
  ["connect_error", "server", { type: 4, data: { message: "Invalid namespace" }, nsp: "/nope" }],
  ["connect_error data", "server", { type: 4, data: { message: "not authorized", data: { code: 401, retry: false } }, nsp: "/" }],
  ["disconnect", "server", { type: 1, nsp: "/" }],
  ["disconnect admin", "server", { type: 1, nsp: "/admin" }],
  // What the client sends (socket.io-client 4.8's socket.js: `options` rides along).
  ["client connect no auth", "client", { type: 0, data: undefined, nsp: "/" }],
  ["client connect auth", "client", { type: 0, data: { token: "abc", n: 1 }, nsp: "/admin" }],
  ["client connect recovery", "client", { type: 0, data: { pid: "pid", offset: "off", token: "t" }, nsp: "/" }],
  ["client event", "client", { type: 2, data: ["msg", "hi", 2.5], options: { compress: true }, nsp: "/" }],
  ["client event ack", "client", { type: 2, data: ["ask", { q: [1, 2] }], options: { compress: true }, id: 5, nsp: "/admin" }],
  ["client event numeric name", "client", { type: 2, data: [42, "x"], options: { compress: true }, nsp: "/" }],
  ["client event binary", "client", { type: 2, data: ["up", bin("cafe"), { inner: [bin("beef")] }], options: { compress: true }, nsp: "/" }],
  ["client event typed array", "client", { type: 2, data: ["ta", new Uint8Array([1, 2, 3])], options: { compress: true }, nsp: "/" }],
  ["client event undefined", "client", { type: 2, data: ["u", undefined, { a: undefined, b: 1 }], options: { compress: true }, nsp: "/" }],
  ["client event date", "client", { type: 2, data: ["d", new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)), new Date(-1)], options: { compress: true }, nsp: "/" }],
  ["client ack", "client", { type: 3, id: 7, data: ["done", null], nsp: "/" }],
  ["client ack empty", "client", { type: 3, id: 8, data: [], nsp: "/admin" }],
  ["client disconnect", "client", { type: 1, nsp: "/" }],
];

// Raw inputs: [name, hex]; those the Decoder accepts become decode-only vectors.
const raw = [
  ["float32 and float64 ints", "83a47479706502a46461746193a166ca3fc00000cb4008000000000000a36e7370a12f"],
  // Integral floats past 2^64 come only from other encoders (notepack garbles them).
  ["floats past 2^64", "83a4747970 6502 a464617461 94a165 cb444b1ae4d6e2ef50 cbfe37e43c8800759c cb3e8421f5f40d8376 a36e7370 a12f"],
  ["type as float", "83a4747970 65cb4000000000000000 a464617461 91a165 a36e7370 a12f"],
  ["id as float", "84a4747970 6503 a464617461 90 a36e7370 a12f a26964 cb4014000000000000"],
  ["id undefined", "84a4747970 6503 a464617461 90 a36e7370 a12f a26964 d40000"],
  ["duplicate data last wins", "84a4747970 6502 a464617461 91a161 a36e7370 a12f a464617461 91a162"],
  ["map keys not strings", "83a4747970 6502 a464617461 92a165 84 01 c3 cb3ff8000000000000 c0 c0 c2 c3 a178 a36e7370 a12f"],
  ["ext types", "83a4747970 6502 a464617461 94a165 d50501 02 c70300aabbcc d40000 a36e7370 a12f"],
  ["uint64 safe", "83a4747970 6502 a464617461 92a165 cf001fffffffffffff a36e7370 a12f"],
  ["nan and infinity", "83a4747970 6502 a464617461 93a165 cb7ff8000000000000 cbfff0000000000000 a36e7370 a12f"],
  ["negative zero", "83a4747970 6502 a464617461 92a165 cb8000000000000000 a36e7370 a12f"],
  ["empty nsp", "82a4747970 6501 a36e7370 a0"],
  ["event empty array (refused by corelay)", "83a4747970 6502 a464617461 90 a36e7370 a12f"],
  ["event reserved name (refused by corelay)", "83a4747970 6502 a464617461 91a7636f6e6e656374 a36e7370 a12f"],
  ["invalid: type 5", "83a4747970 6505 a464617461 91a165 a36e7370 a12f"],
  ["invalid: type string", "83a474797065 a132 a464617461 91a165 a36e7370 a12f"],
  ["invalid: no nsp", "82a4747970 6502 a464617461 91a165"],
  ["invalid: nsp number", "83a4747970 6502 a464617461 91a165 a36e7370 01"],
  ["invalid: event data map", "83a4747970 6502 a464617461 80 a36e7370 a12f"],
  ["invalid: disconnect with data", "83a4747970 6501 a464617461 80 a36e7370 a12f"],
  ["invalid: connect data array", "83a4747970 6500 a464617461 90 a36e7370 a12f"],
  ["invalid: connect_error data number", "83a4747970 6504 a464617461 01 a36e7370 a12f"],
  ["invalid: id fraction", "84a4747970 6503 a464617461 90 a36e7370 a12f a26964 cb3ff8000000000000"],
  ["invalid: id string", "84a4747970 6503 a464617461 90 a36e7370 a12f a26964 a131"],
  ["invalid: truncated", "83a4747970 6502 a464617461 91a165 a36e7370 a1"],
  ["invalid: trailing bytes", "82a4747970 6501 a36e7370 a12f 00"],
  ["invalid: reserved marker", "c1"],
  ["invalid: not a map", "93020102"],
  ["invalid: empty", ""],
].map(([name, hex]) => [name, hex.replace(/\s+/g, "")]);

function tagged(value) {
  if (value === undefined) return { $undefined: true };
  if (Buffer.isBuffer(value)) return { $bin: value.toString("hex") };
  if (value instanceof Uint8Array) return { $bin: Buffer.from(value).toString("hex") };
  if (value instanceof Date) return { $date: value.getTime() };
  if (Array.isArray(value)) return value.map(tagged);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tagged(v)]));
  }
  return value;
}

// corelay's internal form of a decoded packet.
function internal(decoded) {
  const attachments = [];
  const walk = (v) => {
    if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      attachments.push(Buffer.from(v instanceof ArrayBuffer ? new Uint8Array(v) : v).toString("hex"));
      return { _placeholder: true, num: attachments.length - 1 };
    }
    if (v instanceof Date) return v;
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  const data = decoded.data === undefined ? null : JSON.stringify(walk(decoded.data));
  return { type: decoded.type, nsp: decoded.nsp, id: decoded.id ?? null, data, attachments };
}

function decodeWithParser(buf) {
  const decoder = new parser.Decoder();
  let out;
  decoder.on("decoded", (p) => (out = p));
  decoder.add(buf);
  return out;
}

const vectors = [];
for (const [name, from, packet] of packets) {
  const [encoded] = new parser.Encoder().encode(packet);
  vectors.push({
    name,
    from,
    packet: tagged(packet),
    hex: encoded.toString("hex"),
    decoded: internal(decodeWithParser(encoded)),
  });
}
const invalid = [];
for (const [name, hex] of raw) {
  try {
    const decoded = decodeWithParser(Buffer.from(hex, "hex"));
    vectors.push({ name, from: "raw", hex, decoded: internal(decoded) });
  } catch (e) {
    invalid.push({ name, hex, error: e.message });
  }
}
// notepack.io's own value encoding, for numbers the vectors above do not reach.
const numbers = [0, -0, 1.5, 2 ** 53, -(2 ** 53), 2 ** 63, 1e20, NaN, Infinity].map((n) => ({
  value: Object.is(n, -0) ? "-0" : String(n),
  hex: msgpack.encode(n).toString("hex"),
}));

process.stdout.write(JSON.stringify({ generator: "socket.io-msgpack-parser@3.0.2 (notepack.io@2.2.0)", vectors, invalid, numbers }, null, 1) + "\n");
