/** Pages: the tab's one sync loop. It keeps the cursor, runs the chosen transport, reconnects with
 * backoff when the connection is lost, and hands each event to the views as a DOM event of its type
 * ('message', 'recalled', 'edited', 'read', 'delivered', 'unread', 'settings', 'typing', 'gap'), plus
 * 'status', 'connected' and 'unauthorized'.
 *
 * The cursor is the only thing a transport needs to resume. It is compound (SPEC section 15): the seq of
 * the user's own timeline, which every durable event of a 1:1 chat or a small group has (a message, and a
 * recall or an edit too: signals travel in the same stream, lecture 9), and a gseq for each large group
 * (group-cursors.js), whose events have no seq. An event at or below its cursor was processed already and
 * is dropped, so a resend or an overlap after a reconnect never shows twice. Both are kept in
 * sessionStorage, so a reload resumes too.
 *
 * The server's settings (GET /api/config: ws_url, heartbeat, ack_timeout, poll_interval...) are asked
 * again before each reconnect, and the WebSocket's welcome says its timers too: a server restarted with
 * other flags is followed without a reload. 'config' tells the views when they changed.
 */
import {ApiError} from './api.js';
import {GroupCursors} from './group-cursors.js';
import {WebSocketTransport} from './socket.js';
import {LongPoll, ShortPoll} from './transports.js';
import {Backoff, sleep} from './wait.js';

export const TRANSPORTS = [new ShortPoll(), new LongPoll(), new WebSocketTransport()];
const CHOICE_KEY = 'imdemo.transport';

function transportNamed(name) {
  return TRANSPORTS.find((t) => t.name === name) || TRANSPORTS[2];
}

export class SyncLoop extends EventTarget {
  /** api: the API client; its wire (wire.js) opens the WebSocket too. */
  constructor(api, config, uid) {
    super();
    this.api = api;
    this.config = config;
    this.cursorKey = `imdemo.seq.${uid}`;
    this.cursor = Number(sessionStorage.getItem(this.cursorKey)) || 0;
    this.groups = new GroupCursors(uid);  // the large groups' gseqs: the cursor's other half
    this.status = {state: 'connecting', chosen: null, transport: null};
    this.heardAt = 0;
    this.resumed = false;  // false until the first connection: later ones are resumptions
    this.controller = null;
    this.wake = null;
  }

  /** The transport this browser chose last time, WebSocket by default. */
  static preferred() {
    return transportNamed(localStorage.getItem(CHOICE_KEY)).name;
  }

  /** Run the named transport, stopping the one before: never two loops in one tab. */
  start(name = SyncLoop.preferred()) {
    const {chosen, transport} = this.status;
    if (this.controller && chosen === name && transport === name) return;  // already running it
    this.stop();
    localStorage.setItem(CHOICE_KEY, name);
    this.controller = new AbortController();
    this.loop(transportNamed(name), this.controller.signal);
  }

  stop() {
    if (this.controller) this.controller.abort();
    this.controller = null;
  }

  /** Cut the current backoff wait short. */
  retryNow() {
    if (this.wake) this.wake.abort();
  }

  async loop(transport, signal) {
    const chosen = transport.name;
    const backoff = new Backoff({base: 500, cap: 10000});
    let everUp = false;
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (attempt > 0) await this.reloadConfig(signal);  // the server may be back with other settings
      if (signal.aborted) break;
      let up = false;
      const link = {
        api: this.api,
        wire: this.api.wire,
        config: this.config,
        since: () => this.cursor,
        groups: this.groups,
        deliver: (events, groupsNext) => signal.aborted || this.deliver(events, groupsNext),
        heard: () => { this.heardAt = Date.now(); },
        settings: (values) => signal.aborted || this.configure(values),
        connected: () => {
          this.heardAt = Date.now();
          if (up || signal.aborted) return;
          up = everUp = true;
          backoff.reset();
          this.connected(chosen, transport);
        },
      };
      this.setStatus(this.resumed ? 'reconnecting' : 'connecting', chosen, transport);
      try {
        await transport.run(link, signal);
      } catch (error) {
        if (signal.aborted) break;
        if (error instanceof ApiError && error.status === 401) {
          this.setStatus('offline', chosen, transport, {error: 'logged out'});
          this.dispatchEvent(new CustomEvent('unauthorized'));
          break;
        }
        if (transport.name === 'ws' && !everUp) {
          console.info('imdemo: WebSocket unavailable, falling back to long polling:', error.message);
          transport = transportNamed('long');
          continue;
        }
        await this.pause(Math.max(backoff.next(), (error.retryAfter || 0) * 1000), error, chosen, transport, signal);
      }
    }
  }

  /** Ask the server for its settings again; unreachable, the ones known stay (the attempt will tell). */
  async reloadConfig(signal) {
    try {
      this.configure(await this.api.config({signal}));
    } catch {
      // the transport's own attempt fails the same way, and the backoff follows
    }
  }

  /** Take settings from the server (all of /api/config, or the timers of a welcome); say if any moved. */
  configure(values) {
    const known = Object.entries(values).filter(([, value]) => value !== undefined && value !== null);
    if (known.every(([name, value]) => this.config[name] === value)) return;
    this.config = {...this.config, ...Object.fromEntries(known)};
    this.dispatchEvent(new CustomEvent('config', {detail: this.config}));
  }

  async pause(delay, error, chosen, transport, signal) {
    this.setStatus('offline', chosen, transport,
      {retryAt: Date.now() + delay, retryIn: delay, error: error.message, reason: error.reason || ''});
    this.wake = new AbortController();
    const stop = () => this.wake.abort();
    signal.addEventListener('abort', stop, {once: true});
    await sleep(delay, this.wake.signal);
    signal.removeEventListener('abort', stop);
    this.wake = null;
  }

  connected(chosen, transport) {
    this.setStatus('connected', chosen, transport);
    this.dispatchEvent(new CustomEvent('connected', {detail: {resumed: this.resumed}}));
    this.resumed = true;
  }

  /** Apply a batch in order: drop the events already processed, move the cursors past the rest; then take
   * the server's large-group cursors, when a poll's answer brings them (groups_next). */
  deliver(events, groupsNext = null) {
    this.heardAt = Date.now();
    for (const event of events) {
      if (this.fresh(event)) this.dispatchEvent(new CustomEvent(event.type, {detail: event}));
    }
    if (groupsNext) this.groups.adopt(groupsNext);
    sessionStorage.setItem(this.cursorKey, String(this.cursor));
    this.groups.save();
  }

  /** Whether an event is new: a large group's (a message, a recall, an edit or a gap) by its gseq, a durable
   * event of the user's own timeline by its seq; hints (read, delivered, unread, typing) always are. */
  fresh(event) {
    if (event.gseq !== undefined) return this.groups.take(event);
    if (event.seq === undefined) return true;  // a hint: read, delivered, unread, typing, settings
    // Seqs have no gaps: one past a gap waits for the one before it (a frame lost on the way), which the
    // server sends again, since the ACK (the cursor) does not cover it.
    if (event.seq <= this.cursor || event.seq > this.cursor + 1) return false;
    this.cursor = event.seq;
    if (event.type === 'message') this.groups.follow(event.message);  // a join to a large group: its gseq
    return true;
  }

  setStatus(state, chosen, transport, extra = {}) {
    this.status = {state, chosen, transport: transport.name, label: transport.label,
      fallback: chosen !== transport.name, ...extra};
    this.dispatchEvent(new CustomEvent('status', {detail: this.status}));
  }
}
