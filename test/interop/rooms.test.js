// Room broadcast from a socket: every member but the sender gets it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ask, connected, eventually, record, sleep } from "./helpers.js";

// QUIET_MS is how long a socket must stay silent, after the expected
// receivers got the broadcast, to count as "did not receive".
const QUIET_MS = 300;

// shout makes sender broadcast payload to room and returns what each socket
// in all received: it waits until every socket in expected has one shout,
// then QUIET_MS more for strays.
async function shout(sender, room, payload, all, expected) {
  const heard = all.map((s) => record(s, "shout"));
  try {
    await ask(sender, "shout", room, payload);
    await eventually(
      () => (expected.every((s) => heard[all.indexOf(s)].length > 0) ? true : null),
      3000,
      "the room members to receive the broadcast",
    );
    await sleep(QUIET_MS);
  } finally {
    heard.forEach((h) => h.stop());
  }
  return heard.map((h) => [...h]);
}

test("broadcast to a room reaches the other members, not the sender nor outsiders", { timeout: 10_000 }, async (t) => {
  const room = "r1";
  // Mixed transports: a room emit is encoded once and must suit both.
  const [a, b, c, outsider] = await Promise.all([
    connected(t, "/", { transports: ["websocket"] }),
    connected(t, "/", { transports: ["polling"] }),
    connected(t, "/", { transports: ["websocket"] }),
    connected(t, "/", { transports: ["websocket"] }),
  ]);
  for (const s of [a, b, c]) {
    const rooms = await ask(s, "join", room);
    assert.ok(rooms.includes(room), `join: rooms ${JSON.stringify(rooms)}`);
    assert.ok(rooms.includes(s.id), "a socket is always in its own id room");
  }

  const payload = { from: "a", text: "hello ✓" };
  const [byA, byB, byC, byOutsider] = await shout(a, room, payload, [a, b, c, outsider], [b, c]);
  assert.deepEqual(byB, [[payload]]);
  assert.deepEqual(byC, [[payload]]);
  assert.deepEqual(byA, [], "the sender got its own broadcast");
  assert.deepEqual(byOutsider, [], "a socket outside the room got the broadcast");

  // After b leaves, only c hears a's next shout.
  await ask(b, "leave", room);
  const [againA, againB, againC] = await shout(a, room, "second", [a, b, c], [c]);
  assert.deepEqual(againC, [["second"]]);
  assert.deepEqual(againB, [], "a socket that left the room still got the broadcast");
  assert.deepEqual(againA, []);
});
