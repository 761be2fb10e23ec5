// The dispatch board's live state over /dispatchers: board:subscribe's
// snapshot, then board:order and board:driver. Those updates are best
// effort, so every (re)connect subscribes again and takes the snapshot as
// the truth; that is how the board outlives a server restart.
import { loadConfig, createMap } from "./shared/map.js";
import { renderOrders, renderDrivers, renderStats, isActive } from "./view.js";
import { Detail } from "./detail.js";
import { socketPath } from "./shared/base.js";

const STATS_EVERY_MS = 5000;
const ENDED_KEEP_MS = 10 * 60 * 1000; // "recently ended" stays this long
const RENDER_EVERY_MS = 1000; // ages and ETAs tick
const CHANGE_DELAY_MS = 100; // a change is drawn this soon

export class Board {
  constructor({ conn, onUnauthorized }) {
    this.connEl = conn;
    this.onUnauthorized = onUnauthorized;
    this.orders = new Map(); // id → order
    this.drivers = new Map(); // id → { driverId, onDuty, lat, lng, at }
    this.stats = null;
    this.socket = null;
    this.visible = true;
    this.dirty = false;
    this.map = null;
    this.detail = new Detail(this);
    this.mapReady = loadConfig("./").then((cfg) => {
      this.map = createMap(document.getElementById("map"), cfg, {
        legend: [{ kind: "driver", text: "driver on duty" }, { kind: "driver-off", text: "off duty, with orders" }, { kind: "pickup", text: "pickup" }],
      });
      this.changed();
    });
  }

  // start connects with tok; the stock client reconnects by itself.
  start(tok) {
    this.stop();
    this.setConn("connecting", "connecting…");
    const s = globalThis.io("/dispatchers", { path: socketPath, auth: { token: tok }, transports: ["websocket", "polling"] });
    this.socket = s;
    this.token = tok;
    this.expired = false;
    this.framed = false;
    this.snapshotted = false;
    s.on("connect", () => {
      this.setConn("connected", "connected");
      this.subscribe();
      this.refreshStats();
    });
    s.on("disconnect", (reason) => {
      if (reason === "io client disconnect") {
        this.setConn("offline", "offline");
        return;
      }
      this.setConn("reconnecting", "connection lost, reconnecting…");
      // The stock client leaves a disconnect by the server to the app
      // (a queue that could not load, a node going away): try again,
      // unless the token ran out (auth:expired signs out first).
      if (reason === "io server disconnect") setTimeout(() => this.socket === s && !this.expired && s.connect(), 1000);
    });
    s.io.on("reconnect_attempt", (n) => this.setConn("reconnecting", `reconnecting (attempt ${n})…`));
    s.on("connect_error", (err) => {
      // A refusal by the server (CONNECT_ERROR) is final for the stock
      // client: s.active turns false. A network failure retries.
      if (!s.active) {
        this.setConn("offline", "refused: " + (err.data?.code || err.message));
        if (["unauthorized", "forbidden"].includes(err.data?.code)) this.onUnauthorized(`Token refused (${err.data.code}); sign in again.`);
        return;
      }
      this.setConn("reconnecting", "server unreachable, retrying…");
    });
    s.on("board:order", (m) => this.applyOrder(m?.order));
    s.on("board:driver", (d) => this.applyDriver(d));
    // Durable events (with seq) are receipted at once; the board keeps
    // no per-user feed, but a recipient that never acks would stall.
    s.onAny((...args) => {
      const ack = args[args.length - 1];
      if (typeof ack === "function" && args[1]?.seq !== undefined) ack();
    });
    s.on("auth:expired", () => {
      this.expired = true;
      this.onUnauthorized("Your session expired; sign in again.");
    });
    this.statsTimer = setInterval(() => this.refreshStats(), STATS_EVERY_MS);
    this.renderTimer = setInterval(() => this.render(), RENDER_EVERY_MS);
  }

  stop() {
    clearInterval(this.statsTimer);
    clearInterval(this.renderTimer);
    if (this.socket) {
      this.socket.removeAllListeners();
      this.socket.io.removeAllListeners();
      this.socket.disconnect();
      this.socket = null;
    }
    this.detail.close();
    this.setConn("offline", "offline");
  }

  setVisible(v) {
    this.visible = v;
    if (!v) return;
    this.map?.map.invalidateSize();
    this.refreshStats();
  }

