/* Print views: the Print button. */
(function () {
  "use strict";
  var b = document.getElementById("print-now");
  if (b) b.addEventListener("click", function () { window.print(); });
})();
