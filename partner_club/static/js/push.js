// Web Push for this browser, on a button press: asks the person's permission, subscribes with
// the service worker's registration and the club's VAPID key, and hands the subscription to
// the club (POST /api/v1/push/subscriptions). The club's service worker (/sw.js) imports
// push-sw.js, which holds the push and notificationclick handlers.

const box = document.getElementById("push-offer");
const supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

if (box && supported) {
  start(box);
}

async function start(offer) {
  const button = offer.querySelector("#push-enable");
  const status = offer.querySelector(".push-status");
  const say = (text) => { status.textContent = text; };
  if (Notification.permission === "denied") {
    offer.hidden = false;
    button.hidden = true;
    say(offer.dataset.denied);
    return;
  }
  const existing = await currentSubscription();
  if (existing && Notification.permission === "granted") {
    // Already on: tell the club again, quietly (another person may have used this phone).
    send(offer, existing).catch(() => {});
    return;
  }
  offer.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        say(offer.dataset.denied);
        return;
      }
      const registration = await workerRegistration(offer.dataset.worker);
      const subscription = (await registration.pushManager.getSubscription())
        || (await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(offer.dataset.key),
        }));
      await send(offer, subscription);
      button.hidden = true;
      say(offer.dataset.done);
    } catch (error) {
      say(offer.dataset.failed);
    } finally {
      button.disabled = false;
    }
  });
}

async function currentSubscription() {
  const registration = await navigator.serviceWorker.getRegistration(workerScope());
  return registration ? registration.pushManager.getSubscription() : null;
}

function workerScope() {
  const worker = box.dataset.worker;
  return worker ? new URL(".", new URL(worker, location.href)).pathname : undefined;
}

async function workerRegistration(workerUrl) {
  const own = await navigator.serviceWorker.getRegistration();
  if (own) return activated(own);
  return activated(await navigator.serviceWorker.register(workerUrl));
}

function activated(registration) {
  const worker = registration.installing || registration.waiting || registration.active;
  if (!worker || worker.state === "activated") return Promise.resolve(registration);
  return new Promise((resolve) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "activated") resolve(registration);
    });
  });
}

async function send(offer, subscription) {
  const token = document.querySelector('meta[name="csrf-token"]');
  const response = await fetch(offer.dataset.url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.content : "" },
    body: JSON.stringify(subscription.toJSON()),
  });
  if (!response.ok) throw new Error(`subscription refused: ${response.status}`);
}

function keyBytes(base64url) {
  const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