  // changed marks the board stale and draws it soon: a burst of updates
  // (a resubscribe, many drivers moving) is drawn once, within 100 ms.
  changed() {
    this.dirty = true;
    if (this.soon) return;
    this.soon = setTimeout(() => {
      this.soon = null;
      this.render();
    }, CHANGE_DELAY_MS);
  }

  setConn(state, text) {
    this.connEl.dataset.state = state;
    this.connEl.querySelector(".text").textContent = text;
  }

  // call emits with an ack, resolving to the ack's object; a timeout or
  // a lost connection resolves to an error of code "timeout".
  call(event, payload) {
    return new Promise((resolve) => {
      if (!this.socket?.connected) {
        resolve({ ok: false, error: { code: "offline", message: "not connected" } });
        return;
      }
      this.socket.timeout(10000).emit(event, payload, (err, reply) => {
        resolve(err ? { ok: false, error: { code: "timeout", message: "no answer" } } : reply);
      });
    });
  }

  async subscribe() {
    const r = await this.call("board:subscribe", {});
    if (!r?.ok) {
      this.setConn("connected", "connected, board refused: " + (r?.error?.code || "?"));
      return;
    }
    // The snapshot is the truth for active orders; the recently ended
    // ones are only what this page saw end.
    for (const [id, o] of this.orders) if (isActive(o.status)) this.orders.delete(id);
    for (const o of r.orders || []) this.orders.set(o.id, o);
    this.snapshotted = true;
    this.drivers.clear();
    for (const d of r.drivers || []) this.drivers.set(d.driverId, d);
    this.changed();
    this.render();
  }

  async refreshStats() {
    if (!this.visible || !this.socket?.connected) return;
    const r = await this.call("board:stats", {});
    if (r?.ok) {
      this.stats = r.stats;
      this.changed();
    }
  }

  applyOrder(o) {
    if (!o?.id) return;
    const have = this.orders.get(o.id);
    if (have && have.version > o.version) return; // an older update, late
    this.orders.set(o.id, o);
    this.changed();
    this.detail.orderChanged(o);
  }

  applyDriver(d) {
    if (!d?.driverId) return;
    this.drivers.set(d.driverId, { ...this.drivers.get(d.driverId), ...d });
    this.changed();
  }

  // loads counts each driver's active orders, from the orders the board
  // holds (board:driver carries no load).
  loads() {
    const n = new Map();
    for (const o of this.orders.values()) {
      if (o.driverId && isActive(o.status)) n.set(o.driverId, (n.get(o.driverId) || 0) + 1);
    }
    return n;
  }

  prune(now) {
    for (const [id, o] of this.orders) {
      if (!isActive(o.status) && now - Date.parse(o.updatedAt) > ENDED_KEEP_MS) this.orders.delete(id);
    }
  }

  render() {
    const now = Date.now();
    this.prune(now);
    const loads = this.loads();
    renderOrders(document.getElementById("orders"), this.orders, this.drivers, now, (id) => this.detail.open(id));
    if (this.dirty) {
      renderDrivers(document.getElementById("drivers"), this.drivers, loads);
      renderStats(document.getElementById("stats"), this.orders, this.drivers, this.stats, now);
      this.renderMap(loads);
      this.dirty = false;
    }
  }

  renderMap(loads) {
    if (!this.map) return;
    const keep = new Set();
    for (const d of this.drivers.values()) {
      if (!Number.isFinite(d.lat) || (!d.onDuty && !loads.get(d.driverId))) continue;
      const key = "d:" + d.driverId;
      keep.add(key);
      this.map.place(key, d.lat, d.lng, {
        kind: d.onDuty ? "driver" : "driver-off",
        label: `Driver ${d.driverId}${d.onDuty ? "" : " (off duty)"}, ${loads.get(d.driverId) || 0} active`,
        attrs: { "driver-id": d.driverId },
      });
    }
    for (const o of this.orders.values()) {
      if (!isActive(o.status) || !o.pickup) continue;
      const key = "o:" + o.id;
      keep.add(key);
      this.map.place(key, o.pickup.lat, o.pickup.lng, {
        kind: "pickup",
        label: `Pickup of ${o.store || "order"} (${o.status})`,
        attrs: { "order-id": o.id },
      });
    }
    for (const key of this.placed || []) if (!keep.has(key)) this.map.remove(key);
    this.placed = keep;
    // Frame everything once, when the first snapshot is drawn. The map
    // may have been made in a hidden panel (the sign-in showing): let
    // Leaflet measure its box again first.
    if (!this.framed && this.snapshotted && keep.size > 0) {
      this.map.map.invalidateSize();
      this.map.fit();
      this.framed = true;
    }
  }
}
