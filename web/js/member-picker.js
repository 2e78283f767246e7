/** Pages: the member picker: a dialog that makes a group (its name and the people in it) or adds people
 * to one. It is a modal <dialog>: Tab stays inside it, Esc closes it, Enter in the name field submits,
 * and on a phone it covers the screen. People are picked from everyone the page knows (GET /api/users),
 * asked again as it opens: someone who registered since shows up in the list when the answer comes. Past the
 * first thousand users (a 万人群's seed), the filter asks the server too, and those it finds join the list. */
import {avatar, byName, displayName, el} from './dom.js';
import {GroupChanges} from './group-changes.js';
import {t} from './i18n.js';
import {SEARCH_DELAY} from './paged-list.js';
import {findUsers, loadUsers} from './store-users.js';

const KNOWN_ERRORS = new Set(['invalid_name', 'group_too_large', 'not_owner', 'not_a_member', 'no_such_user']);

/** What to tell a person when a group call failed, in their language (the server's text is English). */
export function groupErrorText(error) {
  return t(KNOWN_ERRORS.has(error.code) ? `group.error.${error.code}` : 'group.error.other');
}

export class MemberPicker {
  constructor(store) {
    this.store = store;
    this.changes = new GroupChanges(store);
    this.dialog = el('dialog', {class: 'picker', 'aria-labelledby': 'picker-title'});
    // 'close' comes a task after close(): if the dialog was opened again by then, it is not this ask's
    this.dialog.addEventListener('close', () => this.dialog.open || this.settle(null));
    document.body.append(this.dialog);
    this.resolve = null;
  }

  /** Ask for a name and members and make the group; resolve with its key, or null if cancelled. */
  createGroup() {
    return this.ask({title: t('group.create_title'), submitLabel: t('group.create'), withName: true,
      exclude: new Set(), submit: async ({name, uids}) => {
        const group = await this.store.api.createGroup(name, uids);
        return this.store.noteGroup(group);
      }});
  }

  /** Ask whom to add to a group (those in it are not offered) and add them; resolve true, or null. */
  addMembers(conversation) {
    const exclude = new Set(conversation.members.map((m) => m.user.uid));
    return this.ask({title: t('group.add_title', {name: conversation.title}), submitLabel: t('group.add'),
      withName: false, exclude, submit: async ({uids}) => {
        await this.changes.add(conversation.gid, uids);
        return true;
      }});
  }

  ask({title, submitLabel, withName, exclude, submit}) {
    this.settle(null);
    const people = this.people(exclude);
    const error = el('p', {class: 'form-error', role: 'alert', hidden: true});
    const name = withName ? el('input', {name: 'name', maxlength: '64', autocomplete: 'off', required: true}) : null;
    const filter = el('input', {type: 'search', class: 'picker-filter', placeholder: t('group.filter'),
      'aria-label': t('group.filter')});
    const list = el('ul', {class: 'picker-list'}, ...people.map((user) => personItem(user)));
    const nobody = el('p', {class: 'empty', text: t('group.nobody'), hidden: people.length > 0});
    const form = el('form', {class: 'picker-form', novalidate: true},
      el('h2', {id: 'picker-title', text: title}),
      name ? el('label', {class: 'picker-name'}, t('group.name'), name) : null,
      el('fieldset', {}, el('legend', {text: t('group.pick')}), filter, list,
        nobody),
      error,
      el('div', {class: 'picker-actions'},
        el('button', {type: 'button', class: 'ghost', text: t('group.cancel'), onclick: () => this.dialog.close()}),
        el('button', {type: 'submit', class: 'primary', text: submitLabel})));
    let timer = 0;
    filter.addEventListener('input', () => {
      filterList(list, filter.value);
      clearTimeout(timer);
      const text = filter.value.trim();
      if (!text || this.store.usersTotal <= this.store.users.size) return;  // everyone is listed already
      timer = setTimeout(() => findUsers(this.store, text).then(() => {  // past the first thousand: the server's
        if (this.dialog.contains(list)) this.addNewPeople(list, nobody, exclude, filter.value);
      }, () => {}), SEARCH_DELAY);
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit(form, name, error, submit);
    });
    this.dialog.replaceChildren(form);
    this.dialog.showModal();
    (name || filter).focus();
    loadUsers(this.store).then(() => {  // the list may be stale: add whoever is new, in their place
      if (this.dialog.contains(list)) this.addNewPeople(list, nobody, exclude, filter.value);
    }, () => {});
    return new Promise((resolve) => { this.resolve = resolve; });
  }

  /** Everyone this page knows but those excluded, by name. */
  people(exclude) {
    return [...this.store.users.values()].filter((user) => !exclude.has(user.uid)).sort(byName);
  }

  /** Put the people not listed yet into the open list, in name order; what is picked and focused stays. */
  addNewPeople(list, nobody, exclude, filter) {
    const shown = new Map([...list.children].map((item) => [Number(item.dataset.uid), item]));  // once: thousands
    let next = null;
    for (const user of this.people(exclude).reverse()) {
      next = shown.get(user.uid) || list.insertBefore(personItem(user), next);
    }
    nobody.hidden = list.children.length > 0;
    filterList(list, filter);
  }

  async submit(form, name, error, submit) {
    const uids = [...form.querySelectorAll('input[type=checkbox]:checked')].map((box) => Number(box.value));
    const problem = name && !name.value.trim() ? 'group.error.no_name' : !uids.length ? 'group.error.no_one' : null;
    if (problem) return showError(error, t(problem));
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      this.settle(await submit({name: name ? name.value.trim() : '', uids}));
      this.dialog.close();
    } catch (failure) {
      showError(error, groupErrorText(failure));
    } finally {
      button.disabled = false;
    }
  }

  settle(value) {
    const resolve = this.resolve;
    this.resolve = null;
    if (resolve) resolve(value);
  }
}

function personItem(user) {
  return el('li', {dataset: {uid: user.uid, name: `${displayName(user)} ${user.username}`.toLowerCase()}},
    el('label', {class: 'picker-person'},
      el('input', {type: 'checkbox', value: String(user.uid)}),
      avatar(user, 'small'),
      el('span', {class: 'contact-main'},
        el('strong', {class: 'contact-name', translate: 'no', text: displayName(user)}),
        el('span', {class: 'username', translate: 'no', text: `@${user.username}`}))));
}

function filterList(list, text) {
  const wanted = text.trim().toLowerCase();
  for (const item of list.children) item.hidden = Boolean(wanted) && !item.dataset.name.includes(wanted);
}

function showError(node, text) {
  node.textContent = text;
  node.hidden = false;
}
