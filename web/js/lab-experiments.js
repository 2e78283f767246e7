/** Pages: the lab's controls, one per experiment. Each sets a fault switch of lab-hooks.js (going offline
 * sets one for N seconds, with a timer), which the lab's taps on the wire carry out (lab-http.js,
 * lab-socket.js), and says what to watch in the timeline. Switches that only the WebSocket's tap consults
 * are off and disabled on the polling transports. */
import {el} from './dom.js';
import {t} from './i18n.js';
import {lab} from './lab-hooks.js';

const EXPERIMENTS = [
  {name: 'acks', fault: 'withholdAcks', ws: true},
  {name: 'drop', fault: 'dropNext'},
  {name: 'heartbeat', fault: 'skipHeartbeats', ws: true},
  {name: 'cut', fault: 'cut', ws: true},
  {name: 'twice', fault: 'sendTwice'},
];
const OFFLINE = {default: 10, min: 1, max: 120};  // seconds

export class Experiments {
  /** note(key, params) writes a line on the timeline (a param {key} is a string of the tables); changed() is
   * called when a switch moved; online() when the tab comes back. */
  constructor(config, {note, changed, online}) {
    this.config = config;
    this.note = note;
    this.changed = changed;
    this.online = online;
    this.transport = 'ws';
    this.explained = null;  // the experiment last used: what to watch for it is shown
    this.offlineUntil = 0;
    this.timers = [];  // only while offline: its end, and the countdown on the button
    this.buttons = new Map(EXPERIMENTS.map((x) => [x.name, el('button', {
      type: 'button', class: 'lab-control', dataset: {experiment: x.name}, onclick: () => this.use(x)})]));
    this.offlineButton = el('button', {type: 'button', class: 'lab-control', dataset: {experiment: 'offline'},
      onclick: () => (lab.faults.offline ? this.endOffline() : this.goOffline())});
    this.seconds = el('input', {type: 'number', class: 'lab-seconds', min: OFFLINE.min, max: OFFLINE.max,
      value: OFFLINE.default, inputmode: 'numeric'});
    this.unit = el('span', {class: 'lab-unit'});
    this.explanation = el('p', {class: 'lab-explain', 'aria-live': 'polite'});
    this.root = el('div', {class: 'lab-experiments'},
      el('div', {class: 'lab-controls'}, ...this.buttons.values(),
        el('div', {class: 'lab-offline'}, this.offlineButton, el('label', {}, this.seconds, this.unit))),
      this.explanation);
  }

  /** Turn an experiment's switch on, or off again (a one-shot switch goes off by itself once used). */
  use(x) {
    const on = !lab.faults[x.fault];
    lab.faults[x.fault] = on;
    this.explained = x.name;
    // The experiment's name goes as its key: the timeline says it in the language of each drawing.
    this.note(on ? `lab.did.${x.name}` : 'lab.did.undone', {what: {key: labelOf(x.name, this.transport === 'ws')}});
    this.changed();
    this.render();
  }

  goOffline() {
    const asked = Math.round(Number(this.seconds.value)) || OFFLINE.default;
    const seconds = Math.min(OFFLINE.max, Math.max(OFFLINE.min, asked));
    this.seconds.value = seconds;
    lab.faults.offline = true;
    this.offlineUntil = Date.now() + seconds * 1000;
    this.timers = [setTimeout(() => this.endOffline(), seconds * 1000), setInterval(() => this.render(), 250)];
    this.explained = 'offline';
    this.note('lab.did.offline', {seconds});
    this.changed();
    this.render();
  }

  endOffline() {
    if (!lab.faults.offline) return;
    for (const timer of this.timers) clearTimeout(timer);  // an interval too: both share one list of timers
    this.timers = [];
    lab.faults.offline = false;
    this.note('lab.did.online', {});
    this.changed();
    this.render();
    this.online();  // as a page does on the browser's 'online' event: try now, not at the end of the backoff
  }

  /** Every switch off, the tab back online (the panel is closing). */
  reset() {
    this.endOffline();
    for (const x of EXPERIMENTS) lab.faults[x.fault] = false;
    this.changed();
    this.explained = null;
    this.render();
  }

  /** The transport running now: the WebSocket's own switches are off on the others. */
  setTransport(name) {
    this.transport = name;
    if (name !== 'ws') for (const x of EXPERIMENTS) if (x.ws) lab.faults[x.fault] = false;
    this.changed();
    this.render();
  }

  render() {
    const ws = this.transport === 'ws';
    for (const x of EXPERIMENTS) {
      const button = this.buttons.get(x.name);
      button.textContent = t(labelOf(x.name, ws));
      button.setAttribute('aria-pressed', String(lab.faults[x.fault]));
      button.disabled = Boolean(x.ws && !ws);
      button.title = button.disabled ? t('lab.ws_only') : t(`${labelOf(x.name, ws)}.explain`, this.params());
    }
    const left = Math.max(0, Math.ceil((this.offlineUntil - Date.now()) / 1000));
    this.offlineButton.textContent = lab.faults.offline ? t('lab.online', {seconds: left}) : t('lab.offline');
    this.offlineButton.setAttribute('aria-pressed', String(lab.faults.offline));
    this.seconds.disabled = lab.faults.offline;
    this.seconds.setAttribute('aria-label', t('lab.offline_seconds'));
    this.unit.textContent = t('lab.seconds');
    this.explanation.textContent = this.explained
      ? t(`${labelOf(this.explained, ws)}.explain`, this.params()) : t('lab.intro');
  }

  /** The figures the explanations quote, from the server's own timers. */
  params() {
    const {heartbeat = 30, ack_timeout: ack = 5, ack_retries: retries = 2} = this.config;
    return {ack, heartbeat, times: 1 + retries, silence: 3 * heartbeat, tab: 2 * heartbeat,
      seconds: Number(this.seconds.value) || OFFLINE.default};
  }
}

/** The key of an experiment's label: dropping is of a pushed frame or of a poll's answer. */
function labelOf(name, ws) {
  if (name === 'drop') return ws ? 'lab.drop_ws' : 'lab.drop_poll';
  return `lab.${name}`;
}
