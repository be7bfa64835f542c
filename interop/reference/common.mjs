// Shared flag parsing and lifecycle helpers for the Node reference servers.
// Every example server (Node reference or Rust) accepts the same flags and
// prints exactly one line `listening on http://HOST:PORT` once it accepts
// connections.

const DEFAULTS = {
  port: 3000,
  host: "127.0.0.1",
  pingIntervalMs: 25000,
  pingTimeoutMs: 20000,
  maxPayload: 1000000,
  connectTimeoutMs: 45000,
  shards: 1,
};

const FLAGS = {
  "--port": "port",
  "--host": "host",
  "--ping-interval-ms": "pingIntervalMs",
  "--ping-timeout-ms": "pingTimeoutMs",
  "--max-payload": "maxPayload",
  "--connect-timeout-ms": "connectTimeoutMs",
  "--shards": "shards", // accepted, ignored by Node
};

/** The options every Socket.IO reference server takes from the flags, with `extra` added. */
export function socketIoOptions(opts, extra = {}) {
  return {
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
    if (key === "host") {
      opts.host = value;
    } else {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) {
        console.error(`invalid value for ${flag}: ${value}`);
        process.exit(2);
      }
      opts[key] = n;
    }
  }
  return opts;
}

// Start listening, print the single "listening on" line, and shut down
// gracefully on SIGTERM / SIGINT (forced exit after a short grace period).
export function serve(httpServer, opts, closeApp) {
  httpServer.on("error", (err) => {
    console.error(`server error: ${err.stack || err}`);
    process.exit(1);
  });
  httpServer.listen(opts.port, opts.host, () => {
    const { port } = httpServer.address();
    const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
    process.stdout.write(`listening on http://${host}:${port}\n`);
  });
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
    httpServer.close(() => process.exit(0));
    setImmediate(() => httpServer.closeAllConnections());
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}
