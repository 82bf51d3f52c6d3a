/* Live work (实时待办): polls /live/counts.json every 5 s while the tab is visible, shows the
   to-do counts and unread messages in the header badge, refreshes the to-do list in place
   (tbody[data-live-rows], from ?fragment=1) and, when the user turned it on, plays a short
   sound for urgent new work. Loaded by the staff and phone base templates; no inline code. */
(function () {
  "use strict";
  var script = document.currentScript;
  var root = document.getElementById("live");
  if (!script || !root || !script.dataset.liveUrl || !window.fetch) return;
  var URL_ = script.dataset.liveUrl;
  var PERIOD = 5000;
  var SOUND_KEY = "urbangrid.live.sound";
  var baseTitle = document.title;
  var lastId = null;        // newest notification seen (urgent sound only for newer ones)
  var signature = null;     // counts as last shown: the list is refreshed when they change
  var timer = null, inFlight = false, stopped = false, chime = null;

  // the badge's styles (the phone app's template links no stylesheet of ours)
  var css = script.src.replace(/live\.js(\?.*)?$/, "live.css");
  if (!document.querySelector('link[href="' + css + '"]')) {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = css;
    document.head.appendChild(link);
  }

  function q(sel) { return root.querySelector(sel); }

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) === "1"; } catch (e) { return false; }
  }

  function play() {
    if (!soundOn() || !script.dataset.chime) return;
    try {
      chime = chime || new Audio(script.dataset.chime);
      chime.currentTime = 0;
      var p = chime.play();
      if (p && p.catch) p.catch(function () {});
    } catch (e) { /* no audio: nothing to do */ }
  }

  var soundButton = q("[data-live-sound]");
  function showSound() {
    if (!soundButton) return;
    var on = soundOn();
    soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    soundButton.textContent = root.dataset[on ? "labelSoundOn" : "labelSoundOff"] || "";
  }
  if (soundButton) {
    soundButton.addEventListener("click", function () {
      try { window.localStorage.setItem(SOUND_KEY, soundOn() ? "0" : "1"); } catch (e) { return; }
      showSound();
      play();  // a click allows audio from now on, and lets the user hear what it sounds like
    });
    showSound();
  }

  function item(list, text, href, urgent, count) {
    var li = document.createElement("li");
    var a = document.createElement(href ? "a" : "span");
    if (href) a.href = href;
    if (count !== undefined) {
      var n = document.createElement("span");
      n.className = "n";
      n.textContent = String(count);
      a.appendChild(n);
      a.appendChild(document.createTextNode(" "));
    }
    a.appendChild(document.createTextNode(text));
    if (urgent) {
      var u = document.createElement("span");
      u.className = "live-urgent";
      u.textContent = root.dataset.labelUrgent || "!";
      a.appendChild(document.createTextNode(" "));
      a.appendChild(u);
    }
    li.appendChild(a);
    list.appendChild(li);
  }

  function render(data) {
    root.hidden = false;
    q("[data-live-total]").textContent = String(data.total);
    root.classList.toggle("has-work", data.total > 0);
    var unread = q("[data-live-unread]");
    unread.hidden = !data.unread;
    q("[data-live-unread-n]").textContent = data.unread ? String(data.unread) : "";
    var title = data.buckets.map(function (b) { return b.label + " " + b.count; }).join(", ");
    root.title = title;
    document.title = data.total ? "(" + data.total + ") " + baseTitle : baseTitle;
    var buckets = q("[data-live-buckets]");
    if (buckets) {
      buckets.textContent = "";
      data.buckets.forEach(function (b) { item(buckets, b.label, b.url, false, b.count); });
    }
    var notes = q("[data-live-notes]");
    if (notes) {
      notes.textContent = "";
      data.notifications.forEach(function (n) { item(notes, n.created_at + " " + n.message, n.url, n.urgent); });
      if (!data.notifications.length) item(notes, root.dataset.labelNone || "", "", false);
    }
  }

  function refreshList() {
    var rows = document.querySelector("tbody[data-live-rows]");
    if (!rows) return;
    var params = new URLSearchParams(window.location.search);
    params.set("fragment", "1");
    fetch(window.location.pathname + "?" + params.toString(), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var body = doc.querySelector("tbody[data-live-rows]");
        if (!body) return;
        rows.replaceChildren.apply(rows, Array.prototype.map.call(body.children, function (tr) {
          return document.importNode(tr, true);
        }));
        var fresh = doc.querySelector("[data-testid=buckets]");
        var shown = document.querySelector("[data-testid=buckets]");
        if (fresh && shown) shown.replaceWith(document.importNode(fresh, true));
        rows.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
      })
      .catch(function () {});
  }

  function schedule() {
    window.clearTimeout(timer);
    if (!stopped && !document.hidden) timer = window.setTimeout(poll, PERIOD);
  }

  function poll() {
    if (stopped || inFlight || document.hidden) return;
    inFlight = true;
    var url = URL_ + (lastId !== null ? "?since=" + lastId : "");
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) { stopped = true; root.hidden = true; return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (!data) return;
        render(data);
        var sig = JSON.stringify([data.total, data.buckets.map(function (b) { return [b.key, b.count]; }), data.latest_id]);
        if (signature !== null && sig !== signature) refreshList();
        if (lastId !== null && data.urgent) play();
        signature = sig;
        lastId = Math.max(lastId || 0, data.latest_id);
      })
      .catch(function () { /* offline or restarting: try again later */ })
      .then(function () { inFlight = false; schedule(); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) window.clearTimeout(timer);
    else poll();
  });
  poll();
})();
