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
// name, attrs data attributes for scripts and tests. legend: [{ kind,
// text }] says what the markers' colours mean.
export function createMap(el, config, { center = [0, 0], zoom = 13, legend = [] } = {}) {
  const L = globalThis.L;
  const map = L.map(el, { zoomControl: true, attributionControl: true }).setView(center, zoom);
  el.classList.add("map-plain");
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution || "" }).addTo(map);
  }
  if (legend.length > 0) addLegend(L, map, legend);
  const markers = new Map();
  // The map frames its markers by itself until the person moves it: when
  // its box changes size (a panel shown, a phone turned) and when a
  // marker is outside the view. Only a person's drag or zoom stops that.
  let following = true;
  let ours = false; // a move of our own under way
  map.on("movestart", () => {
    if (!ours) following = false;
  });
  new ResizeObserver(() => {
    ours = true;
    map.invalidateSize({ animate: false });
    ours = false;
    if (following) fit();
  }).observe(el);

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
      // A node, not a string: Leaflet puts a string in as HTML, and labels
      // carry what vendors and drivers typed (a store, an address).
      const text = document.createElement("span");
      text.textContent = opts.label;
      m.bindTooltip(text);
    }
    const path = m.getElement();
    if (path) {
      if (opts.label) {
        // An SVG path has no role of its own, and ARIA forbids a label
        // on it without one.
        path.setAttribute("role", "img");
        path.setAttribute("aria-label", opts.label);
      }
      for (const [k, v] of Object.entries(opts.attrs || {})) path.setAttribute("data-" + k, String(v));
    }
    if (following && !map.getBounds().pad(-0.05).contains(m.getLatLng())) fit();
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
    if (points.length === 0 || el.clientWidth === 0) return; // hidden: measured when shown
    ours = true;
    try {
      if (points.length === 1) map.setView(points[0], Math.max(map.getZoom(), 14), { animate: false });
      else map.fitBounds(L.latLngBounds(points), { padding: [24, 24], maxZoom: 16, animate: false });
    } finally {
      ours = false;
    }
  }

  return { map, place, remove, fit, has: (key) => markers.has(key) };
}

// addLegend puts a key of the marker colours in the map's lower left.
function addLegend(L, map, legend) {
  const Legend = L.Control.extend({
    onAdd() {
      const ul = L.DomUtil.create("ul", "map-legend");
      ul.setAttribute("aria-label", "Map legend");
      for (const { kind, text } of legend) {
        const li = L.DomUtil.create("li", "", ul);
        const dot = L.DomUtil.create("span", "map-legend-dot map-" + kind, li);
        dot.setAttribute("aria-hidden", "true");
        li.append(text);
      }
      return ul;
    },
  });
  new Legend({ position: "bottomleft" }).addTo(map);
}
