/* Dispatch desk: "select all" for the cases of the page. */
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  if (!all) return;
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.select-case"));
  function sync() {
    var n = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = n === boxes.length && n > 0;
    all.indeterminate = n > 0 && n < boxes.length;
  }
  all.addEventListener("change", function () {
    boxes.forEach(function (b) { b.checked = all.checked; });
    sync();
  });
  boxes.forEach(function (b) { b.addEventListener("change", sync); });
})();
