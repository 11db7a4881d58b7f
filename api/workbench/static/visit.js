/* 走访登记: the phone's position for the check-in form. Fills lon/lat/accuracy_m from the browser's
   Geolocation API (WGS 84, as the form's crs says) and shows the accuracy; when the phone refuses or
   cannot locate, shows the lon/lat fields to type by hand and a retry button. Makes the form's client
   id once (crypto.randomUUID), so a post retried on a weak signal is stored once, and keeps a second
   tap on "save" from sending the form twice. No inline handlers, no eval: loaded with the CSP nonce. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) { return; }
  var status = document.getElementById("position-status");
  var manual = document.getElementById("position-manual");
  var retry = document.getElementById("position-retry");
  var lon = document.getElementById("f-lon");
  var lat = document.getElementById("f-lat");
  var accuracy = document.getElementById("f-accuracy_m");
  var client = document.getElementById("f-client_id");

  function randomId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  if (!client.value) { client.value = randomId(); }

  function failed() {
    status.textContent = status.getAttribute("data-failed");
    status.className = "locating failed";
    manual.hidden = false;
    retry.hidden = !navigator.geolocation;
  }
  function located(position) {
    var c = position.coords;
    lon.value = c.longitude.toFixed(7);
    lat.value = c.latitude.toFixed(7);
    accuracy.value = Math.round(c.accuracy * 10) / 10;
    status.textContent = status.getAttribute("data-located").replace("{m}", Math.round(c.accuracy));
    status.className = "locating located";
    manual.hidden = true;
    retry.hidden = false;
  }
  function locate() {
    if (!navigator.geolocation) { failed(); return; }
    navigator.geolocation.getCurrentPosition(located, failed,
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }
  // a form shown again with its errors keeps what was typed; otherwise ask the phone
  if (lon.value && lat.value && !accuracy.value) {
    manual.hidden = false;
    status.textContent = "";
  } else {
    manual.hidden = true;
    locate();
  }
  retry.addEventListener("click", locate);
  // a typed position has no accuracy estimate from the phone
  [lon, lat].forEach(function (input) {
    input.addEventListener("input", function () { accuracy.value = ""; });
  });
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    document.getElementById("visit-save").disabled = true;
  });
  // back to a sent form (the page cache): it may be sent again, still as the same visit
  window.addEventListener("pageshow", function () {
    form.removeAttribute("data-sent");
    document.getElementById("visit-save").disabled = false;
  });
}());
