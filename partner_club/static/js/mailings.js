// The mailing form's live audience and SMS cost, and the mailing page's live counts.
const form = document.getElementById("mailing-form");
const texts = document.getElementById("audience-texts");

function fill(key, values) {
  let text = texts.content.querySelector(`[data-key="${key}"]`).textContent;
  for (const [name, value] of Object.entries(values)) { text = text.replace(`{${name}}`, value); }
  return text;
}

if (form) {
  const out = document.getElementById("audience");
  let timer = null;
  let asked = 0;
  const ask = () => {
    const mine = ++asked;
    fetch(form.dataset.audienceUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then((r) => r.json())
      .then((data) => {
        if (mine !== asked) { return; }
        if (data.error) { out.textContent = data.error; return; }
        out.textContent = fill("people", {people: data.people, shops: data.shops});
        document.getElementById("parts-ru").textContent = fill("parts", {parts: data.parts_ru});
        document.getElementById("parts-en").textContent = fill("parts", {parts: data.parts_en});
        document.getElementById("sms-cost").textContent = data.sms_total ? fill("cost", {total: data.sms_total}) : "";
      })
      .catch(() => {});
  };
  const later = () => { clearTimeout(timer); timer = setTimeout(ask, 300); };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  ask();
}

const progress = document.getElementById("progress");
if (progress && ["sending", "scheduled"].includes(progress.dataset.status)) {
  const poll = () => {
    fetch(progress.dataset.countsUrl, {credentials: "same-origin"})
      .then((r) => r.json())
      .then((data) => {
        progress.querySelector("progress").value = data.status === "scheduled" ? 0 : data.percent;
        for (const cell of progress.querySelectorAll("[data-count]")) { cell.textContent = data[cell.dataset.count]; }
        progress.dataset.status = data.status;
        setTimeout(poll, data.status === "sent" ? 5000 : 1000);
      })
      .catch(() => setTimeout(poll, 3000));
  };
  poll();
}
