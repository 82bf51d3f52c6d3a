/* The big screen (监督指挥大屏), 1920×1080: every panel refreshes itself from JSON endpoints
   (data-* on #screen) without reloading: summary and new cases every few seconds, the map's
   density and collectors' positions every 30 s. Vendored Leaflet and ECharts; no inline code. */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) { return; }
  var d = root.dataset;
  var interval = parseInt(d.interval, 10) || 5000;
  var lastId = null;
  var status = document.querySelector("[data-testid=screen-status]");

  function get(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(r.status); }
      return r.json();
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function link(href, cls, text) {
    var a = el("a", cls, text);
    a.href = href;
    return a;
  }

  // --- clock ---
  var clock = document.querySelector("[data-testid=screen-clock]");
  function tick() {
    var now = new Date();
    clock.textContent = now.toLocaleString(document.documentElement.lang || undefined, { hour12: false });
  }
  tick();
  setInterval(tick, 1000);

  // --- charts ---
  var deptChart = typeof echarts !== "undefined" ? echarts.init(document.getElementById("scr-chart-depts")) : null;
  var catChart = typeof echarts !== "undefined" ? echarts.init(document.getElementById("scr-chart-cats")) : null;
  var TEXT = { color: "#dfe9f5", fontSize: 18 };

  function drawDepts(rows) {
    if (!deptChart) { return; }
    var r = rows.slice().reverse();
    deptChart.setOption({
      animation: false,
      textStyle: TEXT,
      grid: { left: 180, right: 60, top: 8, bottom: 24 },
      xAxis: { type: "value", max: 100, axisLabel: TEXT, splitLine: { lineStyle: { color: "#24364d" } } },
      yAxis: { type: "category", data: r.map(function (x) { return x.name; }), axisLabel: TEXT },
      series: [{ type: "bar", barMaxWidth: 22, itemStyle: { color: "#3fb6ff" },
                 label: { show: true, position: "right", color: "#fff", fontSize: 18 },
                 data: r.map(function (x) { return { value: x.rate === null ? 0 : x.rate, url: x.url }; }) }]
    }, true);
  }

  function drawCats(ct) {
    if (!catChart) { return; }
    catChart.setOption({
      animation: false,
      textStyle: TEXT,
      legend: { textStyle: TEXT, top: 0 },
      grid: { left: 48, right: 24, top: 44, bottom: 30 },
      xAxis: { type: "category", data: ct.days, axisLabel: TEXT },
      yAxis: { type: "value", minInterval: 1, axisLabel: TEXT, splitLine: { lineStyle: { color: "#24364d" } } },
      series: ct.series.map(function (s) { return { name: s.name, type: "line", smooth: true, lineStyle: { width: 3 }, data: s.data }; })
    }, true);
  }

  // --- summary: today's counts, overdue, rankings, category trend ---
  function summary() {
    return get(d.summary).then(function (s) {
      var ul = document.querySelector("[data-testid=today-counts]");
      ul.replaceChildren.apply(ul, s.today.counts.map(function (c) {
        var li = el("li", "scr-count");
        li.dataset.code = c.code;
        li.appendChild(el("span", "scr-count-label", c.label));
        var a = link(c.url, "scr-count-value", c.value);
        a.dataset.testid = "today-" + c.code;
        li.appendChild(a);
        return li;
      }));
      var oc = document.querySelector("[data-testid=screen-overdue-count]");
      oc.textContent = s.overdue.count;
      oc.href = s.overdue.url;
      var ol = document.querySelector("[data-testid=screen-overdue]");
      var items = s.overdue.items.map(function (c) {
        var li = el("li");
        li.appendChild(link(c.url, "scr-num", c.number));
        li.appendChild(el("span", "scr-cat", c.category));
        li.appendChild(el("span", "scr-dept", c.department));
        li.appendChild(el("span", "scr-over", c.hours_over + " " + d.labelHours));
        return li;
      });
      if (!items.length) { items = [el("li", "muted", d.labelNone)]; }
      ol.replaceChildren.apply(ol, items);
      drawDepts(s.departments);
      drawCats(s.category_trend);
      status.textContent = s.generated_at.replace("T", " ").slice(0, 19);
      root.dataset.summaryAt = s.generated_at;
    });
  }

  // --- live feed of new cases ---
  var feedList = document.querySelector("[data-testid=feed]");
  function feedItem(c) {
    var li = el("li", "scr-feed-item");
    li.dataset.caseId = c.id;
    li.appendChild(el("span", "scr-time", c.time));
    li.appendChild(link(c.url, "scr-num", c.number));
    li.appendChild(el("span", "scr-cat", c.category));
    li.appendChild(el("span", "scr-place", c.place));
    li.appendChild(el("span", "scr-src", c.source));
    return li;
  }
  function feed() {
    var url = d.feed + (lastId !== null ? "?after=" + lastId : "");
    return get(url).then(function (f) {
      var fresh = f.items.slice().reverse();
      fresh.forEach(function (c) {
        var li = feedItem(c);
        if (lastId !== null) { li.classList.add("fresh"); }
        feedList.insertBefore(li, feedList.firstChild);
      });
      while (feedList.children.length > 15) { feedList.removeChild(feedList.lastChild); }
      lastId = f.last_id;
      root.dataset.lastCase = String(lastId);
    });
  }

  // --- map: density per unit grid and collectors ---
  var map = null, grids = null, counts = {}, max = 0, collectorsLayer = null;
  function level(n) {
    if (!n) { return 0; }
    if (!max) { return 1; }
    var f = n / max;
    return f > 0.75 ? 4 : f > 0.5 ? 3 : f > 0.25 ? 2 : 1;
  }
  var COLORS = ["#18283b", "#2f6f4f", "#c8b02c", "#e07a1f", "#e0302a"];
  function gridStyle(feature) {
    var lv = level(counts[feature.properties.code] || 0);
    return { color: "#3a5878", weight: 0.5, fillColor: COLORS[lv], fillOpacity: lv ? 0.75 : 0.25 };
  }
  /* The map is made by web/map.js (next to this file under /static/, loaded on demand), as every
     map of the site: with tiles, its baseMap() stacks the space-separated tile URLs (Tianditu
     vec_w + cva_w) and shifts the overlays onto GCJ-02 tiles (data-tile-crs, else /map/tiles.json);
     without tiles, its offline base map (divisions, roads, labels) in dark colours. The data URLs
     are next to the grid layer's (/map/grids.geojson → /map/base.json, /map/tiles.json). */
  var scriptSrc = document.currentScript ? document.currentScript.src : "";
  var mapJs = null;
  function loadMapJs() {
    if (window.urbangridBaseMap || !scriptSrc) { return Promise.resolve(); }
    if (!mapJs) {
      mapJs = new Promise(function (resolve) {
        var s = document.createElement("script");
        s.src = scriptSrc.replace(/dashboard\/screen\.js(\?.*)?$/, "web/map.js");
        s.onload = resolve;
        s.onerror = function () { resolve(); };   // plain tiles, no base map
        document.head.appendChild(s);
      });
    }
    return mapJs;
  }
  function nextToGrids(name) { return d.grids.replace(/grids\.geojson$/, name); }
  function makeMap(mapEl) {
    var tiles = (d.tiles || "").split(/\s+/).filter(Boolean);
    if (tiles.length && window.urbangridBaseMap) {
      mapEl.dataset.tiles = tiles.join(" ");
      mapEl.dataset.attribution = d.attribution || "";
      mapEl.dataset.tileCrs = d.tileCrs || "";
      mapEl.dataset.tilesConfig = d.tilesConfig || nextToGrids("tiles.json");
      mapEl.dataset.basemap = d.basemap || nextToGrids("base.json");
      return window.urbangridBaseMap(mapEl, { zoomControl: false });
    }
    var m = L.map(mapEl, { zoomControl: false, attributionControl: !!tiles.length });
    tiles.forEach(function (url, i) { L.tileLayer(url, { maxZoom: 19, attribution: i ? "" : d.attribution || "" }).addTo(m); });
    if (!tiles.length && window.urbangridBaseLayer) {
      window.urbangridBaseLayer(m, d.basemap || nextToGrids("base.json"), { theme: "dark" }).addTo(m);
    }
    return m;
  }
  function initMap() {
    if (typeof L === "undefined") { return Promise.resolve(); }
    return loadMapJs().then(function () {
      map = makeMap(document.getElementById("scr-map"));
      map.setView([30.63, 120.55], 12);
      return get(d.grids);
    }).then(function (gj) {
      grids = L.geoJSON(gj, { style: gridStyle }).addTo(map);
      if (gj.features && gj.features.length) { map.fitBounds(grids.getBounds()); }
      collectorsLayer = L.layerGroup().addTo(map);
    });
  }
  function density() {
    return get(d.density).then(function (res) {
      counts = res.counts; max = res.max;
      if (grids) { grids.setStyle(gridStyle); }
      root.dataset.densityMax = String(max);
    });
  }
  function collectors() {
    return get(d.collectors).then(function (res) {
      if (!collectorsLayer) { return; }
      collectorsLayer.clearLayers();
      res.collectors.forEach(function (c) {
        L.circleMarker([c.lat, c.lon], { radius: 9, color: "#ffffff", weight: 2, fillColor: "#19d3c5", fillOpacity: 1 })
          .bindTooltip(el("span", null, c.name + " " + c.time))
          .addTo(collectorsLayer);
      });
      root.dataset.collectors = String(res.collectors.length);
    });
  }

  function safe(p) { return p.catch(function (e) { status.textContent = "⚠ " + e.message; }); }
  function fast() { return Promise.all([safe(summary()), safe(feed())]); }
  function slow() { return Promise.all([safe(density()), safe(collectors())]); }

  fast().then(function () { root.dataset.ready = "1"; });
  safe(initMap()).then(slow);
  setInterval(fast, interval);
  setInterval(slow, 30000);
  window.addEventListener("resize", function () {
    if (deptChart) { deptChart.resize(); }
    if (catChart) { catChart.resize(); }
  });
})();
