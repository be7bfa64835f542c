import { startServer } from "../lib/server.mjs";
import { client, connectWithAuth, waitFor, bytes } from "../lib/util.mjs";
const srv = await startServer("echo");
for (const tr of [["websocket"], ["polling"], ["polling","websocket"]]) for (const n of [10, 11]) {
const s = client(srv.url, { transports: tr });
await connectWithAuth(s);
if (tr.length == 2) await waitFor(s.io.engine, "upgrade");
const d = waitFor(s, "disconnect", 2000);
const p = waitFor(s, "message-back", 1000);
const args = Array.from({ length: n }, (_, i) => bytes(i + 1, i + 1));
s.emit("message", ...args);
try { const r = await p; console.log(tr, n, "ok", r.length); } catch (e) { console.log(tr, n, "FAIL", e.message); }
try { const [r, det] = await d; console.log(tr, n, "disconnect", r, det?.description?.message ?? det?.description, det?.context?.code); } catch (e) { console.log(tr, n, "no disconnect") }
s.close();
}
await srv.stop();
