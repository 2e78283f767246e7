/** Pages: the messages of the open conversation, oldest at the top: stored messages in mid order, each
 * shown once however it arrives (history page, sync event, send answer), then this tab's messages
 * still on their way. Own messages carry a mark: sending, failed, sent, delivered or read; in a group,
 * "read by k of n" too. A group shows who said what, and its membership changes as lines of their own.
 * A recalled message is a line saying who recalled it, an edited one says so beside its time, and a
 * conversation opened with unread messages has a "new messages" line above the first of them. */
import {clockTime, dayLabel, el} from './dom.js';
import {eventNodes} from './group-events.js';
import {i18n, t} from './i18n.js';
import {recalledNodes} from './recall.js';

const MARKS = {
  sending: ['◷', 'mark.sending'],
  failed: ['!', 'mark.failed'],
  sent: ['✓', 'mark.sent'],
  delivered: ['✓✓', 'mark.delivered'],
  read: ['✓✓', 'mark.read'],
};

export class MessageList {
  constructor(ol, me, nameOf, attachments) {
    this.ol = ol;
    this.me = me;
    this.nameOf = nameOf;  // uid -> the name this page knows them by
    this.attachments = attachments;  // draws the file a message carries (attachment-view.js)
    this.byMid = new Map();  // mid -> li
    this.messages = new Map();  // mid -> message, to say system lines and "read by" again in a new language
    this.marks = {read: 0, delivered: 0};
    this.group = false;  // a group's messages name their senders
    this.decorate = null;  // (item, message) -> adds what may be done to it (message-actions.js)
    i18n.addEventListener('change', () => this.relabel());
  }

  clear({isGroup = false} = {}) {
    this.byMid.clear();
    this.messages.clear();
    this.group = isGroup;
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
    this.messages.set(message.mid, message);
    let next = this.ol.querySelector('li[data-pending]');  // stored messages go above pending ones
    const stored = this.ol.querySelectorAll('li[data-mid]');
    for (let i = stored.length - 1; i >= 0 && Number(stored[i].dataset.mid) > message.mid; i--) next = stored[i];
    this.ol.insertBefore(item, next);
    this.placeDays();
    return true;
  }

  /** Show a stored message again, in its place, as it stands now (recalled, edited); false if not shown. */
  update(message) {
    const old = this.byMid.get(message.mid);
    if (!old) return false;
    const item = this.item(message, message.from === this.me.uid ? this.stateOf(message.mid) : null);
    item.dataset.mid = String(message.mid);
    old.replaceWith(item);
    this.byMid.set(message.mid, item);
    this.messages.set(message.mid, message);
    return true;
  }

  /** The "new messages" line, above the first unread message. */
  markFirstUnread(mid) {
    this.ol.querySelector('li.new-messages')?.remove();
    const first = this.byMid.get(mid);
    if (!first) return null;
    const line = el('li', {class: 'new-messages', role: 'separator'}, el('span', {text: t('chat.new_messages')}));
    first.before(line);
    return line;
  }

