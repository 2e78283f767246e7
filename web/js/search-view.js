/** Pages: search (GET /api/search): a box at the top of the sidebar; while it holds a query, the results
 * take the place of the contacts: newest first, each with its conversation, time and a snippet whose
 * matched parts are <mark> elements (built node by node, never from HTML). A click opens the conversation
 * at that message (anchored-chat-view.js). Typing searches after a pause (never in the middle of an IME
 * composition: Chinese is typed that way); Enter searches at once; Escape or clearing the box goes back. */
import {$, el, phrase, shortTime} from './dom.js';
import {i18n, t} from './i18n.js';

const PAUSE = 300;  // ms after the last key before the query goes out
const LIMIT = 20;

export class SearchView {
  constructor(sidebar, {api, store, onOpen}) {
    this.api = api;
    this.store = store;
    this.onOpen = onOpen;
    this.form = $('.search', sidebar);
    this.box = this.form.elements.q;
    this.section = $('.search-results', sidebar);
    this.lists = $('.lists', sidebar);
    this.timer = null;
    this.asked = 0;  // the newest query sent: an older answer never lands on a newer one
    this.state = null;  // {query, status: 'searching' | 'done' | 'failed', results, nextBefore, error}
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.search();
    });
    this.box.addEventListener('input', (event) => !event.isComposing && this.soon());
    this.box.addEventListener('compositionend', () => this.soon());
    this.box.addEventListener('keydown', (event) => event.key === 'Escape' && this.clear());
    this.section.addEventListener('click', (event) => {
      const result = event.target.closest('button[data-mid]');
      if (result) this.onOpen(result.dataset.conversation, Number(result.dataset.mid));
      else if (event.target.closest('.search-older')) this.search({older: true});
      else if (event.target.closest('.search-close')) this.clear();
    });
    i18n.addEventListener('change', () => this.render());
  }

  soon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), PAUSE);
  }

  clear() {
    clearTimeout(this.timer);
    this.box.value = '';
    this.asked += 1;
    this.state = null;
    this.render();
  }

  /** Ask for the box's query (older: the next page of the one shown). */
  async search({older = false} = {}) {
    clearTimeout(this.timer);
    const query = this.box.value.trim();
    if (!query) return this.clear();
    const before = older ? this.state.nextBefore : null;
    const asked = ++this.asked;
    const shown = older ? this.state.results : [];
    this.state = {query, status: 'searching', results: shown, nextBefore: null};
    this.render();
    try {
      const params = new URLSearchParams({q: query, limit: String(LIMIT)});
      if (before) params.set('before', String(before));
      const page = await this.api.call('GET', `/api/search?${params}`);
      if (asked !== this.asked) return;
      this.state = {query, status: 'done', results: [...shown, ...page.results], nextBefore: page.next_before,
        terms: page.terms};
    } catch (error) {
      if (asked !== this.asked) return;
      this.state = {query, status: 'failed', results: shown, nextBefore: null, error: error.message};
    }
    this.render();
  }

  render() {
    const state = this.state;
    this.section.hidden = state === null;
    this.lists.hidden = state !== null;
    if (state === null) return this.section.replaceChildren();
    const head = el('div', {class: 'search-head'},
      el('h2', {}, ...this.heading(state)),
      el('button', {type: 'button', class: 'ghost search-close', text: t('search.close')}));
    const items = state.results.map((result) => this.item(result));
    const older = state.status === 'done' && state.nextBefore
      ? el('button', {type: 'button', class: 'ghost search-older', text: t('search.older')}) : null;
    this.section.replaceChildren(...[head, el('ul', {class: 'search-list'}, ...items), older].filter(Boolean));
  }

  /** The line above the results, as nodes: the query stands in it as data, in the user's own words. */
  heading({query, status, results, terms, error}) {
    if (status === 'failed') return phrase('search.failed', {message: error});
    if (status === 'searching' && !results.length) return phrase('search.searching');
    const typed = {query: el('span', {translate: 'no', text: query})};
    if (results.length) return phrase('search.results', typed);
    return phrase(terms && terms.length === 0 ? 'search.nothing' : 'search.none', typed);
  }

  /** One result: the conversation it is in, when, and the snippet with its matches marked. */
  item({conversation: key, message, snippet}) {
    const conversation = this.store.conversation(key);
    const me = this.store.me.uid;
    const who = message.from === me ? t('contacts.you')
      : conversation.isGroup ? t('group.said', {name: this.store.nameOf(message.from)}) : null;
    const parts = snippet.map((part) => (part.match ? el('mark', {text: part.text}) : part.text));
    return el('li', {},
      // data-conversation, not data-key: the contacts view opens a data-key at the newest message
      el('button', {type: 'button', class: 'contact result', dataset: {conversation: key, mid: String(message.mid)}},
        conversation.avatar(),
        el('span', {class: 'contact-main'},
          el('span', {class: 'contact-line'},
            el('strong', {class: 'contact-name', translate: 'no', text: conversation.title}),
            el('time', {class: 'contact-time', datetime: message.created_at, text: shortTime(message.created_at)})),
          el('span', {class: 'snippet'}, who ? el('span', {class: 'sender', text: who}) : null,
            el('span', {translate: 'no'}, ...parts)))));
  }
}
