// Service worker: keeps the page's files so it works offline once loaded.
// Network first (a rebuilt site is picked up at once), the cache when the
// network fails. scripts/serve stamps the cache version and the asset list
// at build time.
"use strict";

const CACHE = "litequant-__LITEQUANT_CACHE__";
const ASSETS = "__LITEQUANT_ASSETS__".split(",");

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("litequant-") && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith(fetch(req).then((resp) => {
    if (resp.ok && resp.type === "basic") {
      const copy = resp.clone();
      event.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
    }
    return resp;
  }).catch(() => caches.match(req, { ignoreSearch: true }).then((r) => r || Response.error())));
});
