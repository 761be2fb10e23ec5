// root is the server's root as the page's address shows it: "/" for a
// page at /console/, "/dispatch/" behind a proxy that serves the server
// under /dispatch/. The pages build every request on it, so that they
// work at the root and under a path prefix alike.
export const root = new URL("..", new URL(".", location.href)).pathname;

// socketPath is the Engine.IO path for the stock client's `path` option
// (namespaces are the protocol's, not the URL's).
export const socketPath = root + "socket.io";
