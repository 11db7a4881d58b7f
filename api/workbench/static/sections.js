/* The planner's section map (路段分配, 切分道路): the sections (or a cut's pieces) from the page's JSON
   drawn with the local Leaflet, no basemap needed. On the assign page a click on a line picks or drops
   its section: the line and its checkbox in the list stay in step, and the legend counts the picks and
   their length. Without this script the list's checkboxes work the same. No inline handlers, no eval:
   loaded with the page's CSP nonce. */
(function () {
  "use strict";
  var box = document.getElementById("sections-map");
  var source = document.getElementById("sections-data");
  if (!box || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  var ASSIGNED = "#2e7d32", UNASSIGNED = "#c62828", PICKED = "#1565c0";
  var PIECES = ["#1565c0", "#ef6c00", "#6a1b9a", "#00838f"];
  var pieces = box.classList.contains("pieces");
  var map = L.map(box, { zoomSnap: 0.25, attributionControl: false });
  L.control.scale({ imperial: false }).addTo(map);
  var lines = {};

  function box_(id) {
    return document.querySelector("input[name=section_id][value='" + id + "']");
  }
  function picked(id) {
    var input = box_(id);
    return !!(input && input.checked);
  }
  function style(feature) {
    var p = feature.properties;
    if (pieces) { return { color: PIECES[p.id % PIECES.length], weight: 5, opacity: 0.9, className: "piece" }; }
    var mark = "section section-" + p.id;  // a path's class is set once, when it is drawn
    if (picked(p.id)) { return { color: PICKED, weight: 8, opacity: 1, className: mark }; }
    return p.unit_id ? { color: ASSIGNED, weight: 5, opacity: 0.85, className: mark }
                     : { color: UNASSIGNED, weight: 5, opacity: 0.85, dashArray: "8 6", className: mark };
  }
  var layer = L.geoJSON(data, {
    style: style,
    onEachFeature: function (feature, line) {
      var p = feature.properties;
      lines[p.id] = line;
      var text = p.code + (p.road_name ? " " + p.road_name : "") +
                 (p.length_m !== undefined ? " · " + p.length_m + " m" : "") + (p.unit_name ? " · " + p.unit_name : "");
      line.bindTooltip(text, { sticky: true });
      line.on("click", function () {
        var input = box_(p.id);
        if (!input) { return; }
        input.checked = !input.checked;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      });
    }
  }).addTo(map);
  if (data.features.length) {
    map.fitBounds(layer.getBounds(), { padding: [12, 12] });
  } else {
    var b = (box.getAttribute("data-bbox") || "-180,-60,180,75").split(",").map(Number);
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
  }

  function count() {
    var out = document.getElementById("picked-count");
    if (!out) { return; }
    var n = 0, metres = 0;
    document.querySelectorAll("input[name=section_id]:checked").forEach(function (input) {
      n += 1;
      var row = input.closest("tr");
      metres += row ? parseFloat(row.getAttribute("data-length-m")) || 0 : 0;
    });
    out.textContent = n ? n + " × · " + metres.toFixed(1) + " m" : "";
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.id === "pick-all") {
      document.querySelectorAll("input[name=section_id]").forEach(function (b) { b.checked = input.checked; });
      Object.keys(lines).forEach(function (id) { lines[id].setStyle(style(lines[id].feature)); });
    } else if (input.name === "section_id" && lines[input.value]) {
      lines[input.value].setStyle(style(lines[input.value].feature));
      if (input.checked) { lines[input.value].bringToFront(); }
    }
    count();
  });
  count();
  box.setAttribute("data-ready", "1");
})();
