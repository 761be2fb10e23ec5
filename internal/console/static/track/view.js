// Draws a tracking view (GET /api/v1/track/<token>) into the page. The
// ids and data attributes are the browser tests' hooks: keep them.
import { createMap, loadConfig } from "../shared/map.js";

const $ = (id) => document.getElementById(id);

const STATUS = {
  ready: ["Looking for a courier", "The shop has your order ready."],
  assigned: ["A courier is on the way to the shop", "They will pick up your order soon."],
  picked_up: ["Your order has been picked up", "The courier is leaving the shop."],
  in_transit: ["On the way to you", "The courier is heading to your address."],
  delivered: ["Delivered", "Enjoy!"],
  cancelled: ["Cancelled", "This order was cancelled."],
  failed: ["Delivery failed", ""],
};

const FAILURE = {
  customer_absent: "Nobody was at the door.",
  address_not_found: "The courier could not find the address.",
  refused: "The delivery was refused.",
  damaged: "The order was damaged.",
  other: "The courier could not deliver it.",
};

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

// formatETA is seconds as m:ss (h:mm:ss past an hour).
export function formatETA(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return (h > 0 ? h + ":" : "") + mm + ":" + String(sec).padStart(2, "0");
}

// createView returns { render(t), notFound(), tick() }: render draws a
// view, tick counts the ETA down a second from the last one.
export async function createView() {
  const config = await loadConfig("../console/");
  let map = null;
  let framed = false;
  let eta = null; // { seconds, at: Date.now() when received }

  function ensureMap(t) {
    if (map || !globalThis.L) return;
    map = createMap($("map"), config, {
      center: [t.dropoff.lat, t.dropoff.lng],
      zoom: 14,
      legend: [{ kind: "pickup", text: "shop" }, { kind: "courier", text: "courier" }, { kind: "dropoff", text: "you" }],
    });
  }

  function renderStatus(t) {
    const [title, detail] = STATUS[t.status] || [t.status, ""];
    const el = $("status");
    el.dataset.status = t.status;
    el.textContent = title;
    let d = detail;
    if (t.status === "failed" && t.failure) d = FAILURE[t.failure.reason] || FAILURE.other;
    $("status-detail").textContent = d;
    document.title = title + " · Track your delivery";
  }

  function renderTimeline(t) {
    const ol = $("timeline");
    const steps = t.timeline || [];
    const key = steps.map((s) => s.status + "@" + s.at).join(",");
    if (ol.dataset.key === key) return; // unchanged: keep the DOM still
    ol.dataset.key = key;
    ol.replaceChildren(...steps.map((s) => {
      const li = document.createElement("li");
      li.dataset.status = s.status;
      const name = document.createElement("span");
      name.textContent = (STATUS[s.status] || [s.status])[0];
      const at = document.createElement("time");
      at.dateTime = s.at;
      at.textContent = timeFmt.format(new Date(s.at));
      li.append(name, at);
      return li;
    }));
  }

  function renderOrder(t) {
    $("from").textContent = t.pickup.address || "—";
    $("to").textContent = t.dropoff.address || "—";
    $("items").replaceChildren(...(t.items || []).map((it) => {
      const li = document.createElement("li");
      li.textContent = it.qty + " × " + it.name;
      return li;
    }));
  }

  function renderMap(t) {
    ensureMap(t);
    const el = $("map");
    const c = t.courier;
    if (c) {
      el.dataset.courierLat = String(c.lat);
      el.dataset.courierLng = String(c.lng);
    } else {
      delete el.dataset.courierLat;
      delete el.dataset.courierLng;
    }
    $("map-note").textContent = c ? "Courier last seen at " + timeFmt.format(new Date(c.at)) + "." : "";
    if (!map) return;
    map.place("pickup", t.pickup.lat, t.pickup.lng, { kind: "pickup", label: "Pickup: " + t.pickup.address });
    map.place("dropoff", t.dropoff.lat, t.dropoff.lng, { kind: "dropoff", label: "Your address: " + t.dropoff.address });
    const reframe = !framed || (c && !map.has("courier"));
    if (c) map.place("courier", c.lat, c.lng, { kind: "courier", label: "Courier" });
    else map.remove("courier");
    if (reframe) {
      // Frame every marker once, and again when the courier shows up;
      // never on a move, which would fight a user panning.
      map.map.invalidateSize();
      map.fit();
      framed = true;
    }
  }

  function renderETA(t) {
    eta = Number.isInteger(t.etaSeconds) ? { seconds: t.etaSeconds, at: Date.now() } : null;
    $("eta-label").textContent = t.status === "assigned" ? "Courier at the shop in" : "Arriving in";
    tick();
  }

  function tick() {
    const el = $("eta");
    if (!eta) {
      delete el.dataset.seconds;
      el.textContent = "";
      $("eta-line").hidden = true;
      return;
    }
    const left = Math.max(0, eta.seconds - Math.floor((Date.now() - eta.at) / 1000));
    el.dataset.seconds = String(left);
    el.textContent = left > 0 ? formatETA(left) : "any moment";
    $("eta-line").hidden = false;
  }

  function render(t) {
    $("not-found").hidden = true;
    $("tracking").hidden = false;
    renderStatus(t);
    renderTimeline(t);
    renderOrder(t);
    renderMap(t);
    renderETA(t);
    const required = Boolean(t.pinRequired);
    $("pin-required").hidden = !required;
    $("pin-box").hidden = !required && $("pin-line").hidden;
  }

  function notFound() {
    $("tracking").hidden = true;
    $("not-found").hidden = false;
    $("conn").hidden = true; // nothing live to speak of
    eta = null;
    document.title = "Link not found · Track your delivery";
  }

  return { render, notFound, tick };
}
