/* urbangrid collector app service worker: keeps the app shell for offline use.
   Reports made offline are queued by the page (IndexedDB), not here. */
const CACHE = "urbangrid-m-v1";
const SHELL = [{% for url in shell %}"{{ url|escapejs }}", {% endfor %}];
const PAGES = [{% for url in pages %}"{{ url|escapejs }}", {% endfor %}];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL.concat(PAGES))).then(() => self.skipWaiting()));
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
  } else if (req.mode === "navigate" && PAGES.includes(url.pathname)) {
    event.respondWith(fetch(req).then((res) => {
      const copy = res.clone();
      if (res.ok) caches.open(CACHE).then((c) => c.put(req, copy));
      return res;
    }).catch(() => caches.match(req)));
  }
});
