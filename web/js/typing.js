/** Pages: "李四 is typing…". While I type in a conversation, the others hear of it (POST .../typing, at most
 * every INTERVAL ms: the server relays it live to their WebSocket connections and stores nothing; in a group
 * of more than the server's typing_most_members (100) nobody is told, so nothing is sent); in the
 * conversation I have open, whoever types shows under its
 * title until SHOWN ms pass without word from them, or their message arrives. */
import {el, phrase} from './dom.js';
import {i18n, locale} from './i18n.js';

const INTERVAL = 3000;  // ms between two signals of mine while I type one message
const REFUSED = 2100;  // ms within which the server refuses a second signal (its 2 s, and a margin)
const SHOWN = 6000;  // ms a signal shows: two of them may be missed before it goes

/** Tell the others, now and then, that I type. */
export class TypingSender {
  constructor(api, store, most = 100) {
    this.api = api;
    this.store = store;
    this.most = most;  // members a group may have for its members to hear typing (GET /api/config)
    this.sentAt = new Map();  // key -> when I last said so
  }

  /** The composer of conversation key holds text: say so, unless I said it a moment ago, or nobody would be
   * told (a group too large: a 万人群's typing would be a request every 3 s from each member who types). */
  input(key, text) {
    const now = Date.now();
    if (!key || !text.trim() || now - (this.sentAt.get(key) || 0) < INTERVAL) return;
    const conversation = this.store.contacts.get(key);
    if (conversation?.isGroup && conversation.group.member_count > this.most) return;
    this.sentAt.set(key, now);
    this.api.typing(key).catch(() => {});  // a hint: lost, it is simply not shown
  }

  /** My message went: the next keystroke may say so as soon as the server takes it (a signal within 2 s of
   * the one before is refused with 429, so the next message's first keystroke may have to wait a moment). */
  sent(key) {
    const at = this.sentAt.get(key);
    if (at !== undefined) this.sentAt.set(key, at - (INTERVAL - REFUSED));
  }
}

/** Show who types in the open conversation. */
export class TypingView {
  constructor(line, store) {
    this.line = line;
    this.store = store;
    this.key = null;
    this.typing = new Map();  // uid -> timer that hides them
    i18n.addEventListener('change', () => this.render());
  }

  open(key) {
    this.key = key;
    for (const timer of this.typing.values()) clearTimeout(timer);
    this.typing.clear();
    this.render();
  }

  /** A typing hint {conversation, by}. */
  show({conversation, by}) {
    if (conversation !== this.key || by === this.store.me.uid) return;
    clearTimeout(this.typing.get(by));
    this.typing.set(by, setTimeout(() => this.stop(by), SHOWN));
    this.render();
  }

  /** A message arrived: its sender has stopped typing it. */
  heard(message) {
    if (this.typing.has(message.from)) this.stop(message.from);
  }

  stop(uid) {
    clearTimeout(this.typing.get(uid));
    this.typing.delete(uid);
    this.render();
  }

  render() {
    const names = [...this.typing.keys()].map((uid) => this.store.nameOf(uid));
    this.line.hidden = names.length === 0;
    if (!names.length) return;
    const list = new Intl.ListFormat(locale(), {type: 'conjunction'}).format(names);  // the names are data
    const key = names.length === 1 ? 'typing.one' : 'typing.many';
    this.line.replaceChildren(...phrase(key, {names: el('span', {translate: 'no', text: list})}));
  }
}
