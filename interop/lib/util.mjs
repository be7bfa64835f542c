// Small helpers shared by the tests. Every wait is bounded.
import { io } from "socket.io-client";

export const TEST_TIMEOUT = 15_000;
export const WAIT_MS = 5_000;

/** Wait for one `event` on an emitter; resolves with the array of arguments. */
export function waitFor(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, handler);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    const handler = (...args) => {
      clearTimeout(timer);
      resolve(args);
    };
    emitter.once(event, handler);
  });
}

/** Reject if `promise` does not settle within `ms`. */
export function within(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${label}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Poll `predicate` until true (bounded). `label` may be a function, evaluated on timeout. */
export async function until(predicate, label, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms: ${typeof label === "function" ? label() : label}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Create a Socket.IO client with the suite's defaults (forceNew, no reconnection). */
export function client(url, opts = {}) {
  return io(url, { forceNew: true, reconnection: false, timeout: WAIT_MS, ...opts });
}

/** Wait for `event`, failing early with the error of `connect_error`. Resolves with the args. */
export function waitForUnlessConnectError(socket, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(event, onEvent);
      socket.off("connect_error", onError);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    const onEvent = (...args) => {
      cleanup();
      resolve(args);
    };
    const onError = (err) => {
      cleanup();
      reject(new Error(`connect_error while waiting for "${event}": ${err && err.message}`));
    };
    socket.on(event, onEvent);
    socket.on("connect_error", onError);
  });
}

/** Connect and resolve with the payload of the first `auth` event. */
export async function connectWithAuth(socket, ms = WAIT_MS) {
  const [auth] = await waitForUnlessConnectError(socket, "auth", ms);
  return auth;
}

/** Normalise a received binary value to a Buffer, asserting it is binary. */
export function toBuffer(value) {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new Error(`expected binary, got ${Object.prototype.toString.call(value)}: ${JSON.stringify(value)}`);
}

/** Deterministic pseudo-random bytes. */
export function bytes(n, seed = 1) {
  const buf = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** Close Socket.IO sockets (and their managers) or Engine.IO sockets. */
export function closeAll(...sockets) {
  for (const s of sockets) {
    if (!s) continue;
    try {
      if (s.io) {
        s.disconnect();
        s.io._close();
      } else {
        s.close();
      }
    } catch {}
  }
}

/** Create a Socket.IO client that is closed automatically when test `t` ends. */
export function useClient(t, url, opts = {}) {
  const s = client(url, opts);
  t.after(() => closeAll(s));
  return s;
}

/** Replace every binary value by { $bin: hex } (asserting it really is binary), recursively. */
export function normalize(value) {
  if (Buffer.isBuffer(value) || value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
    return { $bin: toBuffer(value).toString("hex") };
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
    return out;
  }
  return value;
}

/** Collect the arguments of every `event` into an array (one entry per event). */
export function record(emitter, event, { single = false } = {}) {
  const list = [];
  emitter.on(event, (...args) => list.push(single ? args[0] : args));
  return list;
}

/** The shard of a corelay socket: the first two characters of its id (core/src/sid.rs). */
export const shardOf = (socket) => socket.id.slice(0, 2);

/** How many shards the sockets of `list` sit on. */
export const shardsOf = (list) => new Set(list.map(shardOf)).size;

/**
 * At least `n` connected clients, client `i` made by `connectOne(i)` (a promise of a connected
 * socket). Against corelay (`kind`, the server's kind, other than "node"; a server run with
 * `--shards 2`), more are added, up to 64 in all, until they sit on both shards: the kernel
 * picks the shard of each connection, and a cross-shard case whose clients all share one shard
 * proves nothing. Node has no shards: its `n` clients are enough.
 */
export async function spreadOverShards(n, connectOne, kind) {
  const all = await Promise.all(Array.from({ length: n }, (_, i) => connectOne(i)));
  if (kind === "node") return all;
  while (shardsOf(all) < 2 && all.length < 64) all.push(await connectOne(all.length));
  if (shardsOf(all) < 2) throw new Error(`${all.length} clients all landed on one shard`);
  return all;
}
