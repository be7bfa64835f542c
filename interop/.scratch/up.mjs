import { startServer } from "../lib/server.mjs";
import { client, connectWithAuth } from "../lib/util.mjs";
const srv = await startServer("echo");
for (let i = 0; i < 5; i++) {
const s = client(srv.url);
const e = s.io.engine;
const log = [];
e.on("open", () => log.push("open:" + e.transport.name));
e.on("upgrading", () => log.push("upgrading"));
e.on("upgrade", () => log.push("upgrade"));
e.on("packetCreate", (p) => log.push("out:" + p.type + ":" + e.transport.name + (e.upgrading ? "(upg)" : "")));
e.on("packet", (p) => log.push("in:" + p.type + ":" + String(p.data).slice(0, 10)));
s.on("connect", () => { log.push("connect"); s.emit("message", 1); });
await connectWithAuth(s);
log.push("auth");
await new Promise((r) => setTimeout(r, 100));
console.log(log.join(" "));
s.close();
}
await srv.stop();
