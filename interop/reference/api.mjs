// Reference implementation of the `api` example (Socket.IO, namespace / and the dynamic
// namespaces /^\/tenant-[0-9]+$/): the contract is in example-apps/src/api.rs.
import { createServer } from "node:http";
import { Server } from "socket.io";
import { parseFlags, serve, socketIoOptions } from "./common.mjs";

const opts = parseFlags();
const httpServer = createServer();
const io = new Server(httpServer, socketIoOptions(opts));

const root = io.of("/");
const tenants = io.of(/^\/tenant-[0-9]+$/);

/** The arguments of an event, and its acknowledgement (a no-op when none was asked). */
function split(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : () => {};
  return [args, ack];
}

/** Sorts JSON values by their JSON text. */
const byJson = (a, b) => {
  const [x, y] = [JSON.stringify(a), JSON.stringify(b)];
  return x < y ? -1 : x > y ? 1 : 0;
};

root.use((socket, next) => {
  const token = socket.handshake.auth.token;
  if (token === "bad") {
    const err = new Error("unauthorized");
    err.data = { code: 401 };
    return next(err);
  }
  socket.data = { user: typeof token === "string" ? token : "anonymous" };
  next();
});

root.on("connection", (socket) => {
  // Every event counts, the current one included: onAny runs before the listeners.
  let events = 0;
  socket.onAny(() => {
    events += 1;
  });

  socket.on("any-count", (...a) => split(a)[1](events - 1));

  socket.on("whoami", (...a) => split(a)[1]({ user: socket.data.user, id: socket.id }));

  socket.on("slow-echo", (...a) => {
    const [[ms, value], ack] = split(a);
    setTimeout(() => ack(value), ms);
  });

  socket.on("join", (...a) => {
    const [[room], ack] = split(a);
    socket.join(room);
    ack(true);
  });

  socket.on("count", async (...a) => {
    const [[room], ack] = split(a);
    ack((await io.in(room).fetchSockets()).length);
  });

  socket.on("kick", async (...a) => {
    const [[room], ack] = split(a);
    const n = (await io.in(room).fetchSockets()).length;
    io.in(room).disconnectSockets(true);
    ack(n);
  });

  socket.on("move", (...a) => {
    const [[from, to], ack] = split(a);
    io.in(from).socketsJoin(to);
    io.in(from).socketsLeave(from);
    ack(true);
  });

  socket.on("whois", async (...a) => {
    const [[room], ack] = split(a);
    const users = (await io.in(room).fetchSockets()).map((s) => s.data.user);
    ack(users.sort());
  });

  socket.on("gather", (...a) => {
    const [[ms], ack] = split(a);
    const asked = root.sockets.size;
    io.timeout(ms).emit("question", (err, responses) => {
      ack({ answers: [...responses].sort(byJson), missing: asked - responses.length });
    });
  });

  // corelay emits this from a plain thread through its Io handle; Node has one thread.
  socket.on("later", (ms, event) => {
    setTimeout(() => io.to(socket.id).emit(event), ms);
  });

  socket.on("tenant-all", (...args) => {
    tenants.emit("tenant-news", ...args);
  });
});

tenants.on("connection", (socket) => {
  socket.on("name", (...a) => split(a)[1](socket.nsp.name));
});

serve(httpServer, opts, () => io.close());
