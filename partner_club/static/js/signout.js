// On every signed-in page: before the sign-out form goes, this browser forgets the person.
// The service worker drops the pages it kept for them (they would open offline for whoever
// holds the phone next) and the browser ends its push subscription (their messages would
// keep arriving). The server ends the subscription's row and clears the HTTP cache too.
// The outbox of unsent codes stays: it is per person and sent only while they are signed in.
const WAIT_MS = 2000; // sign-out never hangs on a worker that does not answer

const form = document.querySelector("form[data-signout-person]");
if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) button.disabled = true;
    const timeout = new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    Promise.race([forget().catch(() => undefined), timeout]).then(() => form.submit());
  });
}

async function forget() {
  if (!("serviceWorker" in navigator)) return;
  const registration = await navigator.serviceWorker.getRegistration("/");
  if (!registration) return;
  const worker = registration.active || navigator.serviceWorker.controller;
  const pages = worker ? forgetPages(worker) : Promise.resolve();
  const push = registration.pushManager
    ? registration.pushManager.getSubscription().then((subscription) => subscription && subscription.unsubscribe())
    : Promise.resolve();
  await Promise.all([pages.catch(() => undefined), push.catch(() => undefined)]);
}

function forgetPages(worker) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    worker.postMessage("forget-pages", [channel.port2]);
  });
}
