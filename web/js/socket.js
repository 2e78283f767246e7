/** Pages: the WebSocket transport (SPEC section 6), behind the same run(link, signal) interface as
 * the polling transports in transports.js.
 *
 * hello {token, since, batch: true} first; the server answers welcome, then every message event after
 * since, then live events: one a frame, or several in one frame (a JSON array, in order) when they are
 * ready together, as a busy group's commit makes them. Each frame's message events are acknowledged with
 * the cursor (cumulative, so once a frame), and the server stops resending them. A ping goes out every heartbeat seconds; hearing nothing for twice that means the
 * connection is dead, and the sync loop reconnects from the cursor. Close 4401 means a bad token.
 */
import {ApiError, NetworkError} from './api.js';
import {t} from './i18n.js';
import {lab, take} from './lab-hooks.js';

const BAD_TOKEN = 4401;
const ACK_RETRIES_EXHAUSTED = 4408;
let opened = 0;  // numbers this tab's connections, so the lab's timeline tells them apart

export class WebSocketTransport {
  name = 'ws';
  get label() { return t('transport.ws'); }  // read when shown: in the language chosen by then
  get about() { return t('transport.ws.about'); }
  hints = true;

  run(link, signal) {
    return new Promise((resolve, reject) => {
      let socket;
      if (lab.faults.offline) {
        reject(new NetworkError('offline'));
        return;
      }
      try {
        socket = new WebSocket(link.config.ws_url);
      } catch (error) {
        reject(new NetworkError(`cannot open ${link.config.ws_url}: ${error.message}`));
        return;
      }
      const session = new Session(socket, link, (error) => {
        signal.removeEventListener('abort', stop);
        if (error) reject(error);
        else resolve();
      });
      const stop = () => session.finish(null);
      signal.addEventListener('abort', stop, {once: true});
    });
  }
}

/** One open socket: its frames, its heartbeat and its watchdog. */
class Session {
  constructor(socket, link, done) {
    this.socket = socket;
    this.link = link;
    this.done = done;
    this.heartbeat = Number(link.config.heartbeat) || 30;
    this.heardAt = Date.now();
    this.pingedAt = Date.now();
    this.finished = false;
    this.id = ++opened;
    this.cut = false;  // the lab cut it: the tab neither reads nor writes on it any more
    socket.onopen = () => this.open();
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(event);
    this.watchdog = setInterval(() => this.check(), Math.min(1000, this.heartbeat * 500));
  }

  send(frame) {
    if (this.isCut() || this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify(frame));
    lab.observe?.({way: 'out', conn: this.id, frame});
  }

  open() {
    this.heardAt = Date.now();
    this.send({type: 'hello', token: this.link.api.token, since: this.link.since(), batch: true});
  }

  receive(data) {
    if (this.isCut()) return;
    this.heardAt = Date.now();
    this.link.heard();
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;  // not ours to understand; the watchdog still counts it as a sign of life
    }
    const frames = Array.isArray(parsed) ? parsed : [parsed];
    let messages = 0;
    for (const frame of frames) messages += this.take(frame);
    // Acknowledge even a resent event the loop dropped, or the server would keep resending it.
    if (messages) this.acknowledge();
  }

  /** Handle one event or answer; return 1 for a message event (to acknowledge), else 0. */
  take(frame) {
    if (frame.type === 'message' && lab.faults.dropNext && take('dropNext')) {
      lab.observe?.({way: 'in', conn: this.id, frame, fate: 'lost'});  // the lab: lost on the way
      return 0;
    }
    lab.observe?.({way: 'in', conn: this.id, frame, cursor: this.link.since()});
    if (frame.type === 'welcome') {
      this.heartbeat = Number(frame.heartbeat) || this.heartbeat;
      this.link.settings({heartbeat: frame.heartbeat, ack_timeout: frame.ack_timeout});  // the server's own
      this.link.connected();
    } else if (frame.type === 'error') {
      console.warn('imdemo: the server refused a frame:', frame.code, frame.message);
    } else if (frame.type !== 'pong' && frame.type !== 'sent') {
      this.link.deliver([frame]);
      return frame.type === 'message' ? 1 : 0;
    }
    return 0;
  }

  acknowledge() {
    const ack = {type: 'ack', seq: this.link.since()};
    if (lab.faults.withholdAcks) lab.observe?.({way: 'out', conn: this.id, frame: ack, fate: 'withheld'});
    else this.send(ack);
  }

  /** Ping every heartbeat; give up on a connection silent for twice the heartbeat. */
  check() {
    const now = Date.now();
    if (this.isCut() && lab.faults.offline) {
      this.finish(new NetworkError('offline'));  // the tab knows it went offline: no waiting for silence
    } else if (lab.faults.skipHeartbeats) {
      this.skipBeat(now);
    } else if (now - this.heardAt > 2 * this.heartbeat * 1000) {
      lab.observe?.({way: 'note', conn: this.id, what: 'silent', seconds: 2 * this.heartbeat});
      this.finish(new NetworkError('the server went silent'));
    } else if (now - this.pingedAt >= this.heartbeat * 1000) {
      this.pingedAt = now;
      this.send({type: 'ping'});
    }
  }

  /** The lab stopped the heartbeat: no ping, so no pong to wait for; the server's timer finds the silence. */
  skipBeat(now) {
    this.heardAt = now;
    if (now - this.pingedAt < this.heartbeat * 1000) return;
    this.pingedAt = now;
    lab.observe?.({way: 'out', conn: this.id, frame: {type: 'ping'}, fate: 'withheld'});
  }

  /** Whether the lab cut this connection (or the tab went offline): from then on the tab neither reads
   * nor writes on it and sends no close frame, as when a NAT forgets the mapping. */
  isCut() {
    if (!this.cut && !this.finished && (lab.faults.offline || (lab.faults.cut && take('cut')))) {
      this.cut = true;
      lab.observe?.({way: 'note', conn: this.id, what: 'cut'});
    }
    return this.cut;
  }

  closed(event) {
    if (this.isCut()) return;  // the close frame of a cut connection never reaches the tab
    lab.observe?.({way: 'in', conn: this.id, close: {code: event.code, reason: event.reason}});
    this.finish(closeError(event));
  }

  finish(error) {
    if (this.finished) return;
    const cut = this.isCut();
    this.finished = true;
    clearInterval(this.watchdog);
    const socket = this.socket;
    if (cut) {
      // No close frame: the server finds out by its own timers. A socket with listeners is never garbage
      // collected while open (which would close it), so these stay until the server closes it.
      socket.onmessage = socket.onclose = () => {};
    } else {
      socket.onopen = socket.onmessage = socket.onclose = null;
      if (socket.readyState <= WebSocket.OPEN) {
        socket.close(1000);
        lab.observe?.({way: 'out', conn: this.id, close: {code: 1000, reason: ''}});
      }
    }
    this.done(error);
  }
}

function closeError(event) {
  if (event.code === BAD_TOKEN) return new ApiError(401, 'bad_token', event.reason || 'please log in again');
  if (event.code === ACK_RETRIES_EXHAUSTED) return new NetworkError('acknowledgements went missing');
  return new NetworkError(`the connection closed (${event.code})`);
}
