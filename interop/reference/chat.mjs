// Reference implementation of the `chat` demo (Socket.IO, namespace /, and the page at / with
// the client bundle at /socket.io.min.js): the contract is `chat_app` in
// example-apps/src/lib.rs. (The Rust example's --client-js flag is not taken: the bundle is
// the one `npm ci` installs.)
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Server } from "socket.io";
import { parseFlags, serve, socketIoOptions, withRedis } from "./common.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const PAGE = readFileSync(resolve(here, "../../example-apps/src/page.html"));
const BUNDLE = readFileSync(resolve(here, "../node_modules/socket.io-client/dist/socket.io.min.js"));
const LOOKUP_MS = 10;

const opts = parseFlags();
const httpServer = createServer((req, res) => {
  // socket.io answers its own path before this listener runs.
  if (req.url.startsWith("/socket.io/")) return;
  const path = req.url.split("?")[0];
  if (path === "/" || path === "/index.html") {
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(PAGE);
  } else if (path === "/socket.io.min.js") {
    res.writeHead(200, { "Content-Type": "application/javascript; charset=utf-8" }).end(BUNDLE);
  } else {
    res.writeHead(404).end();
  }
});
const io = new Server(httpServer, socketIoOptions(opts));
// Before anything uses the adapter: --redis replaces it.
await withRedis(io, opts);

let online = 0;

// A (simulated) user lookup before the socket joins; the name is the socket's data.
io.use((socket, next) => {
  const asked = socket.handshake.auth.name;
  setTimeout(() => {
    const name = typeof asked === "string" && asked.trim() !== "" ? asked : `guest-${socket.id.slice(2, 6)}`;
    socket.data.name = [...name].slice(0, 32).join("");
    next();
  }, LOOKUP_MS);
});

io.on("connection", (socket) => {
  const { name } = socket.data;
  online += 1;
  socket.emit("welcome", { name, online });
  socket.broadcast.emit("joined", { name, online });

  socket.on("chat message", (text, ack) => {
    if (typeof text !== "string") return;
    io.emit("chat message", { name, text: [...text].slice(0, 2000).join("") });
    if (typeof ack === "function") ack("delivered");
  });

  socket.on("typing", () => {
    socket.broadcast.emit("typing", name);
  });

  socket.on("disconnecting", () => {
    online -= 1;
    socket.broadcast.emit("left", { name, online });
  });
});

serve(httpServer, opts, () => io.close());
