/* Hotline intake: address search → point and grid, then the duplicate warning. */
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

  function choose(r) {
    lon.value = r.lon; lat.value = r.lat;
    address.value = r.label;
    info.textContent = r.label + " · " + (r.grid || "—") + (r.community ? " · " + r.community : "");
    info.dataset.grid = r.grid || "";
    results.innerHTML = "";
    checkDuplicates();
  }

  document.getElementById("geocode-btn").addEventListener("click", function () {
    lon.value = ""; lat.value = "";
    fetch(form.dataset.geocodeUrl + "?q=" + encodeURIComponent(address.value), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        results.innerHTML = "";
        if (!data.results.length) { info.textContent = data.error || ""; return; }
        var ul = document.createElement("ul");
        ul.className = "choices";
        data.results.forEach(function (r, i) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "btn-small"; b.dataset.testid = "geocode-choice";
          b.textContent = r.label + (r.grid ? " (" + r.grid + ")" : "");
          b.addEventListener("click", function () { choose(r); });
          li.appendChild(b); ul.appendChild(li);
        });
        results.appendChild(ul);
        if (data.results.length === 1) choose(data.results[0]);
      });
  });
  address.addEventListener("input", function () { lon.value = ""; lat.value = ""; info.textContent = ""; });
  category.addEventListener("change", checkDuplicates);
})();
