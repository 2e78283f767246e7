/** Pages: the lab on the WebSocket: a tap on the wire's sockets (wire.js). Each socket the transport
 * opens is a LabSocket standing between it and the browser's WebSocket, with the same interface. It tells
 * the timeline of every frame and close, in and out, and carries out the lab's faults; while the lab is
 * idle (its panel closed: no observer, every fault off) frames pass as they are.
 *
 *   withholdAcks    an ack the tab sends is not sent
 *   dropNext        the next message pushed is lost on the way: neither shown nor acknowledged
 *   skipHeartbeats  a ping the tab sends is not sent; the lab answers it itself, so the tab waits for no
 *                   pong and the silence is the server's to find (three heartbeats)
 *   cut             the open connection stops reading and writing and sends no close frame, as when a NAT
 *                   forgets the mapping: each side notices by its own timers
 *   offline         the open connection is cut and the tab told at once (close 1006, as a browser does
 *                   when the network goes); a new one fails without leaving the tab
 */
import {lab, take} from './lab-hooks.js';

let opened = 0;  // numbers this tab's connections, so the timeline tells them apart

export class LabSockets {
  /** cursor(): the sync loop's seq, which the timeline compares each pushed seq with; gseq(gid): its cursor
   * of a large group (undefined: none yet), for that group's pushes. */
  constructor(cursor, gseq) {
    this.cursor = cursor;
    this.gseq = gseq;
    this.live = new Set();
  }

  /** The wire's socket tap (wire.js). */
  socket(url, next) {
    return new LabSocket(url, next, this);
  }

  /** A switch moved: cut what is to be cut now, rather than at the connection's next frame. */
  faultsChanged() {
    for (const socket of this.live) socket.faultsChanged();
  }
}

class LabSocket {
  constructor(url, next, sockets) {
    this.sockets = sockets;
    this.onopen = this.onmessage = this.onclose = null;  // the transport's, as on a WebSocket
    this.cut = false;  // neither reads nor writes any more, sends no close frame
    this.lost = false;  // the transport was told it closed (offline), whatever the real socket does
    this.done = false;  // closed, or given up by the transport
    if (lab.faults.offline) {  // never leaves the tab: cut from the start, and gone at once
      this.cut = true;
      this.lose();
      return;
    }
    this.real = next(url);
    this.id = ++opened;
    sockets.live.add(this);
    this.real.addEventListener('open', (event) => this.onopen?.(event));
    this.real.addEventListener('message', (event) => this.receive(event));
    this.real.addEventListener('close', (event) => this.closed(event));
  }

  get readyState() {
    return this.lost ? WebSocket.CLOSED : this.real.readyState;
  }

  send(data) {
    if (this.isCut()) return;
    const frame = lab.observe || lab.faults.withholdAcks || lab.faults.skipHeartbeats ? JSON.parse(data) : null;
    if (frame?.type === 'ack' && lab.faults.withholdAcks) return this.withhold(frame);
    if (frame?.type === 'ping' && lab.faults.skipHeartbeats) {
      queueMicrotask(() => this.onmessage?.({data: '{"type":"pong"}'}));  // no pong to wait for
      return this.withhold(frame);
    }
    this.real.send(data);
    if (frame) lab.observe?.({way: 'out', conn: this.id, frame});
  }

  withhold(frame) {
    lab.observe?.({way: 'out', conn: this.id, frame, fate: 'withheld'});
  }

  close(code, reason = '') {
    this.done = true;
    if (this.cut || this.lost) return;  // no close frame: the server finds out by its own timers
    this.real.close(code, reason);
    lab.observe?.({way: 'out', conn: this.id, close: {code, reason}});
  }

  /** Frames as they come: each told with the cursor the sync loop has when it takes it (a frame may
   * carry several events, in order: the seq of the user's own timeline, or a large group's gseq); a
   * message the lab loses is taken out. */
  receive(event) {
    if (this.isCut()) return;
    if (!lab.observe && !lab.faults.dropNext) return this.onmessage?.(event);
    let parsed;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      return this.onmessage?.(event);
    }
    const frames = Array.isArray(parsed) ? parsed : [parsed];
    const kept = [];
    let cursor = this.sockets.cursor();
    const gseqs = new Map();  // gid -> the loop's cursor of that group as this frame moves it
    for (const frame of frames) {
      if (frame.type === 'message' && lab.faults.dropNext && take('dropNext')) {
        lab.observe?.({way: 'in', conn: this.id, frame, fate: 'lost'});
        continue;
      }
      if (frame.gseq !== undefined) {
        const at = gseqs.has(frame.group) ? gseqs.get(frame.group) : this.sockets.gseq(frame.group);
        lab.observe?.({way: 'in', conn: this.id, frame, cursor: at});
        if (at === undefined || frame.gseq === at + 1 || (frame.type === 'gap' && frame.gseq > at)) {
          gseqs.set(frame.group, frame.gseq);  // as the loop moves it (group-cursors.js)
        }
      } else {
        lab.observe?.({way: 'in', conn: this.id, frame, cursor});
        if (frame.seq !== undefined && frame.seq === cursor + 1) cursor = frame.seq;  // as the loop moves it
      }
      kept.push(frame);
    }
    if (kept.length === frames.length) this.onmessage?.(event);
    else if (kept.length) this.onmessage?.({data: JSON.stringify(Array.isArray(parsed) ? kept : kept[0])});
  }

  closed(event) {
    this.sockets.live.delete(this);
    const unseen = this.isCut() || this.lost;  // the close frame of a cut connection never reaches the tab
    this.done = true;
    if (unseen) return;
    lab.observe?.({way: 'in', conn: this.id, close: {code: event.code, reason: event.reason}});
    this.onclose?.(event);
  }

  faultsChanged() {
    if (this.isCut() && lab.faults.offline) this.lose();
  }

  /** Whether this connection is cut: the lab cut it, or the tab went offline. Its real socket stays open,
   * unread, with these listeners (so it is not collected and closed) until the server closes it. */
  isCut() {
    if (!this.cut && !this.done && (lab.faults.offline || (lab.faults.cut && take('cut')))) {
      this.cut = true;
      lab.observe?.({way: 'note', conn: this.id, what: 'cut'});
    }
    return this.cut;
  }

  /** Tell the transport the connection is gone, as a browser does when the network goes. */
  lose() {
    if (this.lost || this.done) return;
    this.lost = true;
    setTimeout(() => this.onclose?.({code: 1006, reason: '', wasClean: false}), 0);
  }
}
