/** Pages: a long list drawn a page at a time: the first PAGE items, more on request, and, past a page, a
 * search by name. A 万人群 has ten thousand members (the members panel, group-panel.js) and the page knows
 * as many people ("All contacts", contacts-view.js): drawing every one of them at each change would stall
 * the page, so a list draws at most what was asked for, and says how many there are. */
import {displayName, el} from './dom.js';
import {locale, t} from './i18n.js';

const PAGE = 50;  // items drawn at first, and added by each "Show more"

export class PagedList {
  /** itemOf(entry): its row; userOf(entry): the user it is found by; changed(): draw again (the owner's render);
   * words: the table keys of the search's placeholder (find), "showing n of m" (shown), "show n more" (more)
   * and "nothing matches" (none). */
  constructor({itemOf, userOf = (entry) => entry, changed, words, listClass}) {
    Object.assign(this, {itemOf, userOf, words});
    this.shown = PAGE;
    this.query = '';
    this.find = el('input', {type: 'search', class: 'list-find', autocomplete: 'off', oninput: () => {
      this.query = this.find.value.trim().toLocaleLowerCase();
      this.shown = PAGE;
      changed();
    }});
    this.list = el('ul', {class: listClass});
    this.none = el('p', {class: 'empty list-none', hidden: true});
    this.count = el('p', {class: 'list-shown', 'aria-live': 'polite'});
    this.more = el('button', {type: 'button', class: 'ghost list-more', onclick: () => {
      this.shown += PAGE;
      changed();
    }});
    this.root = el('div', {class: 'paged'}, this.find, this.list, this.none,
      el('div', {class: 'list-foot'}, this.count, this.more));
  }

  /** From the first page again, with no search (another group). */
  reset() {
    this.shown = PAGE;
    this.query = this.find.value = '';
  }

  /** Draw the page of entries asked for; total: how many there are, when entries are not all of them yet. */
  render(entries, total = entries.length) {
    const matching = this.query ? entries.filter((entry) => matches(this.userOf(entry), this.query)) : entries;
    const page = matching.slice(0, this.shown);
    this.find.hidden = entries.length <= PAGE && !this.query;
    this.find.placeholder = t(this.words.find);
    this.find.setAttribute('aria-label', t(this.words.find));
    this.list.replaceChildren(...page.map(this.itemOf));
    this.none.textContent = t(this.words.none);
    this.none.hidden = !this.query || matching.length > 0;
    const of = this.query ? matching.length : Math.max(total, matching.length);
    this.count.hidden = page.length >= of;
    this.count.textContent = t(this.words.shown, {shown: count(page.length), n: count(of)});
    const left = matching.length - page.length;
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
