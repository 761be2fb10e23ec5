// The pages' maps: Leaflet (vendor/leaflet/leaflet.js, loaded by the page
// as a classic script, so window.L) on the tiles that /console/config.json
// names. With no tile URL, or tiles that never load (tests, air-gapped
// sites), positions still show on a plain background: markers are vector
// circles, not images.

// loadConfig reads the server's map settings; a failure means no tiles.
export async function loadConfig(base = "/console/") {
  try {
    const res = await fetch(base + "config.json", { cache: "no-cache" });
    if (res.ok) return await res.json();
  } catch {
    // fall through: draw without tiles
  }
  return { tileUrl: "", tileAttribution: "" };
}

// createMap draws a map in el and returns a small handle over it:
// place(key, lat, lng, opts) adds or moves a marker, remove(key) drops it,
// fit() frames every marker. opts: { kind, label, attrs } — kind picks the
// marker's style (CSS class map-<kind>), label its tooltip and accessible
// name, attrs data attributes for scripts and tests.
export function createMap(el, config, { center = [0, 0], zoom = 13 } = {}) {
  const L = globalThis.L;
  const map = L.map(el, { zoomControl: true, attributionControl: true }).setView(center, zoom);
  el.classList.add("map-plain");
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution || "" }).addTo(map);
  }
  const markers = new Map();
  let framed = false;

  function place(key, lat, lng, opts = {}) {
    if (!Number.isFinite(lat) || !Number.isFinite(lng)) return;
    let m = markers.get(key);
    if (!m) {
      m = L.circleMarker([lat, lng], {
        radius: opts.kind === "driver" || opts.kind === "courier" ? 7 : 6,
        className: "map-" + (opts.kind || "point"),
        weight: 2,
        fillOpacity: 0.9,
      }).addTo(map);
      markers.set(key, m);
    } else {
      m.setLatLng([lat, lng]);
    }
    if (opts.label) {
      m.unbindTooltip();
      m.bindTooltip(opts.label);
    }
    const path = m.getElement();
    if (path) {
      if (opts.label) path.setAttribute("aria-label", opts.label);
      for (const [k, v] of Object.entries(opts.attrs || {})) path.setAttribute("data-" + k, String(v));
    }
    if (!framed) fit();
  }

  function remove(key) {
    const m = markers.get(key);
    if (m) {
      m.remove();
      markers.delete(key);
    }
  }

  function fit() {
    const points = [...markers.values()].map((m) => m.getLatLng());
    if (points.length === 0) return;
    framed = true;
    if (points.length === 1) map.setView(points[0], Math.max(map.getZoom(), 14));
    else map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 16 });
  }

  return { map, place, remove, fit, has: (key) => markers.has(key) };
}
