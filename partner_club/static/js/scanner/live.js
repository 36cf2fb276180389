// The live scanner page: the camera reads QR codes, each new code is
// registered once, and the answer appears under the picture while scanning
// goes on; a photo of the code is the way without a camera.
import { newId } from "../outbox/ids.js";
import { pagePerson, queueCode, queuePhoto } from "../outbox/queue.js";
import { replay } from "../outbox/send.js";
import { poster } from "./api.js";
import { Camera } from "./camera.js";
import { Feedback } from "./feedback.js";

const offline = () => navigator.onLine === false;

// QR codes in a photo read on the phone, where the browser can (BarcodeDetector); else none.
function readOnPhone(file) {
  if (!("BarcodeDetector" in window) || !window.createImageBitmap) return Promise.resolve([]);
  return window.BarcodeDetector.getSupportedFormats()
    .then((formats) =>
      formats.includes("qr_code")
        ? createImageBitmap(file).then((bitmap) => new window.BarcodeDetector({ formats: ["qr_code"] }).detect(bitmap))
        : [],
    )
    .then((codes) => codes.map((c) => c.rawValue).filter(Boolean))
    .catch(() => []);
}

function liveScanner(root) {
  const texts = JSON.parse(document.getElementById("scanner-texts").textContent);
  const post = poster(root.dataset.api);
  const feedback = new Feedback(texts);
  const startButton = document.getElementById("scanner-start");
  const stopButton = document.getElementById("scanner-stop");
  const photoForm = document.getElementById("scanner-photo");
  const handled = new Set(); // payloads answered on this page: each registered once
  const person = pagePerson();

  // No connection: the codes wait in the outbox (sent when it returns), said with a beep.
  function keep(payloads) {
    return Promise.all(payloads.map((p) => queueCode(person, p, "scan"))).then(() => {
      feedback.addNote("waiting", texts.queued);
      feedback.signal(true);
    });
  }
  let lastSeen = null;
  let cameraNote = ""; // why the camera is off, kept for the status line

  function register(payloads) {
    const fresh = payloads.filter((p) => !handled.has(p) && p !== lastSeen);
    if (payloads.length) lastSeen = payloads[payloads.length - 1];
    if (!fresh.length) return;
    fresh.forEach((p) => handled.add(p));
    if (offline() && person !== null) {
      keep(fresh);
      return;
    }
    const form = new FormData();
    fresh.forEach((p) => form.append("payload", p));
    form.append("register", "1");
    feedback.say(texts.registering);
    post(form)
      .then((answer) => {
        if (!answer.ok) {
          feedback.addNote("invalid", answer.body.title || texts.network);
          feedback.signal(false);
          if (answer.status === 429 || answer.status >= 500) fresh.forEach((p) => handled.delete(p)); // tried again later
          return;
        }
        feedback.signal(feedback.countResults(answer.body));
        feedback.say(texts.aim);
      })
      .catch(() => {
        if (person !== null) {
          keep(fresh); // the answer may be lost, not the code: the outbox sends it again
        } else {
          fresh.forEach((p) => handled.delete(p));
        }
        feedback.say(texts.network);
      });
  }

  // The buttons follow the camera: no camera, no button offering one; denied,
  // the button stays to ask again once the browser allows it.
  function onState(state) {
    if (state === "network") {
      feedback.say(texts.network);
      return;
    }
    const on = state === "on";
    startButton.hidden = on || state === "no_camera";
    stopButton.hidden = !on;
    cameraNote = on ? "" : texts[state] || "";
    feedback.say(on ? texts.aim : cameraNote);
  }

  const camera = new Camera({ root, post, onPayloads: register, onState });
  startButton.addEventListener("click", () => camera.start());
  stopButton.addEventListener("click", () => {
    camera.stop();
    onState("stopped");
  });
  // The camera is released while the page is hidden and comes back with it.
  let pausedByHiding = false;
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && camera.on) {
      camera.stop();
      pausedByHiding = true;
    } else if (!document.hidden && pausedByHiding) {
      pausedByHiding = false;
      camera.start();
    }
  });

  // The photo form, answered in place.
  photoForm.addEventListener("submit", (event) => {
    const input = photoForm.querySelector('input[type="file"]');
    if (!input.files.length) return;
    event.preventDefault();
    const button = photoForm.querySelector("button");
    const file = input.files[0];
    const done = () => {
      button.disabled = false;
      input.value = "";
    };
    // No connection: the phone reads the codes if it can, else the photo itself waits.
    const clientId = newId(); // an online send that loses its answer is sent again under it
    const keepPhoto = (sent) =>
      readOnPhone(file).then((payloads) =>
        (payloads.length && !sent ? keep(payloads.filter((p) => !handled.has(p))) : queuePhoto(person, file, file.name, clientId).then(() => {
          feedback.addNote("waiting", texts.queued);
          feedback.signal(true);
        })).then(done),
      );
    if (offline() && person !== null) {
      button.disabled = true;
      keepPhoto(false);
      return;
    }
    const form = new FormData();
    form.append("image", file);
    form.append("register", "1");
    if (person !== null) form.append("client_id", clientId);
    button.disabled = true;
    feedback.say(texts.reading);
    post(form)
      .then((answer) => {
        if (!answer.ok) {
          feedback.addNote("invalid", answer.body.title || texts.network);
          feedback.signal(false);
        } else if (!(answer.body.codes || []).length) {
          feedback.addNote("none", answer.body.message || texts.no_code);
          feedback.signal(false);
        } else {
          (answer.body.codes || []).forEach((p) => handled.add(p));
          feedback.signal(feedback.countResults(answer.body));
        }
        feedback.say(camera.on ? texts.aim : cameraNote);
      })
      .catch(() => (person !== null ? keepPhoto(true) : feedback.say(texts.network)))
      .then(done);
  });

  camera.start();
  if (person !== null) replay(person);
}

const root = document.getElementById("scanner");
if (root) liveScanner(root);
