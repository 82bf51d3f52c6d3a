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
})();