  /** Show (or update) a message of this tab that the server has not confirmed yet. */
  showPending({id, content, state, created_at: createdAt, onRetry, file}) {
    if (this.ol.querySelector(`li[data-pending="${CSS.escape(id)}"]`)) this.dropPending(id);
    const item = this.item({from: this.me.uid, content, created_at: createdAt, attachment: file}, state);
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

  /** Move the marks of own messages to how far the partner has received and read, or, in a group, to
   * how far each other member has read ({reads: Map uid -> read_mid}). */
  setMarks(marks) {
    this.marks = marks;
    for (const [mid, item] of this.byMid) {
      if (item.classList.contains('mine')) this.mark(item, mid);
    }
  }

  stateOf(mid) {
    if (this.marks.reads) {
      const {k, n} = this.readBy(mid);
      return n > 0 && k === n ? 'read' : 'sent';
    }
    if (mid <= this.marks.read) return 'read';
    if (mid <= this.marks.delivered) return 'delivered';
    return 'sent';
  }

  /** How many of the other current members have read up to mid (k), of how many (n). */
  readBy(mid) {
    const reads = [...(this.marks.reads || new Map()).values()];
    return {k: reads.filter((readMid) => readMid >= mid).length, n: reads.length};
  }

  mark(item, mid) {
    setMark(item, this.stateOf(mid));
    const readBy = item.querySelector('.read-by');
    if (!readBy) return;
    const {k, n} = this.readBy(mid);
    readBy.hidden = n === 0;
    readBy.textContent = k === n ? t('group.read_by_all') : t('group.read_by', {k, n});
  }

  item(message, state) {
    if (message.kind === 'system') return this.systemLine(message);
    if (message.recalled_by !== undefined) return this.recalledLine(message);
    const mine = message.from === this.me.uid;
    const meta = el('span', {class: 'meta'}, el('time', {datetime: message.created_at, text: clockTime(message.created_at)}));
    const sender = this.group && !mine ? el('span', {class: 'sender', translate: 'no', text: this.nameOf(message.from)})
      : null;
    const item = el('li', {class: `msg ${mine ? 'mine' : 'theirs'}`, dataset: {day: dayLabel(message.created_at)}},
      el('div', {class: 'bubble'}, sender, message.attachment ? this.attachments.node(message.attachment) : null,
        message.content || !message.attachment ? el('p', {class: 'text', translate: 'no', text: message.content}) : null,
        meta));
    if (message.edited_at) meta.prepend(el('span', {class: 'edited', title: message.edited_at, text: t('message.edited')}));
    if (mine) {
      meta.append(el('span', {class: 'mark'}));
      if (this.group && message.mid) meta.prepend(el('span', {class: 'read-by', hidden: true}));
      if (this.group && message.mid) this.mark(item, message.mid);
      else setMark(item, state);
    }
    if (this.decorate && message.mid) this.decorate(item, message);
    return item;
  }

  /** Where a recalled message was: who recalled it, at the time it was sent. */
  recalledLine(message) {
    return el('li', {class: 'system recalled', dataset: {day: dayLabel(message.created_at)}},
      el('span', {class: 'system-line'},
        el('span', {class: 'system-text'}, ...recalledNodes(message, this.nameOf)),
        el('time', {datetime: message.created_at, text: clockTime(message.created_at)})));
  }

  /** A membership change of a group: a line of its own, in the page's language, with its time. */
  systemLine(message) {
    return el('li', {class: 'system', dataset: {day: dayLabel(message.created_at)}},
      el('span', {class: 'system-line'},
        el('span', {class: 'system-text'}, ...eventNodes(message.event, this.nameOf, message.content)),
        el('time', {datetime: message.created_at, text: clockTime(message.created_at)})));
  }

  /** Say again, in the language just chosen, what the list writes itself: times, days, marks, Retry, a
   * group's system lines and "read by"; and the names in them, which a group's member list may have just
   * taught the page (a 万人群's members are more than GET /api/users lists). */
  relabel() {
    for (const item of this.ol.querySelectorAll('li.msg, li.system')) {
      const time = item.querySelector('.meta time, .system-line time');
      time.textContent = clockTime(time.dateTime);
      item.dataset.day = dayLabel(time.dateTime);
      if (item.dataset.state) setMark(item, item.dataset.state);
    }
    for (const [mid, item] of this.byMid) {
      const message = this.messages.get(mid);
      if (message.kind === 'system') {
        item.querySelector('.system-text').replaceChildren(...eventNodes(message.event, this.nameOf, message.content));
      } else if (message.recalled_by !== undefined) {
        item.querySelector('.system-text').replaceChildren(...recalledNodes(message, this.nameOf));
      } else if (item.querySelector('.read-by')) {
        this.mark(item, mid);
      }
      const sender = item.querySelector('.sender');
      if (sender) sender.textContent = this.nameOf(message.from);  // a name learned since it was drawn
    }
    for (const button of this.ol.querySelectorAll('button.retry')) button.textContent = t('message.retry');
    for (const edited of this.ol.querySelectorAll('.edited')) edited.textContent = t('message.edited');
    for (const more of this.ol.querySelectorAll('.msg-more')) {
      more.title = t('message.actions');
      more.setAttribute('aria-label', more.title);
    }
    const line = this.ol.querySelector('li.new-messages span');
    if (line) line.textContent = t('chat.new_messages');
    this.placeDays();
  }

  /** Put a day heading above the first message of each day. */
  placeDays() {
    for (const heading of this.ol.querySelectorAll('li.day')) heading.remove();
    let day = null;
    for (const item of [...this.ol.children]) {
      if (item.classList.contains('new-messages')) continue;  // it goes with the message below it
      if (item.dataset.day !== day) {
        day = item.dataset.day;
        const date = item.querySelector('time').dateTime;
        const above = item.previousElementSibling?.classList.contains('new-messages') ? item.previousElementSibling : item;
        this.ol.insertBefore(el('li', {class: 'day'}, el('time', {datetime: date, text: day})), above);
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
