// Namespace CONNECT: auth middleware accepting and refusing, unknown
// namespaces, and several namespaces sharing one Engine.IO session.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { SERVER_URL, ask, client, collect, connected, next, serverDisconnectReason, waitConnect } from "./helpers.js";

test("auth accepted: the middleware sees the auth object", { timeout: 10_000 }, async (t) => {
  for (const transport of ["websocket", "polling"]) {
    const socket = await connected(t, "/auth", { transports: [transport], auth: { token: "good", extra: [1, 2] } });
    const { id, auth } = await ask(socket, "whoami");
    assert.equal(id, socket.id, transport);
    assert.deepEqual(auth, { token: "good", extra: [1, 2] }, transport);
  }
});

test("auth refused: connect_error carries message and data, and the client does not retry", { timeout: 10_000 }, async (t) => {
  const cases = [
    { name: "bad token", auth: { token: "bad" } },
    { name: "no auth at all", auth: undefined },
  ];
  for (const { name, auth } of cases) {
    // Reconnection is on: a refusal by middleware must still not be retried.
    const socket = client(t, "/auth", { auth, reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    const [err] = await next(socket, "connect_error");
    assert.equal(err.message, "unauthorized", name);
    assert.deepEqual(err.data, { code: "unauthorized" }, name);
    assert.equal(socket.connected, false, name);

    const [errors, connects] = await Promise.all([collect(socket, "connect_error", 300), collect(socket, "connect", 300)]);
    assert.deepEqual([...errors, ...connects], [], `${name}: the client retried a refused namespace`);
  }
});

test("a plain Go error from middleware becomes connect_error without data", { timeout: 10_000 }, async (t) => {
  const socket = client(t, "/plain");
  const [err] = await next(socket, "connect_error");
  assert.equal(err.message, "plain refusal");
  assert.equal(err.data, undefined);
});

test("unknown namespace is refused with Invalid namespace", { timeout: 10_000 }, async (t) => {
  const socket = client(t, "/does-not-exist");
  const [err] = await next(socket, "connect_error");
  assert.equal(err.message, "Invalid namespace");
});

test("namespaces multiplexed on one Engine.IO session connect, refuse and leave independently", { timeout: 10_000 }, async (t) => {
  const manager = new Manager(SERVER_URL, { reconnection: false, timeout: 5000 });
  const main = manager.socket("/");
  const authed = manager.socket("/auth", { auth: { token: "good" } });
  const refused = manager.socket("/plain");
  t.after(() => {
    for (const s of [main, authed, refused]) {
      s.disconnect();
    }
    manager.engine?.close();
  });

  const [err] = await next(refused, "connect_error");
  assert.equal(err.message, "plain refusal");
  await Promise.all([waitConnect(main), waitConnect(authed)]);
  const engineID = manager.engine.id;
  assert.notEqual(main.id, authed.id);
  assert.equal(await ask(main, "echo", "main"), "main");
  assert.equal(await ask(authed, "echo", "auth"), "auth");

  // The server kicks /auth only (Disconnect(false) sends 41/auth,): / keeps
  // working on the same Engine.IO session.
  const kickedID = authed.id;
  const kicked = next(authed, "disconnect");
  authed.emit("drop-me", "disconnect");
  assert.equal((await kicked)[0], "io server disconnect");
  assert.equal(await serverDisconnectReason(main, kickedID), "server namespace disconnect");
  assert.equal(await ask(main, "echo", "still here"), "still here");
  assert.equal(manager.engine.id, engineID, "kicking one namespace must not end the session");

  // CONNECT to /auth again on the same session, then leave it from the
  // client side (41/auth,) while / stays up.
  authed.connect();
  await waitConnect(authed);
  const leftID = authed.id;
  assert.notEqual(leftID, kickedID);
  authed.disconnect();
  assert.equal(await serverDisconnectReason(main, leftID), "client namespace disconnect");
  assert.equal(await ask(main, "echo", "after leave"), "after leave");
  assert.equal(manager.engine.id, engineID, "leaving one namespace must not end the session");
});
