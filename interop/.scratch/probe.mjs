import { startServer } from "../lib/server.mjs";
import { client, waitFor, connectWithAuth } from "../lib/util.mjs";
process.env.CORELAY_SERVER = "node";
const srv = await startServer("echo", { args: ["--max-payload", "1000"] });
for (const t of [["polling"], ["websocket"]]) {
  const s = client(srv.url, { transports: t });
  await connectWithAuth(s);
  const p = waitFor(s, "disconnect");
  s.on("message-back", (...a) => console.log("got back", a[0].length));
  s.emit("message", "x".repeat(2000));
  const [reason, desc] = await p;
  console.log(t, reason, desc && (desc.description?.message ?? desc.description), desc && desc.context?.status, desc);
  s.close();
}
// raw
const h = await fetch(srv.url + "/socket.io/?EIO=4&transport=polling", { headers: { Origin: "http://example.com" } });
console.log(h.status, [...h.headers]);
const body = await h.text(); console.log(body);
const sid = JSON.parse(body.slice(1)).sid;
const r = await fetch(srv.url + `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "4" + "y".repeat(2000), headers: { "Content-Type": "text/plain;charset=UTF-8", Origin: "http://example.com" } });
console.log("post", r.status, [...r.headers], JSON.stringify(await r.text()));
const r2 = await fetch(srv.url + `/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: "POST", body: "40", headers: { "Content-Type": "text/plain;charset=UTF-8" } });
console.log("post2", r2.status, [...r2.headers], JSON.stringify(await r2.text()));
const g = await fetch(srv.url + `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
console.log("get", g.status, [...g.headers], JSON.stringify(await g.text()));
for (const [m, q, o] of [["GET", "EIO=4&transport=foo"], ["GET", "EIO=4&transport=polling&sid=abc"], ["POST", "EIO=4&transport=polling"], ["GET", "EIO=3&transport=polling"], ["GET", "transport=polling"], ["GET", "EIO=4&transport=foo", "http://x.y"], ["OPTIONS", "EIO=4&transport=polling", "http://x.y"]]) {
  const res = await fetch(srv.url + "/socket.io/?" + q, { method: m, headers: o ? { Origin: o, "Access-Control-Request-Method": "POST" } : {} });
  console.log(m, q, res.status, [...res.headers], JSON.stringify(await res.text()));
}
await srv.stop();
