// The outbox on the phone: an IndexedDB store of what waits to be sent and of the
// answers that came back. It outlives the page, the app and a restart of the phone.
const DB_NAME = "club-outbox";
const STORE = "items";
const channel = "BroadcastChannel" in window ? new BroadcastChannel("club-outbox") : null;
let opening = null;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "id" }).createIndex("person", "person");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

function run(mode, work) {
  return open().then(
    (db) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const request = work(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(request ? request.result : undefined);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      }),
  );
}

// Every page showing the list hears of a change, in this tab and in the others.
function changed(value) {
  window.dispatchEvent(new CustomEvent("outbox-changed"));
  if (channel) channel.postMessage("changed");
  return value;
}

export function onChange(listener) {
  window.addEventListener("outbox-changed", listener);
  if (channel) channel.addEventListener("message", listener);
}

export function put(item) {
  return run("readwrite", (store) => store.put(item)).then(changed);
}

export function putAll(items) {
  return run("readwrite", (store) => {
    items.forEach((item) => store.put(item));
    return null;
  }).then(changed);
}

export function remove(ids) {
  return run("readwrite", (store) => {
    ids.forEach((id) => store.delete(id));
    return null;
  }).then(changed);
}

// The person's items, oldest first (another person's never leave the phone as theirs).
export function itemsOf(person) {
  return run("readonly", (store) => store.index("person").getAll(person)).then((items) =>
    items.sort((a, b) => a.created - b.created),
  );
}
