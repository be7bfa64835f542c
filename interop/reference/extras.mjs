// Reference implementation of the `extras` example (Socket.IO, namespace /): the Engine.IO
// hooks, once and the catch-all listeners, per-packet middleware, volatile events and the
// adapter's room events. The contract is in example-apps/src/extras.rs.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { parseFlags, serve, socketIoOptions, withRedis } from "./common.mjs";

const opts = parseFlags();
const httpServer = createServer();
const io = new Server(
  httpServer,
  socketIoOptions(opts, {
    // A handshake asking `deny=1` is refused after an asynchronous step.
    allowRequest: (req, cb) => {
      const query = new URL(req.url, "http://localhost").searchParams;
      if (query.get("deny") === "1") setTimeout(() => cb("denied", false), 10);
      else cb(null, true);
    },
  }),
);
// Before anything uses the adapter (the room events below): --redis replaces it.
await withRedis(io, opts);

let refused = 0;
io.engine.on("connection_error", () => {
  refused += 1;
});
io.engine.on("initial_headers", (headers) => {
  headers["x-initial"] = "1";
});
io.engine.on("headers", (headers) => {
  headers["x-every"] = "1";
});

// The room events of rooms named `r-…`, in order, without socket ids.
const roomEvents = [];
const ours = (room) => typeof room === "string" && room.startsWith("r-");
for (const [event, word] of [
  ["create-room", "create"],
  ["join-room", "join"],
  ["leave-room", "leave"],
  ["delete-room", "delete"],
]) {
  io.of("/").adapter.on(event, (room) => {
    if (ours(room)) roomEvents.push(`${word} ${room}`);
  });
}

/** The arguments of an event, and its acknowledgement (a no-op when none was asked). */
function split(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : () => {};
  return [args, ack];
}

io.on("connection", (socket) => {
  // What the catch-all listeners ran since the last `order` answer, and how many events
  // were emitted to this socket.
  let order = [];
  let outgoing = 0;
  socket.onAny(() => order.push("any"));
  socket.prependAny(() => order.push("prepend"));
  socket.onAnyOutgoing(() => {
    outgoing += 1;
  });

  socket.use(([event], next) => (event === "forbidden" ? next(new Error("not allowed")) : next()));
  socket.on("error", (err) => socket.emit("error-event", { message: err.message }));

  socket.once("first", (...a) => split(a)[1]("once"));
  socket.on("first", () => socket.emit("first-again"));

  socket.on("order", (...a) => {
    const answer = order;
    order = [];
    split(a)[1](answer);
  });
  socket.on("off-any", (...a) => {
    socket.offAny();
    order = [];
    split(a)[1](true);
  });
  socket.on("outgoing", (...a) => split(a)[1](outgoing));
  socket.on("errors", (...a) => split(a)[1](refused));

  socket.on("forbidden", (...a) => split(a)[1]("reached the listener"));

  socket.on("volatile-burst", (...a) => {
    const [[n], ack] = split(a);
    for (let i = 0; i < n; i++) io.to(socket.id).volatile.emit("v", i);
    ack(n);
  });
  socket.on("burst", (...a) => {
    const [[n], ack] = split(a);
    for (let i = 0; i < n; i++) socket.emit("b", i);
    ack(n);
  });

  socket.on("join", (...a) => {
    const [[room], ack] = split(a);
    socket.join(room);
    ack(true);
  });
  socket.on("leave", (...a) => {
    const [[room], ack] = split(a);
    socket.leave(room);
    ack(true);
  });
  socket.on("room-events", (...a) => split(a)[1](roomEvents));
});

serve(httpServer, opts, () => io.close());
