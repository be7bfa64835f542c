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
