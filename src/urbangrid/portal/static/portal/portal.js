/* Citizen portal: pin the place on a map of the district's outlines (Leaflet, no tiles). */
(function () {
  "use strict";
  var mapEl = document.getElementById("map");
  var lat = document.getElementById("id_lat");
  var lon = document.getElementById("id_long");
  var status = document.getElementById("pin-status");
  if (!mapEl || !lat || !lon) return;

  function say(key) { if (status) status.textContent = status.dataset[key] || ""; }

  if (!window.L) { mapEl.hidden = true; return; }
  var map = L.map(mapEl, { attributionControl: false, zoomSnap: 0.25 });
  var marker = null;

  function pin(latlng) {
    lat.value = latlng.lat.toFixed(6);
    lon.value = latlng.lng.toFixed(6);
    if (marker) { marker.setLatLng(latlng); } else {
      marker = L.circleMarker(latlng, { radius: 9, color: "#b3261e", weight: 3, fillOpacity: 0.6 }).addTo(map);
    }
    mapEl.dataset.pinned = "true";
    say("pinned");
  }

  fetch(mapEl.dataset.outlines, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: { color: "#2b5d8a", weight: 1, fillColor: "#dce8f3", fillOpacity: 0.5 },
        onEachFeature: function (f, l) { if (f.properties && f.properties.name) l.bindTooltip(f.properties.name); }
      }).addTo(map);
      if (layer.getLayers().length) map.fitBounds(layer.getBounds());
      if (lat.value && lon.value) pin(L.latLng(+lat.value, +lon.value));
      mapEl.dataset.ready = "true";
    })
    .catch(function () { mapEl.hidden = true; });

  map.on("click", function (e) { pin(e.latlng); });

  var locate = document.getElementById("locate-me");
  if (locate) {
    if (!navigator.geolocation) { locate.hidden = true; }
    locate.addEventListener("click", function () {
      say("locating");
      navigator.geolocation.getCurrentPosition(
        function (p) { var ll = L.latLng(p.coords.latitude, p.coords.longitude); pin(ll); map.setView(ll, 17); },
        function () { say("noLocation"); },
        { enableHighAccuracy: true, timeout: 10000 }
      );
    });
  }
})();
