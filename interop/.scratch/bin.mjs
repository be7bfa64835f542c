import { startServer } from "../lib/server.mjs";
import { client, connectWithAuth, waitFor, bytes } from "../lib/util.mjs";
const srv = await startServer("echo");
const s = client(srv.url, { transports: ["websocket"] });
await connectWithAuth(s);
s.on("disconnect", (r) => console.log("disconnect", r));
for (const a of [new Uint8Array([1, 2, 3, 250]), new Uint8Array([9, 8, 7]).buffer, { same: bytes(4, 8), again: bytes(4, 8) }, [bytes(7, 4), { deep: [[bytes(9, 5)]] }, null], { nested: { bin: bytes(5, 2), list: [bytes(1, 3), "x", Buffer.alloc(0), 42] }, plain: "y" }]) {
  const p = waitFor(s, "message-back", 1000);
  s.emit("message", a);
  try { console.log(await p); } catch (e) { console.log("FAIL", a, e.message); }
}
s.close(); await srv.stop();
