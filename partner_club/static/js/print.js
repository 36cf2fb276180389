// A button marked data-print prints the page (no inline handler: the CSP allows none).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
