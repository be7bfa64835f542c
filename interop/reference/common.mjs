// Shared flag parsing and lifecycle helpers for the Node reference servers.
// Every example server (Node reference or Rust) accepts the same flags and
// prints exactly one line `listening on http://HOST:PORT` once it accepts
// connections.
//
// Cluster flags (every Socket.IO example; `engine_echo` accepts and ignores them):
//   --redis URL        join a cluster through @socket.io/redis-adapter (`createAdapter`, the
//                      classic Redis pub/sub adapter, default options: requestsTimeout 5000 ms)
//                      with two `redis` v4 clients made from URL (pub, and its duplicate for sub);
//   --redis-sharded    (no value) use `createShardedAdapter` instead (Redis 7 sharded pub/sub,
//                      SSUBSCRIBE/SPUBLISH); requires --redis.
// `withRedis(io, opts)` does it; `serve` prints the listening line only after it resolved
// (both clients connected, the adapter's subscriptions confirmed by Redis). Connection errors
// are logged on stderr (`redis pub error: ...`) and the clients reconnect (redis v4's default
// strategy, every 500 ms at most; commands issued meanwhile wait in its offline queue). On
// shutdown the clients are closed after the app.
//
// Parser flag (every Socket.IO example; `engine_echo` accepts and ignores it):
//   --parser json|msgpack   the Socket.IO parser (default json, the built-in `socket.io-parser`);
//                           msgpack: `socket.io-msgpack-parser` 3.0.2, which the clients must
//                           use too (`io(url, { parser: require("socket.io-msgpack-parser") })`).
// `socketIoOptions(opts)` passes it on as the server's `parser` option.
import { createRequire } from "node:module";
import * as redis from "redis";
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";

const require = createRequire(import.meta.url);

/** `--parser` values → the `parser` option of the Socket.IO server (none: the default one). */
const PARSERS = {
  json: () => undefined,
  msgpack: () => require("socket.io-msgpack-parser"),
};

const DEFAULTS = {
  port: 3000,
  host: "127.0.0.1",
  pingIntervalMs: 25000,
  pingTimeoutMs: 20000,
  maxPayload: 1000000,
  connectTimeoutMs: 45000,
  shards: 1,
  redis: null,
  redisSharded: false,
  parser: "json",
};

const FLAGS = {
  "--port": "port",
  "--host": "host",
  "--ping-interval-ms": "pingIntervalMs",
  "--ping-timeout-ms": "pingTimeoutMs",
  "--max-payload": "maxPayload",
  "--connect-timeout-ms": "connectTimeoutMs",
  "--shards": "shards", // accepted, ignored by Node
  "--redis": "redis",
  "--parser": "parser",
};

/** Flags that take no value. */
const BOOLEAN_FLAGS = {
  "--redis-sharded": "redisSharded",
};

/** The options every Socket.IO reference server takes from the flags, with `extra` added. */
export function socketIoOptions(opts, extra = {}) {
  const parser = PARSERS[opts.parser]();
  return {
    ...(parser ? { parser } : {}),
    path: "/socket.io/",
    cors: { origin: "*" },
    pingInterval: opts.pingIntervalMs,
    pingTimeout: opts.pingTimeoutMs,
    maxHttpBufferSize: opts.maxPayload,
    connectTimeout: opts.connectTimeoutMs,
    ...extra,
  };
}

export function parseFlags(argv = process.argv.slice(2)) {
  const opts = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i];
    let value;
    const eq = flag.indexOf("=");
    if (eq !== -1) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (BOOLEAN_FLAGS[flag]) {
      if (value !== undefined) {
        console.error(`${flag} takes no value`);
        process.exit(2);
      }
      opts[BOOLEAN_FLAGS[flag]] = true;
      continue;
    }
    const key = FLAGS[flag];
    if (!key) {
      console.error(`unknown flag: ${flag}`);
      process.exit(2);
    }
    if (value === undefined) {
      value = argv[++i];
    }
    if (value === undefined) {
      console.error(`missing value for ${flag}`);
      process.exit(2);
    }
    if (key === "host" || key === "redis") {
      opts[key] = value;
    } else if (key === "parser") {
      if (!Object.hasOwn(PARSERS, value)) {
        console.error(`invalid value for ${flag}: ${value} (json or msgpack)`);
        process.exit(2);
      }
      opts[key] = value;
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) {
        console.error(`invalid value for ${flag}: ${value}`);
        process.exit(2);
      }
      opts[key] = n;
    }
  }
  if (opts.redisSharded && !opts.redis) {
    console.error("--redis-sharded requires --redis URL");
    process.exit(2);
  }
  return opts;
}

