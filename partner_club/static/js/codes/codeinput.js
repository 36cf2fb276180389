// The code form: says "typo" while typing, before anything is sent; the
// server reads the raw text again. The reading is left on the input
// (data-reading) for people's tools and the browser tests.
import { read } from "./normalize.js";

function watch(form) {
  const input = form.querySelector("[data-code-input]");
  const feedback = form.querySelector("[data-code-feedback]");
  const messages = {
    typo: feedback.dataset.msgTypo,
    short: feedback.dataset.msgShort,
    long: feedback.dataset.msgLong,
    symbols: feedback.dataset.msgSymbols,
  };
  const show = (reason) => {
    feedback.textContent = reason ? messages[reason] : "";
    input.setAttribute("aria-invalid", reason ? "true" : "false");
    form.querySelector(".field").classList.toggle("has-error", Boolean(reason));
  };
  input.addEventListener("input", () => {
    const result = read(input.value);
    input.classList.toggle("is-valid", !result.reason);
    input.dataset.reading = result.candidates[0] || "";
    // Only speak up while typing once the code is long enough to judge.
    show(["typo", "long", "symbols"].includes(result.reason) ? result.reason : null);
  });
  form.addEventListener("submit", (event) => {
    const result = read(input.value);
    if (result.reason) {
      event.preventDefault();
      show(result.reason);
      input.focus();
    }
  });
}

document.querySelectorAll("[data-code-form]").forEach(watch);
