/* The leaders' dashboard: charts (vendored ECharts) drawn from the page's JSON endpoint
   (data-api). Every bar, slice and point links to the case list behind it. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || typeof echarts === "undefined") { return; }
  var charts = [];

  function chart(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var c = echarts.init(el, null, { renderer: "canvas" });
    charts.push(c);
    return c;
  }

  function go(url) { if (url) { window.location.href = url; } }

  function draw(s) {
    var t = chart("chart-trend");
    if (t) {
      var tr = s.trend.buckets;
      var el = document.getElementById("chart-trend");
      t.setOption({
        animation: false,
        tooltip: { trigger: "axis", renderMode: "richText" },
        legend: { top: 0, data: [el.dataset.labelCollected, el.dataset.labelClosed] },
        grid: { left: 48, right: 16, top: 36, bottom: 32 },
        xAxis: { type: "category", data: tr.map(function (b) { return b.label; }) },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          { name: el.dataset.labelCollected, type: "line", data: tr.map(function (b) { return b.collected; }) },
          { name: el.dataset.labelClosed, type: "line", data: tr.map(function (b) { return b.closed; }) }
        ]
      });
      t.on("click", function (p) {
        var b = tr[p.dataIndex];
        if (b) { go(p.seriesIndex === 1 ? b.closed_url : b.url); }
      });
    }
    var so = chart("chart-sources");
    if (so) {
      so.setOption({
        animation: false,
        tooltip: { trigger: "item", renderMode: "richText" },
        series: [{ type: "pie", radius: ["35%", "70%"], data: s.sources.map(function (r) { return { name: r.name, value: r.count, url: r.url }; }) }]
      });
      so.on("click", function (p) { go(p.data && p.data.url); });
    }
    var ca = chart("chart-categories");
    if (ca) {
      var cats = s.categories.slice().reverse();
      ca.setOption({
        animation: false,
        tooltip: { trigger: "axis", renderMode: "richText" },
        grid: { left: 110, right: 24, top: 8, bottom: 24 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: cats.map(function (r) { return r.name; }) },
        series: [{ type: "bar", data: cats.map(function (r) { return { value: r.count, url: r.url }; }) }]
      });
      ca.on("click", function (p) { go(p.data && p.data.url); });
    }
    root.dataset.ready = "1";
  }

  fetch(root.dataset.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(draw)
    .catch(function () { root.dataset.ready = "error"; });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
