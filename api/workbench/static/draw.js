/* The place and school forms' map (场所/学校): click to set a place's entrance, or draw a campus by
   clicking its corners (drag a corner to correct it) and add gates as points. The map only edits the
   form's own fields: lon/lat for a place, the GeoJSON of the campus and of the gates (textareas that
   also take WKT typed by hand) for a school; the server checks and converts them as it does without
   this script. Leaflet comes from the app's /static files; no inline handlers, no eval; loaded with
   the page's CSP nonce. A map edit is in WGS84 (the basemap's and the data's system): the
   coordinate-system choice is set to EPSG:4326 when the map writes. */
(function () {
  "use strict";
  var el = document.getElementById("draw-map");
  if (!el || !window.L) { return; }
  var cfg = JSON.parse(el.getAttribute("data-map"));
  var DIGITS = 7; // about a centimetre

  function byId(id) { return id ? document.getElementById(id) : null; }
  function icon(cls) { return L.divIcon({ className: cls, iconSize: [20, 20] }); }
  function round(x) { return Number(x.toFixed(DIGITS)); }
  function changed(field) { field.dispatchEvent(new Event("input", { bubbles: true })); }

  var map = L.map(el, { maxZoom: 20, zoomControl: true }).setView(cfg.centre, cfg.zoom);
  (cfg.tiles || []).forEach(function (t) {
    var options = { attribution: t.attribution || "", maxZoom: 20, maxNativeZoom: t.maxZoom || t.max_zoom || 18 };
    if (t.subdomains) { options.subdomains = t.subdomains; }
    L.tileLayer(t.url, options).addTo(map);
  });
  if (cfg.context) {
    L.geoJSON(cfg.context, {
      interactive: false,
      style: function (f) {
        return f.properties.kind === "community"
          ? { color: "#7d8891", weight: 1, dashArray: "4 4", fill: false }
          : { color: "#b06000", weight: 1, fillOpacity: 0.06 };
      },
      pointToLayer: function (f, latlng) { return L.circleMarker(latlng, { radius: 4, color: "#b06000" }); }
    }).addTo(map);
  }
  L.control.scale({ imperial: false }).addTo(map);
  document.querySelectorAll(".draw-hint, .draw-tools").forEach(function (e) { e.hidden = false; });
  var crs = byId(el.getAttribute("data-crs"));
  function wgs84() { if (crs) { crs.value = "EPSG:4326"; } }

  // --- a place: one point -----------------------------------------------------------------------
  function pointEditor() {
    var lon = byId(el.getAttribute("data-lon"));
    var lat = byId(el.getAttribute("data-lat"));
    var marker = null;

    function put(latlng) {
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, icon: icon("draw-point"), keyboard: false }).addTo(map);
        marker.on("dragend", function () { write(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
    }
    function write(latlng) {
      lon.value = round(latlng.lng); lat.value = round(latlng.lat);
      wgs84(); changed(lon);
    }
    function read() {
      var x = parseFloat(lon.value), y = parseFloat(lat.value);
      if (isFinite(x) && isFinite(y) && Math.abs(y) <= 85) { put(L.latLng(y, x)); return true; }
      return false;
    }
    map.on("click", function (e) { put(e.latlng); write(e.latlng); });
    lon.addEventListener("change", read);
    lat.addEventListener("change", read);
    if (read()) { map.setView(marker.getLatLng(), Math.max(map.getZoom(), 17)); }
  }

  // --- a school: the campus ring and the gates --------------------------------------------------
  function numbers(text) {
    // "x y, x y" (WKT) or "x,y; x,y" (gates typed by hand) as [[x, y], ...]
    var pairs = text.indexOf(";") >= 0 || !/\s/.test(text.trim()) ? text.split(";") : text.split(",");
    return pairs.map(function (p) {
      return p.trim().split(/[\s,]+/).map(Number);
    }).filter(function (p) { return p.length === 2 && isFinite(p[0]) && isFinite(p[1]); });
  }
  function parse(text) {
    // GeoJSON, or the simple WKT shapes this map can edit (POLYGON with one ring, (MULTI)POINT)
    text = (text || "").trim();
    if (!text) { return null; }
    if (text.charAt(0) === "{") {
      try { var g = JSON.parse(text); return g.type === "Feature" ? g.geometry : g; } catch (err) { return undefined; }
    }
    var m = /^POLYGON\s*\(\s*\(([^()]*)\)\s*\)$/i.exec(text);
    if (m) { return { type: "Polygon", coordinates: [numbers(m[1])] }; }
    m = /^(MULTI)?POINT\s*\((.*)\)$/i.exec(text);
    if (m) { return { type: "MultiPoint", coordinates: numbers(m[2].replace(/[()]/g, "")) }; }
    if (/^[-0-9.,;\s]+$/.test(text)) { return { type: "MultiPoint", coordinates: numbers(text) }; }
    return undefined; // something else: left to the server, shown as it is not
  }

  function campusEditor() {
    var geometry = byId(el.getAttribute("data-geometry"));
    var gates = byId(el.getAttribute("data-gates"));
    var corners = [], gateMarkers = [], ring = null, shown = null, mode = null;
    var buttons = document.querySelectorAll("[data-draw]");

    function setMode(next) {
      mode = mode === next ? null : next;
      buttons.forEach(function (b) {
        if (b.hasAttribute("aria-pressed")) { b.setAttribute("aria-pressed", String(b.getAttribute("data-draw") === mode)); }
      });
      el.classList.toggle("drawing", mode !== null);
    }
    function redraw() {
      var latlngs = corners.map(function (c) { return c.getLatLng(); });
      if (ring) { ring.setLatLngs(latlngs); } else {
        ring = L.polygon(latlngs, { color: "#0b5cad", weight: 2, fillOpacity: 0.15, interactive: false }).addTo(map);
      }
    }
    function writeCampus() {
      if (shown) { map.removeLayer(shown); shown = null; }
      var coords = corners.map(function (c) { var p = c.getLatLng(); return [round(p.lng), round(p.lat)]; });
      if (coords.length) { coords.push(coords[0].slice()); }
      geometry.value = coords.length ? JSON.stringify({ type: "Polygon", coordinates: [coords] }) : "";
      wgs84(); changed(geometry);
    }
    function writeGates() {
      var coords = gateMarkers.map(function (g) { var p = g.getLatLng(); return [round(p.lng), round(p.lat)]; });
      gates.value = coords.length ? JSON.stringify({ type: "MultiPoint", coordinates: coords }) : "";
      wgs84(); changed(gates);
    }
    function addCorner(latlng) {
      var c = L.marker(latlng, { draggable: true, icon: icon("draw-vertex"), keyboard: false }).addTo(map);
      c.on("drag", redraw);
      c.on("dragend", writeCampus);
      corners.push(c);
      redraw();
    }
    function addGate(latlng) {
      var g = L.marker(latlng, { draggable: true, icon: icon("draw-gate"), keyboard: false }).addTo(map);
      g.on("dragend", writeGates);
      g.on("click", function () {
        if (mode !== "gates") { return; }
        map.removeLayer(g);
        gateMarkers.splice(gateMarkers.indexOf(g), 1);
        writeGates();
      });
      gateMarkers.push(g);
    }
    function clearCorners() {
      corners.forEach(function (c) { map.removeLayer(c); });
      corners = [];
      if (ring) { map.removeLayer(ring); ring = null; }
      if (shown) { map.removeLayer(shown); shown = null; }
    }
    function readCampus() {
      clearCorners();
      var g = parse(geometry.value);
      if (g && g.type === "Polygon" && g.coordinates.length === 1) {
        var c = g.coordinates[0].slice();
        if (c.length > 1 && c[0][0] === c[c.length - 1][0] && c[0][1] === c[c.length - 1][1]) { c.pop(); }
        c.forEach(function (p) { addCorner(L.latLng(p[1], p[0])); });
      } else if (g) {
        // a MultiPolygon, a polygon with holes or a point: shown, redrawn from scratch if need be
        try { shown = L.geoJSON(g, { interactive: false, style: { color: "#0b5cad", weight: 2 } }).addTo(map); }
        catch (err) { shown = null; }
      }
    }
    function readGates() {
      gateMarkers.forEach(function (m) { map.removeLayer(m); });
      gateMarkers = [];
      var g = parse(gates.value);
      if (!g) { return; }
      var points = g.type === "Point" ? [g.coordinates] : g.type === "MultiPoint" ? g.coordinates : [];
      points.forEach(function (p) { addGate(L.latLng(p[1], p[0])); });
    }

    map.on("click", function (e) {
      if (mode === "campus") { if (shown) { clearCorners(); } addCorner(e.latlng); writeCampus(); }
      else if (mode === "gates") { addGate(e.latlng); writeGates(); }
    });
    buttons.forEach(function (b) {
      b.addEventListener("click", function () {
        var what = b.getAttribute("data-draw");
        if (what === "campus" || what === "gates") { setMode(what); }
        else if (what === "undo") {
          if (mode === "gates" && gateMarkers.length) { map.removeLayer(gateMarkers.pop()); writeGates(); }
          else if (corners.length) { map.removeLayer(corners.pop()); redraw(); writeCampus(); }
        } else if (what === "clear") { clearCorners(); writeCampus(); mode = null; setMode("campus"); }
      });
    });
    geometry.addEventListener("change", readCampus);
    gates.addEventListener("change", readGates);
    readCampus();
    readGates();
    var layers = corners.concat(gateMarkers);
    if (layers.length) { map.fitBounds(L.featureGroup(layers).getBounds(), { maxZoom: 18, padding: [20, 20] }); }
    else if (shown && shown.getBounds && shown.getBounds().isValid()) { map.fitBounds(shown.getBounds(), { maxZoom: 18 }); }
    if (!corners.length && !shown) { setMode("campus"); }
  }

  if (el.getAttribute("data-mode") === "point") { pointEditor(); } else { campusEditor(); }
}());