/** What `serve`'s shutdown closes after the app (the Redis clients). */
const cleanups = [];
/** Resolves when `withRedis` is done (`serve` waits for it before listening). */
let joining = Promise.resolve();

/**
 * With `--redis URL`: connects a pub and a sub client, installs the Redis adapter (the sharded
 * one with `--redis-sharded`) on `io` and resolves once Redis confirmed the adapter's
 * subscriptions. Without it, does nothing. `serve` waits for it before listening.
 */
export function withRedis(io, opts) {
  if (!opts.redis) return Promise.resolve();
  joining = (async () => {
    let pub;
    try {
      pub = redis.createClient({ url: opts.redis });
    } catch (err) {
      console.error(`invalid value for --redis: ${opts.redis}: ${err.message}`);
      process.exit(2);
    }
    const sub = pub.duplicate();
    // The classic adapter does not catch the PUBLISH it sends for a broadcast: one in flight
    // when the connection to Redis breaks rejects unhandled, which ends a Node process by
    // default (observed: "Error: write EPIPE"). Such a failure is logged; any other unhandled
    // rejection still ends the process as it would have.
    process.on("unhandledRejection", (reason) => {
      if (!isRedisFailure(reason)) throw reason;
      console.error(`redis: a command failed: ${reason.message}`);
    });
    for (const [name, client] of [["pub", pub], ["sub", sub]]) {
      // Logged, never thrown: the client keeps reconnecting.
      client.on("error", (err) => console.error(`redis ${name} error: ${err.message || err}`));
      client.on("reconnecting", () => console.error(`redis ${name} reconnecting`));
      client.on("ready", () => console.error(`redis ${name} ready`));
    }
    cleanups.push(() =>
      Promise.allSettled(
        // QUIT waits for Redis; a client that is not connected is closed at once.
        [pub, sub].map((c) => (c.isReady ? c.quit() : c.isOpen ? c.disconnect() : undefined)),
      ),
    );
    // Until `serve` installs its own, SIGTERM / SIGINT while joining close the clients and exit 0.
    const quit = () => Promise.allSettled(cleanups.map((c) => c())).then(() => process.exit(0));
    process.once("SIGTERM", quit);
    process.once("SIGINT", quit);
    await Promise.all([pub.connect(), sub.connect()]);
    process.off("SIGTERM", quit);
    process.off("SIGINT", quit);
    io.adapter(opts.redisSharded ? createShardedAdapter(pub, sub) : createAdapter(pub, sub));
    // The adapter subscribed (without waiting); a later command's reply on the same connection
    // comes after those subscriptions were confirmed.
    await sub.ping();
    console.error(`redis: joined ${opts.redisSharded ? "sharded" : "classic"} cluster at ${opts.redis}`);
  })().catch((err) => {
    console.error(`redis: could not join the cluster: ${err.stack || err}`);
    process.exit(1);
  });
  return joining;
}

/** A Redis command's failure: an error of the `redis` client, or of its socket. */
function isRedisFailure(reason) {
  if (!(reason instanceof Error)) return false;
  if (typeof reason.syscall === "string") return true;
  return Object.values(redis).some(
    (E) => typeof E === "function" && E.prototype instanceof Error && reason instanceof E,
  );
}

// Start listening, print the single "listening on" line, and shut down
// gracefully on SIGTERM / SIGINT (forced exit after a short grace period).
export function serve(httpServer, opts, closeApp) {
  httpServer.on("error", (err) => {
    console.error(`server error: ${err.stack || err}`);
    process.exit(1);
  });
  // With --redis, once the cluster is joined (withRedis).
  joining.then(() =>
    httpServer.listen(opts.port, opts.host, () => {
      const { port } = httpServer.address();
      const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
      process.stdout.write(`listening on http://${host}:${port}\n`);
    }),
  );
  // Graceful shutdown: close every session the way the library does on
  // close() (Engine.IO close packet / WebSocket close frame), then drop the
  // remaining HTTP connections. Bounded: the process exits within 2 s anyway.
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), 2000).unref();
    try {
      await closeApp();
    } catch (err) {
      console.error(`close error: ${err}`);
    }
    for (const cleanup of cleanups) {
      try {
        await cleanup();
      } catch (err) {
        console.error(`close error: ${err}`);
      }
    }
    httpServer.close(() => process.exit(0));
    setImmediate(() => httpServer.closeAllConnections());
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
