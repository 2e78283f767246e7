/** Pages: the messages of the open conversation, oldest at the top: stored messages in mid order, each
 * shown once however it arrives (history page, sync event, send answer), then this tab's messages
 * still on their way. Own messages carry a mark: sending, failed, sent, delivered or read. */
import {clockTime, dayLabel, el} from './dom.js';
import {i18n, t} from './i18n.js';

const MARKS = {
  sending: ['◷', 'mark.sending'],
  failed: ['!', 'mark.failed'],
  sent: ['✓', 'mark.sent'],
  delivered: ['✓✓', 'mark.delivered'],
  read: ['✓✓', 'mark.read'],
};

export class MessageList {
  constructor(ol, me) {
    this.ol = ol;
    this.me = me;
    this.byMid = new Map();  // mid -> li
    this.marks = {read: 0, delivered: 0};
    i18n.addEventListener('change', () => this.relabel());
  }

  clear() {
    this.byMid.clear();
    this.ol.replaceChildren();
  }

  firstMid() {
    const first = this.ol.querySelector('li[data-mid]');
    return first ? Number(first.dataset.mid) : undefined;
  }

  lastMid() {
    const stored = this.ol.querySelectorAll('li[data-mid]');
    return stored.length ? Number(stored[stored.length - 1].dataset.mid) : 0;
  }

  /** Show a stored message once, in mid order; it replaces its pending copy (same client_msg_id). */
  upsert(message) {
    if (this.byMid.has(message.mid)) return false;
    if (message.client_msg_id && message.from === this.me.uid) this.dropPending(message.client_msg_id);
    const item = this.item(message, message.from === this.me.uid ? this.stateOf(message.mid) : null);
    item.dataset.mid = String(message.mid);
    this.byMid.set(message.mid, item);
    let next = this.ol.querySelector('li[data-pending]');  // stored messages go above pending ones
    const stored = this.ol.querySelectorAll('li[data-mid]');
    for (let i = stored.length - 1; i >= 0 && Number(stored[i].dataset.mid) > message.mid; i--) next = stored[i];
    this.ol.insertBefore(item, next);
    this.placeDays();
    return true;
  }

  /** Show (or update) a message of this tab that the server has not confirmed yet. */
  showPending({id, content, state, created_at: createdAt, onRetry}) {
    if (this.ol.querySelector(`li[data-pending="${CSS.escape(id)}"]`)) this.dropPending(id);
    const item = this.item({from: this.me.uid, content, created_at: createdAt}, state);
    item.dataset.pending = id;
    if (state === 'failed') {
      item.querySelector('.meta').append(el('button', {type: 'button', class: 'retry', text: t('message.retry'), onclick: onRetry}));
    }
    this.ol.append(item);
    this.placeDays();
  }

  dropPending(id) {
    const item = this.ol.querySelector(`li[data-pending="${CSS.escape(id)}"]`);
    if (item) item.remove();
  }

  /** Move the marks of own messages to how far the partner has received and read. */
  setMarks(marks) {
    this.marks = marks;
    for (const [mid, item] of this.byMid) {
      if (item.classList.contains('mine')) setMark(item, this.stateOf(mid));
    }
  }

  stateOf(mid) {
    if (mid <= this.marks.read) return 'read';
    if (mid <= this.marks.delivered) return 'delivered';
    return 'sent';
  }

  item(message, state) {
    const mine = message.from === this.me.uid;
    const meta = el('span', {class: 'meta'}, el('time', {datetime: message.created_at, text: clockTime(message.created_at)}));
    const item = el('li', {class: `msg ${mine ? 'mine' : 'theirs'}`, dataset: {day: dayLabel(message.created_at)}},
      el('div', {class: 'bubble'}, el('p', {class: 'text', translate: 'no', text: message.content}), meta));
    if (mine) {
      meta.append(el('span', {class: 'mark'}));
      setMark(item, state);
    }
    return item;
  }

  /** Say again, in the language just chosen, what the list writes itself: times, days, marks, Retry. */
  relabel() {
    for (const item of this.ol.querySelectorAll('li.msg')) {
      const time = item.querySelector('.meta time');
      time.textContent = clockTime(time.dateTime);
      item.dataset.day = dayLabel(time.dateTime);
      if (item.dataset.state) setMark(item, item.dataset.state);
    }
    for (const button of this.ol.querySelectorAll('button.retry')) button.textContent = t('message.retry');
    this.placeDays();
  }

  /** Put a day heading above the first message of each day. */
  placeDays() {
    for (const heading of this.ol.querySelectorAll('li.day')) heading.remove();
    let day = null;
    for (const item of [...this.ol.children]) {
      if (item.dataset.day !== day) {
        day = item.dataset.day;
        const date = item.querySelector('time').dateTime;
        this.ol.insertBefore(el('li', {class: 'day'}, el('time', {datetime: date, text: day})), item);
      }
    }
  }
}

function setMark(item, state) {
  const [glyph, key] = MARKS[state];
  const mark = item.querySelector('.mark');
  item.dataset.state = state;
  mark.textContent = glyph;
  mark.title = t(key);
  mark.setAttribute('aria-label', t(key));
}
