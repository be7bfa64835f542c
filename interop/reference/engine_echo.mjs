// Reference implementation of the `engine_echo` example: a bare Engine.IO
// server at /engine.io/ that sends every message back as it came. The cluster flags
// (--redis, --redis-sharded) are accepted and ignored: there is no Socket.IO adapter here.
import { createServer } from "node:http";
import { attach } from "engine.io";
import { parseFlags, serve } from "./common.mjs";

const opts = parseFlags();
const httpServer = createServer();
const engine = attach(httpServer, {
  path: "/engine.io/",
  cors: { origin: "*" },
  pingInterval: opts.pingIntervalMs,
  pingTimeout: opts.pingTimeoutMs,
  maxHttpBufferSize: opts.maxPayload,
});

engine.on("connection", (socket) => {
  socket.on("message", (data) => {
    socket.send(data);
  });
});

serve(httpServer, opts, () => engine.close());
