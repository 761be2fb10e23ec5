// The console page: two tabs (the dispatch board and the developer's raw
// event view), the dispatcher's sign-in, and the token kept in
// sessionStorage (gone when the tab closes; never shown in clear).
import { Board } from "./board.js";
import { Developer } from "./developer.js";
import { root } from "./shared/base.js";

const TOKEN_KEY = "dispatchd.token";
const $ = (id) => document.getElementById(id);

// takeFragmentToken moves a #token=… (the demo's link) into
// sessionStorage and strips it from the address bar at once, so it stays
// out of the history, bookmarks and screenshots.
function takeFragmentToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const tok = params.get("token");
  if (!tok) return;
  sessionStorage.setItem(TOKEN_KEY, tok);
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
}

function setupTabs(onShow) {
  const tabs = [$("tab-board"), $("tab-developer")];
  const select = (tab, focus) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    onShow(tab.id);
  };
  for (const t of tabs) {
    t.addEventListener("click", () => select(t, false));
    t.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(t);
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        e.preventDefault();
        select(tabs[(i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length], true);
      }
    });
  }
}

// exchangeKey trades an API key for a dispatcher token of its tenant.
async function exchangeKey(key, sub) {
  const res = await fetch(root + "api/v1/tokens", {
    method: "POST",
    headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" },
    body: JSON.stringify({ role: "dispatcher", sub }),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !body.token) {
    throw new Error(body.error?.message || body.message || `refused (HTTP ${res.status})`);
  }
  return body.token;
}

function main() {
  takeFragmentToken();
  const board = new Board({
    conn: $("conn"),
    onUnauthorized: (msg) => signOut(msg),
  });
  const dev = new Developer(() => sessionStorage.getItem(TOKEN_KEY) || "");

  function showSignedIn() {
    const tok = sessionStorage.getItem(TOKEN_KEY);
    $("login").hidden = !!tok;
    $("board").hidden = !tok;
    $("sign-out").hidden = !tok;
    if (tok) {
      board.start(tok);
    } else {
      board.stop();
      $("login-token-input").focus();
    }
  }

  function signOut(message = "") {
    sessionStorage.removeItem(TOKEN_KEY);
    dev.forget();
    $("login-error").textContent = message;
    showSignedIn();
  }

  $("login-token").addEventListener("submit", (e) => {
    e.preventDefault();
    const tok = $("login-token-input").value.trim();
    $("login-token-input").value = "";
    sessionStorage.setItem(TOKEN_KEY, tok);
    $("login-error").textContent = "";
    showSignedIn();
  });
  $("login-key").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("login-error").textContent = "";
    try {
      const tok = await exchangeKey($("login-key-input").value.trim(), $("login-sub").value.trim());
      $("login-key-input").value = "";
      sessionStorage.setItem(TOKEN_KEY, tok);
      showSignedIn();
    } catch (err) {
      $("login-error").textContent = "API key refused: " + err.message;
    }
  });
  $("sign-out").addEventListener("click", () => signOut());
  setupTabs((id) => {
    board.setVisible(id === "tab-board");
    if (id === "tab-developer") dev.prefill();
  });
  showSignedIn();
}

main();
