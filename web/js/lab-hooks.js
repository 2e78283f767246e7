/** Pages: the lab's switchboard (SPEC section 12): the fault switches its taps on the wire consult, and
 * the observer they tell of each frame and request in and out. Both rest until the lab panel is opened:
 * every switch is off, and the observer is null; the taps call it as `lab.observe?.({...})`, which then
 * does not even build the entry. The faults are this tab's own behaviour; the server runs its ordinary
 * code. Only the lab's modules read this: the transports never do.
 *
 *   withholdAcks    lab-socket.js  take each pushed message, never acknowledge it
 *   dropNext        lab-socket.js  lose the next pushed message frame: neither shown nor acknowledged
 *                   lab-http.js    lose the next poll answer that carries a message, as a failed request
 *   skipHeartbeats  lab-socket.js  no ping every heartbeat (and so no pong to wait for)
 *   cut             lab-socket.js  the open connection stops reading and writing, and sends no close frame
 *   sendTwice       lab-http.js    POST the next message twice with its one client_msg_id
 *   offline         lab-http.js    no request gets through, no answer arrives; lab-socket.js: no connection
 */

export const lab = {
  observe: null,  // (entry) => void, while the lab panel is open
  faults: {withholdAcks: false, dropNext: false, skipHeartbeats: false, cut: false, sendTwice: false, offline: false},
};

/** Use a one-shot switch: true if it was on, and it is off from now. */
export function take(name) {
  const on = lab.faults[name];
  lab.faults[name] = false;
  return on;
}
