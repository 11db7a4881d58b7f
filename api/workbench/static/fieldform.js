/* The field form's shared block (templates/_field_form.html): used by the report form (举报, report.js),
   the visit form (走访, visit.js) and the inspection form's photos (检查).

   GridmapFieldForm.init({form, save}) wires one form: makes its client id once (crypto.randomUUID), so
   a post retried on a weak signal is stored once; fills lon/lat (and accuracy_m where the form has it)
   from the browser's Geolocation API (WGS 84) and shows the accuracy; where the form has a small map
   (#report-map, the app's own Leaflet, no basemap: nothing leaves the app) shows the position and takes
   a tap there instead; a position typed or pasted from a Chinese map app keeps the crs chosen for it
   (GCJ-02, BD-09), while the phone's and the map's positions set it back to WGS 84. Where the form has
   a manual block (#position-manual), it is shown only when the phone cannot locate. A second tap on the
   save button does not send the form twice.

   Every file input with data-preview="ID" (the photos) shows thumbnails of the chosen pictures in the
   list ID, on every page that loads this file. No inline handlers, no eval: loaded with the CSP nonce;
   the thumbnails are data: URLs (the CSP allows no blob:). */
(function () {
  "use strict";
  var PREVIEWED = 12;  // thumbnails shown at most: a phone's memory, not the number sent

  function randomId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function preview(input) {
    var list = document.getElementById(input.getAttribute("data-preview"));
    if (!list) { return; }
    input.addEventListener("change", function () {
      while (list.firstChild) { list.removeChild(list.firstChild); }
      var files = Array.prototype.slice.call(input.files || [], 0, PREVIEWED);
      list.hidden = files.length === 0;
      files.forEach(function (file) {
        var item = document.createElement("li");
        var img = document.createElement("img");
        img.alt = file.name;
        item.appendChild(img);
        list.appendChild(item);
        if (!/^image\//.test(file.type) || !window.FileReader) { return; }
        var reader = new FileReader();
        reader.onload = function () { img.src = reader.result; };
        reader.readAsDataURL(file);
      });
    });
  }

  function init(options) {
    var form = document.getElementById(options.form);
    if (!form) { return; }
    function byId(id) { return document.getElementById(id); }
    var status = byId("position-status");
    var manual = byId("position-manual");
    var retry = byId("position-retry");
    var lon = byId("f-lon");
    var lat = byId("f-lat");
    var crs = byId("f-crs");  // the report form's choice; the visit form's crs is a fixed WGS 84
    var accuracy = byId("f-accuracy_m");
    var client = byId("f-client_id");
    var box = byId("report-map");
    var save = byId(options.save);
    var map = null, marker = null;

    if (client && !client.value) { client.value = randomId(); }

    function show(y, x, zoom) {
      if (!map) { return; }
      if (!marker) {
        marker = L.circleMarker([y, x], { radius: 9, color: "#c62828", weight: 3, fillOpacity: 0.4,
                                           className: "report-position" }).addTo(map);
      } else {
        marker.setLatLng([y, x]);
      }
      map.setView([y, x], zoom || Math.max(map.getZoom(), 17));
    }
    function put(x, y) {
      lon.value = x.toFixed(7);
      lat.value = y.toFixed(7);
      if (crs) { crs.value = "EPSG:4326"; }  // the phone's and the map's positions are WGS 84
    }
    function say(words, state) {
      status.textContent = words;
      status.className = "locating " + state;
    }
    if (box && window.L) {
      map = L.map(box, { attributionControl: false, zoomSnap: 0.5 });
      L.control.scale({ imperial: false }).addTo(map);
      var b = (box.getAttribute("data-bbox") || "73,18,135,54").split(",").map(Number);
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
      map.on("click", function (e) {
        put(e.latlng.lng, e.latlng.lat);
        if (accuracy) { accuracy.value = ""; }  // a tapped position has no accuracy from the phone
        show(e.latlng.lat, e.latlng.lng);
        say(status.getAttribute("data-tapped"), "tapped");
      });
    }

    function failed() {
      say(status.getAttribute("data-failed"), "failed");
      if (manual) {
        manual.hidden = false;
        retry.hidden = !navigator.geolocation;
      }
    }
    function located(position) {
      var c = position.coords;
      put(c.longitude, c.latitude);
      if (accuracy) { accuracy.value = Math.round(c.accuracy * 10) / 10; }
      show(c.latitude, c.longitude, 18);
      say(status.getAttribute("data-located").replace("{m}", Math.round(c.accuracy)), "located");
      if (manual) {
        manual.hidden = true;
        retry.hidden = false;
      }
    }
    function locate() {
      if (!navigator.geolocation) { failed(); return; }
      navigator.geolocation.getCurrentPosition(located, failed,
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
    }
    // a form shown again with its errors keeps a typed position; otherwise ask the phone
    if (lon.value && lat.value && !(accuracy && accuracy.value)) {
      if (manual) { manual.hidden = false; }
      status.textContent = "";
      if ((!crs || crs.value === "EPSG:4326") && isFinite(+lon.value) && isFinite(+lat.value)) {
        show(+lat.value, +lon.value);
      }
    } else {
      if (manual) { manual.hidden = true; }
      locate();
    }
    retry.addEventListener("click", locate);
    // a typed position has no accuracy estimate from the phone
    if (accuracy) {
      [lon, lat].forEach(function (input) {
        input.addEventListener("input", function () { accuracy.value = ""; });
      });
    }
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      if (save) { save.disabled = true; }
    });
    // back to a sent form (the page cache): it may be sent again, still as the same record
    window.addEventListener("pageshow", function () {
      form.removeAttribute("data-sent");
      if (save) { save.disabled = false; }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-preview]"), preview);
  window.GridmapFieldForm = { init: init };
}());
