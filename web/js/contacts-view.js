/** Pages: the contacts view: recent contacts newest first, people and groups alike (avatar, name, last
 * message, its time, an unread badge), everyone else to start a conversation, and the total unread, also
 * in the tab title. Each entry opens its conversation by key (u<uid> or g<gid>). A muted conversation keeps
 * a dot instead of a number and stays out of the total; a group where someone mentioned me says so until
 * I read it; a recalled last message shows who recalled it. */
import {mediaPreview} from './attachment-view.js';
import {userKey} from './conversation.js';
import {$, avatar, byName, displayName, el, shortTime} from './dom.js';
import {i18n, t} from './i18n.js';
import {PagedList} from './paged-list.js';
import {recalledNodes} from './recall.js';
import {shownTotal} from './store-signals.js';
import {findUsers} from './store-users.js';

export class ContactsView {
  constructor(root, store, onOpen) {
    this.store = store;
    this.recentList = $('.recent', root);
    this.everyone = new PagedList({itemOf: (user) => this.userItem(user), changed: () => this.renderEveryone(true),
      listClass: 'everyone', words: {find: 'contacts.find', shown: 'contacts.shown', more: 'contacts.more',
        none: 'contacts.none'}, search: async (text) => (await findUsers(store, text)).sort(byName)});
    $('.everyone', root).replaceWith(this.everyone.root);
    this.empty = $('.recent-empty', root);
    this.totalText = $('.me-total', root);
    root.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-key]');
      if (button) onOpen(button.dataset.key);
    });
    this.people = [];  // everyone but me, by name
    this.sorted = null;  // the version of the store's people they were sorted at (people.js), or null
    this.drawn = null;  // what the list was drawn for: that version and the open conversation
    store.addEventListener('change', () => this.render());
    i18n.addEventListener('change', () => {
      this.sorted = this.drawn = null;  // another language, another order and other words
      this.render();
    });
  }

  render() {
    const recent = this.store.recent();
    this.recentList.replaceChildren(...recent.map((contact) => this.contactItem(contact)));
    this.empty.hidden = recent.length > 0;
    this.renderEveryone();
    this.showTotal(shownTotal(this.store));
  }

  /** Everyone by name (in Chinese: by pinyin), sorted again only when someone is new or renamed, drawn
   * again only then, when another conversation opens, or when the list's search or "Show more" asks. */
  renderEveryone(asked = false) {
    if (this.sorted !== this.store.users.version) {
      this.sorted = this.store.users.version;
      this.people = [...this.store.users.values()].sort(byName);
    }
    const drawn = `${this.sorted} ${this.store.openKey} ${this.store.usersTotal}`;
    if (!asked && drawn === this.drawn) return;
    this.drawn = drawn;
    const total = Math.max(this.store.usersTotal, this.people.length);  // past the first thousand: searched
    this.everyone.render(this.people, total, total > this.people.length);
  }

  showTotal(total) {
    document.title = total > 0 ? t('app.title_unread', {count: total}) : t('app.name');
    this.totalText.textContent = total > 0 ? t('contacts.total', {count: total}) : t('contacts.all_read');
    this.totalText.classList.toggle('has-unread', total > 0);
  }

  contactItem(conversation) {
    const {last_message: last, unread} = conversation;
    const {who, text, nodes} = last.recalled_by !== undefined  // nodes: our words, with names as data
      ? {who: null, nodes: recalledNodes(last, this.store.nameOf)} : conversation.preview(last);
    const badge = unread > 0 ? badgeOf(unread, conversation.muted) : null;
    const mentioned = conversation.mentioned
      ? el('span', {class: 'mention-mark', text: t('contacts.mentioned')}) : null;
    const mutedMark = conversation.muted
      ? el('span', {class: 'muted-mark', role: 'img', 'aria-label': t('contacts.muted'), title: t('contacts.muted')})
      : null;
    return el('li', {},
      el('button', {type: 'button', class: `contact${conversation.isGroup ? ' group' : ''}`, dataset: {key: conversation.key}, 'aria-current': this.current(conversation.key)},
        conversation.avatar(),
        el('span', {class: 'contact-main'},
          el('span', {class: 'contact-line'},
            el('strong', {class: 'contact-name', translate: 'no', text: conversation.title}), mutedMark,
            el('time', {class: 'contact-time', datetime: last.created_at, text: shortTime(last.created_at)})),
          el('span', {class: 'contact-line'},
            el('span', {class: 'preview', translate: nodes ? undefined : 'no'}, mentioned, this.speaker(who),
              ...(nodes || [mediaPreview(last, text)])),
            badge))));
  }

  /** Who said a preview's message, before its text: "You: ", a member's name in a group, or nobody (the
   * partner of a 1:1 conversation, a group's system line). */
  speaker(who) {
    if (who === 'you') return el('span', {class: 'you', translate: 'yes', text: t('contacts.you')});
    return who ? el('span', {class: 'sender', text: t('group.said', {name: who})}) : null;
  }

  userItem(user) {
    return el('li', {},
      el('button', {type: 'button', class: 'contact person', dataset: {key: userKey(user.uid)}, 'aria-current': this.current(userKey(user.uid))},
        avatar(user, 'small'),
        el('span', {class: 'contact-main'},
          el('strong', {class: 'contact-name', translate: 'no', text: displayName(user)}),
          el('span', {class: 'username', translate: 'no', text: `@${user.username}`}))));
  }

  current(key) {
    return key === this.store.openKey ? 'true' : undefined;
  }
}

/** An unread badge: the number, or, for a muted conversation, a dot that says it in words. */
function badgeOf(unread, muted) {
  const title = t('contacts.badge', {count: unread});
  if (muted) return el('span', {class: 'badge dot', role: 'img', title, 'aria-label': title});
  return el('span', {class: 'badge', text: unread > 99 ? '99+' : String(unread), title});
}
