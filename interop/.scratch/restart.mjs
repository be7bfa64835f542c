import { startServer } from "../lib/server.mjs";
import { client, waitFor, connectWithAuth } from "../lib/util.mjs";
process.env.CORELAY_SERVER = "node";
for (const t of [["polling"], ["websocket"], ["polling", "websocket"]]) {
const srv = await startServer("echo");
  const s = client(srv.url, { transports: t, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 });
  await connectWithAuth(s);
  if (t.length == 2) await waitFor(s.io.engine, "upgrade");
  const p = waitFor(s, "disconnect");
  s.io.on("reconnect_attempt", (n) => console.log("attempt", n));
  s.io.on("reconnect_error", (e) => console.log("rerr", e.message));
  console.log("stop", await srv.stop());
  const [reason, desc] = await p;
  console.log(t, reason, desc?.description?.message ?? desc?.description);
  await srv.restart();
  const [n] = await waitFor(s.io, "reconnect");
  console.log("reconnected", n, s.io.engine.transport.name);
  s.close();
  await srv.stop();
}
