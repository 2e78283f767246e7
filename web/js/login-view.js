/** Pages: the login view: log in or register, with a clear message on the page when it fails. */
import {ApiError, NetworkError} from './api.js';
import {$} from './dom.js';

const MESSAGES = {
  bad_credentials: 'Wrong username or password.',
  too_many_attempts: 'Too many attempts. Wait a minute, then try again.',
  username_taken: 'That username is taken. Choose another one.',
};

export class LoginView {
  constructor(root, api, onLoggedIn) {
    this.root = root;
    this.api = api;
    this.onLoggedIn = onLoggedIn;
    this.form = $('form', root);
    this.error = $('.form-error', root);
    this.note = $('.form-note', root);
    this.submitButton = $('button[type=submit]', root);
    this.mode = 'login';
    for (const tab of root.querySelectorAll('[data-mode]')) {
      tab.addEventListener('click', () => this.setMode(tab.dataset.mode));
    }
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  show(note = '') {
    this.root.hidden = false;
    this.form.elements.password.value = '';
    this.say(this.note, note);
    this.say(this.error, '');
    this.form.elements.username.focus();
  }

  hide() {
    this.root.hidden = true;
  }

  setMode(mode) {
    this.mode = mode;
    for (const tab of this.root.querySelectorAll('[data-mode]')) {
      tab.setAttribute('aria-selected', String(tab.dataset.mode === mode));
    }
    $('[data-only=register]', this.root).hidden = mode !== 'register';
    this.form.elements.password.autocomplete = mode === 'register' ? 'new-password' : 'current-password';
    this.submitButton.textContent = mode === 'register' ? 'Create account' : 'Log in';
    this.say(this.error, '');
  }

  async submit() {
    const {username, password, nickname} = this.form.elements;
    const name = username.value.trim().toLowerCase();
    this.say(this.error, '');
    this.say(this.note, '');
    this.submitButton.disabled = true;
    try {
      if (this.mode === 'register') await this.api.register(name, password.value, nickname.value.trim());
      const user = await this.api.login(name, password.value);
      this.onLoggedIn(user);
    } catch (error) {
      this.say(this.error, explain(error));
      password.select();
    } finally {
      this.submitButton.disabled = false;
    }
  }

  say(node, text) {
    node.textContent = text;
    node.hidden = !text;
  }
}

function explain(error) {
  if (error instanceof NetworkError) return 'The server cannot be reached. Is it running?';
  if (error instanceof ApiError) return MESSAGES[error.code] || error.message;
  return `Something went wrong: ${error.message}`;
}
