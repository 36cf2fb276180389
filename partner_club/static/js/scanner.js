// The live scanner: the camera reads QR codes, each new code is registered
// once, and the answer appears under the picture while scanning goes on.
// Where the browser has BarcodeDetector the frames never leave the phone;
// elsewhere a reduced frame goes to the server a few times a second.
(function () {
  "use strict";
  var root = document.getElementById("scanner");
  if (!root) { return; }
  liveScanner(root);
})();

function liveScanner(root) {
  "use strict";
  var texts = JSON.parse(document.getElementById("scanner-texts").textContent);
  var api = root.dataset.api;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var view = root.querySelector(".scanner-view");
  var video = document.getElementById("scanner-video");
  var statusLine = document.getElementById("scanner-status");
  var startButton = document.getElementById("scanner-start");
  var stopButton = document.getElementById("scanner-stop");
  var results = document.getElementById("scan-results");
  var photoForm = document.getElementById("scanner-photo");

  var FRAME_SIDE = 960;        // long side of a frame sent to the server
  var SERVER_EVERY_MS = 350;   // about three frames a second
  var LOCAL_EVERY_MS = 150;

  var stream = null, detector = null, timer = null, busy = false;
  var handled = new Set();     // payloads answered on this page: each registered once
  var lastSeen = null;
  var audio = null;
  var cameraNote = "";         // why the camera is off, kept for the status line
  var tally = loadTally();
  showTally();

  function loadTally() {
    try { return JSON.parse(sessionStorage.getItem("scanner-tally")) || {codes: 0, points: 0}; }
    catch (e) { return {codes: 0, points: 0}; }
  }

  function showTally() {
    document.getElementById("tally-codes").textContent = tally.codes;
    document.getElementById("tally-points").textContent = tally.points;
    try { sessionStorage.setItem("scanner-tally", JSON.stringify(tally)); } catch (e) { /* private mode */ }
  }

  function say(text) { statusLine.textContent = text; }

  function signal(good) {
    if (navigator.vibrate) { navigator.vibrate(good ? 80 : [60, 40, 60]); }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = good ? 880 : 220;
      gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.12);
    } catch (e) { /* no sound: the vibration and the text still tell */ }
  }

  function addResult(result) {
    var item = document.createElement("li");
    item.className = "scan-result " + result.result;
    var label = document.createElement("strong");
    label.textContent = texts.labels[result.result] || result.result;
    var message = document.createElement("span");
    message.textContent = " " + result.message;
    item.appendChild(label); item.appendChild(message);
    if (result.code) {
      var code = document.createElement("small");
      code.textContent = " " + result.code;
      item.appendChild(code);
    }
    results.insertBefore(item, results.firstChild);
  }

  function addNote(kind, text) {
    var item = document.createElement("li");
    item.className = "scan-result " + kind;
    item.textContent = text;
    results.insertBefore(item, results.firstChild);
  }

  function post(form) {
    return fetch(api, {method: "POST", body: form, credentials: "same-origin",
                       headers: {"X-CSRFToken": csrf, "Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return {ok: response.ok, status: response.status, body: body};
        });
      });
  }

  function countResults(body) {
    var good = false;
    // Newest on top, but one photo's codes keep their reading order.
    (body.results || []).slice().reverse().forEach(function (result) {
      addResult(result);
      if ((result.result === "accepted" || result.result === "pending_review") && !result.repeat) {
        tally.codes += 1;
        tally.points += result.points || 0;
        good = true;
      }
    });
    showTally();
    return good;
  }

  // --- registering what the camera read -----------------------------------

  function onPayloads(payloads) {
    var fresh = payloads.filter(function (p) { return !handled.has(p) && p !== lastSeen; });
    if (payloads.length) { lastSeen = payloads[payloads.length - 1]; }
    if (!fresh.length) { return; }
    fresh.forEach(function (p) { handled.add(p); });
    var form = new FormData();
    fresh.forEach(function (p) { form.append("payload", p); });
    form.append("register", "1");
    say(texts.registering);
    post(form).then(function (answer) {
      if (!answer.ok) {
        addNote("invalid", answer.body.title || texts.network);
        signal(false);
        if (answer.status === 429 || answer.status >= 500) {
          fresh.forEach(function (p) { handled.delete(p); });  // may be tried again later
        }
        return;
      }
      signal(countResults(answer.body));
      say(texts.aim);
    }).catch(function () {
      fresh.forEach(function (p) { handled.delete(p); });
      say(texts.network);
    });
  }

  // --- reading frames -------------------------------------------------------

  function readLocally() {
    if (!stream || busy || video.readyState < 2) { return; }
    busy = true;
    detector.detect(video).then(function (codes) {
      onPayloads(codes.map(function (c) { return c.rawValue; }).filter(Boolean));
    }).catch(function () { /* a frame the detector did not like */ })
      .then(function () { busy = false; });
  }

  function readOnServer() {
    if (!stream || busy || video.readyState < 2 || !video.videoWidth) { return; }
    busy = true;
    var scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
    var canvas = document.createElement("canvas");
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      if (!blob) { busy = false; return; }
      var form = new FormData();
      form.append("image", blob, "frame.jpg");
      form.append("register", "0");
      form.append("frame", "1");
      post(form).then(function (answer) {
        if (answer.ok) { onPayloads(answer.body.codes || []); }
      }).catch(function () { say(texts.network); })
        .then(function () { busy = false; });
    }, "image/jpeg", 0.8);
  }

  function chooseReader() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({formats: ["qr_code"]}) : null;
    }).catch(function () { return null; });
  }

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraNote = texts.no_camera;
      say(cameraNote);
      startButton.hidden = true;
      return;
    }
    navigator.mediaDevices.getUserMedia({
      video: {facingMode: {ideal: "environment"}, width: {ideal: 1280}, height: {ideal: 720}}, audio: false
    }).then(function (media) {
      stream = media;
      cameraNote = "";
      video.srcObject = media;
      view.hidden = false;
      startButton.hidden = true;
      stopButton.hidden = false;
      say(texts.aim);
      return video.play().catch(function () {}).then(chooseReader);
    }).then(function (found) {
      if (!stream) { return; }
      detector = found;
      root.dataset.reader = detector ? "device" : "server";
      timer = setInterval(detector ? readLocally : readOnServer, detector ? LOCAL_EVERY_MS : SERVER_EVERY_MS);
    }).catch(function (error) {
      stop();
      var denied = error && error.name === "NotAllowedError";
      cameraNote = denied ? texts.denied : texts.no_camera;
      // No camera: no button offering one. Denied: the button asks again once it is allowed.
      startButton.hidden = !denied;
      say(cameraNote);
    });
  }

  function stop() {
    if (timer) { clearInterval(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
    view.hidden = true;
    startButton.hidden = false;
    stopButton.hidden = true;
    busy = false;
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", function () { stop(); cameraNote = texts.stopped; say(cameraNote); });
  // The camera is released while the page is hidden and comes back with it.
  var pausedByHiding = false;
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && stream) { stop(); pausedByHiding = true; }
    else if (!document.hidden && pausedByHiding) { pausedByHiding = false; start(); }
  });

  // --- the photo form, answered in place ----------------------------------

  photoForm.addEventListener("submit", function (event) {
    var input = photoForm.querySelector('input[type="file"]');
    if (!input.files.length) { return; }
    event.preventDefault();
    var form = new FormData();
    form.append("image", input.files[0]);
    form.append("register", "1");
    var button = photoForm.querySelector("button");
    button.disabled = true;
    say(texts.reading);
    post(form).then(function (answer) {
      if (!answer.ok) {
        addNote("invalid", answer.body.title || texts.network);
        signal(false);
      } else if (!(answer.body.codes || []).length) {
        addNote("none", answer.body.message || texts.no_code);
        signal(false);
      } else {
        (answer.body.codes || []).forEach(function (p) { handled.add(p); });
        signal(countResults(answer.body));
      }
      say(stream ? texts.aim : cameraNote);
    }).catch(function () { say(texts.network); })
      .then(function () { button.disabled = false; input.value = ""; });
  });

  start();
}

