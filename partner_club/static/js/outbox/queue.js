// Putting a typed code, a code read by the camera, or a photo of labels in the outbox.
import { newId } from "./ids.js";
import { put } from "./store.js";

function item(person, fields) {
  return {
    id: newId(),
    person,
    state: "waiting",
    created: Date.now(),
    scanned_at: new Date().toISOString(),
    ...fields,
  };
}

// `code` is sent as read (the server reads it again); `shown` is how the list writes it.
export function queueCode(person, code, channel, shown) {
  const entry = item(person, { kind: "code", code, channel, shown: shown || code });
  return put(entry).then(() => entry);
}

// `id`: the client id a send that lost its answer already used, so the resend is known.
export function queuePhoto(person, blob, name, id) {
  const entry = item(person, { kind: "photo", photo: blob, name: name || "photo.jpg" });
  if (id) entry.id = id;
  return put(entry).then(() => entry);
}

// The signed-in person, as the page says it: items are kept and sent per person.
export function pagePerson() {
  const tag = document.querySelector("[data-outbox-person]");
  return tag ? Number(tag.dataset.outboxPerson) : null;
}
