// Follows every .job block on the page until its job ends, then reloads
// so the page can show the job's result.
(function () {
  document.querySelectorAll(".job[data-job-url]").forEach(function (box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector(".job-text");
    function poll() {
      fetch(box.dataset.jobUrl, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.value = job.percent;
          text.textContent = job.percent + "% " + (job.message || "");
          box.dataset.status = job.status;
          if (job.status === "finished" || job.status === "failed") {
            if (!box.dataset.noReload) { window.location.reload(); }
          } else {
            setTimeout(poll, 1000);
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    if (box.dataset.status !== "finished" && box.dataset.status !== "failed") { poll(); }
  });
})();
