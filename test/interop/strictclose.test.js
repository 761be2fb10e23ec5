// Strict-client close checks: raw Engine.IO WebSockets from the `ws` package,
// which throws on a close code a server may not send, against the transport.
// Every close the client sees must carry a code a server may send
// (RFC 6455 §7.4), or 1005 when the server's close frame had no status, and
// `ws` must report no error. 1006 (the connection dropped without a close
// frame) is a failure, as the client cannot tell it from a crash, except for
// the slow consumer, whom no close frame can reach.
import { test } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { HEARTBEAT_SERVER_URL, SERVER_URL, deadline, sleep } from "./helpers.js";

const SLOW_SERVER_URL = requireEnv("SLOW_SERVER_URL");
const SHUTDOWN_SERVER_URL = requireEnv("SHUTDOWN_SERVER_URL");

// Codes a server may put in a close frame, plus 1005 (frame without status).
const VALID_SERVER_CODES = new Set([1000, 1001, 1002, 1007, 1008, 1009, 1011, 1005]);
// The transport's default maxPayload, in bytes.
const MAX_PAYLOAD = 1_000_000;

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run these tests through interop_test.go (go test ./test/interop/)`);
  }
  return value;
}

// openRaw opens a raw Engine.IO WebSocket and waits for the open packet. The
// returned object records messages and errors; `closed` resolves with the
// code and reason of the close event, or rejects ms after it is called.
async function openRaw(t, base) {
  const ws = new WebSocket(base.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket");
  const conn = { ws, messages: [], errors: [] };
  ws.on("error", (err) => conn.errors.push(err));
  const closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  // The deadline runs from the moment a test starts waiting, not from the
  // open: a test may spend seconds before it expects the close.
  conn.closed = (ms = 5000) => deadline(closed, ms, "the close event");
  const opened = new Promise((resolve) => {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      conn.messages.push(text ?? data);
      if (text?.startsWith("0")) {
        resolve();
      }
    });
  });
  t.after(() => ws.terminate());
  await deadline(opened, 5000, "the Engine.IO open packet");
  return conn;
}

async function expectServerClose(t, conn, what) {
  const { code, reason } = await conn.closed();
  t.diagnostic(`${what}: close code ${code}${reason ? ` reason ${JSON.stringify(reason)}` : ""}`);
  assert.deepEqual(conn.errors.map(String), [], `${what}: ws reported errors`);
  assert.ok(VALID_SERVER_CODES.has(code), `${what}: close code ${code} is not one a server may show`);
  return code;
}

// unmaskedFrame is a client text frame without the mask RFC 6455 §5.1
// requires, which `ws` would never send itself.
function unmaskedFrame(text) {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
}

test("client close without a code is answered with an empty close (1005)", async (t) => {
  const conn = await openRaw(t, SERVER_URL);
  conn.ws.close();
  const { code } = await conn.closed();
  t.diagnostic(`client close(): close code ${code}`);
  assert.deepEqual(conn.errors.map(String), []);
  assert.equal(code, 1005);
});

test("client close with 1000 is echoed", async (t) => {
  const conn = await openRaw(t, SERVER_URL);
  conn.ws.close(1000);
  const { code } = await conn.closed();
  t.diagnostic(`client close(1000): close code ${code}`);
  assert.deepEqual(conn.errors.map(String), []);
  assert.equal(code, 1000);
});

test("client close with 4000 and a reason is echoed", async (t) => {
  const conn = await openRaw(t, SERVER_URL);
  conn.ws.close(4000, "bye");
  const { code } = await conn.closed();
  t.diagnostic(`client close(4000, "bye"): close code ${code}`);
  assert.deepEqual(conn.errors.map(String), []);
  assert.equal(code, 4000);
});

test("an invalid Engine.IO packet type closes with a valid code", async (t) => {
  const conn = await openRaw(t, SERVER_URL);
  conn.ws.send("9");
  await expectServerClose(t, conn, "packet type 9");
});

test("a WebSocket protocol error (unmasked frame) closes with 1002", async (t) => {
  const conn = await openRaw(t, SERVER_URL);
  // Straight onto the TCP socket under ws: the server's frame parser must
  // refuse it, and ws must read the server's close frame as usual.
  conn.ws._socket.write(unmaskedFrame("4hello"));
  assert.equal(await expectServerClose(t, conn, "unmasked frame"), 1002);
});

test("a message over maxPayload closes with 1009", async (t) => {
  const conn = await openRaw(t, SERVER_URL);
  conn.ws.send("4" + "x".repeat(MAX_PAYLOAD));
  assert.equal(await expectServerClose(t, conn, "message over maxPayload"), 1009);
});

test("a ping timeout closes with a valid code", async (t) => {
  // The heartbeat server pings every 200 ms and waits 200 ms: no "3" is
  // ever sent here.
  const conn = await openRaw(t, HEARTBEAT_SERVER_URL);
  await expectServerClose(t, conn, "ping timeout");
  assert.ok(conn.messages.includes("2"), "the server pinged first");
});

// The one close without a close frame: the client stopped reading, so the
// server's writer is stuck in a write to it, and the close frame, which
// must wait its turn behind that write, misses its 100 ms deadline; the
// server then drops the connection, and the client sees 1006 once it reads
// on. What must hold is that ws meets nothing it refuses on the way: no
// error is reported, and the eviction came before everything was sent.
//
// The client keeps its socket paused until a second connection has seen the
// server record the disconnect: how much the kernel buffers before the send
// queue fills depends on the machine (tcp_rmem may allow 32 MB), so neither
// a fixed number of requests nor a fixed pause is enough on every machine.
test("a slow consumer is evicted without an error", async (t) => {
  const conn = await openRaw(t, SLOW_SERVER_URL);
  const sid = await connectRaw(conn);
  const probe = await openRaw(t, SLOW_SERVER_URL);
  await connectRaw(probe);
  conn.ws._socket.pause();
  let sent = 0;
  let reason = null;
  // 400 requests of 500 kB are 200 MB: far more than any TCP buffer.
  for (let round = 0; round < 20 && reason === null; round++) {
    for (let i = 0; i < 20; i++, sent++) {
      conn.ws.send('42["send-binary",{"size":500000}]');
    }
    await sleep(100 * (round + 1));
    [reason] = await ask(probe, 10 + round, "disconnect-reason", sid);
  }
  conn.ws._socket.resume();
  assert.ok(reason !== null, `the server did not evict a client that read nothing while ${sent} requests of 500 kB were sent`);
  const { code } = await conn.closed(10000);
  t.diagnostic(`slow consumer: evicted (${reason}) after ${sent} requests; close code ${code} after ${conn.messages.length} messages`);
  assert.deepEqual(conn.errors.map(String), [], "slow consumer: ws reported errors");
  assert.ok(code === 1006 || VALID_SERVER_CODES.has(code), `slow consumer: close code ${code}`);
  assert.ok(conn.messages.length < 2 + 3 * sent, "the server evicted the client before sending everything");
});

// connectRaw connects a raw connection to the main namespace and returns
// its Socket.IO id.
async function connectRaw(conn) {
  const answer = new Promise((resolve) => {
    conn.ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text.startsWith("40")) {
        resolve(JSON.parse(text.slice(2)).sid);
      }
    });
  });
  conn.ws.send("40");
  return deadline(answer, 5000, "the Socket.IO CONNECT answer");
}

// ask emits event with args and ack id id on a raw connection and returns
// the ack's arguments.
async function ask(conn, id, event, ...args) {
  const prefix = `43${id}`;
  const answer = new Promise((resolve) => {
    const onMessage = (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text.startsWith(prefix + "[")) {
        conn.ws.off("message", onMessage);
        resolve(JSON.parse(text.slice(prefix.length)));
      }
    };
    conn.ws.on("message", onMessage);
  });
  conn.ws.send(`42${id}${JSON.stringify([event, ...args])}`);
  return deadline(answer, 5000, `the ack of ${event}`);
}

test("a server shutdown closes with a valid code", async (t) => {
  const conn = await openRaw(t, SHUTDOWN_SERVER_URL);
  const res = await fetch(SHUTDOWN_SERVER_URL + "/shutdown", { method: "POST" });
  assert.equal(res.status, 202);
  await expectServerClose(t, conn, "shutdown");
});
