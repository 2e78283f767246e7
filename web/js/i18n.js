/** Pages: the languages. Every string a person reads comes from one table per language (lang/en.js,
 * lang/zh.js); none is written inline. The browser's language chooses (zh, zh-CN, zh-TW read Chinese)
 * until the visible switch chooses, which is remembered in localStorage.
 *
 *   t(key, params)     the string of key in the chosen language, with {name} filled from params
 *   translate(root)    fill the elements under root that name a key: data-i18n (their text),
 *                      data-i18n-placeholder, data-i18n-title, data-i18n-aria-label (those attributes)
 *   setLanguage(code)  choose, remember, translate the page and tell every view ('change' on i18n),
 *                      so it re-renders without a reload
 *   locale()           the BCP 47 locale of the chosen language, for Intl (times and dates)
 */
import en from './lang/en.js';
import zh from './lang/zh.js';

export const TABLES = {en, zh};
export const LANGUAGES = [{code: 'en', name: 'English', locale: 'en'}, {code: 'zh', name: '中文', locale: 'zh-CN'}];
const CHOICE_KEY = 'imdemo.lang';
const ATTRIBUTES = {i18nPlaceholder: 'placeholder', i18nTitle: 'title', i18nAriaLabel: 'aria-label'};

/** Tell every view that the language changed: i18n.addEventListener('change', render). */
export const i18n = new EventTarget();

/** The language a browser asks for first among those we have: Chinese for any zh tag, else English. */
export function browserLanguage(tags = navigator.languages || [navigator.language]) {
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
  return LANGUAGES.find((l) => l.code === current).locale;
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
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const [data, attribute] of Object.entries(ATTRIBUTES)) {
    const selector = `[data-${data.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const node of root.querySelectorAll(selector)) node.setAttribute(attribute, t(node.dataset[data]));
  }
}
