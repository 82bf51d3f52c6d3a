/* urbangrid collector app: position, pin map, and the offline report queue.
   Every report gets a UUID on the phone and is stored in IndexedDB before it is sent;
   it leaves the queue only when the server has acknowledged it (the server returns the
   same case for a repeated UUID), so a report is sent exactly once even across retries. */
(function () {
  "use strict";
  var DB = "urbangrid-m", STORE = "reports";
  var body = document.body;

  if ("serviceWorker" in navigator && body.dataset.sw) {
    navigator.serviceWorker.register(body.dataset.sw, { scope: body.dataset.scope }).catch(function () {});
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var result = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && result.result !== undefined ? result.result : result); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  var queue = {
    put: function (item) { return tx("readwrite", function (s) { return s.put(item); }); },
    remove: function (id) { return tx("readwrite", function (s) { return s.delete(id); }); },
    all: function () { return tx("readonly", function (s) { return s.getAll(); }); }
  };

  var net = document.getElementById("net");
  function showNet() {
    if (!net) return;
    net.textContent = navigator.onLine ? net.dataset.onlineLabel : net.dataset.offlineLabel;
    net.className = "net " + (navigator.onLine ? "on" : "off");
  }
  var qs = document.getElementById("queue-status");
  function showQueue(n, justSent) {
    if (!qs) return;
    qs.dataset.pending = String(n);
    if (n) { qs.hidden = false; qs.textContent = qs.dataset.labelQueued + " " + n; }
    else if (justSent) { qs.hidden = false; qs.textContent = qs.dataset.labelSent; }
    else { qs.hidden = true; }
  }

  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function send(item) {
    var fd = new FormData();
    Object.keys(item.fields).forEach(function (k) { fd.append(k, item.fields[k]); });
    fd.append("client_id", item.client_id);
    (item.photos || []).forEach(function (p) { fd.append("photos", p, p.name || "photo.jpg"); });
    return fetch(item.url, {
      method: "POST", body: fd, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf() }
    }).then(function (res) {
      return res.json().then(function (data) { return { status: res.status, data: data }; });
    });
  }

  var flushing = false;
  function flush() {
    if (flushing) return Promise.resolve();
    flushing = true;
    var sent = 0;
    return queue.all().then(function (items) {
      return items.reduce(function (p, item) {
        return p.then(function () {
          return send(item).then(function (r) {
            if (r.status === 200 || r.status === 201 || r.status === 400) {
              sent += 1;
              if (r.status === 400) item.error = r.data;
              return queue.remove(item.client_id);
            }
          }).catch(function () { /* still offline: keep it */ });
        });
      }, Promise.resolve());
    }).then(function () { return queue.all(); }).then(function (rest) {
      showQueue(rest.length, sent > 0);
    }).finally(function () { flushing = false; });
  }
  window.urbangridFlush = flush;

  window.addEventListener("online", function () { showNet(); flush(); });
  window.addEventListener("offline", showNet);
  showNet();
  if (window.indexedDB) { flush(); setInterval(function () { if (navigator.onLine) flush(); }, 5000); }

  // --- maps -------------------------------------------------------------------------------
  /* Is [lon, lat] inside a GeoJSON Polygon or MultiPolygon (holes excluded)? */
  function inRing(pt, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > pt[1]) !== (yj > pt[1]) && pt[0] < (xj - xi) * (pt[1] - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function inPolygon(pt, rings) {
    if (!rings.length || !inRing(pt, rings[0])) return false;
    for (var k = 1; k < rings.length; k++) if (inRing(pt, rings[k])) return false;
    return true;
  }
  function inFeatures(pt, features) {
    return features.some(function (f) {
      var g = f.geometry || {};
      if (g.type === "Polygon") return inPolygon(pt, g.coordinates);
      if (g.type === "MultiPolygon") return g.coordinates.some(function (p) { return inPolygon(pt, p); });
      return false;
    });
  }
  window.urbangridInFeatures = inFeatures;

  function gridsLayer(map, el, fit, done) {
    if (!el.dataset.grids) return;
    fetch(el.dataset.grids, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (fc) {
      var layer = L.geoJSON(fc, { style: { color: "#1a56c4", weight: 2, fillOpacity: 0.06 }, interactive: false }).addTo(map);
      if (fit && fc.features.length) map.fitBounds(layer.getBounds(), { maxZoom: 18 });
      if (done) done(fc, layer);
    }).catch(function () { /* offline: the map works without the grids */ });
  }
  var homeMap = document.getElementById("m-map");
  if (homeMap && window.L) {
    var hm = window.urbangridBaseMap(homeMap, { keyboard: false });
    hm.setView([30.63, 120.55], 15);
    gridsLayer(hm, homeMap, true);
  }

  // --- the report form ------------------------------------------------------------------------
  var form = document.getElementById("report-form");
  if (!form) return;
  var lon = form.querySelector("[name=lon]"), lat = form.querySelector("[name=lat]");
  var posStatus = document.getElementById("pos-status");
  var result = document.getElementById("report-result");
  var warning = document.getElementById("grid-warning");
  var pinEl = document.getElementById("pin-map");
  var pinMap = window.urbangridBaseMap(pinEl);
  pinMap.setView([30.63, 120.55], 16);
  var pin = null, grids = null;
  /* The warning when the point is outside the collector's grids (advice only: the server
     locates the point again when the report arrives and says so on the case page). */
  function checkGrid() {
    if (!warning) return;
    var outside = !!(pin && grids && grids.features.length) &&
      !inFeatures([parseFloat(lon.value), parseFloat(lat.value)], grids.features);
    warning.hidden = !outside;
    pinEl.dataset.outside = outside ? "1" : "0";
  }
  /* The pin stays in view: whatever moved the map (fitting the grids, a new position). */
  function keepPinVisible() {
    if (!pin) return;
    var at = pin.getLatLng();
    if (!pinMap.getBounds().pad(-0.1).contains(at)) pinMap.panTo(at);
  }
  /* The grids may arrive after the position: fit the grids and the pin together (a fit to the
     grids alone, animated, would leave a pin outside them out of view). */
  gridsLayer(pinMap, pinEl, false, function (fc, layer) {
    grids = fc;
    var bounds = layer.getBounds();
    if (pin) bounds.extend(pin.getLatLng());
    if (bounds.isValid()) pinMap.fitBounds(bounds, { maxZoom: 18 });
    checkGrid();
  });
  function setPos(lo, la, label) {
    lon.value = lo.toFixed(7); lat.value = la.toFixed(7);
    posStatus.textContent = label + ": " + lo.toFixed(6) + ", " + la.toFixed(6);
    pinEl.dataset.lon = lon.value;
    if (pin) pin.setLatLng([la, lo]);
    else pin = L.marker([la, lo], { icon: window.urbangridCaseIcon("reported"), keyboard: false, zIndexOffset: 1000 }).addTo(pinMap);
    keepPinVisible();
    checkGrid();
  }
  pinMap.on("click", function (e) { setPos(e.latlng.lng, e.latlng.lat, form.dataset.labelPin); });
  function locate() {
    if (!navigator.geolocation) { posStatus.textContent = form.dataset.labelNoloc; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      setPos(p.coords.longitude, p.coords.latitude, form.dataset.labelLocated);
      pinMap.setView([p.coords.latitude, p.coords.longitude], 17);
    }, function () { posStatus.textContent = form.dataset.labelNoloc; }, { enableHighAccuracy: true, timeout: 10000 });
  }
  document.getElementById("locate-btn").addEventListener("click", locate);
  locate();

  form.addEventListener("submit", function (e) {
    if (!window.indexedDB) return;  // plain form post
    e.preventDefault();
    var fields = {};
    ["csrfmiddlewaretoken", "category", "description", "address", "lon", "lat"].forEach(function (k) {
      var el = form.querySelector("[name=" + k + "]");
      if (el) fields[k] = el.value;
    });
    var input = form.querySelector("[name=photos]");
    var item = {
      client_id: uuid(), url: form.action || location.href, fields: fields,
      photos: input ? Array.prototype.slice.call(input.files) : [], queued_at: new Date().toISOString()
    };
    result.textContent = form.dataset.labelSending;
    var button = form.querySelector("[type=submit]");
    button.disabled = true;
    queue.put(item).then(function () {
      return send(item).then(function (r) {
        if (r.status === 200 || r.status === 201) {
          return queue.remove(item.client_id).then(function () {
            result.textContent = form.dataset.labelSent + " " + r.data.number;
            window.location.href = r.data.url;
          });
        }
        return queue.remove(item.client_id).then(function () {
          var f = (r.data.error && r.data.error.fields) || {};
          result.textContent = Object.keys(f).map(function (k) { return f[k].join(" "); }).join(" ") ||
            (r.data.error && r.data.error.message) || String(r.status);
          result.className = "error";
          button.disabled = false;
        });
      }, function () {
        result.textContent = form.dataset.labelQueued;
        result.className = "queued";
        form.reset();
        lon.value = ""; lat.value = "";
        if (warning) warning.hidden = true;
        button.disabled = false;
        return queue.all().then(function (rest) { showQueue(rest.length, false); });
      });
    });
  });
})();
