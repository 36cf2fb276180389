// On every page of a signed-in participant: the service worker, and the outbox sent on
// start, when the connection returns, when the app comes back to the screen and on a timer.
import { pagePerson } from "./queue.js";
import { replay } from "./send.js";

const EVERY_MS = 30000;

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});

const person = pagePerson();
function kick() {
  if (navigator.onLine !== false) replay(person);
}
if (person !== null && window.indexedDB) {
  kick();
  window.addEventListener("online", kick);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) kick();
  });
  setInterval(kick, EVERY_MS);
}
