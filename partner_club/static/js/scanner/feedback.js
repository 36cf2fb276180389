// What the person sees and hears: the status line, the list of answers
// (newest on top), the session's tally, a beep and a buzz.
const TALLY_KEY = "scanner-tally";

export class Feedback {
  constructor(texts) {
    this.texts = texts;
    this.status = document.getElementById("scanner-status");
    this.results = document.getElementById("scan-results");
    this.audio = null;
    this.tally = Feedback.loadTally();
    this.showTally();
  }

  static loadTally() {
    try {
      return JSON.parse(sessionStorage.getItem(TALLY_KEY)) || { codes: 0, points: 0 };
    } catch {
      return { codes: 0, points: 0 };
    }
  }

  showTally() {
    document.getElementById("tally-codes").textContent = this.tally.codes;
    document.getElementById("tally-points").textContent = this.tally.points;
    try {
      sessionStorage.setItem(TALLY_KEY, JSON.stringify(this.tally));
    } catch {
      /* private mode: the tally lives as long as the page */
    }
  }

  say(text) {
    this.status.textContent = text;
  }

  signal(good) {
    if (navigator.vibrate) navigator.vibrate(good ? 80 : [60, 40, 60]);
    try {
      this.audio = this.audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = this.audio.createOscillator();
      const gain = this.audio.createGain();
      osc.frequency.value = good ? 880 : 220;
      gain.gain.value = 0.08;
      osc.connect(gain);
      gain.connect(this.audio.destination);
      osc.start();
      osc.stop(this.audio.currentTime + 0.12);
    } catch {
      /* no sound: the vibration and the text still tell */
    }
  }

  addResult(result) {
    const item = document.createElement("li");
    item.className = `scan-result ${result.result}`;
    const label = document.createElement("strong");
    label.textContent = this.texts.labels[result.result] || result.result;
    const message = document.createElement("span");
    message.textContent = ` ${result.message}`;
    item.append(label, message);
    if (result.code) {
      const code = document.createElement("small");
      code.textContent = ` ${result.code}`;
      item.append(code);
    }
    this.results.prepend(item);
  }

  addNote(kind, text) {
    const item = document.createElement("li");
    item.className = `scan-result ${kind}`;
    item.textContent = text;
    this.results.prepend(item);
  }

  // Adds an answer's results; true when one of them earned points.
  countResults(body) {
    let good = false;
    // Newest on top, but one photo's codes keep their reading order.
    for (const result of (body.results || []).slice().reverse()) {
      this.addResult(result);
      if ((result.result === "accepted" || result.result === "pending_review") && !result.repeat) {
        this.tally.codes += 1;
        this.tally.points += result.points || 0;
        good = true;
      }
    }
    this.showTally();
    return good;
  }
}
