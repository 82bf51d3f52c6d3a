/* Case page: the small map of nearby cases to merge into. */
(function () {
  "use strict";
  var el = document.getElementById("merge-map");
  var dataEl = document.getElementById("merge-map-data");
  if (!el || !dataEl || !window.L || !window.urbangridBaseMap) return;
  var data = JSON.parse(dataEl.textContent);
  var map = window.urbangridBaseMap(el, { keyboard: false });
  var points = [[data.point[1], data.point[0]]];
  L.marker(points[0], { icon: window.urbangridCaseIcon("reported"), title: data.number, keyboard: false }).addTo(map);
  data.candidates.forEach(function (c) {
    var p = [c.point[1], c.point[0]];
    points.push(p);
    L.marker(p, {
      icon: L.divIcon({ className: "merge-marker", html: "<span aria-hidden=\"true\"></span>", iconSize: [18, 18] }),
      title: c.number + " · " + c.distance + " m",
      keyboard: false
    }).addTo(map);
  });
  map.fitBounds(points, { padding: [30, 30], maxZoom: 18 });
})();

/* Case page: operations that ask for confirmation before they are sent (closing a case). */
(function () {
  "use strict";
  var texts = document.getElementById("confirm-texts");
  if (!texts) return;
  Object.keys(texts.dataset).forEach(function (name) {
    var form = document.querySelector("[data-testid=op-" + name + "] form");
    if (!form) return;
    form.dataset.confirm = texts.dataset[name];
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
})();
