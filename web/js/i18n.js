/** Pages: the languages. Every string a person reads comes from one table per language (lang/en.js,
 * lang/zh.js); none is written inline. The browser's language chooses (zh, zh-CN, zh-TW read Chinese)
 * until the visible switch chooses, which is remembered in localStorage.
 *
 *   t(key, params)     the string of key in the chosen language, with {name} filled from params
 *   translate(root)    fill the elements under root that name a key: data-i18n (their text; children
 *                      marked data-slot="name" stay, at {name}), and data-i18n-<attribute> (that
 *                      attribute: data-i18n-placeholder, data-i18n-title, data-i18n-aria-label, ...)
 *   setLanguage(code)  choose, remember, translate the page and tell every view ('change' on i18n),
 *                      so it re-renders without a reload
 *   locale()           the BCP 47 locale of the chosen language, for Intl (times and dates)
 *
 * What is not ours to translate (names, message text, SQL) carries translate="no", as HTML means it:
 * the tests' language walk, and a browser's own translation, leave it alone. So does a <time> (written by
 * Intl) and a <code>: the protocol's data (seqs, frame types, close codes and reasons, ids), which
 * dom.js's phrase(key, {seq: code(3)}) puts in the {slots} of a string of the tables.
 */
import en from './lang/en.js';
import zh from './lang/zh.js';

export const TABLES = {en, zh};
// Each language's name is written in that language, whichever is chosen: a reader finds their own.
// regional: a browser asking for en-GB or en-US gets its own region's clock; Chinese follows zh-CN,
// the script of the table (a zh-TW browser would otherwise mix traditional dates into simplified text).
export const LANGUAGES = [{code: 'en', name: 'English', locale: 'en', regional: true},
  {code: 'zh', name: '中文', locale: 'zh-CN', regional: false}];
const CHOICE_KEY = 'imdemo.lang';
const ATTRIBUTE_PREFIX = 'data-i18n-';

/** Tell every view that the language changed: i18n.addEventListener('change', render). */
export const i18n = new EventTarget();

function browserTags() {
  return navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
}

/** The language a browser asks for first among those we have: Chinese for any zh tag, else English. */
export function browserLanguage(tags = browserTags()) {
  for (const tag of tags) {
    const code = String(tag).toLowerCase().split('-')[0];
    if (code in TABLES) return code;
  }
  return 'en';
}

function chosen() {
  try {
    const saved = localStorage.getItem(CHOICE_KEY);
    if (saved in TABLES) return saved;
  } catch {
    // storage refused (a privacy setting): the browser's language it is
  }
  return browserLanguage();
}

let current = chosen();

export function language() {
  return current;
}

export function locale() {
  const chosenLanguage = LANGUAGES.find((l) => l.code === current);
  const own = chosenLanguage.regional && browserTags().find((tag) => browserLanguage([tag]) === current);
  return own || chosenLanguage.locale;
}

export function setLanguage(code) {
  if (!(code in TABLES) || code === current) return;
  current = code;
  try {
    localStorage.setItem(CHOICE_KEY, code);
  } catch {
    // not remembered, but still switched for this page
  }
  translate(document);
  i18n.dispatchEvent(new Event('change'));
}

/** The string of key in the chosen language. A table entry is a string with {name} slots, or a
 * function of params (for plurals). A key missing from the table is a bug: it shows as the key. */
export function t(key, params = {}) {
  const entry = TABLES[current][key];
  if (entry === undefined) {
    console.error(`imdemo: no string for ${key} in ${current}`);
    return key;
  }
  if (typeof entry === 'function') return entry(params);
  return entry.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Fill every element under root that names a key, and the document's own language. */
export function translate(root = document) {
  document.documentElement.lang = locale();
  for (const node of root.querySelectorAll('[data-i18n]')) fill(node, node.dataset.i18n);
  for (const node of root.querySelectorAll('*')) {
    for (const {name, value} of [...node.attributes]) {
      if (name.startsWith(ATTRIBUTE_PREFIX)) node.setAttribute(name.slice(ATTRIBUTE_PREFIX.length), t(value));
    }
  }
}

/** Put the string of key in node; its children marked data-slot="name" are kept, each at its {name}
 * (so "Demo accounts: {user1}, ..." keeps the account names bold in any word order). */
function fill(node, key) {
  const slots = new Map([...node.querySelectorAll(':scope > [data-slot]')].map((s) => [s.dataset.slot, s]));
  if (!slots.size) {
    node.textContent = t(key);
    return;
  }
  const text = t(key, Object.fromEntries([...slots.keys()].map((name) => [name, `{${name}}`])));
  node.replaceChildren(...text.split(/(\{\w+\})/).filter(Boolean)
    .map((part) => slots.get(part.slice(1, -1)) || document.createTextNode(part)));
}