// Bulk upload: a visit's photos are shrunk in the browser when together they
// would exceed the upload limit, so a rep can send a whole folder at once.
(function () {
  "use strict";
  var form = document.getElementById("bulk-form");
  if (!form || !window.fetch || !window.createImageBitmap) { return; }
  var LONG_SIDE = 2560;
  var limit = parseInt(form.dataset.limit, 10) || 16 * 1024 * 1024;

  function shrink(file) {
    return createImageBitmap(file, {imageOrientation: "from-image"}).then(function (bitmap) {
      var scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.88);
      });
    }).catch(function () { return file; });  // not decodable here: the server will say why
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector('input[type="file"]');
    var files = Array.prototype.slice.call(input.files);
    var total = files.reduce(function (sum, f) { return sum + f.size; }, 0);
    if (!files.length || total < limit * 0.9) { return; }  // small enough: a plain form post
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    Promise.all(files.map(shrink)).then(function (blobs) {
      var body = new FormData();
      body.append("csrf_token", form.querySelector('input[name="csrf_token"]').value);
      blobs.forEach(function (blob, i) { body.append("images", blob, files[i].name); });
      return fetch(form.action || window.location.href, {method: "POST", body: body, credentials: "same-origin"});
    }).then(function (response) {
      if (response.redirected) { window.location.href = response.url; return; }
      return response.text().then(function (html) {
        document.open(); document.write(html); document.close();
      });
    }).catch(function () { button.disabled = false; });
  });
})();
