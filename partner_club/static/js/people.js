// Sign-up page: show the shop fields only when joining with a shop, and fill
// the map position from the phone's location on request.
(function () {
  var form = document.getElementById("join-form");
  if (!form) return;
  var shopFields = document.getElementById("shop-fields");
  function syncMode() {
    var chosen = form.querySelector("input[name=mode]:checked");
    shopFields.hidden = chosen && chosen.value !== "shop";
  }
  form.querySelectorAll("input[name=mode]").forEach(function (el) { el.addEventListener("change", syncMode); });
  syncMode();

  var button = document.getElementById("use-location");
  var status = document.getElementById("location-status");
  if (!button) return;
  if (!("geolocation" in navigator)) { button.hidden = true; return; }
  button.addEventListener("click", function () {
    status.textContent = status.dataset.wait;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(6);
      form.querySelector("[name=lon]").value = pos.coords.longitude.toFixed(6);
      status.textContent = status.dataset.done;
    }, function () {
      status.textContent = status.dataset.fail;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
