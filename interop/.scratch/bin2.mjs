import { startServer } from "../lib/server.mjs";
import { client, connectWithAuth, waitFor, bytes } from "../lib/util.mjs";
const srv = await startServer("echo");
const s = client(srv.url, { transports: ["websocket"] });
await connectWithAuth(s);
s.on("disconnect", (r) => console.log("disconnect", r));
const args = [
        "text first",
        bytes(3, 1),
        { nested: { bin: bytes(5, 2), list: [bytes(1, 3), "x", Buffer.alloc(0), 42] }, plain: "y" },
        [bytes(7, 4), { deep: [[bytes(9, 5)]] }, null],
        bytes(2000, 6),
        new Uint8Array([1, 2, 3, 250]),
        new Uint8Array([9, 8, 7]).buffer,
        { same: bytes(4, 8), again: bytes(4, 8) },
      ];
for (let n = 1; n <= args.length; n++) {
  const p = waitFor(s, "message-back", 1000);
  s.emit("message", ...args.slice(0, n));
  try { await p; console.log("ok", n); } catch (e) { console.log("FAIL", n, e.message); }
}
s.close(); await srv.stop();
