// Reference implementation of the `echo` example (Socket.IO, namespaces / and /custom).
import { createServer } from "node:http";
import { Server } from "socket.io";
import { parseFlags, serve, socketIoOptions, withRedis } from "./common.mjs";

const opts = parseFlags();
const httpServer = createServer();
const io = new Server(httpServer, socketIoOptions(opts));
// Before anything uses the adapter: --redis replaces it.
await withRedis(io, opts);

function onConnection(socket) {
  socket.emit("auth", socket.handshake.auth);

  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });

  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });

  socket.on("request-ack", (timeoutMs, ...payload) => {
    socket.timeout(timeoutMs).emit("ack-request", ...payload, (err, ...res) => {
      socket.emit("ack-result", { err: err ? err.message : null, args: res });
    });
  });

  // corelay emits this from a plain thread through its Io handle; Node has one thread.
  socket.on("foreign-broadcast", (payload) => {
    socket.nsp.emit("foreign", payload);
  });

  socket.on("broadcast", (payload) => {
    socket.nsp.emit("broadcast", payload);
  });

  socket.on("disconnect-me", () => {
    socket.disconnect();
  });
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);

serve(httpServer, opts, () => io.close());
