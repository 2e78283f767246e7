/** Pages: browser notifications. While this tab is hidden, each new message from someone else brings one
 * (its conversation's name, who said what), except in a muted conversation; a click on it opens the
 * conversation. Permission is asked only when the button that offers them is clicked, never on load (a
 * browser may refuse to ask otherwise, and a question nobody asked for is a nuisance). */
import {displayName} from './dom.js';
import {i18n, t} from './i18n.js';

export class Notifications {
  constructor(button, store, onOpen) {
    this.button = button;
    this.store = store;
    this.onOpen = onOpen;
    this.supported = 'Notification' in window;
    button.addEventListener('click', () => this.ask());
    i18n.addEventListener('change', () => this.render());
    this.render();
  }

  /** Offer notifications while the browser has not been asked yet. */
  render() {
    this.button.hidden = !this.supported || Notification.permission !== 'default';
    this.button.textContent = t('notify.enable');
    this.button.title = t('notify.enable_title');
  }

  async ask() {
    try {
      await Notification.requestPermission();
    } finally {
      this.render();
    }
  }

  /** A message event: tell the person if they are not looking. */
  message(message) {
    if (!this.supported || Notification.permission !== 'granted' || document.visibilityState !== 'hidden') return;
    if (message.from === this.store.me.uid || message.kind === 'system') return;
    const key = this.store.conversationOf(message);
    const conversation = this.store.conversation(key, message);
    if (conversation.muted) return;
    const body = conversation.isGroup
      ? `${t('group.said', {name: displayName(this.store.user(message.from))})}${message.content}` : message.content;
    const note = new Notification(conversation.title, {body, tag: `imdemo-${key}`, renotify: true});
    note.onclick = () => {
      window.focus();
      this.onOpen(key);
      note.close();
    };
  }
}
