/* 举报不文明行为: the position for the report form. Fills lon/lat from the browser's Geolocation API
   (WGS 84) and shows it on a small map drawn with the app's own Leaflet (no basemap: nothing leaves the
   app); a tap on the map moves the position there. Either way the coordinates are WGS 84 (crs
   EPSG:4326); a position typed or pasted from a Chinese map app keeps the crs chosen for it (GCJ-02,
   BD-09). Makes the form's client id once (crypto.randomUUID), so a post retried on a weak signal is
   stored once, and keeps a second tap on "submit" from sending the form twice. No inline handlers, no
   eval: loaded with the CSP nonce. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var status = document.getElementById("position-status");
  var retry = document.getElementById("position-retry");
  var lon = document.getElementById("f-lon");
  var lat = document.getElementById("f-lat");
  var crs = document.getElementById("f-crs");
  var client = document.getElementById("f-client_id");
  var box = document.getElementById("report-map");
  var map = null, marker = null;

  function randomId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  if (!client.value) { client.value = randomId(); }

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
    crs.value = "EPSG:4326";  // the phone's and the map's positions are WGS 84
  }
  if (box && window.L) {
    map = L.map(box, { attributionControl: false, zoomSnap: 0.5 });
    L.control.scale({ imperial: false }).addTo(map);
    var b = (box.getAttribute("data-bbox") || "73,18,135,54").split(",").map(Number);
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    map.on("click", function (e) {
      put(e.latlng.lng, e.latlng.lat);
      show(e.latlng.lat, e.latlng.lng);
      status.textContent = status.getAttribute("data-tapped");
      status.className = "locating tapped";
    });
  }

  function failed() {
    status.textContent = status.getAttribute("data-failed");
    status.className = "locating failed";
  }
  function located(position) {
    var c = position.coords;
    put(c.longitude, c.latitude);
    show(c.latitude, c.longitude, 18);
    status.textContent = status.getAttribute("data-located").replace("{m}", Math.round(c.accuracy));
    status.className = "locating located";
  }
  function locate() {
    if (!navigator.geolocation) { failed(); return; }
    navigator.geolocation.getCurrentPosition(located, failed,
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
  }
  // a form shown again with its errors keeps what was typed; otherwise ask the phone
  if (lon.value && lat.value) {
    status.textContent = "";
    if (crs.value === "EPSG:4326" && isFinite(+lon.value) && isFinite(+lat.value)) { show(+lat.value, +lon.value); }
  } else {
    locate();
  }
  retry.addEventListener("click", locate);
  form.addEventListener("submit", function (event) {
    if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
    form.setAttribute("data-sent", "1");
    document.getElementById("report-save").disabled = true;
  });
  // back to a sent form (the page cache): it may be sent again, still as the same report
  window.addEventListener("pageshow", function () {
    form.removeAttribute("data-sent");
    document.getElementById("report-save").disabled = false;
  });
}());
