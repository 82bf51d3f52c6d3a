/* urbangrid phone app: photos before sending, and operations while offline.
   Every photo input (<input type=file accept=image/*>) shows thumbnails of the chosen photos
   (object URLs: the CSP allows blob: images) with a button to remove each; photos taken one
   after the other add up instead of replacing each other. An operation form sent while the
   phone is offline is not lost in a browser error page: the page says so and keeps the form. */
(function () {
  "use strict";
  var labels = (document.getElementById("photo-labels") || { dataset: {} }).dataset;
  var canEdit = typeof DataTransfer === "function";
  var L = {
    remove: labels.remove || "Remove photo",
    photo: labels.photo || "Photo",
    previews: labels.previews || "Photos"
  };

  function enhance(input) {
    var kept = [];
    var list = document.createElement("ul");
    list.className = "previews";
    list.dataset.testid = "photo-previews";
    list.setAttribute("aria-label", L.previews);
    input.insertAdjacentElement("afterend", list);
    var urls = [];

    function sync() {
      if (!canEdit) return;
      var dt = new DataTransfer();
      kept.forEach(function (f) { dt.items.add(f); });
      input.files = dt.files;
    }
    function render() {
      urls.forEach(function (u) { URL.revokeObjectURL(u); });
      urls = [];
      list.textContent = "";
      kept.forEach(function (file, i) {
        var li = document.createElement("li");
        li.className = "preview";
        li.dataset.testid = "photo-preview";
        var img = document.createElement("img");
        var url = URL.createObjectURL(file);
        urls.push(url);
        img.src = url;
        img.alt = L.photo + " " + (i + 1) + ": " + (file.name || "");
        li.appendChild(img);
        if (canEdit) {
          var b = document.createElement("button");
          b.type = "button";
          b.className = "preview-remove";
          b.dataset.testid = "photo-remove";
          b.setAttribute("aria-label", L.remove + " " + (i + 1));
          b.textContent = "×";
          b.addEventListener("click", function () {
            kept.splice(i, 1);
            sync();
            render();
            var next = list.querySelector("button") || input;
            next.focus();
          });
          li.appendChild(b);
        }
        list.appendChild(li);
      });
      list.hidden = !kept.length;
      input.dataset.count = String(kept.length);
    }
    input.addEventListener("change", function () {
      var chosen = Array.prototype.slice.call(input.files || []);
      kept = canEdit && input.multiple ? kept.concat(chosen) : chosen;
      sync();
      render();
    });
    // the report form resets after queueing offline
    if (input.form) input.form.addEventListener("reset", function () { kept = []; setTimeout(render, 0); });
    render();
  }

  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][accept^='image']"), enhance);

  // --- operations while offline ----------------------------------------------------------
  var offline = document.getElementById("op-offline");
  if (offline) {
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!form.closest || !form.closest("[data-testid=operations]")) return;
      if (navigator.onLine) { offline.hidden = true; return; }
      e.preventDefault();
      offline.hidden = false;
      var op = form.closest(".op");
      if (op) op.insertAdjacentElement("afterbegin", offline);
      offline.scrollIntoView({ block: "center" });
    });
    window.addEventListener("online", function () { offline.hidden = true; });
  }
})();
