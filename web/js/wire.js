/** Pages: the tab's one way to the network. Every request of the API client and every WebSocket of the
 * sync loop goes through the Wire they are given. With no tap it is the browser's own fetch and
 * WebSocket, nothing more; a tap sees, and may change, each request and each socket. The lab installs
 * one (lab-http.js, lab-socket.js) to draw the traffic on its timeline and to disturb it on purpose, so
 * the transports never ask whether a lab is there.
 *
 *   wire.fetch(path, options)       as fetch(): through each tap's fetch(path, options, next), in order
 *   wire.socket(url)                a WebSocket, or what a tap's socket(url, next) gives in its place: an
 *                                   object with the same onopen, onmessage, onclose, readyState, send, close
 *   wire.tap({fetch?, socket?})     install a tap; return the function that removes it
 */
export class Wire {
  constructor() {
    this.taps = [];
  }

  tap(tap) {
    this.taps.push(tap);
    return () => { this.taps = this.taps.filter((installed) => installed !== tap); };
  }

  fetch(path, options) {
    return this.through('fetch', (p, o) => fetch(p, o))(path, options);
  }

  socket(url) {
    return this.through('socket', (u) => new WebSocket(u))(url);
  }

  /** The chain of the taps of one kind, the browser's own at its end. */
  through(kind, browser) {
    return this.taps.filter((tap) => tap[kind])
      .reduceRight((next, tap) => (...args) => tap[kind](...args, next), browser);
  }
}
