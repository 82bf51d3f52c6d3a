/* Small progressive enhancements for the staff web; every page works without them. */
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var phrase = e.target.closest("button.phrase");
    if (phrase) {
      var target = document.getElementById(phrase.dataset.fill);
      if (target) { target.value = phrase.textContent.trim(); target.focus(); }
      return;
    }
    var link = e.target.closest("a.photo-link");
    var dialog = document.getElementById("photo-dialog");
    if (link && dialog && typeof dialog.showModal === "function") {
      e.preventDefault();
      var img = dialog.querySelector("img");
      img.src = link.href;
      img.alt = (link.querySelector("img") || {}).alt || "";
      dialog.showModal();
    }
  });
  // <select data-autosubmit> sends its form on change (no inline handlers: strict CSP)
  document.addEventListener("change", function (e) {
    var select = e.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.submit();
  });
})();
