// One order's detail: a modal dialog (Escape closes it, focus returns to
// the order) with its facts, its timeline from the REST API, and the
// dispatcher's actions, each showing the ack's error code when refused.
import { etaSeconds, duration, isActive } from "./view.js";
import { root } from "./shared/base.js";

const $ = (sel) => document.querySelector(sel);

function fact(dl, name, value) {
  if (value === undefined || value === null || value === "") return;
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  if (value instanceof Node) dd.append(value);
  else dd.textContent = value;
  dl.append(dt, dd);
}

export class Detail {
  constructor(board) {
    this.board = board;
    this.dialog = $("#order-detail");
    this.id = null;
    this.dialog.querySelector(".close").addEventListener("click", () => this.close());
    this.dialog.addEventListener("close", () => this.closed());
    for (const b of this.dialog.querySelectorAll("button[data-action]")) {
      b.addEventListener("click", () => this.act(b.dataset.action));
    }
  }

  open(id) {
    this.id = id;
    this.opener = document.activeElement;
    this.dialog.querySelector(".action-result").textContent = "";
    this.draw();
    if (!this.dialog.open) this.dialog.showModal();
    this.loadTimeline();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  closed() {
    this.id = null;
    // The card may have been rebuilt meanwhile: focus it by id.
    const card = this.opener?.dataset?.orderId && document.querySelector(`[data-order-id="${CSS.escape(this.opener.dataset.orderId)}"]`);
    (card || this.opener)?.focus?.();
  }

  orderChanged(o) {
    if (o.id !== this.id) return;
    this.draw();
    this.loadTimeline();
  }

  draw() {
    const o = this.board.orders.get(this.id);
    if (!o) return;
    this.dialog.dataset.orderId = o.id;
    this.dialog.dataset.status = o.status;
    $("#detail-title").textContent = `${o.store || "Order"} · ${o.status.replace("_", " ")}`;
    const dl = this.dialog.querySelector(".detail-facts");
    dl.replaceChildren();
    fact(dl, "Order", o.id);
    fact(dl, "Driver", o.driverId || "none");
    const eta = etaSeconds(o, this.board.drivers);
    if (eta !== null) fact(dl, "ETA (est.)", duration(eta));
    fact(dl, "Pickup", o.pickup?.address);
    fact(dl, "Dropoff", o.dropoff?.address);
    fact(dl, "Zone", o.zone);
    fact(dl, "Created", new Date(o.createdAt).toLocaleTimeString());
    if (o.trackingUrl) {
      const a = document.createElement("a");
      a.href = o.trackingUrl;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = "customer's tracking page";
      fact(dl, "Tracking", a);
    }
    this.drawActions(o);
  }

  drawActions(o) {
    const sel = $("#assign-driver");
    const keep = sel.value;
    const loads = this.board.loads();
    const onDuty = [...this.board.drivers.values()].filter((d) => d.onDuty).sort((a, b) => a.driverId.localeCompare(b.driverId));
    sel.replaceChildren(
      ...onDuty.map((d) => {
        const opt = document.createElement("option");
        opt.value = d.driverId;
        opt.textContent = `${d.driverId} (${loads.get(d.driverId) || 0} active)`;
        return opt;
      }),
    );
    if (onDuty.some((d) => d.driverId === keep)) sel.value = keep;
    const active = isActive(o.status);
    this.dialog.querySelector('[data-action="assign"]').disabled = o.status !== "ready" || onDuty.length === 0;
    this.dialog.querySelector('[data-action="unassign"]').disabled = o.status !== "assigned";
    this.dialog.querySelector('[data-action="cancel"]').disabled = !active;
  }

  async loadTimeline() {
    const id = this.id;
    const ol = this.dialog.querySelector(".timeline");
    try {
      const res = await fetch(`${root}api/v1/orders/${encodeURIComponent(id)}/events`, {
        headers: { Authorization: "Bearer " + this.board.token },
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { events } = await res.json();
      if (id !== this.id) return;
      ol.replaceChildren(
        ...events.map((e) => {
          const li = document.createElement("li");
          li.dataset.eventType = e.status;
          const when = document.createElement("time");
          when.dateTime = e.at;
          when.textContent = new Date(e.at).toLocaleTimeString();
          const who = e.actor?.role ? ` by ${e.actor.role} ${e.actor.id || ""}`.trimEnd() : "";
          const extra = [e.driverId && `driver ${e.driverId}`, e.reason && `“${e.reason}”`].filter(Boolean).join(", ");
          li.append(when, ` ${e.status.replace("_", " ")}${who}${extra ? " — " + extra : ""}`);
          return li;
        }),
      );
    } catch (err) {
      if (id === this.id) ol.replaceChildren(Object.assign(document.createElement("li"), { textContent: "timeline unavailable: " + err.message }));
    }
  }

  async act(action) {
    const id = this.id;
    const out = this.dialog.querySelector(".action-result");
    const payload = { orderId: id };
    if (action === "assign") payload.driverId = $("#assign-driver").value;
    out.className = "action-result";
    out.textContent = `${action}…`;
    const r = await this.board.call("order:" + action, payload);
    if (r?.ok) {
      out.textContent = `${action}: done`;
      this.board.applyOrder(r.order);
      return;
    }
    out.classList.add("error");
    out.dataset.code = r?.error?.code || "unknown";
    out.textContent = `${action} refused: ${r?.error?.code || "unknown"}${r?.error?.message ? " — " + r.error.message : ""}`;
  }
}
