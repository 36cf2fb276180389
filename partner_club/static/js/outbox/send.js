// Sending what waits: codes in batches to /api/v1/registrations/batch, photos one by
// one to /api/v1/scans, each with its client id. The server answers a resend with its
// first answer, so an answer lost on the way is simply asked for again.
import { itemsOf, putAll } from "./store.js";

const BATCH = 50;
// Answers about the code itself: final. Others (throttled, server trouble) wait for a retry.
const FINAL = new Set([200, 201, 409, 413, 415, 422]);
let running = null;
let csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

class Stop extends Error {}

// A page kept offline may carry an old token: ask a fresh page for one.
function freshToken() {
  return fetch("/codes/register", { credentials: "same-origin", headers: { Accept: "text/html" } })
    .then((response) => response.text())
    .then((html) => {
      const meta = new DOMParser().parseFromString(html, "text/html").querySelector('meta[name="csrf-token"]');
      csrf = meta ? meta.content : csrf;
    });
}

function post(url, body, json, retried = false) {
  const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
  if (json) headers["Content-Type"] = "application/json";
  return fetch(url, {
    method: "POST",
    body: json ? JSON.stringify(body) : body,
    credentials: "same-origin",
    headers,
  }).then((response) =>
    response
      .json()
      .catch(() => ({}))
      .then((answer) => {
        if (response.status === 400 && answer.reason === "csrf" && !retried) {
          return freshToken().then(() => post(url, body, json, true));
        }
        if (response.status === 401 || response.status === 403 || response.status === 400) {
          throw new Stop(answer.title || String(response.status));
        }
        return { status: response.status, body: answer };
      }),
  );
}

function settle(item, status, body) {
  if (FINAL.has(status)) {
    item.state = "done";
    item.result = { status, body };
    delete item.photo; // the answer is in: the picture leaves the phone's storage
  } else {
    item.note = body.title || "";
  }
  item.tries = (item.tries || 0) + 1;
  return item;
}

async function sendCodes(codes) {
  for (let start = 0; start < codes.length; start += BATCH) {
    const chunk = codes.slice(start, start + BATCH);
    const items = chunk.map((i) => ({ client_id: i.id, code: i.code, scanned_at: i.scanned_at, channel: i.channel }));
    const answer = await post("/api/v1/registrations/batch", { items }, true);
    if (answer.status !== 200) {
      await putAll(chunk.map((i) => settle(i, answer.status, answer.body)));
      continue;
    }
    const byId = new Map((answer.body.results || []).map((r) => [r.client_id, r]));
    await putAll(
      chunk.map((i) => {
        const result = byId.get(i.id);
        return result ? settle(i, result.status, result.body) : i;
      }),
    );
  }
}

async function sendPhoto(item) {
  const form = new FormData();
  form.append("image", item.photo, item.name);
  form.append("register", "1");
  form.append("client_id", item.id);
  const answer = await post("/api/v1/scans", form, false);
  await putAll([settle(item, answer.status, answer.body)]);
}

async function sendAll(person) {
  const waiting = (await itemsOf(person)).filter((i) => i.state === "waiting");
  if (!waiting.length) return;
  await sendCodes(waiting.filter((i) => i.kind === "code"));
  for (const photo of waiting.filter((i) => i.kind === "photo" && i.photo)) await sendPhoto(photo);
}

function locked(work) {
  // One tab sends at a time; were two to send, the server would still answer each id once.
  return navigator.locks ? navigator.locks.request("club-outbox", work) : work();
}

// Sends what waits; resolves to "sent", "offline" (try later) or "stopped" (sign in again).
export function replay(person) {
  if (person === null || person === undefined) return Promise.resolve("stopped");
  if (!running) {
    running = locked(() => sendAll(person))
      .then(() => "sent")
      .catch((error) => (error instanceof Stop ? "stopped" : "offline"))
      .finally(() => {
        running = null;
      });
  }
  return running;
}
