/** Pages: the contacts view: recent contacts newest first (avatar, nickname, last message, its time, an
 * unread badge), everyone else to start a conversation, and the total unread, also in the tab title. */
import {$, avatar, displayName, el, shortTime} from './dom.js';
import {i18n, locale, t} from './i18n.js';

export class ContactsView {
  constructor(root, store, onOpen) {
    this.store = store;
    this.recentList = $('.recent', root);
    this.everyoneList = $('.everyone', root);
    this.empty = $('.recent-empty', root);
    this.totalText = $('.me-total', root);
    root.addEventListener('click', (event) => {
      const button = event.target.closest('button[data-uid]');
      if (button) onOpen(Number(button.dataset.uid));
    });
    store.addEventListener('change', () => this.render());
    i18n.addEventListener('change', () => this.render());
  }

  render() {
    const recent = this.store.recent();
    this.recentList.replaceChildren(...recent.map((contact) => this.contactItem(contact)));
    this.empty.hidden = recent.length > 0;
    const everyone = [...this.store.users.values()]
      .sort((a, b) => displayName(a).localeCompare(displayName(b), locale()));  // in Chinese: by pinyin
    this.everyoneList.replaceChildren(...everyone.map((user) => this.userItem(user)));
    this.showTotal(this.store.total);
  }

  showTotal(total) {
    document.title = total > 0 ? t('app.title_unread', {count: total}) : t('app.name');
    this.totalText.textContent = total > 0 ? t('contacts.total', {count: total}) : t('contacts.all_read');
    this.totalText.classList.toggle('has-unread', total > 0);
  }

  contactItem({user, last_message: last, unread}) {
    const mine = last.from === this.store.me.uid;
    const badge = unread > 0
      ? el('span', {class: 'badge', text: unread > 99 ? '99+' : String(unread), title: t('contacts.badge', {count: unread})})
      : null;
    return el('li', {},
      el('button', {type: 'button', class: 'contact', dataset: {uid: user.uid}, 'aria-current': this.current(user)},
        avatar(user),
        el('span', {class: 'contact-main'},
          el('span', {class: 'contact-line'},
            el('strong', {class: 'contact-name', translate: 'no', text: displayName(user)}),
            el('time', {class: 'contact-time', datetime: last.created_at, text: shortTime(last.created_at)})),
          el('span', {class: 'contact-line'},
            el('span', {class: 'preview', translate: 'no'},
              mine ? el('span', {class: 'you', translate: 'yes', text: t('contacts.you')}) : null, last.content),
            badge))));
  }

  userItem(user) {
    return el('li', {},
      el('button', {type: 'button', class: 'contact person', dataset: {uid: user.uid}, 'aria-current': this.current(user)},
        avatar(user, 'small'),
        el('span', {class: 'contact-main'},
          el('strong', {class: 'contact-name', translate: 'no', text: displayName(user)}),
          el('span', {class: 'username', translate: 'no', text: `@${user.username}`}))));
  }

  current(user) {
    return user.uid === this.store.openUid ? 'true' : undefined;
  }
}
