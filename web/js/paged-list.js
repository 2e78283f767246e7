/** Pages: a long list drawn a page at a time: the first PAGE items, more on request, and, past a page, a
 * search by name. A 万人群 has ten thousand members (the members panel, group-panel.js) and the page knows
 * as many people ("All contacts", contacts-view.js): drawing every one of them at each change would stall
 * the page, so a list draws at most what was asked for, and says how many there are. A list whose entries are
 * only the first pages of more (a large group's members: group-members.js) asks its owner for the next page
 * when "Show more" runs past them, and asks the server to search (loadMore, search). */
import {displayName, el} from './dom.js';
import {locale, t} from './i18n.js';

const PAGE = 50;  // items drawn at first, and added by each "Show more"
export const SEARCH_DELAY = 250;  // ms after the last key before the server is asked

export class PagedList {
  /** itemOf(entry): its row; userOf(entry): the user it is found by; changed(): draw again (the owner's render);
   * words: the table keys of the search's placeholder (find), "showing n of m" (shown), "show n more" (more)
   * and "nothing matches" (none). */
  constructor({itemOf, userOf = (entry) => entry, changed, words, listClass, loadMore = null, search = null}) {
    Object.assign(this, {itemOf, userOf, words, loadMore, search});
    this.shown = PAGE;
    this.query = '';
    this.partial = false;  // the entries are the first pages of more: the rest is the server's
    this.found = null;  // {query, entries}: what the server found for a query, when partial
    this.timer = 0;
    this.find = el('input', {type: 'search', class: 'list-find', autocomplete: 'off', oninput: () => {
      this.query = this.find.value.trim().toLocaleLowerCase();
      this.shown = PAGE;
      changed();  // the entries loaded that match, at once; the server's answer when it comes
      if (this.partial && this.search) this.ask(this.find.value.trim(), changed);
    }});
    this.list = el('ul', {class: listClass});
    this.none = el('p', {class: 'empty list-none', hidden: true});
    this.count = el('p', {class: 'list-shown', 'aria-live': 'polite'});
    this.more = el('button', {type: 'button', class: 'ghost list-more', onclick: () => {
      this.shown += PAGE;
      changed();
      if (this.partial && !this.query && this.loadMore && this.shown > this.loaded) this.loadMore(this.shown - this.loaded);
    }});
    this.root = el('div', {class: 'paged'}, this.find, this.list, this.none,
      el('div', {class: 'list-foot'}, this.count, this.more));
  }

  /** From the first page again, with no search (another group). */
  reset() {
    this.shown = PAGE;
    this.query = this.find.value = '';
    this.found = null;
    clearTimeout(this.timer);
  }

  /** Ask the server for the entries matching text, a moment after the typing stops. */
  ask(text, changed) {
    clearTimeout(this.timer);
    if (!text) return;
    this.timer = setTimeout(async () => {
      const entries = await this.search(text).catch(() => null);
      if (entries === null || this.find.value.trim() !== text) return;  // failed, or typed on since
      this.found = {query: text.toLocaleLowerCase(), entries};
      changed();
    }, SEARCH_DELAY);
  }

  /** Draw the page of entries asked for; total: how many there are, when entries are not all of them yet;
   * partial: entries are the first pages of those (more come from loadMore, matches from search). */
  render(entries, total = entries.length, partial = false) {
    this.partial = partial;
    this.loaded = entries.length;
    const matching = !this.query ? entries : partial && this.found?.query === this.query ? this.found.entries
      : entries.filter((entry) => matches(this.userOf(entry), this.query));
    const page = matching.slice(0, this.shown);
    this.find.hidden = entries.length <= PAGE && !this.query && !partial;
    this.find.placeholder = t(this.words.find);
    this.find.setAttribute('aria-label', t(this.words.find));
    this.list.replaceChildren(...page.map(this.itemOf));
    this.none.textContent = t(this.words.none);
    const asking = partial && this.query && this.search && this.found?.query !== this.query;  // not "none" yet
    this.none.hidden = !this.query || matching.length > 0 || asking;
    const of = this.query ? matching.length : Math.max(total, matching.length);
    this.count.hidden = page.length >= of;
    this.count.textContent = t(this.words.shown, {shown: count(page.length), n: count(of)});
    const left = (partial && !this.query && this.loadMore ? total : matching.length) - page.length;
    this.more.hidden = left <= 0;
    this.more.textContent = t(this.words.more, {n: count(Math.min(PAGE, left))});
  }
}

function matches(user, query) {
  return [displayName(user), user.username].some((name) => name.toLocaleLowerCase().includes(query));
}

function count(n) {
  return n.toLocaleString(locale());
}
