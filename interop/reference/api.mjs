// Reference implementation of the `api` example (Socket.IO, namespace / and the dynamic
// namespaces /^\/tenant-[0-9]+$/): the contract is in example-apps/src/api.rs, with the
// cluster part below (checked by test/api.test.mjs on one server, test/cluster.test.mjs on
// servers joined through Redis with --redis URL [--redis-sharded]).
//
// Cluster contract (namespace /; "every socket" and "the room" mean on every server of the
// cluster; without --redis the cluster is this one server):
//
// - `count` (room) (ack) → how many sockets are in `room` (`io.in(room).fetchSockets()`);
//   when that fails, `{"error": <message>}` (Node's redis adapter: "timeout reached while
//   waiting for fetchSockets response" classic, "timeout reached: only K responses received
//   out of M" sharded);
// - `whois` (room) (ack) → the sorted `user` values of the room's sockets; `{"error": ...}`
//   as `count`;
// - `members` (room) (ack) → the room's sockets as `{"id", "user", "rooms"}` (what
//   fetchSockets carries from every server: the id, the data's `user`, the rooms sorted, the
//   socket's own id room included), sorted by id; `{"error": ...}` as `count`;
// - `kick` (room) (ack) → n = how many sockets the room has (as `count`, `{"error": ...}` and
//   nothing kicked when that fails), then `io.in(room).disconnectSockets(true)`, then n;
// - `move` (from, to) (ack) → `io.in(from).socketsJoin(to)` then `io.in(from).socketsLeave(from)`,
//   then `true`.
//   With --redis, the joins, leaves and disconnections of `move` and `kick` are fire-and-forget,
//   done soon after the answer, not before it, on this server too: Node's classic adapter
//   applies them here when its own request comes back from Redis, the sharded one once Redis
//   acknowledged its SPUBLISH (so test/api.test.mjs's "done when answered" holds only without
//   --redis);
// - `gather` (ms) (ack) → asked = how many sockets `/` has (`io.fetchSockets()`, `{"error": ...}`
//   when that fails), then `io.timeout(ms).emit("question", cb)` to all of them (the asker
//   included) and `{"answers": <the first argument of each answer, sorted by JSON text>,
//   "missing": asked - answers}`;
// - `say` (text) (ack) → `io.emit("said", text)` to every socket, then `true`;
// - `room-say` (room, except, text) (ack) → `io.to(room).except(except).emit("said", text)`
//   (the sockets of `room` that are not in `except`), then `true`;
// - `server-ask` (ms) (ack) → asks every other server `ping-servers` with an acknowledgement
//   (`io.serverSideEmit("ping-servers", cb)`; each server's listener answers "pong") and
//   answers `{"answers": <sorted answers>}`, or `{"error": <message>, "answers": <the sorted
//   answers received>}` when not every server answered: Node's adapter waits 5000 ms
//   (requestsTimeout classic, a fixed 5000 ms sharded), "timeout reached: only K responses
//   received out of M". Socket.IO 4.8 has no per-call timeout for server-side emits
//   (`io.timeout(ms)` gives a BroadcastOperator without serverSideEmit), so `ms` bounds the
//   wait here: when it runs out first the answer is `{"error": "operation has timed out",
//   "answers": []}` (the answers so far are not available before the adapter's timeout);
// - `server-tell` (value) (ack) → `io.serverSideEmit("told", value)`, then `true`: every other
//   server keeps `value` as its last told value (fire-and-forget; a server-side emit does not
//   reach the server that emits it);
// - `last-told` (ack) → this server's last told value (`null` until told).
import { createServer } from "node:http";
import { Server } from "socket.io";
import { parseFlags, serve, socketIoOptions, withRedis } from "./common.mjs";

const opts = parseFlags();
const httpServer = createServer();
const io = new Server(httpServer, socketIoOptions(opts));
// Before anything uses the adapter: --redis replaces it.
await withRedis(io, opts);

const root = io.of("/");
const tenants = io.of(/^\/tenant-[0-9]+$/);

/** The arguments of an event, and its acknowledgement (a no-op when none was asked). */
function split(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : () => {};
  return [args, ack];
}

/**
 * The sockets `operator.fetchSockets()` finds, or null once `ack` was given
 * `{ error: message }` because the request failed (a cluster request that timed out).
 */
async function fetchSockets(operator, ack) {
  try {
    return await operator.fetchSockets();
  } catch (err) {
    ack({ error: err.message });
    return null;
  }
}

/** The last value another server told this one (`server-tell`), null until then. */
let lastTold = null;

// Server-side events from the other servers of the cluster (`io.on` listens on `/`): the
// arguments, then a callback when the emitter asked for an acknowledgement.
io.on("ping-servers", (...args) => {
  const cb = args.at(-1);
  if (typeof cb === "function") cb("pong");
});
io.on("told", (value) => {
  lastTold = value;
});

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
    const sockets = await fetchSockets(io.in(room), ack);
    if (sockets) ack(sockets.length);
  });

  socket.on("kick", async (...a) => {
    const [[room], ack] = split(a);
    const sockets = await fetchSockets(io.in(room), ack);
    if (!sockets) return;
    io.in(room).disconnectSockets(true);
    ack(sockets.length);
  });

  socket.on("move", (...a) => {
    const [[from, to], ack] = split(a);
    io.in(from).socketsJoin(to);
    io.in(from).socketsLeave(from);
    ack(true);
  });

  socket.on("whois", async (...a) => {
    const [[room], ack] = split(a);
    const sockets = await fetchSockets(io.in(room), ack);
    if (sockets) ack(sockets.map((s) => s.data.user).sort());
  });

  socket.on("members", async (...a) => {
    const [[room], ack] = split(a);
    const sockets = await fetchSockets(io.in(room), ack);
    if (!sockets) return;
    const members = sockets.map((s) => ({ id: s.id, user: s.data.user, rooms: [...s.rooms].sort() }));
    ack(members.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0)));
  });

  socket.on("gather", async (...a) => {
    const [[ms], ack] = split(a);
    const sockets = await fetchSockets(io, ack);
    if (!sockets) return;
    const asked = sockets.length;
    io.timeout(ms).emit("question", (err, responses) => {
      ack({ answers: [...responses].sort(byJson), missing: asked - responses.length });
    });
  });

  socket.on("say", (...a) => {
    const [[text], ack] = split(a);
    io.emit("said", text);
    ack(true);
  });

  socket.on("room-say", (...a) => {
    const [[room, except, text], ack] = split(a);
    io.to(room).except(except).emit("said", text);
    ack(true);
  });

  socket.on("server-ask", (...a) => {
    const [[ms], ack] = split(a);
    let done = false;
    const answer = (value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ack(value);
    };
    const timer = setTimeout(() => answer({ error: "operation has timed out", answers: [] }), ms);
    io.serverSideEmit("ping-servers", (err, responses) => {
      const answers = [...(responses ?? [])].sort(byJson);
      answer(err ? { error: err.message, answers } : { answers });
    });
  });

  socket.on("server-tell", (...a) => {
    const [[value], ack] = split(a);
    io.serverSideEmit("told", value);
    ack(true);
  });

  socket.on("last-told", (...a) => split(a)[1](lastTold));

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
