// A small Socket.IO v4 client over WebSocket (Engine.IO 4, Socket.IO
// protocol 5), enough for the console and its tests: namespaces with auth,
// events both ways, acks both ways. No polling, no binary, no reconnect.
// WebSocketImpl defaults to the browser's; tests pass the `ws` package's.

// parsePacket reads a Socket.IO packet (the text after the Engine.IO "4").
export function parsePacket(text) {
  let i = 0;
  const type = Number(text[i++]);
  let nsp = "/";
  if (text[i] === "/") {
    const comma = text.indexOf(",", i);
    nsp = comma < 0 ? text.slice(i) : text.slice(i, comma);
    i = comma < 0 ? text.length : comma + 1;
  }
  let id = "";
  while (i < text.length && text[i] >= "0" && text[i] <= "9") {
    id += text[i++];
  }
  const data = i < text.length ? JSON.parse(text.slice(i)) : undefined;
  return { type, nsp, id: id === "" ? null : Number(id), data };
}

function prefix(type, nsp) {
  return "4" + type + (nsp === "/" ? "" : nsp + ",");
}

export class Client {
  constructor(base, WebSocketImpl = globalThis.WebSocket) {
    const url = new URL("/socket.io/?EIO=4&transport=websocket", base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    this.ws = new WebSocketImpl(url.toString());
    this.nextId = 0;
    this.pending = new Map(); // ack id -> resolve
    this.connects = new Map(); // nsp -> {resolve, reject}
    this.listeners = [];
    this.opened = new Promise((resolve, reject) => {
      this.ws.onerror = () => reject(new Error("websocket error"));
      this.ws.onclose = () => this.emitLocal({ nsp: "/", event: "close", payload: null });
      this.ws.onmessage = (m) => {
        const text = typeof m.data === "string" ? m.data : String(m.data);
        if (text[0] === "0") {
          resolve();
        } else if (text === "2") {
          this.ws.send("3");
        } else if (text[0] === "4") {
          this.onPacket(parsePacket(text.slice(1)));
        }
      };
    });
  }

  // onEvent adds a listener for ({nsp, event, payload, ack}); ack is set
  // when the server asked for one.
  onEvent(listener) {
    this.listeners.push(listener);
  }

  emitLocal(e) {
    for (const l of this.listeners) {
      l(e);
    }
  }

  onPacket(p) {
    switch (p.type) {
      case 0: // CONNECT ok
        this.connects.get(p.nsp)?.resolve(p.data);
        this.connects.delete(p.nsp);
        break;
      case 4: // CONNECT_ERROR
        this.connects.get(p.nsp)?.reject(Object.assign(new Error(p.data?.message ?? "refused"), { data: p.data?.data }));
        this.connects.delete(p.nsp);
        break;
      case 2: { // EVENT
        const [event, ...args] = p.data;
        const ack = p.id === null ? undefined : (...reply) => this.ws.send(prefix(3, p.nsp) + p.id + JSON.stringify(reply));
        this.emitLocal({ nsp: p.nsp, event, payload: args[0], ack });
        break;
      }
      case 3: // ACK
        this.pending.get(p.id)?.(p.data);
        this.pending.delete(p.id);
        break;
      case 1: // DISCONNECT
        this.emitLocal({ nsp: p.nsp, event: "disconnect", payload: null });
        break;
    }
  }

  // connect joins nsp with the auth payload; it rejects with the
  // server's CONNECT_ERROR (err.data is its data, e.g. {code}).
  async connect(nsp, auth) {
    await this.opened;
    return new Promise((resolve, reject) => {
      this.connects.set(nsp, { resolve, reject });
      this.ws.send(prefix(0, nsp) + JSON.stringify(auth ?? {}));
    });
  }

  // call emits an event asking for an ack and resolves with the ack's
  // arguments.
  call(nsp, event, payload) {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(prefix(2, nsp) + id + JSON.stringify([event, payload]));
    });
  }

  close() {
    this.ws.close();
  }
}
