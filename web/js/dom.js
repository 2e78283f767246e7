/** Pages: small DOM helpers. User text goes in through text nodes only, never innerHTML. Times and
 * dates are written in the chosen language (i18n.js: locale()). */
import {locale, t} from './i18n.js';

/** Build an element: el('li', {class: 'x', text: 'hi', onclick: f}, child, 'more text'). */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** Data shown as it is in every language (a seq, a frame type, a close code, an id): a <code>, which the
 * language walk and a browser's own translation leave alone. */
export function code(value) {
  return el('code', {text: String(value)});
}

/** The string of key as nodes to append: each param that is a node (code(seq), a <time>) stands in its
 * {slot} as it is, so the words around it come from the table and the data stays marked as data. */
export function phrase(key, params = {}) {
  const slots = Object.fromEntries(Object.keys(params).map((name) => [name, `{${name}}`]));
  return t(key, slots).split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (!name || !(name in params)) return part;
    return params[name] instanceof Node ? params[name] : String(params[name]);
  });
}

/** Find one element under root, or fail loudly: a missing element is a bug in index.html. */
export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`missing element ${selector}`);
  return found;
}

export function displayName(user) {
  return user.nickname || user.username;
}

/** An avatar: the user's picture, or the first letter of the name in a circle of a steady colour. */
export function avatar(user, size = '') {
  const classes = `avatar ${size} hue-${Math.abs(Number(user.uid) || 0) % 8}`;
  if (user.avatar) return el('img', {class: classes, src: user.avatar, alt: ''});
  const initial = Array.from(displayName(user).trim())[0] || '?';
  return el('span', {class: classes, 'aria-hidden': 'true', translate: 'no', text: initial.toUpperCase()});
}

const FORMATS = {
  clock: {hour: 'numeric', minute: '2-digit'},
  weekday: {weekday: 'short'},
  day: {month: 'short', day: 'numeric'},
  fullDay: {weekday: 'long', month: 'long', day: 'numeric'},
};
const formatters = new Map();  // "locale format" -> Intl.DateTimeFormat: building one is slow

function format(name, when) {
  const key = `${locale()} ${name}`;
  if (!formatters.has(key)) formatters.set(key, new Intl.DateTimeFormat(locale(), FORMATS[name]));
  return formatters.get(key).format(when);
}

const collators = new Map();  // locale -> Intl.Collator: localeCompare(b, locale) builds one per call, which
// sorting ten thousand people (a 万人群's members) turns into seconds

/** Compare two users by the name shown, in the chosen language's order (in Chinese: by pinyin). */
export function byName(a, b) {
  if (!collators.has(locale())) collators.set(locale(), new Intl.Collator(locale(), {numeric: true}));  // 2 < 10
  return collators.get(locale()).compare(displayName(a), displayName(b));
}

/** A message time for the contacts list: the clock today, the weekday this week, else the date. */
export function shortTime(iso) {
  const when = new Date(iso);
  const age = Date.now() - when.getTime();
  if (sameDay(when, new Date())) return format('clock', when);
  if (age < 6 * 24 * 3600 * 1000) return format('weekday', when);
  return format('day', when);
}

export function clockTime(iso) {
  return format('clock', new Date(iso));
}

/** A day heading in a conversation: "Today", "Yesterday" or the date. */
export function dayLabel(iso) {
  const when = new Date(iso);
  const yesterday = new Date(Date.now() - 24 * 3600 * 1000);
  if (sameDay(when, new Date())) return t('day.today');
  if (sameDay(when, yesterday)) return t('day.yesterday');
  return format('fullDay', when);
}

export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A fresh id for one composed message, so a retried send is stored once (randomUUID needs https). */
export function newClientMsgId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
