// Drawing the board's state: the order columns, the drivers and the "at a
// glance" numbers. Elements are kept per order and driver and updated in
// place, so a ticking age never steals the keyboard focus.

export const COLUMNS = [
  { key: "ready", title: "Ready / offered", statuses: ["ready"] },
  { key: "assigned", title: "Assigned", statuses: ["assigned"] },
  { key: "picked_up", title: "Picked up", statuses: ["picked_up"] },
  { key: "in_transit", title: "In transit", statuses: ["in_transit"] },
  { key: "ended", title: "Recently ended", statuses: ["delivered", "cancelled", "failed"] },
];

const ACTIVE = new Set(["ready", "assigned", "picked_up", "in_transit"]);
export const isActive = (status) => ACTIVE.has(status);

// The contract's ETA defaults (tenants.detour_factor, avg_speed_mps):
// the board estimates from the driver's last position, like the server.
const DETOUR = 1.3;
const SPEED_MPS = 8.3;

export function meters(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

// etaSeconds estimates the driver's time to the order's next stop, or
// null when the order has no driver with a known position.
export function etaSeconds(o, drivers) {
  const d = o.driverId && drivers.get(o.driverId);
  if (!d || !Number.isFinite(d.lat) || !isActive(o.status) || o.status === "ready") return null;
  const stop = o.status === "assigned" ? o.pickup : o.dropoff;
  if (!stop) return null;
  return Math.ceil((meters(d, stop) * DETOUR) / SPEED_MPS);
}

export function duration(s) {
  if (s < 60) return `${Math.max(0, Math.round(s))} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

const label = (status) => status.replace("_", " ");

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// columnsOf builds the columns once and returns their lists by key.
function columnsOf(root) {
  if (root._columns) return root._columns;
  root._columns = new Map();
  root._cards = new Map();
  for (const c of COLUMNS) {
    const sec = el("section", { class: "column", "data-column": c.key, "aria-labelledby": "col-" + c.key });
    const h = el("h2", { id: "col-" + c.key });
    h.append(el("span", {}, c.title), " ", el("span", { class: "count" }, "0"));
    const list = el("ul", { class: "cards" });
    sec.append(h, list);
    root.append(sec);
    root._columns.set(c.key, { list, count: h.querySelector(".count") });
  }
  return root._columns;
}

function cardText(card, o, drivers, now) {
  const age = (now - Date.parse(o.createdAt)) / 1000;
  const eta = etaSeconds(o, drivers);
  const parts = [`age ${duration(age)}`];
  if (o.driverId) parts.push(`→ ${o.driverId}`);
  if (eta !== null) parts.push(`ETA ≈ ${duration(eta)}`);
  if (!isActive(o.status)) parts.push(label(o.status));
  card.querySelector(".store").textContent = o.store || "order";
  card.querySelector(".oid").textContent = "#" + o.id.slice(-6);
  card.querySelector(".meta").textContent = parts.join(" · ");
  // The status is the column's heading on screen; a screen reader hears it
  // in the button's own text (an aria-label would hide what is shown).
  card.querySelector(".said").textContent = `, ${label(o.status)}, `;
}

export function renderOrders(root, orders, drivers, now, open) {
  const cols = columnsOf(root);
  const byCol = new Map(COLUMNS.map((c) => [c.key, []]));
  for (const o of orders.values()) {
    const col = COLUMNS.find((c) => c.statuses.includes(o.status));
    if (col) byCol.get(col.key).push(o);
  }
  const seen = new Set();
  for (const [key, list] of byCol) {
    // Active orders oldest first (most urgent on top); ended ones newest first.
    const at = key === "ended" ? (o) => -Date.parse(o.updatedAt) : (o) => Date.parse(o.createdAt);
    list.sort((a, b) => at(a) - at(b));
    const { list: ul, count } = cols.get(key);
    count.textContent = String(list.length);
    list.forEach((o, i) => {
      seen.add(o.id);
      let li = root._cards.get(o.id);
      if (!li) {
        li = el("li");
        const b = el("button", { type: "button", class: "order", "data-order-id": o.id });
        b.append(el("span", { class: "store" }), el("span", { class: "oid" }), el("span", { class: "sr-only said" }), el("span", { class: "meta" }));
        b.addEventListener("click", () => open(o.id));
        li.append(b);
        root._cards.set(o.id, li);
      }
      const b = li.firstChild;
      b.dataset.status = o.status;
      cardText(b, o, drivers, now);
      if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
    });
  }
  for (const [id, li] of root._cards) {
    if (!seen.has(id)) {
      li.remove();
      root._cards.delete(id);
    }
  }
}

export function renderDrivers(ul, drivers, loads) {
  const rows = [...drivers.values()]
    .filter((d) => d.onDuty || loads.get(d.driverId))
    .sort((a, b) => Number(b.onDuty) - Number(a.onDuty) || (loads.get(b.driverId) || 0) - (loads.get(a.driverId) || 0) || a.driverId.localeCompare(b.driverId));
  ul.replaceChildren(
    ...rows.map((d) => {
      const n = loads.get(d.driverId) || 0;
      const li = el("li", { "data-driver-id": d.driverId, "data-on-duty": String(!!d.onDuty), class: d.onDuty ? "" : "off" });
      li.append(el("span", { class: "name" }, d.driverId), el("span", { class: "load" }, `${n} active`),
        el("span", { class: "duty" }, d.onDuty ? "on duty" : "off duty"));
      return li;
    }),
  );
  if (rows.length === 0) ul.append(el("li", { class: "empty" }, "No driver on duty."));
}

function tile(name, value, attrs = {}) {
  const d = el("div", { class: "stat", ...attrs });
  d.append(el("span", { class: "value" }, String(value)), el("span", { class: "name" }, name));
  return d;
}

export function renderStats(root, orders, drivers, stats, now) {
  const counts = new Map();
  for (const o of orders.values()) counts.set(o.status, (counts.get(o.status) || 0) + 1);
  const onDuty = [...drivers.values()].filter((d) => d.onDuty).length;
  const tiles = ["ready", "assigned", "picked_up", "in_transit"].map((s) => tile(label(s), counts.get(s) || 0, { "data-count": s }));
  tiles.push(tile("drivers on duty", onDuty, { "data-count": "drivers-on-duty" }));
  const q = stats?.delivery;
  if (q) {
    tiles.push(tile("sockets", stats.sockets, { "data-count": "sockets" }));
    tiles.push(tile("events in flight", q.inFlight, { "data-count": "in-flight", title: `${q.queued} queued, ${q.behind} behind` }));
    tiles.push(tile("stalled", q.stalled.length, { "data-count": "stalled", class: q.stalled.length ? "stat warn" : "stat" }));
  }
  const stalled = el("ul", { class: "stalled" });
  for (const s of q?.stalled || []) {
    stalled.append(el("li", { "data-stalled-user": s.userId },
      `${s.role} ${s.userId}: ${s.oldestEvent} #${s.oldestSeq} unacked for ${duration((now - Date.parse(s.since)) / 1000)} (${s.inFlight} in flight${s.node ? ", on " + s.node : ""})`));
  }
  const note = el("p", { class: "scope" }, stats ? `delivery: ${stats.nodes.length} node${stats.nodes.length === 1 ? "" : "s"} answered (${stats.nodes.join(", ")})` : "delivery numbers: waiting…");
  root.replaceChildren(el("div", { class: "tiles" }), note);
  root.firstChild.append(...tiles);
  if (stalled.children.length) root.append(stalled);
}
