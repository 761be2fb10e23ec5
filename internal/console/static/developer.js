// The developer tab: a raw event view of any namespace over the stock
// socket.io-client (which reconnects by itself): every event received,
// with its seq, durable ones acknowledged unless unticked (to see them
// come again on reconnect), and any event sent with an ack.
import { socketPath } from "./shared/base.js";
const $ = (id) => document.getElementById(id);
const LOG_MAX = 500;

export class Developer {
  constructor(boardToken) {
    this.boardToken = boardToken;
    this.socket = null;
    $("dev-connect").addEventListener("submit", (e) => {
      e.preventDefault();
      this.connect();
    });
    $("dev-disconnect").addEventListener("click", () => this.disconnect());
    $("dev-send").addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    $("dev-clear").addEventListener("click", () => $("dev-log").replaceChildren());
  }

  // prefill offers the board's token for /dispatchers, once.
  prefill() {
    if (!$("dev-token").value) $("dev-token").value = this.boardToken();
  }

  // forget drops the token field's copy of a token (on sign-out).
  forget() {
    $("dev-token").value = "";
  }

  // log puts the newest line on top: visible without scrolling.
  log(kind, text) {
    const li = document.createElement("li");
    li.className = kind;
    li.textContent = new Date().toISOString().slice(11, 23) + " " + text;
    const ol = $("dev-log");
    ol.prepend(li);
    while (ol.children.length > LOG_MAX) ol.lastChild.remove();
  }

  state(text) {
    $("dev-state").textContent = text;
  }

  setConnected(on) {
    $("dev-send-btn").disabled = !on;
  }

  connect() {
    this.disconnect();
    const nsp = $("dev-ns").value;
    const s = globalThis.io(nsp, { path: socketPath, auth: { token: $("dev-token").value.trim() }, transports: ["websocket", "polling"] });
    this.socket = s;
    this.nsp = nsp;
    $("dev-connect-btn").disabled = true;
    $("dev-disconnect").disabled = false;
    this.state("connecting…");
    s.on("connect", () => {
      this.log("in", `connected to ${nsp} (${s.io.engine.transport.name})`);
      this.state("connected");
      this.setConnected(true);
    });
    s.on("disconnect", (reason) => {
      this.log("err", `disconnected: ${reason}`);
      this.state(s.active ? "reconnecting…" : "disconnected");
      this.setConnected(false);
    });
    s.io.on("reconnect_attempt", (n) => this.state(`reconnecting (attempt ${n})…`));
    s.on("connect_error", (err) => {
      this.log("err", `connect error: ${err.message} ${JSON.stringify(err.data ?? {})}`);
      if (!s.active) {
        this.state("refused");
        $("dev-connect-btn").disabled = false;
      } else {
        this.state("retrying…");
      }
    });
    s.onAny((event, ...args) => {
      const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
      const payload = args[0];
      const seq = payload && payload.seq !== undefined ? ` seq=${payload.seq}` : "";
      this.log("in", `← ${event}${seq} ${JSON.stringify(args.length > 1 ? args : payload)}`);
      if (ack && payload?.seq !== undefined && $("dev-autoack").checked) ack();
    });
  }

  disconnect() {
    if (!this.socket) return;
    this.socket.removeAllListeners();
    this.socket.io.removeAllListeners();
    this.socket.disconnect();
    this.socket = null;
    this.log("out", "disconnected by you");
    this.state("disconnected");
    this.setConnected(false);
    $("dev-connect-btn").disabled = false;
    $("dev-disconnect").disabled = true;
  }

  send() {
    let payload;
    try {
      payload = JSON.parse($("dev-payload").value || "{}");
    } catch (err) {
      this.log("err", `payload is not JSON: ${err.message}`);
      return;
    }
    const event = $("dev-event").value.trim();
    this.log("out", `→ ${event} ${JSON.stringify(payload)}`);
    this.socket.timeout(10000).emit(event, payload, (err, reply) => {
      if (err) this.log("err", `↩ ${event}: no ack within 10 s`);
      else this.log(reply?.ok === false ? "err" : "in", `↩ ${event} ${JSON.stringify(reply)}`);
    });
  }
}
