// A minimal raw WebSocket client (npm `ws`) for protocol-level tests:
// records every frame, and lets a test wait for the next one (bounded).
import WebSocket from "ws";
import { WAIT_MS } from "./util.mjs";

export function rawSocket(t, url, { answerPings = false } = {}) {
  const ws = new WebSocket(url.replace(/^http/, "ws"));
  const frames = []; // every frame received: string (text) or Buffer (binary)
  const queue = [];
  const waiters = [];
  let closeInfo = null;
  const closeWaiters = [];
  ws.on("message", (data, isBinary) => {
    const frame = isBinary ? Buffer.from(data) : data.toString("utf8");
    frames.push(frame);
    if (answerPings && frame === "2") ws.send("3");
    if (waiters.length) waiters.shift()(frame);
    else queue.push(frame);
  });
  ws.on("error", () => {});
  ws.on("close", (code, reason) => {
    closeInfo = { code, reason: reason.toString() };
    for (const w of closeWaiters.splice(0)) w(closeInfo);
  });
  t.after(() => ws.terminate());

  return {
    ws,
    frames,
    opened: () =>
      new Promise((resolve, reject) => {
        if (ws.readyState === WebSocket.OPEN) return resolve();
        ws.once("open", resolve);
        ws.once("error", reject);
      }),
    /** Next frame not yet consumed. */
    next(ms = WAIT_MS) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i !== -1) waiters.splice(i, 1);
          reject(new Error(`no frame within ${ms} ms (received so far: ${JSON.stringify(frames.map(String))})`));
        }, ms);
        const w = (frame) => {
          clearTimeout(timer);
          resolve(frame);
        };
        waiters.push(w);
      });
    },
    send: (data) => ws.send(data),
    closed(ms = WAIT_MS) {
      if (closeInfo) return Promise.resolve(closeInfo);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms`)), ms);
        closeWaiters.push((info) => {
          clearTimeout(timer);
          resolve(info);
        });
      });
    },
    get isClosed() {
      return closeInfo !== null;
    },
  };
}
