/** Pages: the WebSocket transport (SPEC section 6), behind the same run(link, signal) interface as
 * the polling transports in transports.js.
 *
 * hello {token, since, batch: true, groups: {"<gid>": gseq}} first (the compound cursor: the seq, and a
 * gseq per large group); the server answers welcome, then every message event after the cursor, then live
 * events: one a frame, or several in one frame (a JSON array, in order) when they are ready together, as a
 * busy group's commit makes them. Message events are acknowledged with the cursor (cumulative): {type:
 * 'ack', seq} for the user's own timeline, once a frame (a 1:1 message's ACK is its sender's "delivered");
 * {type: 'ack', group, gseq} for a large group within GROUP_ACK_MS, one ACK for every frame of it since (a
 * large group's ACK tells nobody anything, and at 50 messages a second one ACK of five frames instead of one
 * each saves about 30 % of the server's CPU a message to 500 members: bench/large-levers.md). The server
 * stops resending what an ACK covers, and waits ack_timeout (seconds) for it. A ping goes
 * out every heartbeat seconds; hearing nothing for twice that means the connection is dead, and the sync
 * loop reconnects from the cursor. Close 4401 means a bad token. The socket is opened through link.wire
 * (wire.js): the browser's own WebSocket, unless something watches the traffic there.
 */
import {ApiError, NetworkError} from './api.js';
import {t} from './i18n.js';

const BAD_TOKEN = 4401;
const ACK_RETRIES_EXHAUSTED = 4408;
const GROUP_ACK_MS = 100;  // a large group's ACK waits this long for the frames after the first it covers

export class WebSocketTransport {
  name = 'ws';
  get label() { return t('transport.ws'); }  // read when shown: in the language chosen by then
  get about() { return t('transport.ws.about'); }
  hints = true;

  run(link, signal) {
    return new Promise((resolve, reject) => {
      let socket;
      try {
        socket = link.wire.socket(link.config.ws_url);
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
    this.groupAcks = new Map();  // gid -> the timer of its ACK due
    socket.onopen = () => this.open();
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.finish(closeError(event));
    this.watchdog = setInterval(() => this.check(), Math.min(1000, this.heartbeat * 500));
  }

  send(frame) {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(JSON.stringify(frame));
  }

  open() {
    this.heardAt = Date.now();
    this.send({type: 'hello', token: this.link.api.token, since: this.link.since(), batch: true,
      groups: this.link.groups.hello()});
  }

  receive(data) {
    this.heardAt = Date.now();
    this.link.heard();
    let parsed;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;  // not ours to understand; the watchdog still counts it as a sign of life
    }
    const frames = Array.isArray(parsed) ? parsed : [parsed];
    let own = false;  // an event of the user's own timeline (by seq)
    const groups = new Set();  // the large groups this frame brought events of (by gseq)
    for (const frame of frames) {
      if (!this.take(frame)) continue;
      if (frame.gseq !== undefined) groups.add(frame.group);
      else if (frame.seq !== undefined) own = true;  // a message, a recall, an edit: durable
    }
    // Acknowledge even a resent event the loop dropped, or the server would keep resending it.
    if (own) this.send({type: 'ack', seq: this.link.since()});
    for (const gid of groups) this.ackLater(gid);
  }

  /** Acknowledge large group gid's events GROUP_ACK_MS from now, with its cursor then (unless due already). */
  ackLater(gid) {
    if (this.groupAcks.has(gid)) return;
    this.groupAcks.set(gid, setTimeout(() => {
      this.groupAcks.delete(gid);
      const gseq = this.link.groups.get(gid);
      if (gseq !== undefined) this.send({type: 'ack', group: gid, gseq});
    }, GROUP_ACK_MS));
  }

  /** Handle one frame; return whether it was an event for the sync loop (else an answer: welcome, pong...). */
  take(frame) {
    if (frame.type === 'welcome') {
      this.heartbeat = Number(frame.heartbeat) || this.heartbeat;
      this.link.settings({heartbeat: frame.heartbeat, ack_timeout: frame.ack_timeout});  // the server's own
      this.link.connected();
    } else if (frame.type === 'error') {
      console.warn('imdemo: the server refused a frame:', frame.code, frame.message);
    } else if (frame.type !== 'pong' && frame.type !== 'sent' && frame.type !== 'changed') {
      this.link.deliver([frame]);
      return true;
    }
    return false;
  }

  /** Ping every heartbeat; give up on a connection silent for twice the heartbeat. */
  check() {
    const now = Date.now();
    if (now - this.heardAt > 2 * this.heartbeat * 1000) {
      this.finish(new NetworkError('the server went silent', 'silent'));
    } else if (now - this.pingedAt >= this.heartbeat * 1000) {
      this.pingedAt = now;
      this.send({type: 'ping'});
    }
  }

  finish(error) {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.watchdog);
    for (const timer of this.groupAcks.values()) clearTimeout(timer);
    const socket = this.socket;
    socket.onopen = socket.onmessage = socket.onclose = null;
    if (socket.readyState <= WebSocket.OPEN) socket.close(1000);
    this.done(error);
  }
}

function closeError(event) {
  if (event.code === BAD_TOKEN) return new ApiError(401, 'bad_token', event.reason || 'please log in again');
  if (event.code === ACK_RETRIES_EXHAUSTED) return new NetworkError('acknowledgements went missing');
  return new NetworkError(`the connection closed (${event.code})`);
}
