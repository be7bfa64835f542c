// Test vectors of the `cors` (2.8) and `cookie` (0.7) options of Node's Socket.IO server, made
// by the server itself: a real socket.io 4.8 / engine.io 6.6 server (from interop/node_modules,
// so with the `cors` and `cookie` packages it depends on) answers real HTTP requests for each
// configuration below, and the status and the CORS and cookie headers of each answer are
// recorded.
//
// Rerun (after `npm ci` in interop/):
//
//   node core/tests/vectors/cors.mjs > core/tests/vectors/cors.json
//
// Each vector: { config, name, method, query, headers, session, expect: { status, headers } }.
// `query` holds `{sid}` for a request of a session opened by a handshake without Origin
// (`session`: "open", or "connected" after a POST of "40"); `expect.status` is null when the
// server closes the connection without answering; `expect.headers` are [name, value] pairs in
// the order of the answer, names lowercased, `{sid}` in place of the session id.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import http from "node:http";

const require = createRequire(fileURLToPath(new URL("../../../interop/package.json", import.meta.url)));
const { Server } = require("socket.io");

// The configurations, by the names the Rust test gives them (core/src/shard/tests/cors.rs).
const CONFIGS = {
  none: {},
  any: { cors: { origin: "*" } },
  any_credentials: { cors: { origin: "*", credentials: true } },
  fixed: { cors: { origin: "https://a.example" } },
  list: { cors: { origin: ["https://a.example", /\.b\.example$/] } },
  pattern: { cors: { origin: /^https:\/\/[a-z]+\.example$/ } },
  reflect: { cors: { origin: true, credentials: true } },
  off: { cors: { origin: false } },
  function: { cors: { origin: (origin, cb) => cb(null, origin === "https://a.example") } },
  full: {
    cors: {
      origin: ["https://a.example"],
      methods: ["GET", "POST"],
      allowedHeaders: ["content-type", "x-token"],
      exposedHeaders: ["x-a", "x-b"],
      credentials: true,
      maxAge: 600,
    },
  },
  any_fixed_headers: { cors: { origin: "*", allowedHeaders: "x-token", exposedHeaders: "x-a", maxAge: 0 } },
  preflight_continue: { cors: { origin: "*", preflightContinue: true } },
  status_200_no_methods: { cors: { origin: "*", optionsSuccessStatus: 200, methods: "" } },
  cookie_default: { cookie: {} },
  cookie_full: {
    cookie: {
      name: "sess",
      path: "/x",
      httpOnly: false,
      sameSite: "strict",
      secure: true,
      domain: "a.example",
      maxAge: 3600,
      expires: new Date(Date.UTC(2026, 0, 1)),
      partitioned: true,
      priority: "high",
    },
  },
  cookie_bare: { cookie: { path: false, httpOnly: false, sameSite: false } },
  cookie_none: { cookie: { sameSite: "none", secure: true, expires: new Date(-62198755200000), maxAge: -1 } },
  cookie_and_cors: { cookie: { expires: new Date(951782400000) }, cors: { origin: true } },
};

