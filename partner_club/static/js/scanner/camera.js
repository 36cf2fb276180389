// The camera and the reading of its frames: on the phone with BarcodeDetector,
// otherwise a reduced frame goes to the server a few times a second.
const FRAME_SIDE = 960; // long side of a frame sent to the server
const SERVER_EVERY_MS = 350; // about three frames a second
const LOCAL_EVERY_MS = 150;

function chooseReader() {
  if (!("BarcodeDetector" in window)) return Promise.resolve(null);
  return window.BarcodeDetector.getSupportedFormats()
    .then((formats) => (formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null))
    .catch(() => null);
}

export class Camera {
  // onPayloads(list of QR texts); onState("on" | "off" | "no_camera" | "denied")
  constructor({ root, post, onPayloads, onState }) {
    this.root = root;
    this.post = post;
    this.onPayloads = onPayloads;
    this.onState = onState;
    this.view = root.querySelector(".scanner-view");
    this.video = document.getElementById("scanner-video");
    this.stream = null;
    this.detector = null;
    this.timer = null;
    this.busy = false;
  }

  get on() {
    return this.stream !== null;
  }

  start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.onState("no_camera");
      return;
    }
    navigator.mediaDevices
      .getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      })
      .then((media) => {
        this.stream = media;
        this.video.srcObject = media;
        this.view.hidden = false;
        this.onState("on");
        return this.video
          .play()
          .catch(() => {})
          .then(chooseReader);
      })
      .then((found) => {
        if (!this.stream) return;
        this.detector = found;
        this.root.dataset.reader = found ? "device" : "server";
        this.timer = setInterval(
          () => (found ? this.readLocally() : this.readOnServer()),
          found ? LOCAL_EVERY_MS : SERVER_EVERY_MS,
        );
      })
      .catch((error) => {
        this.stop();
        this.onState(error && error.name === "NotAllowedError" ? "denied" : "no_camera");
      });
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.view.hidden = true;
    this.busy = false;
  }

  readLocally() {
    if (!this.stream || this.busy || this.video.readyState < 2) return;
    this.busy = true;
    this.detector
      .detect(this.video)
      .then((codes) => this.onPayloads(codes.map((c) => c.rawValue).filter(Boolean)))
      .catch(() => {
        /* a frame the detector did not like */
      })
      .then(() => {
        this.busy = false;
      });
  }

  readOnServer() {
    const video = this.video;
    if (!this.stream || this.busy || video.readyState < 2 || !video.videoWidth) return;
    this.busy = true;
    const scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(
      (blob) => {
        if (!blob) {
          this.busy = false;
          return;
        }
        const form = new FormData();
        form.append("image", blob, "frame.jpg");
        form.append("register", "0");
        form.append("frame", "1");
        this.post(form)
          .then((answer) => {
            if (answer.ok) this.onPayloads(answer.body.codes || []);
          })
          .catch(() => this.onState("network"))
          .then(() => {
            this.busy = false;
          });
      },
      "image/jpeg",
      0.8,
    );
  }
}
