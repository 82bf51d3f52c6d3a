/* urbangrid phone app service worker: keeps the app shell for offline use.
   Reports made offline are queued by the page (IndexedDB), not here. */
const CACHE = "urbangrid-m-v2";
const SHELL = [{% for url in shell %}"{{ url|escapejs }}", {% endfor %}];
const PAGES = [{% for url in pages %}"{{ url|escapejs }}", {% endfor %}];
/* data the report form needs (category picker, grids): from the network, the last copy offline */
const DATA = [{% for url in data %}"{{ url|escapejs }}", {% endfor %}];
/* case pages visited are kept, so that a handler or collector can read them offline */
const CASE_PREFIX = "{{ case_prefix|escapejs }}";

function networkFirst(req) {
  return fetch(req).then((res) => {
    const copy = res.clone();
    if (res.ok) caches.open(CACHE).then((c) => c.put(req, copy));
    return res;
  }).catch(() => caches.match(req));
}

self.addEventListener("install", (event) => {
  // a page the user's roles have no access to (a handler's /m/report/) must not stop the install
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL).then(() =>
    Promise.all(PAGES.map((p) => fetch(p, { credentials: "same-origin" }).then((res) => res.ok ? c.put(p, res) : null)
      .catch(() => null))))).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
  } else if (req.mode === "navigate" && (PAGES.includes(url.pathname) || /^\d+\/$/.test(url.pathname.slice(CASE_PREFIX.length)) && url.pathname.startsWith(CASE_PREFIX))) {
    event.respondWith(networkFirst(req));
  } else if (DATA.includes(url.pathname)) {
    event.respondWith(networkFirst(req));
  }
});
