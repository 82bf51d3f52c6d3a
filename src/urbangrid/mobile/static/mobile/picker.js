/* urbangrid phone app: the category picker of the report form (类别选择).
   Component or event, major class → minor class (the form's own <select name=category>, whose
   options follow the major class), search by name, code, synonym, pinyin initials or full
   pinyin, and the collector's recent choices first. Without this script (or without the data)
   the form's plain select of every class still works. */
(function () {
  "use strict";
  var box = document.getElementById("cat-picker");
  var select = document.getElementById("id_category");
  if (!box || !select || !window.fetch) return;
  var search = document.getElementById("cat-search");
  var results = document.getElementById("cat-results");
  var count = document.getElementById("cat-count");
  var major = document.getElementById("cat-major");
  var chosen = document.getElementById("cat-chosen");
  var recentBox = box.querySelector(".recent");
  var kinds = box.querySelectorAll("input[name=cat_kind]");
  var MAX_RESULTS = 20;
  var items = [], byId = {};

  function kind() {
    for (var i = 0; i < kinds.length; i++) if (kinds[i].checked) return kinds[i].value;
    return "event";
  }
  function setKind(value) {
    for (var i = 0; i < kinds.length; i++) kinds[i].checked = kinds[i].value === value;
  }
  function kindLabel(value) { return box.dataset["label" + value.charAt(0).toUpperCase() + value.slice(1)] || value; }
  function label(c) { return c.name + " (" + c.code + ")"; }
  function option(value, text) {
    var o = document.createElement("option");
    o.value = value; o.textContent = text;
    return o;
  }

  function fillMajors() {
    var k = kind(), seen = {}, keep = major.value;
    major.textContent = "";
    major.appendChild(option("", box.dataset.labelAll));
    items.forEach(function (c) {
      if (c.kind !== k || seen[c.major.id]) return;
      seen[c.major.id] = true;
      major.appendChild(option(String(c.major.id), c.major.code + " " + c.major.name));
    });
    major.value = seen[keep] ? keep : "";
  }

  function fillMinors() {
    var k = kind(), m = major.value, keep = select.value;
    var list = items.filter(function (c) { return c.kind === k && (!m || String(c.major.id) === m); })
      .sort(function (a, b) { return a.code < b.code ? -1 : a.code > b.code ? 1 : 0; });
    select.textContent = "";
    select.appendChild(option("", "— " + box.dataset.labelChoose + " —"));
    var group = null, groupOf = null;
    list.forEach(function (c) {
      var parent = select;
      if (!m) {  // all major classes: one group each
        if (groupOf !== c.major.id) {
          group = document.createElement("optgroup");
          group.label = c.major.code + " " + c.major.name;
          select.appendChild(group);
          groupOf = c.major.id;
        }
        parent = group;
      }
      parent.appendChild(option(String(c.id), label(c)));
    });
    select.value = list.some(function (c) { return String(c.id) === keep; }) ? keep : "";
    showChosen();
  }

  function showChosen() {
    var c = byId[select.value];
    chosen.textContent = c ? box.dataset.labelChosen + " " + kindLabel(c.kind) + " · " + c.major.name + " › " + label(c) : "";
  }

  /* Choose category `c`: toggle, major and minor follow it. */
  function choose(c, focus) {
    setKind(c.kind);
    fillMajors();
    major.value = String(c.major.id);
    fillMinors();
    select.value = String(c.id);
    select.dispatchEvent(new Event("change", { bubbles: true }));
    showChosen();
    if (focus) select.focus();
  }

  // --- search -----------------------------------------------------------------------------
  function norm(s) { return String(s || "").toLowerCase().replace(/\s+/g, ""); }
  /* How well `c` matches query `q` (lower is better; -1: not at all). */
  function score(c, q) {
    if (c.code === q) return 0;
    if (c.name === q) return 1;
    if (c.code.indexOf(q) === 0) return 2;
    if (c.name.indexOf(q) === 0) return 3;
    if (c.name.indexOf(q) >= 0) return 4;
    if (c.initials.indexOf(q) === 0) return 5;
    if (c.synonyms.some(function (s) { return s.indexOf(q) >= 0; })) return 6;
    if (c.synonym_initials.some(function (s) { return s.indexOf(q) === 0; })) return 7;
    if (c.pinyin.indexOf(q) === 0) return 8;
    if (c.initials.indexOf(q) >= 0 || c.pinyin.indexOf(q) >= 0) return 9;
    if ((c.major.name || "").indexOf(q) >= 0) return 10;
    return -1;
  }
  function find(q) {
    q = norm(q);
    if (!q) return [];
    var found = [];
    items.forEach(function (c, order) {
      var s = score(c, q);
      if (s >= 0) found.push({ c: c, s: s, order: order });
    });
    found.sort(function (a, b) {  // recent choices first, then the better match, then the catalogue order
      return (b.c.recent - a.c.recent) || (a.s - b.s) || (a.order - b.order);
    });
    return found.slice(0, MAX_RESULTS).map(function (f) { return f.c; });
  }

  function resultButton(c) {
    var li = document.createElement("li");
    var b = document.createElement("button");
    b.type = "button";
    b.className = "cat-result";
    b.dataset.testid = "cat-result";
    b.dataset.id = String(c.id);
    var name = document.createElement("strong");
    name.textContent = label(c);
    var sub = document.createElement("span");
    sub.className = "sub";
    sub.textContent = kindLabel(c.kind) + " · " + c.major.name + (c.synonyms.length ? " · " + c.synonyms.join("、") : "");
    b.appendChild(name); b.appendChild(sub);
    li.appendChild(b);
    return li;
  }

  function showResults() {
    var q = search.value;
    results.textContent = "";
    if (!norm(q)) { results.hidden = true; count.textContent = ""; return; }
    var found = find(q);
    if (!found.length) {
      var li = document.createElement("li");
      li.className = "muted";
      li.textContent = box.dataset.labelNone;
      results.appendChild(li);
    }
    found.forEach(function (c) { results.appendChild(resultButton(c)); });
    results.hidden = false;
    count.textContent = found.length ? String(found.length) : box.dataset.labelNone;
  }

  function resultButtons() { return Array.prototype.slice.call(results.querySelectorAll("button")); }

  search.addEventListener("input", showResults);
  search.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown") {
      var first = resultButtons()[0];
      if (first) { e.preventDefault(); first.focus(); }
    } else if (e.key === "Escape") {
      search.value = ""; showResults();
    } else if (e.key === "Enter") {  // Enter takes the best match instead of sending the form
      e.preventDefault();
      var best = resultButtons()[0];
      if (best) best.click();
    }
  });
  results.addEventListener("keydown", function (e) {
    var buttons = resultButtons(), i = buttons.indexOf(document.activeElement);
    if (i < 0) return;
    if (e.key === "ArrowDown" && i < buttons.length - 1) { e.preventDefault(); buttons[i + 1].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); (i ? buttons[i - 1] : search).focus(); }
    else if (e.key === "Escape") { e.preventDefault(); search.focus(); }
  });
  results.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-id]");
    if (!b) return;
    choose(byId[b.dataset.id], true);
    search.value = "";
    showResults();
  });

  // --- recent choices ---------------------------------------------------------------------
  function showRecent(ids) {
    var ul = recentBox.querySelector("ul");
    ul.textContent = "";
    ids.forEach(function (id) {
      var c = byId[id];
      if (!c) return;
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.dataset.testid = "cat-recent-choice";
      b.dataset.id = String(c.id);
      b.textContent = label(c);
      li.appendChild(b);
      ul.appendChild(li);
    });
    recentBox.hidden = !ul.children.length;
  }
  recentBox.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-id]");
    if (b) choose(byId[b.dataset.id], true);
  });

  for (var i = 0; i < kinds.length; i++) {
    kinds[i].addEventListener("change", function () { major.value = ""; fillMajors(); fillMinors(); });
  }
  major.addEventListener("change", fillMinors);
  select.addEventListener("change", showChosen);

  fetch(box.dataset.src, { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
    .then(function (data) {
      items = data.categories || [];
      if (!items.length) return;
      items.forEach(function (c) { byId[String(c.id)] = c; });
      var current = byId[select.value];  // a choice made already (or sent back with errors) wins
      if (current) setKind(current.kind);
      fillMajors();
      if (current) major.value = String(current.major.id);
      fillMinors();
      if (current) select.value = String(current.id);
      showChosen();
      showRecent((data.recent || []).map(String));
      box.hidden = false;
      box.dataset.ready = "1";
    })
    .catch(function () { /* offline without a cached copy: the plain select stays */ });
})();
