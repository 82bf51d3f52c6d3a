/* Maps for the staff web, the phone app and the big screen (Leaflet, vendored).

   baseMap(el, options) (window.urbangridBaseMap) makes every map of the site:
   * with a tile URL (el.dataset.tiles, settings.URBANGRID_TILE_URL) it shows those tiles; the
     offline base map stays available as map.ugBase (switchable on /map/);
   * without one it draws the offline base map (window.urbangridBaseLayer): division areas, roads
     and labels of the loaded city from /map/base.json, on canvas, under every overlay.
   * Coordinates: all our data is WGS-84. When the tiles are GCJ-02 (AMap, Tencent, most intranet
     copies; el.dataset.tileCrs or, when a page does not say, /map/tiles.json) the map's CRS shifts
     every WGS-84 position onto the tiles in its projection, so markers, GeoJSON, clusters, the heat
     map and the base map all line up, and clicks come back as WGS-84: one place, every layer.
   The staff map page (#big-map) adds cases, components, the heat map, a time filter and the legend. */
(function () {
  "use strict";
  var STATE_CLASS = {
    reported: "s-new", verifying: "s-new", accepted: "s-new",
    registered: "s-work", handling: "s-work", return_requested: "s-work", suspended: "s-work",
    feedback: "s-check", checking: "s-check", pending_close: "s-check", rechecking: "s-check",
    self_handled: "s-check"
  };
  var DEFAULT_BASE_URL = "/map/base.json";   // pages that do not say (data-basemap) use these
  var DEFAULT_TILES_URL = "/map/tiles.json";

  // --- WGS-84 ⇄ GCJ-02: the published formula, as geo/crs.py ---------------------------------
  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323, PI = Math.PI;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function gcjOffset(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, sqrtAbsX = Math.sqrt(Math.abs(x));
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrtAbsX + common;
    dlat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dlat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrtAbsX + common;
    dlon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dlon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * PI, s = Math.sin(radLat), magic = 1.0 - GCJ_EE * s * s, sqrtMagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrtMagic) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrtMagic * Math.cos(radLat) * PI);
    return [dlon, dlat];
  }
  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var d = gcjOffset(lon, lat);
    return [lon + d[0], lat + d[1]];
  }
  function gcj02ToWgs84(lon, lat) {
    if (outOfChina(lon, lat)) { return [lon, lat]; }
    var wLon = lon, wLat = lat;
    for (var i = 0; i < 30; i++) {
      var g = wgs84ToGcj02(wLon, wLat), eLon = g[0] - lon, eLat = g[1] - lat;
      wLon -= eLon; wLat -= eLat;
      if (Math.max(Math.abs(eLon), Math.abs(eLat)) < 1e-9) { break; }
    }
    return [wLon, wLat];
  }
  window.urbangridCoords = { wgs84ToGcj02: wgs84ToGcj02, gcj02ToWgs84: gcj02ToWgs84 };

  /* Web Mercator whose projection first moves WGS-84 onto GCJ-02 tiles when crs.shift is true. */
  function makeCrs(shift) {
    var sm = L.Projection.SphericalMercator;
    var crs = L.extend({}, L.CRS.EPSG3857, { shift: !!shift });
    crs.projection = {
      R: sm.R, MAX_LATITUDE: sm.MAX_LATITUDE, bounds: sm.bounds,
      project: function (ll) {
        if (crs.shift) { var g = wgs84ToGcj02(ll.lng, ll.lat); ll = L.latLng(g[1], g[0]); }
        return sm.project(ll);
      },
      unproject: function (p) {
        var ll = sm.unproject(p);
        if (!crs.shift) { return ll; }
        var w = gcj02ToWgs84(ll.lng, ll.lat);
        return L.latLng(w[1], w[0]);
      }
    };
    return crs;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok) { var e = new Error((body && body.error && body.error.message) || String(r.status)); e.body = body; throw e; }
        return body;
      });
    });
  }

  // --- the offline base map ----------------------------------------------------------------
  var THEMES = {
    light: {
      county: { stroke: true, color: "#8c8fa3", weight: 1.5, fillColor: "#f4f1e8", fillOpacity: 1 },
      street: { stroke: true, color: "#9b8fc0", weight: 2, dashArray: "8 4", fillOpacity: 0.35 },
      streetFills: ["#e6efd9", "#f3e6d3", "#dfe9f3", "#f1e0e6", "#e9e4f3", "#e1f0ec", "#f5efd6"],
      community: { stroke: true, color: "#b8b0d0", weight: 0.8, fill: false },
      casing: "#c9c1ad", road: "#ffffff",
      text: { county: "#3d3a52", street: "#4b3f78", community: "#6e6690", road: "#4f4a40", landmark: "#1f5f99" },
      halo: "rgba(255,255,255,0.92)"
    },
    dark: {
      county: { stroke: true, color: "#2d4a6a", weight: 1.5, fillColor: "#10202f", fillOpacity: 1 },
      street: { stroke: true, color: "#3f6a93", weight: 1.5, dashArray: "8 4", fillOpacity: 0.25 },
      streetFills: ["#16314a", "#1b2f44", "#15293d", "#1d3550", "#182c40", "#142a3a", "#1a3247"],
      community: { stroke: true, color: "#294563", weight: 0.6, fill: false },
      casing: "#0c1724", road: "#2f4862",
      text: { county: "#b9cde3", street: "#9fc0e0", community: "#7f9bb8", road: "#8aa3bd", landmark: "#6fd3c9" },
      halo: "rgba(8,18,30,0.9)"
    }
  };
  var FONTS = {
    county: "bold 16px sans-serif", street: "bold 14px sans-serif", community: "12px sans-serif",
    road: "12px sans-serif", landmark: "12px sans-serif"
  };
  var basePromises = {};
  function loadBase(url) {
    if (!basePromises[url]) { basePromises[url] = getJSON(url).catch(function () { return null; }); }
    return basePromises[url];
  }
  function roadWidth(z) { return z <= 12 ? 1 : z <= 13 ? 1.5 : z <= 14 ? 2.5 : z <= 15 ? 4 : z <= 16 ? 6 : z <= 17 ? 9 : 13; }

  /* Labels drawn on one canvas above the base map: by zoom level, along the roads, no overlaps. */
  var LabelLayer = L.Layer.extend({
    initialize: function (labels, theme, pane) { this._labels = labels; this._theme = theme; this._pane = pane; },
    onAdd: function (map) {
      this._canvas = L.DomUtil.create("canvas", "ug-labels leaflet-zoom-hide");
      this._canvas.setAttribute("data-testid", "base-labels");
      this._canvas.setAttribute("aria-hidden", "true");
      map.getPane(this._pane).appendChild(this._canvas);
      map.on("moveend zoomend resize viewreset", this._redraw, this);
      this._redraw();
    },
    onRemove: function (map) {
      map.off("moveend zoomend resize viewreset", this._redraw, this);
      L.DomUtil.remove(this._canvas);
    },
    _redraw: function () {
      var map = this._map, canvas = this._canvas;
      if (!map || !canvas) { return; }
      var size = map.getSize(), dpr = window.devicePixelRatio || 1;
      canvas.width = Math.round(size.x * dpr); canvas.height = Math.round(size.y * dpr);
      canvas.style.width = size.x + "px"; canvas.style.height = size.y + "px";
      L.DomUtil.setPosition(canvas, map.containerPointToLayerPoint([0, 0]));
      var ctx = canvas.getContext("2d"), z = map.getZoom(), placed = [], drawn = 0, theme = this._theme;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.lineJoin = "round";
      for (var i = 0; i < this._labels.length; i++) {
        var f = this._labels[i], p = f.properties;
        if (z < p.minzoom || z > p.maxzoom) { continue; }
        var c = f.geometry.coordinates, pt = map.latLngToContainerPoint([c[1], c[0]]);
        if (pt.x < -50 || pt.y < -20 || pt.x > size.x + 50 || pt.y > size.y + 20) { continue; }
        ctx.font = FONTS[p.kind] || FONTS.community;
        var w = ctx.measureText(p.text).width + 6, h = 16, a = (p.angle || 0) * PI / 180;
        var bw = Math.abs(w * Math.cos(a)) + Math.abs(h * Math.sin(a)), bh = Math.abs(w * Math.sin(a)) + Math.abs(h * Math.cos(a));
        var box = [pt.x - bw / 2, pt.y - bh / 2, pt.x + bw / 2, pt.y + bh / 2];
        var clash = placed.some(function (b) { return box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1]; });
        if (clash) { continue; }
        placed.push(box);
        ctx.save();
        ctx.translate(pt.x, pt.y);
        if (a) { ctx.rotate(a); }
        if (p.kind === "landmark") {
          ctx.fillStyle = theme.text.landmark;
          ctx.beginPath(); ctx.arc(0, -10, 3, 0, 2 * PI); ctx.fill();
        }
        ctx.strokeStyle = theme.halo; ctx.lineWidth = 3.5;
        ctx.strokeText(p.text, 0, p.kind === "landmark" ? 4 : 0);
        ctx.fillStyle = theme.text[p.kind] || theme.text.community;
        ctx.fillText(p.text, 0, p.kind === "landmark" ? 4 : 0);
        ctx.restore();
        drawn++;
      }
      canvas.setAttribute("data-drawn", String(drawn));
    }
  });

  /* The offline base map as one layer group (areas, roads, labels); `ready` resolves when drawn. */
  function baseLayer(map, url, options) {
    options = options || {};
    var theme = THEMES[options.theme] || THEMES.light;
    if (!map.getPane("ugBase")) {
      map.createPane("ugBase").style.zIndex = 250;
      map.createPane("ugLabels").style.zIndex = 420;
      map.getPane("ugBase").style.pointerEvents = "none";
      map.getPane("ugLabels").style.pointerEvents = "none";
    }
    var renderer = L.canvas({ pane: "ugBase", padding: 0.5 });
    var group = L.layerGroup();
    var casing = null, road = null;
    function restyle() {
      if (!casing || !group._map) { return; }
      var w = roadWidth(map.getZoom());
      casing.setStyle({ weight: w + 2 });
      road.setStyle({ weight: w });
    }
    group.ready = loadBase(url || DEFAULT_BASE_URL).then(function (fc) {
      if (!fc) { return null; }
      var byLayer = { county: [], street: [], community: [], road: [], label: [] };
      fc.features.forEach(function (f) { (byLayer[f.properties.layer] || []).push(f); });
      var fills = 0;
      var common = { renderer: renderer, interactive: false, pane: "ugBase" };
      group.addLayer(L.geoJSON(byLayer.county, L.extend({ style: theme.county }, common)));
      group.addLayer(L.geoJSON(byLayer.street, L.extend({
        style: function () { return L.extend({ fillColor: theme.streetFills[fills++ % theme.streetFills.length] }, theme.street); }
      }, common)));
      group.addLayer(L.geoJSON(byLayer.community, L.extend({ style: theme.community }, common)));
      var w = roadWidth(map.getZoom());
      casing = L.geoJSON(byLayer.road, L.extend({ style: { color: theme.casing, weight: w + 2, lineCap: "round", lineJoin: "round" } }, common));
      road = L.geoJSON(byLayer.road, L.extend({ style: { color: theme.road, weight: w, lineCap: "round", lineJoin: "round" } }, common));
      group.addLayer(casing).addLayer(road);
      group.addLayer(new LabelLayer(byLayer.label, theme, "ugLabels"));
      group.bbox = fc.bbox || null;
      map.getContainer().setAttribute("data-base-roads", String(byLayer.road.length));
      map.getContainer().setAttribute("data-base-areas", String(byLayer.street.length + byLayer.community.length));
      return fc;
    });
    map.on("zoomend", restyle);
    return group;
  }
  window.urbangridBaseLayer = baseLayer;

  /* The {s} values of well-known tile hosts (Tianditu t0-t7, AMap webrd01-04); Leaflet's "abc" otherwise. */
  function subdomainsFor(url) {
    if (/tianditu\.gov\.cn/.test(url)) { return "01234567"; }
    if (/autonavi\.com/.test(url)) { return "1234"; }
    return "abc";
  }

  function baseMap(el, options) {
    var tiles = el.dataset.tiles || "";
    var known = el.dataset.tileCrs !== undefined && el.dataset.tileCrs !== "";
    var crs = makeCrs(tiles && (el.dataset.tileCrs || "").toUpperCase() === "GCJ02");
    var map = L.map(el, Object.assign({ crs: crs, zoomControl: true, maxZoom: 19, minZoom: 3, attributionControl: !!tiles }, options || {}));
    map.ugBase = baseLayer(map, el.dataset.basemap);
    if (tiles) {
      // several templates separated by spaces are stacked (Tianditu: vec_w, then the cva_w labels)
      map.ugTiles = L.layerGroup(tiles.split(/\s+/).filter(Boolean).map(function (url, i) {
        return L.tileLayer(url, {
          maxZoom: 19, attribution: i ? "" : el.dataset.attribution || "", subdomains: el.dataset.subdomains || subdomainsFor(url)
        });
      })).addTo(map);
      if (!known) {
        getJSON(el.dataset.tilesConfig || DEFAULT_TILES_URL).then(function (cfg) {
          if (!cfg || cfg.crs !== "GCJ02" || crs.shift) { return; }
          var view = map._loaded ? [map.getCenter(), map.getZoom()] : null;
          crs.shift = true;
          el.dataset.tileCrsUsed = "GCJ02";
          if (view) { map.setView(view[0], view[1], { reset: true }); }
        }).catch(function () { /* keep the tiles unshifted */ });
      }
    } else {
      map.ugBase.addTo(map);
    }
    el.dataset.tileCrsUsed = crs.shift ? "GCJ02" : "WGS84";
    return map;
  }
  window.urbangridBaseMap = baseMap;

  function caseIcon(state, title, light) {
    return L.divIcon({
      className: "case-marker " + (STATE_CLASS[state] || "s-done") + (light === "red" ? " overdue" : ""),
      html: "<span aria-hidden=\"true\"></span>",
      iconSize: [18, 18]
    });
  }
  window.urbangridCaseIcon = caseIcon;

  function caseMap() {
    var el = document.getElementById("case-map");
    var dataEl = document.getElementById("case-map-data");
    if (!el || !dataEl) return;
    var data = JSON.parse(dataEl.textContent);
    var map = baseMap(el, { keyboard: false });
    var grid = L.geoJSON(data.grid, { style: { color: "#1a56c4", weight: 2, fillOpacity: 0.08 } }).addTo(map);
    L.marker([data.point[1], data.point[0]], { icon: caseIcon("handling"), keyboard: false, interactive: false }).addTo(map);
    map.fitBounds(grid.getBounds(), { padding: [20, 20], maxZoom: 18 });
  }

  // --- the staff map page ---------------------------------------------------------------------
  var GROUPS = ["new", "work", "check", "done"];
  var FALLBACK_COLORS = { "new": "#d63384", work: "#c2410c", check: "#0b57d0", done: "#57606a" };
  var groupColors = null;
  /* The legend's colours, read from the legend itself: clusters can never disagree with it. */
  function legendColors() {
    if (groupColors) { return groupColors; }
    groupColors = {};
    GROUPS.forEach(function (g) {
      var dot = document.querySelector("[data-legend-group=\"" + g + "\"]");
      groupColors[g] = dot ? getComputedStyle(dot).backgroundColor : FALLBACK_COLORS[g];
    });
    return groupColors;
  }

  /* A round icon: a pie of the state groups (legend colours), the count, a red ring when overdue. */
  function pieIcon(stats, extraClass) {
    var colors = legendColors(), total = 0, stops = [], at = 0, top = "done", topN = -1;
    GROUPS.forEach(function (g) { total += stats.groups[g] || 0; });
    GROUPS.forEach(function (g) {
      var n = stats.groups[g] || 0;
      if (!n) { return; }
      if (n > topN) { top = g; topN = n; }
      var end = at + n / total * 360;
      stops.push(colors[g] + " " + at.toFixed(1) + "deg " + end.toFixed(1) + "deg");
      at = end;
    });
    var size = stats.count < 10 ? 34 : stats.count < 100 ? 40 : stats.count < 1000 ? 46 : 52;
    var div = document.createElement("div");
    div.className = "ug-pie" + (stats.overdue ? " overdue" : "") + (extraClass ? " " + extraClass : "");
    div.style.width = div.style.height = size + "px";
    div.style.background = "conic-gradient(" + stops.join(",") + ")";
    div.setAttribute("data-top-group", top);
    div.setAttribute("data-top-color", colors[top]);
    div.setAttribute("data-overdue", String(stats.overdue || 0));
    var label = document.createElement("span");
    label.textContent = String(stats.count);
    div.appendChild(label);
    return L.divIcon({ className: "ug-pie-icon", html: div, iconSize: [size, size] });
  }
  function sumStats(markers) {
    var s = { count: 0, overdue: 0, groups: {} };
    markers.forEach(function (m) {
      var u = m.options.ug;
      s.count += u.count; s.overdue += u.overdue;
      GROUPS.forEach(function (g) { s.groups[g] = (s.groups[g] || 0) + (u.groups[g] || 0); });
    });
    return s;
  }

  var COMPONENT_STATE_CLASS = { intact: "c-ok", damaged: "c-bad", lost: "c-lost", occupied: "c-occupied", abandoned: "c-gone", removed: "c-gone" };

  function bigMap() {
    var el = document.getElementById("big-map");
    if (!el) return;
    var cfgEl = document.getElementById("map-config");
    var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : { labels: {}, states: {}, componentStates: {} };
    var T = cfg.labels;
    var map = baseMap(el);
    map.setView([30.63, 120.55], 14);
    var status = document.getElementById("map-status");
    var counts = { cases: null, components: null, heat: null };
    function showStatus(message) {
      var parts = [];
      if (counts.cases !== null) { parts.push(counts.cases + " " + T.cases); }
      if (counts.components !== null) { parts.push(counts.components + " " + T.components); }
      if (counts.heat !== null) { parts.push(counts.heat + " " + T.heat); }
      status.textContent = message || parts.join(" · ");
    }
    var fitted = false;
    function fitOnce(bounds) {
      if (!fitted && bounds && bounds.isValid()) { map.fitBounds(bounds); fitted = true; }
    }
    map.ugBase.ready.then(function (fc) {
      if (fc && fc.bbox) { fitOnce(L.latLngBounds([fc.bbox[1], fc.bbox[0]], [fc.bbox[3], fc.bbox[2]])); }
    });

    // outlines
    var outline = L.canvas({ padding: 0.3 });
    var gridLayer = L.geoJSON(null, { style: { color: "#6c757d", weight: 0.6, fill: false }, interactive: false, renderer: outline });
    var wgLayer = L.geoJSON(null, { style: { color: "#1a56c4", weight: 2.5, fill: false, dashArray: "6 4" }, interactive: false, renderer: outline });
    getJSON(el.dataset.grids).then(function (fc) {
      gridLayer.addData(fc);
      if (fc.features.length) { fitOnce(gridLayer.getBounds()); }
      return getJSON(el.dataset.workgrids);
    }).then(function (fc) { wgLayer.addData(fc); }).catch(function () { showStatus(T.error); });

    // cases
    var caseLayer = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 50, spiderfyOnMaxZoom: true,
      iconCreateFunction: function (cluster) { return pieIcon(sumStats(cluster.getAllChildMarkers()), "case-cluster"); }
    });
    // components: below the cases (their own pane)
    map.createPane("ugComponents").style.zIndex = 550;
    var componentLayer = L.markerClusterGroup({
      showCoverageOnHover: false, maxClusterRadius: 60, chunkedLoading: true, disableClusteringAtZoom: 19,
      clusterPane: "ugComponents",
      iconCreateFunction: function (cluster) {
        var n = cluster.getChildCount(), size = n < 100 ? 30 : n < 1000 ? 36 : 42;
        var div = document.createElement("div");
        div.className = "ug-comp-cluster";
        div.style.width = div.style.height = size + "px";
        var span = document.createElement("span");
        span.textContent = String(n);
        div.appendChild(span);
        return L.divIcon({ className: "ug-comp-cluster-icon", html: div, iconSize: [size, size] });
      }
    });
    // heat
    var heatLayer = L.heatLayer([], { radius: 22, blur: 18, maxZoom: 17, minOpacity: 0.3 });

    var form = document.getElementById("map-filters");
    var period = document.getElementById("map-period");
    var dates = document.getElementById("map-dates");
    function params(extra) {
      var p = new URLSearchParams(new FormData(form));
      if (p.get("period") !== "custom") { p.delete("from"); p.delete("to"); }
      Object.keys(extra || {}).forEach(function (k) { p.set(k, extra[k]); });
      return p;
    }
    function timeParams() {
      var p = params(), q = new URLSearchParams();
      ["period", "from", "to", "category"].forEach(function (k) { if (p.get(k)) { q.set(k, p.get(k)); } });
      return q;
    }

    function loadCases() {
      return getJSON(el.dataset.cases + "?" + params().toString()).then(function (fc) {
        caseLayer.clearLayers();
        var markers = fc.features.map(function (f) {
          var c = f.geometry.coordinates, p = f.properties, m;
          if (fc.clustered) {
            m = L.marker([c[1], c[0]], { icon: pieIcon(p, "grid-cluster"), title: p.grid + ": " + p.count, ug: p });
            m.on("click", function () { map.setView(m.getLatLng(), Math.max(map.getZoom() + 2, 17)); });
            return m;
          }
          var groups = {}; groups[p.group] = 1;
          m = L.marker([c[1], c[0]], {
            icon: caseIcon(p.state, "", p.light),
            title: p.number + " · " + p.category + " · " + p.state_label + (p.light === "red" ? " · " + T.overdue : ""),
            ug: { count: 1, overdue: p.light === "red" ? 1 : 0, groups: groups }
          });
          m.on("click", function () { window.location.href = p.url; });
          return m;
        });
        caseLayer.addLayers(markers);
        counts.cases = fc.count !== undefined ? fc.count : fc.features.length;
        el.dataset.loaded = String(counts.cases);
        showStatus();
      }).catch(function (e) { showStatus(e.message || T.error); el.dataset.loaded = "error"; });
    }

    var componentsLoaded = null;
    function loadComponents() {
      var q = new URLSearchParams();
      var kind = document.getElementById("comp-kind").value, st = document.getElementById("comp-state").value;
      if (kind) { q.set("kind", kind); }
      if (st) { q.set("state", st); }
      var key = q.toString();
      if (componentsLoaded === key) { return Promise.resolve(); }
      el.dataset.components = "loading";
      return getJSON(el.dataset.componentsUrl + (key ? "?" + key : "")).then(function (d) {
        componentLayer.clearLayers();
        var markers = [], items = d.items, stride = d.stride, ox = d.origin[0], oy = d.origin[1], scale = d.scale;
        var icons = {};
        d.states.forEach(function (s) {
          icons[s] = L.divIcon({ className: "comp-marker " + (COMPONENT_STATE_CLASS[s] || "c-gone"), html: "<span aria-hidden=\"true\"></span>", iconSize: [12, 12] });
        });
        for (var i = 0; i < items.length; i += stride) {
          var cat = d.categories[items[i + 2]], st2 = d.states[items[i + 3]], id = items[i + 4];
          var m = L.marker([oy + items[i + 1] / scale, ox + items[i] / scale], {
            icon: icons[st2], title: cat.name + " · " + (cfg.componentStates[st2] || st2), keyboard: false, ugId: id,
            pane: "ugComponents"
          });
          markers.push(m);
        }
        componentLayer.addLayers(markers);
        componentsLoaded = key;
        counts.components = d.count;
        el.dataset.components = String(d.count);
        showStatus();
      }).catch(function (e) { showStatus(e.message || T.error); el.dataset.components = "error"; });
    }
    componentLayer.on("click", function (e) {
      var m = e.layer, popup = L.popup().setLatLng(m.getLatLng()).setContent("…").openOn(map);
      getJSON(el.dataset.componentUrl.replace(/0\.json$/, m.options.ugId + ".json")).then(function (c) {
        var box = document.createElement("div");
        [c.obj_id, c.category + (c.name ? " · " + c.name : ""), c.state_label, c.address, c.maintainer].forEach(function (t, i) {
          if (!t) { return; }
          var line = document.createElement(i === 0 ? "strong" : "div");
          line.textContent = t;
          box.appendChild(line);
        });
        popup.setContent(box);
      }).catch(function () { popup.setContent(T.error); });
    });

    function loadHeat() {
      el.dataset.heat = "loading";
      return getJSON(el.dataset.heatUrl + "?" + timeParams().toString()).then(function (d) {
        heatLayer.options.max = Math.max(1, d.max * 0.7);
        heatLayer.setLatLngs(d.points);
        counts.heat = d.count;
        el.dataset.heat = String(d.count);
        showStatus();
      }).catch(function (e) { showStatus(e.message || T.error); el.dataset.heat = "error"; });
    }

    // the layer switches
    var layers = {
      "layer-base": map.ugBase, "layer-tiles": map.ugTiles, "layer-grids": gridLayer, "layer-workgrids": wgLayer,
      "layer-cases": caseLayer, "layer-components": componentLayer, "layer-heat": heatLayer
    };
    var loaders = { "layer-components": loadComponents, "layer-heat": loadHeat };
    /* unit grid outlines only from zoom 15: below it they would hide the base map */
    var GRID_MIN_ZOOM = 15;
    function sync(box) {
      var layer = layers[box.id];
      if (!layer) { box.closest(".field").hidden = true; return; }
      var visible = box.checked && (box.id !== "layer-grids" || map.getZoom() >= GRID_MIN_ZOOM);
      if (visible) {
        if (!map.hasLayer(layer)) { map.addLayer(layer); }
        if (loaders[box.id]) { loaders[box.id](); }
      } else {
        map.removeLayer(layer);
        if (box.checked) { return; }
        if (box.id === "layer-components") { counts.components = null; }
        if (box.id === "layer-heat") { counts.heat = null; }
        showStatus();
      }
      var extra = document.querySelector("[data-layer-options=\"" + box.id + "\"]");
      if (extra) { extra.hidden = !box.checked; }
    }
    var boxes = document.querySelectorAll("#map-layers input[type=checkbox]");
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.id === "layer-base" && !map.ugTiles) { box.checked = true; }
      sync(box);
      box.addEventListener("change", function () { sync(box); });
    });
    map.on("zoomend", function () { sync(document.getElementById("layer-grids")); });
    ["comp-kind", "comp-state"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", function () {
        if (map.hasLayer(componentLayer)) { loadComponents(); }
      });
    });

    function reload() {
      var p = [loadCases()];
      if (map.hasLayer(heatLayer)) { p.push(loadHeat()); }
      return Promise.all(p);
    }
    function syncPeriod() { dates.hidden = period.value !== "custom"; }
    period.addEventListener("change", function () { syncPeriod(); if (period.value !== "custom") { reload(); } });
    syncPeriod();
    form.addEventListener("submit", function (e) { e.preventDefault(); reload(); });
    ["map-state", "map-category"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", reload);
    });
    loadCases();
    window.urbangridStaffMap = map;
  }

  document.addEventListener("DOMContentLoaded", function () { caseMap(); bigMap(); });
})();
