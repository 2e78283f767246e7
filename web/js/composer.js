/** Pages: the composer: Enter sends, Shift+Enter starts a new line, the box grows with its text. */

const MAX_HEIGHT = 160;

export class Composer {
  constructor(form, onSend) {
    this.form = form;
    this.box = form.elements.content;
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
    this.box.addEventListener('input', () => this.fit());
  }

  submit() {
    const text = this.box.value;
    if (!text.trim()) return;
    this.box.value = '';
    this.fit();
    this.onSend(text.trim());  // the server stores the text trimmed; show it as it will be
    this.box.focus();
  }

  focus() {
    this.box.focus();
  }

  /** Grow the box with its text, up to a limit (CSSOM styles are allowed by the page's CSP). */
  fit() {
    this.box.style.height = 'auto';
    this.box.style.height = `${Math.min(this.box.scrollHeight, MAX_HEIGHT)}px`;
  }
}
