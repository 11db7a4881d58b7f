/* 阵地: the facility's point on a small map drawn with the app's own Leaflet (no basemap: nothing leaves
   the app). No inline handlers, no eval: loaded with the CSP nonce. */
(function () {
  "use strict";
  var box = document.getElementById("facility-map");
  if (!box || !window.L) { return; }
  var x = Number(box.getAttribute("data-lon")), y = Number(box.getAttribute("data-lat"));
  if (!isFinite(x) || !isFinite(y)) { return; }
  var map = L.map(box, { attributionControl: false, zoomControl: false, dragging: false,
                         scrollWheelZoom: false, doubleClickZoom: false, touchZoom: false });
  L.control.scale({ imperial: false }).addTo(map);
  L.circleMarker([y, x], { radius: 9, color: "#1565c0", weight: 3, fillOpacity: 0.4,
                           className: "facility-position" }).addTo(map);
  map.setView([y, x], 17);
})();
