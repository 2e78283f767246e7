/** Pages: what may be done to a message on screen: recall it (撤回: my own within the server's recall window,
 * any message of a group I own) or edit it (my own, within a day). A "⋯" button beside its time opens the
 * choices; Edit turns the bubble into a box (Enter saves, Shift+Enter makes a new line, Esc cancels). The
 * server decides (a refusal is said under the message); its answer, and the event that follows in every tab
 * and device, redraw the message (chat-view.js). */
import {ApiError} from './api.js';
import {el} from './dom.js';
import {i18n, t} from './i18n.js';

const EDIT_WINDOW = 24 * 3600 * 1000;  // ms: the server's own

export class MessageActions {
  constructor({api, store, recallWindow, onChanged}) {
    this.api = api;
    this.store = store;
    this.recallWindow = (recallWindow ?? 120) * 1000;
    this.onChanged = onChanged;  // (message as it stands) -> shown
    this.key = null;
    this.open = null;  // the menu on screen
    document.addEventListener('click', (event) => this.open && !this.open.contains(event.target) && this.closeMenu());
    i18n.addEventListener('change', () => this.closeMenu());
  }

  /** Which actions a message offers me now. */
  available(message) {
    if (message.kind !== 'text' || message.recalled_by !== undefined || !message.mid) return [];
    const conversation = this.store.conversation(this.key);
    if (!conversation.canSend) return [];
    const age = Date.now() - Date.parse(message.created_at);
    const mine = message.from === this.store.me.uid;
    const actions = [];
    if ((mine && age < this.recallWindow) || conversation.isOwner) actions.push('recall');
    if (mine && age < EDIT_WINDOW) actions.push('edit');
    return actions;
  }

  /** Put the "⋯" button on a message's item (message-list.js calls this for each one it draws). */
  decorate(item, message) {
    if (!this.available(message).length) return;
    const more = el('button', {type: 'button', class: 'msg-more', 'aria-haspopup': 'menu', 'aria-label': t('message.actions'),
      title: t('message.actions'), text: '⋯', onclick: (event) => {
        event.stopPropagation();
        this.showMenu(item, message);
      }});
    item.querySelector('.meta').prepend(more);
  }

  showMenu(item, message) {
    this.closeMenu();
    const actions = this.available(message);  // again: time has passed since it was drawn
    const buttons = actions.map((action) => el('button', {type: 'button', role: 'menuitem', class: `msg-${action}`,
      text: t(`message.${action}`), onclick: () => this.run(action, item, message)}));
    if (!buttons.length) return;
    const list = item.parentElement.getBoundingClientRect();  // open towards the room there is: low down, upwards
    const up = item.getBoundingClientRect().top > list.top + list.height / 2;
    this.open = el('div', {class: `msg-menu${up ? ' up' : ''}`, role: 'menu'}, ...buttons);
    this.open.addEventListener('keydown', (event) => event.key === 'Escape' && this.closeMenu());
    item.querySelector('.bubble').append(this.open);
    buttons[0].focus();
  }

  closeMenu() {
    if (this.open) this.open.remove();
    this.open = null;
  }

  run(action, item, message) {
    this.closeMenu();
    if (action === 'edit') return this.startEdit(item, message);
    return this.attempt(item, () => this.api.recall(this.key, message.mid));
  }

  /** Turn the bubble's text into a box holding it. */
  startEdit(item, message) {
    const text = item.querySelector('.text');
    const box = el('textarea', {class: 'edit-box', rows: '2', 'aria-label': t('message.edit_label'), maxlength: '4000'});
    box.value = message.content;
    const cancel = () => form.replaceWith(text);
    const form = el('form', {class: 'edit-form'}, box,
      el('span', {class: 'edit-actions'},
        el('button', {type: 'button', class: 'ghost', text: t('message.edit_cancel'), onclick: cancel}),
        el('button', {type: 'submit', class: 'primary', text: t('message.edit_save')})));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const content = box.value.trim();
      if (!content || content === message.content) return cancel();
      this.attempt(item, () => this.api.edit(this.key, message.mid, content));
    });
    box.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') cancel();
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    text.replaceWith(form);
    box.focus();
  }

  /** Ask the server; show its answer, or why it refused, under the message. */
  async attempt(item, call) {
    item.querySelector('.msg-error')?.remove();
    try {
      this.onChanged(await call());
    } catch (error) {
      const known = error instanceof ApiError && ['too_late', 'already_recalled', 'not_your_message',
        'invalid_content'].includes(error.code);
      const note = el('p', {class: 'msg-error', role: 'alert',
        text: t(known ? `message.error.${error.code}` : 'message.error.other', {seconds: this.recallWindow / 1000})});
      item.querySelector('.bubble').append(note);
    }
  }
}
