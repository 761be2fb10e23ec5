// Who ends a connection and how: the client's reason, whether it reconnects
// on its own, and the reason the Go OnDisconnect hook saw. Expectations are
// those of Node's socket.io 4.8 for the same calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Manager } from "socket.io-client";
import { SERVER_URL, ask, collect, connected, next, serverDisconnectReason, waitConnect } from "./helpers.js";

const fastReconnect = { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100, randomizationFactor: 0 };

for (const transport of ["websocket", "polling"]) {
  test(`${transport}: after Conn().Close the client reconnects on its own with a new id`, { timeout: 10_000 }, async (t) => {
    const observer = await connected(t, "/", { transports: ["websocket"] });
    const socket = await connected(t, "/", { transports: [transport], ...fastReconnect });
    const firstID = socket.id;
    const firstEngineID = socket.io.engine.id;

    const disconnected = next(socket, "disconnect");
    const reconnected = next(socket, "connect", 5000);
    socket.emit("drop-me", "close");
    const [reason] = await disconnected;
    assert.equal(reason, "transport close", "closing the session must look like a transport close to the client");
    await reconnected;

    assert.notEqual(socket.id, firstID, "a reconnect without recovery gets a new socket id");
    assert.notEqual(socket.io.engine.id, firstEngineID, "a reconnect is a new Engine.IO session");
    assert.equal(socket.io.engine.transport.name, transport);
    assert.equal(await ask(socket, "echo", "back"), "back");
    assert.equal(await serverDisconnectReason(observer, firstID), "forced close");
  });

  // Node's socket.disconnect(false) sends 41 for the namespace; the client
  // treats that as final.
  test(`${transport}: a namespace kick (Disconnect(false)) is final`, { timeout: 10_000 }, async (t) => {
    const observer = await connected(t, "/", { transports: ["websocket"] });
    const socket = await connected(t, "/", { transports: [transport], ...fastReconnect });
    const id = socket.id;
    const disconnected = next(socket, "disconnect");
    socket.emit("drop-me", "disconnect");
    const [reason] = await disconnected;
    assert.equal(reason, "io server disconnect");
    assert.equal(await serverDisconnectReason(observer, id), "server namespace disconnect");
    assert.deepEqual(await collect(socket, "connect", 400), [], "the client reconnected after a kick");
    assert.equal(socket.active, false);
  });

  // Node's socket.disconnect(true) sends 41 to every namespace of the client,
  // then closes the session: no namespace reconnects, and none is left to
  // fall back on a transport close.
  test(`${transport}: Disconnect(true) kicks every namespace of the session for good`, { timeout: 10_000 }, async (t) => {
    const observer = await connected(t, "/", { transports: ["websocket"] });
    const manager = new Manager(SERVER_URL, { transports: [transport], timeout: 5000, ...fastReconnect });
    const main = manager.socket("/");
    const authed = manager.socket("/auth", { auth: { token: "good" } });
    t.after(() => {
      manager.reconnection(false);
      main.disconnect();
      authed.disconnect();
      manager.engine?.close();
    });
    await Promise.all([waitConnect(main), waitConnect(authed)]);
    const ids = [main.id, authed.id];

    const mainGone = next(main, "disconnect");
    const authedGone = next(authed, "disconnect");
    const engineClosed = next(manager.engine, "close");
    authed.emit("drop-me", "disconnect-close");
    assert.equal((await authedGone)[0], "io server disconnect", "/auth");
    assert.equal((await mainGone)[0], "io server disconnect", "/ shares the session and must be kicked too");
    await engineClosed;
    for (const id of ids) {
      assert.equal(await serverDisconnectReason(observer, id), "server namespace disconnect", id);
    }
    const [again, reopened] = await Promise.all([collect(main, "connect", 400), collect(manager, "open", 400)]);
    assert.deepEqual([...again, ...reopened], [], "the client reconnected after Disconnect(true)");
  });

  test(`${transport}: the server sees why the client went away`, { timeout: 10_000 }, async (t) => {
    const observer = await connected(t, "/", { transports: ["websocket"] });

    // socket.disconnect() sends 41 and then closes the session.
    const leaving = await connected(t, "/", { transports: [transport] });
    const leavingID = leaving.id;
    leaving.disconnect();
    assert.equal(await serverDisconnectReason(observer, leavingID), "client namespace disconnect");

    // Closing the Engine.IO session without 41: over websocket the socket
    // closes, over polling the client POSTs a close packet.
    const dropping = await connected(t, "/", { transports: [transport] });
    const droppingID = dropping.id;
    dropping.io.engine.close();
    assert.equal(await serverDisconnectReason(observer, droppingID), "transport close");
  });
}
