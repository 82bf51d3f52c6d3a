/* Boundary editor for the admin (geo.widgets.PolygonMapWidget): the field's GeoJSON on a Leaflet
   map with leaflet-geoman (move, add and remove vertices; draw, drag, cut, delete polygons), the
   neighbouring grids or divisions read-only underneath as snapping targets. The GeoJSON textarea
   stays the form field: every edit on the map rewrites it, and editing the text redraws the map.
   Without a textarea (geo.widgets.readonly_map) the map only shows its layers.
   No inline script: the data comes from a <script type="application/json"> block. */
(function () {
  "use strict";
  var STYLES = {
    // pmIgnore false: with L.PM.setOptIn(true) only these are editable (not the base map's areas)
    edit: { color: "#1a56c4", weight: 3, opacity: 1, fillColor: "#4c8bf5", fillOpacity: 0.3, pmIgnore: false },
    neighbour: { color: "#6c757d", weight: 1.5, opacity: 0.9, fillColor: "#adb5bd", fillOpacity: 0.12 },
    parent: { color: "#d63384", weight: 2.5, opacity: 0.9, dashArray: "8 6", fill: false },
    member: { color: "#0f766e", weight: 1, opacity: 0.9, fillColor: "#14b8a6", fillOpacity: 0.15 }
  };
  var EARTH_RADIUS = 6378137;

  function baseMap(el) {
    if (typeof window.urbangridBaseMap === "function") {
      return window.urbangridBaseMap(el, { maxZoom: 21, pmIgnore: false });
    }
    var map = L.map(el, { maxZoom: 21, minZoom: 3, attributionControl: !!el.dataset.tiles, pmIgnore: false });
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 21, maxNativeZoom: 18, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    return map;
  }

  /* Area of a ring on the sphere (m², the formula of mapbox/geojson-area); a rough figure for
     the status line only, the server computes the geodesic area on saving. */
  function ringArea(ring) {
    var total = 0, n = ring.length, rad = Math.PI / 180;
    if (n < 3) return 0;
    for (var i = 0; i < n; i++) {
      var p1 = ring[i], p2 = ring[(i + 1) % n], p3 = ring[(i + 2) % n];
      total += (p3[0] - p1[0]) * rad * Math.sin(p2[1] * rad);
    }
    return Math.abs(total * EARTH_RADIUS * EARTH_RADIUS / 2);
  }

  function polygonArea(rings) {
    return rings.reduce(function (sum, ring, i) { return sum + (i === 0 ? 1 : -1) * ringArea(ring); }, 0);
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function contextLayers(map, data) {
    var bounds = L.latLngBounds([]);
    (data.layers || []).forEach(function (spec) {
      if (!spec.features || !spec.features.features || !spec.features.features.length) return;
      var layer = L.geoJSON(spec.features, {
        style: STYLES[spec.role] || STYLES.neighbour,
        // drawn, never edited or cut, but the editor snaps to their vertices and edges
        pmIgnore: true,
        snapIgnore: false,
        interactive: spec.role !== "parent",
        onEachFeature: function (feature, l) {
          l._ugContext = true;
          var label = feature.properties && feature.properties.label;
          if (label) l.bindTooltip(label, { sticky: true, direction: "top" });
        }
      }).addTo(map);
      layer._ugContext = true;
      if (spec.role === "parent") layer.bringToBack();
      bounds.extend(layer.getBounds());
    });
    return bounds;
  }

  function init(root) {
    var dataEl = document.getElementById(root.dataset.mapData);
    var el = root.querySelector("[data-role=map]");
    if (!dataEl || !el || el._ugMap) return;
    var data = JSON.parse(dataEl.textContent);
    // geoman manages only the layers that opt in (the edited polygons): never the base map's
    // division areas and roads, never the context layers
    if (L.PM && L.PM.setOptIn) L.PM.setOptIn(true);
    var map = baseMap(el);
    el._ugMap = map;
    if (!map.pm && L.PM && L.PM.Map) map.pm = new L.PM.Map(map);  // a base map that dropped our options
    // a view first: layers added to a map without one wait for it, and their renderer may then
    // come after them (Leaflet fails in _clipPoints)
    if (!map._loaded) map.setView([data.center[1], data.center[0]], 5);
    var contextBounds = contextLayers(map, data);
    var textarea = root.dataset.textarea ? document.getElementById(root.dataset.textarea) : null;
    if (!textarea) {  // read-only map
      if (contextBounds.isValid()) map.fitBounds(contextBounds, { padding: [16, 16], maxZoom: 18 });
      else map.setView([data.center[1], data.center[0]], 5);
      root.dataset.ready = "1";
      return;
    }
    var status = root.querySelector("[data-role=status]");
    var advanced = root.querySelector("[data-role=advanced]");
    var lang = (document.documentElement.lang || "").toLowerCase();
    if (map.pm && lang.indexOf("zh") === 0) {
      map.pm.setLang(/hant|tw|hk|mo/.test(lang) ? "zh_tw" : "zh");
    }
    var editOptions = { snappable: true, snapDistance: 15, allowSelfIntersection: false };
    map.pm.setGlobalOptions({
      snappable: true, snapDistance: 15, allowSelfIntersection: false, pathOptions: STYLES.edit
    });
    map.pm.addControls({
      position: "topleft", drawMarker: false, drawCircleMarker: false, drawPolyline: false, drawCircle: false,
      drawText: false, drawRectangle: true, drawPolygon: true, editMode: true, dragMode: true, cutPolygon: true,
      removalMode: true, rotateMode: false
    });

    function editableLayers() {
      var found = [];
      map.eachLayer(function (l) {
        if (l instanceof L.Polygon && l.options.pmIgnore === false && !l._ugContext && !l._pmTempLayer) found.push(l);
      });
      return found;
    }

    function setStatus(text, problem) {
      status.textContent = text;
      status.classList.toggle("ug-map-problem", !!problem);
    }

    var textOk = true;
    var syncCount = 0;

    /* Map → textarea: one polygon gives a Polygon, several a MultiPolygon. */
    function sync() {
      var polygons = [];
      editableLayers().forEach(function (l) {
        var latlngs = l.getLatLngs();
        if (!latlngs || !latlngs.length) return;
        var geometry = l.toGeoJSON(false).geometry;  // full precision: snapped vertices stay identical
        if (geometry.type === "Polygon") polygons.push(geometry.coordinates);
        else if (geometry.type === "MultiPolygon") polygons = polygons.concat(geometry.coordinates);
      });
      polygons = polygons.filter(function (rings) { return rings.length && rings[0].length >= 4; });
      if (!polygons.length) textarea.value = "";
      else if (polygons.length === 1) textarea.value = JSON.stringify({ type: "Polygon", coordinates: polygons[0] });
      else textarea.value = JSON.stringify({ type: "MultiPolygon", coordinates: polygons });
      textOk = true;
      syncCount += 1;
      root.dataset.synced = String(syncCount);
      describe(polygons);
    }

    function describe(polygons) {
      if (!polygons.length) { setStatus(root.dataset.labelEmpty, false); return; }
      var area = 0, vertices = 0;
      polygons.forEach(function (rings) {
        area += polygonArea(rings);
        rings.forEach(function (ring) { vertices += ring.length - 1; });
      });
      setStatus(format(root.dataset.labelArea, {
        area: Math.round(area).toLocaleString(), vertices: String(vertices)
      }), false);
    }

    function watch(layer) {
      layer.on("pm:edit pm:update pm:dragend pm:markerdragend pm:vertexadded pm:vertexremoved pm:rotateend", sync);
    }

    /* textarea → map */
    function draw(text) {
      var geometry = null;
      if (text.trim()) {
        try { geometry = JSON.parse(text); } catch (e) { return root.dataset.labelBadJson; }
        if (geometry && geometry.type === "Feature") geometry = geometry.geometry;
        if (!geometry || (geometry.type !== "Polygon" && geometry.type !== "MultiPolygon") || !Array.isArray(geometry.coordinates)) {
          return root.dataset.labelNotPolygon;
        }
      }
      var layers;
      try {
        layers = geometry ? L.geoJSON(geometry, { style: STYLES.edit, pmIgnore: false }).getLayers() : [];
      } catch (e) {
        return root.dataset.labelNotPolygon;
      }
      editableLayers().forEach(function (l) { map.removeLayer(l); });
      layers.forEach(function (l) {
        l.addTo(map);
        watch(l);
        if (map.pm.globalEditModeEnabled()) l.pm.enable(editOptions);
      });
      describe(geometry ? (geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates) : []);
      return null;
    }

    function fit() {
      var bounds = L.latLngBounds([]);
      editableLayers().forEach(function (l) { bounds.extend(l.getBounds()); });
      if (bounds.isValid()) map.fitBounds(bounds.pad(0.6), { maxZoom: 19 });
      else if (contextBounds.isValid()) map.fitBounds(contextBounds, { padding: [16, 16], maxZoom: 18 });
      else map.setView([data.center[1], data.center[0]], 5);
    }

    var problem = draw(textarea.value);
    if (problem) {
      textOk = false;
      setStatus(problem, true);
      advanced.open = true;
    }
    fit();
    if (editableLayers().length) map.pm.enableGlobalEditMode(editOptions);

    map.on("pm:create", function (e) {
      e.layer.setStyle && e.layer.setStyle(STYLES.edit);
      watch(e.layer);
      if (map.pm.globalEditModeEnabled()) e.layer.pm.enable(editOptions);
      sync();
    });
    map.on("pm:cut", function (e) {
      if (e.layer) watch(e.layer);
      sync();
    });
    map.on("pm:remove", function (e) { if (!e.layer || !e.layer._ugContext) sync(); });

    textarea.addEventListener("change", function () {
      var message = draw(textarea.value);
      textOk = !message;
      if (message) setStatus(message, true);
      else fit();
    });
    var form = textarea.form;
    if (form) {
      form.addEventListener("submit", function () {
        // the map is the truth unless the text holds something it could not draw
        if (textOk) sync();
      });
    }
    root.dataset.ready = "1";
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-polygon-editor]"), init);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
