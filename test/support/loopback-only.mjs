// Preloaded into every script the deploy tests spawn (`node --import <this file>`): any TCP connection to a host
// other than loopback is refused before a packet leaves, and reported on stderr so the test can fail on it. It guards
// against @azure/identity probing the instance metadata service (169.254.169.254) or a script calling out anywhere.
import net from "node:net";

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3})$/i;
export const MARKER = "LOOPBACK-GUARD";

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = typeof first === "object" && first !== null ? first : { port: first, host: args[1] };
  if (!options.path) {
    const host = String(options.host ?? "localhost").replace(/^\[|\]$/g, "");
    if (!LOOPBACK.test(host)) {
      process.stderr.write(`${MARKER}: blocked a connection to ${host}:${options.port}\n`);
      throw new Error(`${MARKER}: connections outside loopback are not allowed in tests (${host})`);
    }
  }
  return original.apply(this, args);
};
