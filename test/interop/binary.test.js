// Binary attachments both ways, on both transports: over websocket they are
// binary frames, over polling base64 "b" records in the same body.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connected, next } from "./helpers.js";

// pattern is what the Go fixture's sendBinary builds: byte i is i % 256.
function pattern(size) {
  return Buffer.from(Array.from({ length: size }, (_, i) => i % 256));
}

for (const transport of ["websocket", "polling"]) {
  test(`${transport}: Buffers sent by the client come back byte for byte`, { timeout: 10_000 }, async (t) => {
    const socket = await connected(t, "/", { transports: [transport] });
    const first = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff]);
    const nested = pattern(70_000);
    const inList = Buffer.from("in a list ✓");

    // The Go side splices the received *Message into its ack, so the
    // placeholders (including nested ones) and attachments go back as they came.
    const [err, ...args] = await new Promise((resolve) => {
      socket.timeout(5000).emit("echo", "label", first, { inner: nested, list: [1, inList] }, (...reply) => resolve(reply));
    });
    assert.equal(err, null);
    assert.equal(args.length, 3);
    assert.equal(args[0], "label");
    assert.ok(Buffer.isBuffer(args[1]), "attachment 0 must arrive as a Buffer");
    assert.ok(args[1].equals(first));
    assert.ok(Buffer.isBuffer(args[2].inner) && args[2].inner.equals(nested), "nested attachment differs");
    assert.equal(args[2].list[0], 1);
    assert.ok(Buffer.isBuffer(args[2].list[1]) && args[2].list[1].equals(inList), "attachment inside an array differs");

    // Same through an event instead of an ack (51-["echo",…] then the bytes).
    const echoed = next(socket, "echo");
    socket.emit("echo", first);
    const [back] = await echoed;
    assert.ok(Buffer.isBuffer(back) && back.equals(first));
  });

  test(`${transport}: []byte emitted by the server arrives as Buffers`, { timeout: 10_000 }, async (t) => {
    const socket = await connected(t, "/", { transports: [transport] });
    for (const size of [1, 1000, 100_000]) {
      const got = next(socket, "binary");
      socket.emit("send-binary", { size });
      const [label, data, between, last] = await got;
      assert.equal(label, "two-buffers");
      assert.ok(Buffer.isBuffer(data), `size ${size}: not a Buffer`);
      assert.equal(data.length, size);
      assert.ok(data.equals(pattern(size)), `size ${size}: bytes differ`);
      assert.deepEqual(between, { between: "json" });
      assert.ok(Buffer.isBuffer(last) && last.equals(Buffer.from([0x00, 0xff])), "second attachment differs");
    }
  });
}
