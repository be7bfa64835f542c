// Reference implementation of the `bench` example (Socket.IO, namespace /).
import { createServer } from "node:http";
import { Server } from "socket.io";
import { parseFlags, serve, socketIoOptions, withRedis } from "./common.mjs";

const opts = parseFlags();
const httpServer = createServer();
const io = new Server(httpServer, socketIoOptions(opts));
// Before anything uses the adapter: --redis replaces it.
await withRedis(io, opts);

io.on("connection", (socket) => {
  socket.on("echo", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });

  socket.on("broadcast", (arg) => {
    io.emit("tick", arg);
  });

  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack();
  });

  socket.on("room-broadcast", (room, payload) => {
    io.to(room).emit("tick", payload);
  });
});

serve(httpServer, opts, () => io.close());
