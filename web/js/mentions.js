/** Pages: @mentions in a group's composer. Typing @ offers the group's other members (and, to its owner,
 * @all), narrowed by what follows the @; arrows and Enter (or Tab) pick, Esc closes, a click picks too. A
 * pick writes "@name " into the text and remembers whom it named; when the message goes, those still named
 * in its text are its mentions ([uid, ...] or 'all', checked by the server: members only, @all the owner
 * only). A 1:1 chat offers nothing: only groups have mentions. A large group's page holds only its first
 * members (group-members.js): what follows the @ is also looked for on the server, and its answer joins the
 * options if the same @ is still being typed. */
import {displayName, el} from './dom.js';
import {t} from './i18n.js';

const QUERY = /(^|\s)@([^\s@]{0,32})$/;  // an @ being typed, at a word's start, before the caret
const MOST = 20;  // options offered at most
const LOOK_DELAY = 150;  // ms after the last key before a large group's server is asked

export class MentionPicker {
  constructor(form, store) {
    this.box = form.elements.content;
    this.store = store;
    this.key = null;
    this.list = el('ul', {class: 'mention-picker', role: 'listbox', hidden: true});
    form.prepend(this.list);
    this.options = [];
    this.active = 0;
    this.picked = new Map();  // "@name" -> uid, or 'all'
    this.timer = 0;
    this.box.addEventListener('input', () => this.update());
    this.box.addEventListener('blur', () => setTimeout(() => this.close(), 150));  // after a click on an option
    // Capture, on the form: the picker's keys are handled before the composer's own Enter sends.
    form.addEventListener('keydown', (event) => this.key !== null && this.onKey(event), true);
  }

  /** Follow the conversation on screen; what was picked for another one is forgotten. */
  setConversation(key) {
    this.key = key;
    this.picked.clear();
    this.close();
  }

  /** The mentions of a message about to go: those picked whose "@name" is still in its text. */
  take(text) {
    const named = [...this.picked].filter(([token]) => text.includes(token)).map(([, who]) => who);
    this.picked.clear();
    if (named.includes('all')) return 'all';
    return named.length ? [...new Set(named)] : undefined;
  }

  candidates(query, found = []) {
    const conversation = this.store.conversation(this.key);
    if (!conversation.isGroup || !conversation.member) return [];
    const wanted = query.toLowerCase();
    const loaded = new Set(conversation.members.map((m) => m.user.uid));
    const people = [...conversation.members, ...found.filter((m) => !loaded.has(m.user.uid))].map((m) => m.user)
      .filter((user) => user.uid !== this.store.me.uid)
      .filter((user) => [displayName(user), user.username].some((name) => name.toLowerCase().startsWith(wanted)))
      .map((user) => ({who: user.uid, name: displayName(user), note: `@${user.username}`}));
    const all = t('mention.all');
    const everyone = conversation.isOwner && all.toLowerCase().startsWith(wanted)
      ? [{who: 'all', name: all, note: t('mention.all_note')}] : [];
    return [...everyone, ...people].slice(0, MOST);
  }

  update() {
    const match = QUERY.exec(this.box.value.slice(0, this.box.selectionStart));
    this.options = match && this.key !== null ? this.candidates(match[2]) : [];
    this.active = 0;
    this.render();
    clearTimeout(this.timer);
    const conversation = match && this.key !== null && this.store.conversation(this.key);
    if (conversation?.isGroup && conversation.partial && match[2]) this.lookFor(conversation.gid, match[2]);
  }

  /** Ask the server for a large group's members named so (a moment after the typing stops); their options
   * join those of the members loaded if the same @ is still being typed. */
  lookFor(gid, query) {
    const key = this.key;
    this.timer = setTimeout(async () => {
      const found = await this.store.groupMembers.find(gid, query, MOST).catch(() => null);
      const match = QUERY.exec(this.box.value.slice(0, this.box.selectionStart));
      if (!found || this.key !== key || !match || match[2] !== query) return;
      const chosen = this.options[this.active];
      this.options = this.candidates(query, found);
      this.active = Math.max(0, this.options.findIndex((option) => option.who === chosen?.who));
      this.render();
    }, LOOK_DELAY);
  }

  render() {
    this.list.hidden = this.options.length === 0;
    this.list.replaceChildren(...this.options.map((option, i) => el('li', {
      role: 'option', class: 'mention-option', 'aria-selected': String(i === this.active),
      onmousedown: (event) => { event.preventDefault(); this.pick(option); }},
    el('span', {class: 'mention-name', translate: option.who === 'all' ? 'yes' : 'no', text: option.name}),
    el('span', {class: 'mention-note', translate: option.who === 'all' ? 'yes' : 'no', text: option.note}))));
  }

  onKey(event) {
    if (this.list.hidden) return;
    const moves = {ArrowDown: 1, ArrowUp: -1};
    if (event.key in moves) {
      this.active = (this.active + moves[event.key] + this.options.length) % this.options.length;
      this.render();
    } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.isComposing) {
      this.pick(this.options[this.active]);
    } else if (event.key === 'Escape') {
      this.close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  /** Write "@name " in place of the @ being typed. */
  pick(option) {
    const caret = this.box.selectionStart;
    const before = this.box.value.slice(0, caret).replace(QUERY, (_, space) => `${space}@${option.name} `);
    this.box.value = before + this.box.value.slice(caret);
    this.box.setSelectionRange(before.length, before.length);
    this.picked.set(`@${option.name}`, option.who);
    this.close();
    this.box.dispatchEvent(new Event('input'));  // the composer counts and grows; the picker stays closed
    this.box.focus();
  }

  close() {
    clearTimeout(this.timer);
    this.options = [];
    this.list.hidden = true;
  }
}
