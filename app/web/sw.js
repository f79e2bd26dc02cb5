'use strict';
// learnwalk's offline service worker (app/web/postprocess.py fills in BUILD and FILES).
// It is written over flet's flutter_service_worker.js (a stub that unregisters itself) because
// flutter_bootstrap.js re-registers that URL whenever any registration exists.
// Install: every file of the site into cache "learnwalk-<BUILD>". Fetch: same-origin GETs cache-first (query
// ignored), page navigations answered with index.html, everything else (the sync server) to the network.
// A new build changes BUILD, so the browser installs the new worker; activate deletes the old caches.
const BUILD = "__BUILD__";
const CACHE = "learnwalk-" + BUILD;
const FILES = __FILES__;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // 'reload' skips the HTTP cache: a new build never caches an old file
    await cache.addAll(FILES.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('learnwalk-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  if (new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    let hit = await cache.match(request, { ignoreSearch: true });
    if (!hit && request.mode === 'navigate') hit = await cache.match('index.html');
    return hit || fetch(request);
  })());
});
