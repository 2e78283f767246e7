/** Pages: the composer: Enter sends, Shift+Enter starts a new line, the box grows with its text. A message
 * is 1 to 1,000 characters once trimmed (the server's rule, counted as it counts them: code points, so an
 * emoji is one): from 100 left the composer says how many, and past the limit it says by how much and
 * refuses to send. Nothing is cut: a long paste stays whole, for the writer to shorten. */
import {i18n, locale, t} from './i18n.js';

const MAX_HEIGHT = 160;
const LIMIT = 1000;  // characters of a message after trimming (SPEC section 4)
const SHOW_FROM = 100;  // characters left: the count appears

export class Composer {
  constructor(form, onSend) {
    this.form = form;
    this.box = form.elements.content;
    this.count = form.querySelector('.composer-count');
    this.sendButton = form.querySelector('button[type=submit]');
    this.onSend = onSend;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.box.addEventListener('keydown', (event) => {
      // isComposing: Enter that ends an IME composition (Chinese, Japanese input) must not send.
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.box.addEventListener('input', () => {
      this.fit();
      this.showCount();
    });
    i18n.addEventListener('change', () => this.showCount());
  }

  submit() {
    const text = this.box.value;
    if (!text.trim() || this.left() < 0) return;  // too long: the count says by how much
    this.box.value = '';
    this.fit();
    this.showCount();
    this.onSend(text.trim());  // the server stores the text trimmed; show it as it will be
    this.box.focus();
  }

  focus() {
    this.box.focus();
  }

  /** How many characters may still be typed; below zero, how many too many. */
  left() {
    return LIMIT - [...this.box.value.trim()].length;
  }

  /** Say what is left near the limit, and by how much it is passed; Send waits until it fits. */
  showCount() {
    const left = this.left();
    const over = left < 0;
    const n = Math.abs(left);
    const plural = new Intl.PluralRules(locale()).select(n) === 'one' ? 'one' : 'other';
    this.count.hidden = left > SHOW_FROM;
    this.count.classList.toggle('over', over);
    this.count.textContent = over
      ? t(`composer.over.${plural}`, {n: number(n), max: number(LIMIT)})
      : t(`composer.left.${plural}`, {n: number(n)});
    this.sendButton.disabled = over;
    this.box.setAttribute('aria-invalid', String(over));
  }

  /** Grow the box with its text, up to a limit (CSSOM styles are allowed by the page's CSP). */
  fit() {
    this.box.style.height = 'auto';
    this.box.style.height = `${Math.min(this.box.scrollHeight, MAX_HEIGHT)}px`;
  }
}

function number(n) {
  return new Intl.NumberFormat(locale()).format(n);
}
