/** Pages: the members of the open group as its panel lists them (group-panel.js): a first page of them,
 * more on request, and, past a page, a search by name. A large group has thousands of members (up to
 * --max-group-members, 10,000): drawing every one at each change would stall the page, so the list draws
 * at most what was asked for, and says how many there are. */
import {displayName, el} from './dom.js';
import {locale, t} from './i18n.js';

const PAGE = 50;  // members drawn at first, and added by each "Show more"

export class MembersList {
  /** itemOf(member): the row of one member ({user, role}); changed(): draw again (the panel's render). */
  constructor(itemOf, changed) {
    this.itemOf = itemOf;
    this.shown = PAGE;
    this.query = '';
    this.find = el('input', {type: 'search', class: 'member-find', autocomplete: 'off', oninput: () => {
      this.query = this.find.value.trim().toLocaleLowerCase();
      this.shown = PAGE;
      changed();
    }});
    this.list = el('ul', {class: 'member-list'});
    this.none = el('p', {class: 'empty members-none', hidden: true});
    this.count = el('p', {class: 'members-shown', 'aria-live': 'polite'});
    this.more = el('button', {type: 'button', class: 'ghost members-more', onclick: () => {
      this.shown += PAGE;
      changed();
    }});
    this.root = el('div', {class: 'members'}, this.find, this.list, this.none,
      el('div', {class: 'members-foot'}, this.count, this.more));
  }

  /** Another group: from its first page, with no search. */
  reset() {
    this.shown = PAGE;
    this.query = this.find.value = '';
  }

  render(members, total = members.length) {
    const matching = this.query ? members.filter((m) => matches(m.user, this.query)) : members;
    const page = matching.slice(0, this.shown);
    this.find.hidden = members.length <= PAGE && !this.query;
    this.find.placeholder = t('group.members_find');
    this.find.setAttribute('aria-label', t('group.members_find'));
    this.list.replaceChildren(...page.map(this.itemOf));
    this.none.textContent = t('group.members_none');
    this.none.hidden = !this.query || matching.length > 0;
    const of = this.query ? matching.length : Math.max(total, matching.length);
    this.count.hidden = page.length >= of;
    this.count.textContent = t('group.members_shown', {shown: count(page.length), n: count(of)});
    const left = matching.length - page.length;
    this.more.hidden = left <= 0;
    this.more.textContent = t('group.members_more', {n: count(Math.min(PAGE, left))});
  }
}

function matches(user, query) {
  return [displayName(user), user.username].some((name) => name.toLocaleLowerCase().includes(query));
}

function count(n) {
  return n.toLocaleString(locale());
}
