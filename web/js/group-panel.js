/** Pages: the members panel of the open group: how the group is stored (write or read diffusion, and what
 * that means), who is in it, with their roles (a page of them at a time: paged-list.js; a large group's next
 * page and a search by name come from the server: group-members.js); any member adds
 * people or leaves (after a question: Leave or Cancel), the owner renames the group and removes members
 * (after a question in the member's row: Remove or Cancel); Esc cancels a question. On a wide screen the
 * panel sits beside the conversation, which narrows; on a narrow one it covers the messages, never the
 * composer (style.css). Each change the server makes is a system message that comes back through the sync
 * loop to every member's tab; this tab applies its own at once from the server's answer (group-changes.js).
 * The store's 'conversation' event redraws this panel: the panel never edits its own list. */
import {avatar, displayName, el, phrase} from './dom.js';
import {GroupChanges} from './group-changes.js';
import {i18n, locale, t} from './i18n.js';
import {PagedList} from './paged-list.js';
import {groupErrorText} from './member-picker.js';

const FOUND = 200;  // the most members a search of a large group shows (the server's page at most)

export class GroupPanel {
  constructor(root, toggle, {store, picker}) {
    this.root = root;
    this.toggle = toggle;
    this.store = store;
    this.picker = picker;
    this.changes = new GroupChanges(store);
    this.key = null;
    this.confirming = null;  // the uid whose removal the owner is asked to confirm
    this.leaving = false;  // whether I am asked to confirm leaving
    this.build();
    toggle.addEventListener('click', () => this.setOpen(this.root.hidden));
    root.addEventListener('keydown', (event) => {  // Esc answers a question with Cancel, else closes the panel
      if (event.key !== 'Escape') return;
      if (this.confirming !== null) return this.askToRemove(null);
      if (this.leaving) return this.askToLeave(false);
      this.setOpen(false);
      toggle.focus();
    });
    store.addEventListener('conversation', (event) => event.detail === this.key && this.render());
    i18n.addEventListener('change', () => this.render());
  }

