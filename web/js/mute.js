/** Pages: the mute switch in the chat header: a muted conversation (消息免打扰) brings no notification, shows a
 * dot instead of its unread count and stays out of the title's count. The setting is mine, kept by the server
 * (PUT .../settings {muted}), which tells my other tabs and devices (a settings hint). */
import {i18n, t} from './i18n.js';
import {setMuted} from './store-signals.js';

export class MuteToggle {
  constructor(button, store) {
    this.button = button;
    this.store = store;
    this.key = null;
    button.addEventListener('click', () => this.toggle());
    store.addEventListener('change', () => this.render());
    i18n.addEventListener('change', () => this.render());
  }

  show(key) {
    this.key = key;
    this.render();
  }

  render() {
    if (this.key === null) return;
    const muted = Boolean(this.store.conversation(this.key).muted);
    const label = t(muted ? 'chat.unmute' : 'chat.mute');
    this.button.setAttribute('aria-pressed', String(muted));
    this.button.setAttribute('aria-label', label);
    this.button.title = label;
  }

  async toggle() {
    const key = this.key;
    try {
      await setMuted(this.store, key, !this.store.conversation(key).muted);
    } catch (error) {
      console.warn('imdemo: could not change the setting:', error.message);  // the switch shows what holds
    }
  }
}