const A = "https://a.example";
const OTHER = "https://c.other";
const SUB = "https://x.b.example";
const HS = "EIO=4&transport=polling";
const SID = "EIO=4&transport=polling&sid={sid}";
const WS = [["Connection", "Upgrade"], ["Upgrade", "websocket"], ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="], ["Sec-WebSocket-Version", "13"]];

const REQUESTS = [
  { name: "handshake", method: "GET", query: HS, headers: [["Origin", A]] },
  { name: "handshake_other_origin", method: "GET", query: HS, headers: [["Origin", OTHER]] },
  { name: "handshake_subdomain_origin", method: "GET", query: HS, headers: [["Origin", SUB]] },
  { name: "handshake_no_origin", method: "GET", query: HS, headers: [] },
  { name: "preflight", method: "OPTIONS", query: HS, headers: [["Origin", A], ["Access-Control-Request-Method", "POST"], ["Access-Control-Request-Headers", "content-type,x-token"]] },
  { name: "preflight_two_request_headers", method: "OPTIONS", query: HS, headers: [["Origin", A], ["Access-Control-Request-Headers", "a"], ["Access-Control-Request-Headers", "b"]] },
  { name: "preflight_other_origin", method: "OPTIONS", query: HS, headers: [["Origin", OTHER], ["Access-Control-Request-Method", "GET"]] },
  { name: "preflight_no_origin", method: "OPTIONS", query: HS, headers: [] },
  { name: "preflight_of_a_session", method: "OPTIONS", query: SID, headers: [["Origin", A]], session: "open" },
  { name: "unknown_transport", method: "GET", query: "EIO=4&transport=nope", headers: [["Origin", A]] },
  { name: "unknown_sid", method: "GET", query: "EIO=4&transport=polling&sid=nope", headers: [["Origin", OTHER]] },
  { name: "post", method: "POST", query: SID, headers: [["Origin", A], ["Content-Type", "text/plain"]], body: "40", session: "open" },
  { name: "get", method: "GET", query: SID, headers: [["Origin", A]], session: "connected" },
  { name: "put", method: "PUT", query: SID, headers: [["Origin", A]], session: "open" },
  { name: "websocket", method: "GET", query: "EIO=4&transport=websocket", headers: [["Origin", A], ...WS] },
  { name: "websocket_upgrade", method: "GET", query: "EIO=4&transport=websocket&sid={sid}", headers: [["Origin", OTHER], ...WS], session: "open" },
  { name: "websocket_options", method: "OPTIONS", query: "EIO=4&transport=websocket", headers: [["Origin", A], ...WS] },
];

function send(port, { method, query, headers, body }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ port, method, path: `/socket.io/?${query}`, agent: false });
    for (const [k, v] of headers) {
      const prev = req.getHeader(k);
      req.setHeader(k, prev === undefined ? v : [].concat(prev, v));
    }
    const done = (res, socket) => {
      const raw = [];
      for (let i = 0; i < res.rawHeaders.length; i += 2) raw.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
      let text = "";
      if (socket) {
        socket.destroy();
        resolve({ status: res.statusCode, headers: raw, text });
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: raw, text }));
    };
    req.on("response", (res) => done(res));
    req.on("upgrade", (res, socket) => done(res, socket));
    req.on("error", (e) => (e.code === "ECONNRESET" ? resolve({ status: null, headers: [], text: "" }) : reject(e)));
    req.end(body);
  });
}

const KEPT = (name) => name.startsWith("access-control-") || name === "vary" || name === "set-cookie";

const out = [];
for (const [config, opts] of Object.entries(CONFIGS)) {
  const httpServer = http.createServer();
  const io = new Server(httpServer, opts);
  await new Promise((r) => httpServer.listen(0, "127.0.0.1", r));
  const port = httpServer.address().port;
  for (const request of REQUESTS) {
    let sid = "";
    if (request.session) {
      const hs = await send(port, { method: "GET", query: HS, headers: [] });
      sid = JSON.parse(hs.text.slice(1)).sid;
      const q = SID.replace("{sid}", sid);
      if (request.session === "connected") await send(port, { method: "POST", query: q, headers: [], body: "40" });
    }
    const r = await send(port, { ...request, query: request.query.replace("{sid}", sid) });
    const headers = r.headers.filter(([k]) => KEPT(k));
    const hsid = r.status === 200 && request.method === "GET" && request.query === HS ? JSON.parse(r.text.slice(1)).sid : sid;
    const expect = {
      status: r.status,
      headers: headers.map(([k, v]) => [k, hsid ? v.replaceAll(hsid, "{sid}") : v]),
    };
    const { body, ...rest } = request;
    out.push({ config, ...rest, ...(body ? { body } : {}), session: request.session ?? null, expect });
  }
  io.close();
  httpServer.closeAllConnections?.();
  await new Promise((r) => httpServer.close(r));
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
process.exit(0);