  build() {
    this.heading = el('h2', {id: 'group-panel-title'});
    this.closeButton = el('button', {type: 'button', class: 'ghost', onclick: () => this.setOpen(false)});
    this.nameInput = el('input', {name: 'name', maxlength: '64', autocomplete: 'off'});
    this.renameButton = el('button', {type: 'submit', class: 'ghost'});
    this.renameLabel = el('span');
    this.renameForm = el('form', {class: 'rename'}, el('label', {}, this.renameLabel, this.nameInput), this.renameButton);
    this.renameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      this.act((c) => this.changes.rename(c.gid, this.nameInput.value.trim()));
    });
    this.storage = el('span', {class: 'storage-kind'});
    this.storageAbout = el('span', {class: 'storage-about'});
    this.storageLine = el('p', {class: 'group-storage'}, this.storage, this.storageAbout);
    this.members = new PagedList({itemOf: (member) => this.memberItem(this.conversation(), member),
      userOf: (member) => member.user, changed: () => this.render(), listClass: 'member-list',
      loadMore: (count) => this.store.groupMembers.more(this.conversation().gid, count),
      search: (text) => this.store.groupMembers.find(this.conversation().gid, text, FOUND),
      words: {find: 'group.members_find', shown: 'group.members_shown', more: 'group.members_more',
        none: 'group.members_none'}});
    this.list = this.members.list;
    this.addButton = el('button', {type: 'button', class: 'ghost add-members',
      onclick: () => this.act((c) => this.picker.addMembers(c))});
    this.leaveButton = el('button', {type: 'button', class: 'ghost leave', onclick: () => this.askToLeave(true)});
    this.leaveText = el('p');
    this.leaveYes = el('button', {type: 'button', class: 'ghost confirm-leave', onclick: () => {
      this.leaving = false;
      this.act((c) => this.changes.leave(c.gid));
    }});
    this.leaveNo = el('button', {type: 'button', class: 'ghost cancel-leave', onclick: () => this.askToLeave(false)});
    this.leaveQuestion = el('div', {class: 'confirm leave-question', role: 'group', hidden: true},
      this.leaveText, this.leaveYes, this.leaveNo);
    this.error = el('p', {class: 'form-error', role: 'alert', hidden: true});
    this.root.setAttribute('aria-labelledby', 'group-panel-title');
    this.root.replaceChildren(el('header', {class: 'group-panel-head'}, this.heading, this.closeButton),
      this.storageLine, this.renameForm, this.members.root,
      el('div', {class: 'group-actions'}, this.addButton, this.leaveButton), this.leaveQuestion, this.error);
  }

  /** Follow the conversation the chat view opened (any kind: the panel is for groups only). */
  show(key) {
    this.key = key;
    this.confirming = null;
    this.leaving = false;
    this.members.reset();
    this.error.hidden = true;
    this.setOpen(false);
  }

  setOpen(open) {
    this.root.hidden = !open;
    this.confirming = null;
    this.leaving = false;
    this.toggle.setAttribute('aria-expanded', String(open));
    this.render();
    if (open) this.closeButton.focus();
  }

  conversation() {
    return this.key === null ? null : this.store.contacts.get(this.key);
  }

  render() {
    const c = this.conversation();
    const member = Boolean(c && c.isGroup && c.member);
    this.toggle.hidden = !member;
    this.toggle.textContent = t('group.members');
    if (!member) this.root.hidden = true;
    if (!member || this.root.hidden) return;
    const n = (!c.partial && c.members.length) || c.group.member_count;
    this.heading.textContent = t('group.members_title', {n: n.toLocaleString(locale())});
    this.closeButton.textContent = t('group.close');
    const storage = c.group.storage;  // 'write' or 'read'; unknown until the server lists the members
    this.storageLine.hidden = !storage;
    this.storageLine.dataset.storage = storage || '';
    if (storage) {
      this.storage.textContent = t(`group.storage.${storage}`);
      this.storageAbout.textContent = t(`group.storage.${storage}.about`);
    }
    this.renameForm.hidden = !c.isOwner;
    this.renameLabel.textContent = t('group.name');
    this.renameButton.textContent = t('group.rename');
    if (document.activeElement !== this.nameInput) this.nameInput.value = c.title;
    this.addButton.textContent = t('group.add_members');
    this.leaveButton.textContent = t('group.leave');
    this.leaveButton.hidden = this.leaving;
    this.leaveQuestion.hidden = !this.leaving;
    this.leaveText.replaceChildren(...phrase('group.leave_confirm',
      {name: el('span', {translate: 'no', text: c.title})}));
    this.leaveYes.textContent = t('group.leave_yes');
    this.leaveNo.textContent = t('group.cancel');
    this.members.render(c.members, c.group.member_count, c.partial);
  }

  memberItem(c, {user, role}) {
    const me = user.uid === this.store.me.uid;
    const person = me ? this.store.me : user;
    const asked = c.isOwner && !me && this.confirming === user.uid;
    const remove = c.isOwner && !me && !asked ? el('button', {type: 'button', class: 'ghost remove',
      text: t('group.remove'), 'aria-label': t('group.remove_named', {name: displayName(person)}),
      onclick: () => this.askToRemove(user.uid)}) : null;
    return el('li', {class: `member${asked ? ' confirming' : ''}`, dataset: {uid: user.uid, role}},
      avatar(person, 'small'),
      el('span', {class: 'contact-main'},
        el('strong', {class: 'contact-name', translate: 'no', text: displayName(person)}),
        el('span', {class: 'username', translate: 'no', text: `@${user.username}`})),
      el('span', {class: `role role-${role}`, text: t(`group.role.${role}`)}),
      remove, asked ? this.question(person) : null);
  }

  /** Ask in the member's row before removing them (uid), or stop asking (null); the focus follows. */
  askToRemove(uid) {
    const asked = this.confirming;
    this.confirming = uid;
    this.render();
    const focus = uid === null ? `[data-uid="${asked}"] .remove` : '.confirming .cancel-remove';
    this.list.querySelector(focus)?.focus();  // Cancel first: Enter twice must not remove anyone
  }

  /** Ask before I leave (true), or stop asking (false); the focus follows: Cancel first, as for a removal. */
  askToLeave(asking) {
    this.leaving = asking;
    this.render();
    (asking ? this.leaveNo : this.leaveButton).focus();
  }

  question(person) {
    const name = el('span', {translate: 'no', text: displayName(person)});
    return el('div', {class: 'confirm', role: 'group'},
      el('p', {}, ...phrase('group.remove_confirm', {name})),
      el('button', {type: 'button', class: 'ghost confirm-remove', text: t('group.remove_yes'),
        onclick: () => {
          this.confirming = null;
          this.act((group) => this.changes.remove(group.gid, person.uid));
        }}),
      el('button', {type: 'button', class: 'ghost cancel-remove', text: t('group.cancel'),
        onclick: () => this.askToRemove(null)}));
  }

  /** Run one change of the group; the server's system message redraws the panel, a failure says so here. */
  async act(change) {
    const c = this.conversation();
    if (!c || !c.isGroup) return;
    this.error.hidden = true;
    try {
      await change(c);
    } catch (error) {
      this.error.textContent = groupErrorText(error);
      this.error.hidden = false;
    }
  }
}
