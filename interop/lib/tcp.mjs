// What the kernel knows about a loopback TCP connection, read with `ss` (iproute2): queued
// bytes and data segments sent. Lets a test know, without sleeping, that a single-threaded
// server has read (and so handled) a request, and see how many writes a server made.
import { execFileSync, spawnSync } from "node:child_process";
import { until } from "./util.mjs";

/** Whether `ss` can be run here (tests that need it skip otherwise). */
export const hasSs = (() => {
  try {
    return spawnSync("ss", ["-V"], { timeout: 2000 }).status === 0;
  } catch {
    return false;
  }
})();

/**
 * The established connection from local port `from` to port `to` on 127.0.0.1, as seen
 * from its `from` end: { recvQ: bytes received, not read by the application; sendQ: bytes
 * sent, not acknowledged; dataSegsOut: segments with data sent so far; retransmitted: how
 * many of those were sent again }, or null.
 */
export function tcpConn(from, to) {
  const out = execFileSync(
    "ss",
    ["-tinH", "state", "established", `( src 127.0.0.1:${from} and dst 127.0.0.1:${to} )`],
    { encoding: "utf8", timeout: 2000 },
  );
  const head = out.split("\n")[0].trim();
  if (!head) return null;
  const [recvQ, sendQ] = head.split(/\s+/).map(Number);
  const field = (re) => Number(re.exec(out)?.[1] ?? 0);
  return {
    recvQ,
    sendQ,
    dataSegsOut: field(/\bdata_segs_out:(\d+)/),
    // segments sent again (timeouts, tail loss probes), counted in dataSegsOut as well
    retransmitted: field(/\bretrans:\d+\/(\d+)/),
  };
}

/**
 * Waits (bounded) until everything the client end `clientPort` sent to `serverPort` was
 * acknowledged by the server's kernel and read by the server process. A single-threaded
 * server (one event loop, one shard) handles what it reads before it reads anything else,
 * so a request sent on another connection after this is handled after this one.
 */
export async function readByServer(clientPort, serverPort) {
  await until(
    () => {
      const client = tcpConn(clientPort, serverPort);
      const server = tcpConn(serverPort, clientPort);
      return client !== null && server !== null && client.sendQ === 0 && server.recvQ === 0;
    },
    () => `the server did not read the request: ${JSON.stringify([tcpConn(clientPort, serverPort), tcpConn(serverPort, clientPort)])}`,
  );
}
