/* Maps for the staff web and the phone app (Leaflet, vendored). Tiles come from the
   configured URL (data-tiles); without one the map shows grids and cases on a plain background. */
(function () {
  "use strict";
  var STATE_CLASS = {
    reported: "s-new", verifying: "s-new", accepted: "s-new",
    registered: "s-work", handling: "s-work", return_requested: "s-work", suspended: "s-work",
    feedback: "s-check", checking: "s-check", pending_close: "s-check", rechecking: "s-check",
    self_handled: "s-check"
  };

  function baseMap(el, options) {
    var map = L.map(el, Object.assign({ zoomControl: true, maxZoom: 19, minZoom: 3, attributionControl: !!el.dataset.tiles }, options || {}));
    if (el.dataset.tiles) {
      L.tileLayer(el.dataset.tiles, { maxZoom: 19, attribution: el.dataset.attribution || "" }).addTo(map);
    }
    return map;
  }
  window.urbangridBaseMap = baseMap;

  function caseIcon(state, title) {
    return L.divIcon({
      className: "case-marker " + (STATE_CLASS[state] || "s-done"),
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

  function bigMap() {
    var el = document.getElementById("big-map");
    if (!el) return;
    var map = baseMap(el);
    map.setView([30.63, 120.55], 15);
    var status = document.getElementById("map-status");
    var gridStyle = { color: "#6c757d", weight: 1, fill: false };
    var wgStyle = { color: "#1a56c4", weight: 2.5, fill: false, dashArray: "6 4" };
    var fitted = false;
    fetch(el.dataset.grids, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
      var layer = L.geoJSON(fc, { style: gridStyle, interactive: false }).addTo(map);
      if (fc.features.length && !fitted) { map.fitBounds(layer.getBounds()); fitted = true; }
      return fetch(el.dataset.workgrids, { credentials: "same-origin" });
    }).then(function (r) { return r.json(); }).then(function (fc) {
      L.geoJSON(fc, { style: wgStyle, interactive: false }).addTo(map);
    });
    var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
    map.addLayer(cluster);
    var form = document.getElementById("map-filters");
    function load() {
      var params = new URLSearchParams(new FormData(form));
      fetch(el.dataset.cases + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (fc) {
          cluster.clearLayers();
          var markers = fc.features.map(function (f) {
            var c = f.geometry.coordinates, p = f.properties;
            if (fc.clustered) {
              return L.marker([c[1], c[0]], {
                icon: L.divIcon({ className: "grid-count", html: "<span>" + p.count + "</span>", iconSize: [36, 36] }),
                title: p.grid + ": " + p.count
              });
            }
            var m = L.marker([c[1], c[0]], { icon: caseIcon(p.state), title: p.number + " · " + p.category + " · " + p.state_label });
            m.on("click", function () { window.location.href = p.url; });
            return m;
          });
          cluster.addLayers(markers);
          var n = fc.clustered ? fc.features.reduce(function (s, f) { return s + f.properties.count; }, 0) : fc.features.length;
          status.textContent = n + " " + el.dataset.labelCases;
          el.dataset.loaded = String(n);
        });
    }
    form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
    load();
  }

  document.addEventListener("DOMContentLoaded", function () { caseMap(); bigMap(); });
})();
