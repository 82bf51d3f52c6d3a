/* Hotline intake: address search → candidates on a map; the operator chooses one or pins the
   point (the first match is never taken for them), then the duplicate warning. */
(function () {
  "use strict";
  var form = document.querySelector("[data-testid=intake-form]");
  if (!form) return;
  var address = form.querySelector("[name=address]");
  var lon = form.querySelector("[name=lon]"), lat = form.querySelector("[name=lat]");
  var category = form.querySelector("[name=category]");
  var results = document.getElementById("geocode-results");
  var info = document.getElementById("position-info");
  var warning = document.getElementById("duplicate-warning");
  var mapEl = document.getElementById("intake-map");
  var map = null, candidates = null, pin = null;

  function setupMap() {
    if (!mapEl || !window.L || !window.urbangridBaseMap) return;
    map = window.urbangridBaseMap(mapEl, {});
    map.setView([30.63, 120.55], 14);
    candidates = L.layerGroup().addTo(map);
    fetch(mapEl.dataset.grids, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
      var layer = L.geoJSON(fc, { style: { color: "#6c757d", weight: 1, fill: false }, interactive: false }).addTo(map);
      if (fc.features && fc.features.length && !lon.value) map.fitBounds(layer.getBounds());
    }).catch(function () {});
    map.on("click", function (e) {
      setPoint(e.latlng.lng, e.latlng.lat);
      info.textContent = form.dataset.labelPinned + ": " + e.latlng.lng.toFixed(6) + ", " + e.latlng.lat.toFixed(6);
      info.dataset.grid = "";
    });
    var start = document.getElementById("intake-position");
    var pos = start ? JSON.parse(start.textContent) : null;
    if (pos) { setPoint(pos.lon, pos.lat, true); map.setView([pos.lat, pos.lon], 17); }
  }

  function setPoint(x, y, quiet) {
    lon.value = x; lat.value = y;
    form.dataset.chosen = "1";
    if (map) {
      if (!pin) {
        pin = L.marker([y, x], { draggable: true, title: form.dataset.labelPinned, alt: form.dataset.labelPinned, icon: window.urbangridCaseIcon("reported") }).addTo(map);
        pin.on("dragend", function () {
          var p = pin.getLatLng();
          lon.value = p.lng; lat.value = p.lat;
          info.textContent = form.dataset.labelPinned + ": " + p.lng.toFixed(6) + ", " + p.lat.toFixed(6);
          checkDuplicates();
        });
      } else {
        pin.setLatLng([y, x]);
      }
    }
    if (!quiet) checkDuplicates();
  }

  function checkDuplicates() {
    if (!lon.value || !category.value) return;
    var q = new URLSearchParams({ category: category.value, lon: lon.value, lat: lat.value });
    fetch(form.dataset.duplicatesUrl + "?" + q, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (data) {
        warning.innerHTML = "";
        warning.hidden = !data.results.length;
        data.results.forEach(function (d) {
          var p = document.createElement("p");
          var a = document.createElement("a");
          a.href = d.url; a.textContent = d.number;
          p.appendChild(a);
          p.appendChild(document.createTextNode(" " + d.state + " · " + d.distance + " m"));
          warning.appendChild(p);
        });
      });
  }

  function choose(r, button) {
    address.value = r.label;
    info.textContent = r.label + " · " + (r.grid || "—") + (r.community ? " · " + r.community : "");
    info.dataset.grid = r.grid || "";
    results.querySelectorAll("[aria-pressed]").forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
    if (button) button.setAttribute("aria-pressed", "true");
    setPoint(r.lon, r.lat);
    if (map) map.setView([r.lat, r.lon], Math.max(map.getZoom(), 16));
  }

  function clearPoint() {
    lon.value = ""; lat.value = ""; info.textContent = "";
    delete form.dataset.chosen;
    if (pin && map) { map.removeLayer(pin); pin = null; }
  }

  document.getElementById("geocode-btn").addEventListener("click", function () {
    clearPoint();
    fetch(form.dataset.geocodeUrl + "?q=" + encodeURIComponent(address.value), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        results.innerHTML = "";
        if (candidates) candidates.clearLayers();
        if (!data.results.length) { info.textContent = (data.error ? data.error + " " : "") + form.dataset.labelNone; return; }
        info.textContent = form.dataset.labelChoose;
        var ul = document.createElement("ul");
        ul.className = "choices";
        var bounds = [];
        data.results.forEach(function (r, i) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "btn-small"; b.dataset.testid = "geocode-choice";
          b.setAttribute("aria-pressed", "false");
          b.textContent = (i + 1) + ". " + r.label + (r.grid ? " (" + r.grid + ")" : "");
          b.addEventListener("click", function () { choose(r, b); });
          li.appendChild(b); ul.appendChild(li);
          if (candidates) {
            var m = L.marker([r.lat, r.lon], {
              title: (i + 1) + ". " + r.label,
              icon: L.divIcon({ className: "candidate-marker", html: "<span>" + (i + 1) + "</span>", iconSize: [22, 22] })
            });
            m.on("click", function (e) { L.DomEvent.stopPropagation(e); choose(r, b); });
            candidates.addLayer(m);
            bounds.push([r.lat, r.lon]);
          }
        });
        results.appendChild(ul);
        if (map && bounds.length) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 17 });
      });
  });
  address.addEventListener("input", function () { if (form.dataset.chosen && !pin) clearPoint(); });
  category.addEventListener("change", checkDuplicates);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setupMap); else setupMap();
})();
