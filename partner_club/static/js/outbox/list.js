// The "waiting to send" list on the register and scanner pages: each item waits, then
// shows its answer (registered with points, held, refused and why). Typed codes go to
// the outbox when the phone is offline, checked at once by their check symbol.
import { read } from "../codes/normalize.js";
import { pagePerson, queueCode } from "./queue.js";
import { replay } from "./send.js";
import { itemsOf, onChange, remove } from "./store.js";

const texts = JSON.parse((document.getElementById("outbox-texts") || {}).textContent || "{}");
const person = pagePerson();

function group(code) {
  return code && code.length === 13 ? `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}` : code || "";
}

function fill(template, values) {
  return Object.entries(values).reduce((text, [key, value]) => text.replace(`{${key}}`, value), template || "");
}

function line(kind, label, message, code) {
  const entry = document.createElement("li");
  entry.className = `outbox-item ${kind}`;
  const strong = document.createElement("strong");
  strong.textContent = label;
  entry.append(strong);
  if (message) {
    const span = document.createElement("span");
    span.textContent = ` ${message}`;
    entry.append(span);
  }
  if (code) {
    const small = document.createElement("small");
    small.textContent = ` ${code}`;
    entry.append(small);
  }
  return entry;
}

function codeAnswer(item) {
  const { status, body } = item.result;
  const code = group(item.shown || item.code);
  if (status === 200 || status === 201) {
    const product = body.product ? body.product.name : "";
    if (body.status === "pending_review") {
      return [line("pending_review", texts.held, `${fill(texts.points, { n: body.points })} · ${product}. ${body.message || ""}`, code)];
    }
    return [line("accepted", texts.accepted, `${fill(texts.points, { n: body.points })} · ${product}`, code)];
  }
  return [line("refused", texts.refused, body.title || "", code)];
}

function photoAnswer(item) {
  const { status, body } = item.result;
  if (status !== 200) return [line("refused", texts.refused, body.title || "", texts.photo)];
  const results = body.results || [];
  if (!results.length) return [line("refused", texts.no_code, body.message || "", texts.photo)];
  return results.map((r) => {
    const kind = r.result === "accepted" || r.result === "pending_review" ? r.result : "refused";
    const label = kind === "accepted" ? texts.accepted : kind === "pending_review" ? texts.held : texts.refused;
    return line(kind, label, r.message, r.code ? group(r.code) : texts.photo);
  });
}

function waitingLine(item) {
  const time = new Date(item.created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const what = item.kind === "photo" ? texts.photo : group(item.shown || item.code);
  return line("waiting", texts.waiting, item.note ? `${time} · ${item.note}` : time, what);
}

function render(section, items) {
  const list = section.querySelector(".outbox-list");
  const waiting = items.filter((i) => i.state === "waiting");
  const answered = items.filter((i) => i.state === "done").reverse();
  section.hidden = !items.length;
  section.querySelector("[data-outbox-count]").textContent = waiting.length;
  section.querySelector("[data-outbox-send]").hidden = !waiting.length;
  section.querySelector("[data-outbox-clear]").hidden = !answered.length;
  const lines = [
    ...waiting.map(waitingLine),
    ...answered.flatMap((i) => (i.kind === "photo" ? photoAnswer(i) : codeAnswer(i))),
  ];
  list.replaceChildren(...lines);
}

function watchList(section) {
  const refresh = () => itemsOf(person).then((items) => render(section, items));
  onChange(refresh);
  refresh();
  section.querySelector("[data-outbox-send]").addEventListener("click", () => replay(person));
  section.querySelector("[data-outbox-clear]").addEventListener("click", () =>
    itemsOf(person).then((items) => remove(items.filter((i) => i.state === "done").map((i) => i.id))),
  );
}

// Offline, a typed code goes to the outbox instead of to a page the phone cannot reach.
function watchForm(form) {
  const input = form.querySelector("[data-code-input]");
  const status = document.querySelector("[data-outbox-status]");
  form.addEventListener("submit", (event) => {
    if (navigator.onLine !== false) return; // online: the form's own answer
    const reading = read(input.value);
    event.preventDefault();
    if (reading.reason) return; // the code's check shows the problem
    queueCode(person, input.value.trim(), "typed", reading.candidates[0]).then(() => {
      input.value = "";
      input.classList.remove("is-valid");
      if (status) status.textContent = texts.queued;
      input.focus();
    });
  });
}

const section = document.querySelector("[data-outbox]");
if (section && person !== null && window.indexedDB) {
  // The worker kept a typed code whose form could not reach the club: say so.
  const status = document.querySelector("[data-outbox-status]");
  if (status && new URLSearchParams(window.location.search).has("kept")) status.textContent = texts.queued;
  watchList(section);
  document.querySelectorAll("[data-code-form]").forEach(watchForm);
}
