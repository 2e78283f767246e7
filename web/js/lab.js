/** Pages: the lab panel (SPEC section 12): break ACK, retransmission, heartbeat and resume on purpose in
 * this tab, and watch the recovery on a live timeline. It is collapsed by default; a button beside the
 * connection status (and, on a phone, in the chat header) opens it. While it is closed the observer is
 * null and every fault is off: nothing is recorded and no timer runs.
 *
 * The transports know nothing of it: the lab installs itself on the wire they are given (wire.js), where
 * lab-http.js and lab-socket.js see every request and frame and carry out the faults, and it reads the
 * sync loop's status for the notes of a lost connection (the silence that ended it, the wait before the
 * next attempt). */
import {$, code, el, phrase} from './dom.js';
import {i18n, t} from './i18n.js';
import {Experiments} from './lab-experiments.js';
import {lab} from './lab-hooks.js';
import {labFetch} from './lab-http.js';
import {LabSockets} from './lab-socket.js';
import {Timeline} from './timeline.js';

export class LabPanel {
  /** wire: the way to the network the API client and the sync loop were given (wire.js). */
  constructor(messenger, loop, wire) {
    this.messenger = messenger;
    this.config = loop.config;  // the server's timers, taken again at each reconnect
    this.sockets = new LabSockets(() => loop.cursor, (gid) => loop.groups.get(gid));
    wire.tap({fetch: labFetch, socket: (url, next) => this.sockets.socket(url, next)});
    this.timeline = new Timeline();
    this.experiments = new Experiments(this.config, {
      note: (key, params) => lab.observe?.({way: 'note', what: 'control', key, params}),
      changed: () => this.sockets.faultsChanged(),
      online: () => loop.retryNow(),
    });
    this.toggles = [$('.status', messenger), $('.chat-header', messenger)].map((place) => {
      const button = el('button', {type: 'button', class: 'ghost lab-toggle', 'aria-controls': 'lab',
        'aria-expanded': 'false', onclick: () => (this.root.hidden ? this.open() : this.close())});
      place.append(button);
      return button;
    });
    this.title = el('h2');
    this.closeButton = el('button', {type: 'button', class: 'ghost lab-close', onclick: () => this.close()}, '×');
    this.timers = el('p', {class: 'lab-timers'});
    this.root = el('aside', {id: 'lab', class: 'lab', hidden: true},
      el('header', {class: 'lab-head'}, this.title, this.timers, this.closeButton), this.experiments.root,
      this.timeline.root);
    messenger.append(this.root);
    loop.addEventListener('status', (event) => {
      this.experiments.setTransport(event.detail.transport);
      this.noteLoss(event.detail);
    });
    loop.addEventListener('config', (event) => {
      this.config = this.experiments.config = event.detail;
      this.render();
    });
    i18n.addEventListener('change', () => this.render());
    this.render();
  }

  /** A connection lost: why, if the tab gave up on a silence, and how long until the next attempt. */
  noteLoss({state, retryAt, retryIn, reason}) {
    if (state !== 'offline' || !retryAt) return;
    if (reason === 'silent') lab.observe?.({way: 'note', what: 'silent', seconds: 2 * this.config.heartbeat});
    lab.observe?.({way: 'note', what: 'wait', seconds: retryIn / 1000});
  }

  /** Show the panel and record what the transports do from now. */
  open() {
    lab.observe = (entry) => {
      this.timeline.add(entry);
      this.experiments.render();  // a one-shot switch may just have been used
    };
    this.show(true);
  }

  /** Hide the panel: every fault off, the tab back online, nothing recorded any more. */
  close() {
    this.experiments.reset();
    lab.observe = null;
    this.show(false);
  }

  show(open) {
    this.root.hidden = !open;
    this.messenger.classList.toggle('lab-open', open);
    for (const toggle of this.toggles) toggle.setAttribute('aria-expanded', String(open));
  }

  render() {
    for (const toggle of this.toggles) {
      toggle.textContent = t('lab.toggle');
      toggle.title = t('lab.toggle_title');
    }
    this.title.textContent = t('lab.title');
    this.closeButton.setAttribute('aria-label', t('lab.close'));
    this.closeButton.title = t('lab.close');
    this.root.setAttribute('aria-label', t('lab.title'));
    const {heartbeat = 30, ack_timeout: ack = 5, ack_retries: retries = 2} = this.config;
    const long = heartbeat > 5 || ack > 2;
    this.timers.replaceChildren(el('span', {text: t('lab.timers', {heartbeat, ack, retries})}),
      long ? el('span', {}, ' ', ...phrase('lab.long_timers', {command: code('python run.py --lab')})) : '');
    this.experiments.render();
    this.timeline.render();
  }
}
