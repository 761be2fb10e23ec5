// The customer tracking page at /track/<token>: polls the tracking JSON
// with If-None-Match (a 304 is cheap) often enough that a change shows
// within a second while the page is visible, slower when hidden, backs
// off on 429 (Retry-After) and network errors, and stops once the order
// ended. The PIN never reaches the server: the customer's app opens the
// link with #pin=1234, read here and dropped from the address bar.
import { createView } from "./view.js";

const VISIBLE_MS = 500; // a status change shows within 1 s, with room for the round trip
const HIDDEN_MS = 10000; // a background tab costs little
const MAX_BACKOFF_MS = 15000;

const $ = (id) => document.getElementById(id);

// The token is the path's last segment; the page never prints it.
const token = (() => {
  const seg = location.pathname.split("/").filter(Boolean).pop() || "";
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg; // malformed escapes: the server says not found
  }
})();
const api = "../api/v1/track/" + encodeURIComponent(token);

// takePIN reads #pin=NNNN, keeps it for this tab (a reload still shows
// it) and drops the fragment, so the address bar no longer shows it.
function takePIN() {
  const key = "dispatchd.track.pin." + location.pathname;
  const m = /(?:^#|&)pin=(\d{4,8})(?:&|$)/.exec(location.hash);
  if (m) {
    try {
      sessionStorage.setItem(key, m[1]);
    } catch {
      // storage off: the PIN shows until reload
    }
    history.replaceState(null, "", location.pathname + location.search);
    return m[1];
  }
  try {
    return sessionStorage.getItem(key) || "";
  } catch {
    return "";
  }
}

function setConn(state, text) {
  const el = $("conn");
  if (el.dataset.state !== state) el.dataset.state = state;
  if ($("conn-text").textContent !== text) $("conn-text").textContent = text;
}

async function main() {
  const pin = takePIN();
  if (pin) {
    $("pin").textContent = pin;
    $("pin-line").hidden = false;
    $("pin-box").hidden = false;
  }
  const view = await createView();
  setInterval(view.tick, 1000);

  let etag = "";
  let failures = 0;
  let ended = false;
  let timer = 0;
  let inflight = false;

  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  };
  const cadence = () => (document.visibilityState === "visible" ? VISIBLE_MS : HIDDEN_MS);
  const backoff = () => {
    failures++;
    const ms = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (failures - 1));
    return ms / 2 + Math.random() * (ms / 2);
  };

  async function poll() {
    if (inflight || ended) return;
    inflight = true;
    let next = cadence();
    try {
      const headers = etag ? { "If-None-Match": etag } : {};
      // no-store: the browser's cache must not answer the 304 for us.
      // A stalled answer must not stop the loop: give up after 10 s.
      const res = await fetch(api, { headers, cache: "no-store", credentials: "omit", signal: AbortSignal.timeout(10000) });
      if (res.status === 200) {
        const t = await res.json();
        etag = res.headers.get("ETag") || "";
        view.render(t);
        ended = t.pollSeconds === 0;
      }
      if (res.status === 200 || res.status === 304) {
        failures = 0;
        setConn("live", ended ? "Up to date" : "Live");
      } else if (res.status === 404) {
        ended = true;
        view.notFound();
        setConn("live", "");
      } else if (res.status === 429) {
        const wait = Number(res.headers.get("Retry-After")) || 1;
        next = Math.max(wait * 1000, backoff());
        setConn("retrying", "Busy, retrying…");
      } else {
        next = backoff();
        setConn("retrying", "Connection lost, retrying…");
      }
    } catch {
      next = backoff();
      setConn("retrying", "Connection lost, retrying…");
    } finally {
      inflight = false;
    }
    if (!ended) schedule(next);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && failures === 0) schedule(0);
  });
  poll();
}

main();
