/** Pages: the login view: log in or register, with a clear message on the page when it fails. */
import {ApiError, NetworkError} from './api.js';
import {$} from './dom.js';
import {i18n, t} from './i18n.js';

// The refusals a person can meet on this form, each explained in their language (the server's own
// message, in English, is the fallback for anything else).
const EXPLAINED = ['bad_credentials', 'too_many_attempts', 'username_taken', 'invalid_username',
  'invalid_password', 'invalid_nickname', 'unavailable'];

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
    this.noteKey = '';  // what the note and the error say, kept to say it again in another language
    this.failure = null;
    for (const tab of root.querySelectorAll('[data-mode]')) {
      tab.addEventListener('click', () => this.setMode(tab.dataset.mode));
    }
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.relabel();
    i18n.addEventListener('change', () => this.relabel());
  }

  /** Show the form, with a note (a key of the language tables) such as 'login.note.logged_out'. */
  show(noteKey = '') {
    this.root.hidden = false;
    this.form.elements.password.value = '';
    this.noteKey = noteKey;
    this.failure = null;
    this.relabel();
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
    this.failure = null;
    this.relabel();
  }

  /** Write what the form says itself in the chosen language: the submit button, the note, the error. */
  relabel() {
    this.submitButton.textContent = t(this.mode === 'register' ? 'login.submit.register' : 'login.submit.login');
    this.say(this.note, this.noteKey ? t(this.noteKey) : '');
    this.say(this.error, this.failure ? explain(this.failure) : '');
  }

  async submit() {
    const {username, password, nickname} = this.form.elements;
    const name = username.value.trim().toLowerCase();
    this.noteKey = '';
    this.failure = null;
    this.relabel();
    this.submitButton.disabled = true;
    try {
      if (this.mode === 'register') await this.api.register(name, password.value, nickname.value.trim());
      const user = await this.api.login(name, password.value);
      this.onLoggedIn(user);
    } catch (error) {
      this.failure = error;
      this.relabel();
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
  if (error instanceof NetworkError) return t('login.error.unreachable');
  if (error instanceof ApiError) {
    return EXPLAINED.includes(error.code) ? t(`login.error.${error.code}`) : t('login.error.refused', {message: error.message});
  }
  return t('login.error.other', {message: error.message});
}
