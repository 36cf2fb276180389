// The service worker's side of Web Push: show the club's message, open its page on a tap.
// The offline app's worker loads this file with importScripts; it also runs alone as the
// worker push.js registers when the page has none. It adds listeners and nothing else.

self.addEventListener("push", (event) => {
  let message = {};
  if (event.data) {
    try {
      message = event.data.json();
    } catch (error) {
      message = { title: event.data.text() };
    }
  }
  const title = message.title || "Partner Club";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: message.body || "",
      tag: message.tag,
      data: { url: message.url || "/notifications/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const given = new URL((event.notification.data && event.notification.data.url) || "/notifications/", self.location.origin);
  // Only the club's own pages: the path and query, on this worker's origin.
  const target = new URL(given.pathname + given.search, self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === target && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(target);
    }),
  );
});
