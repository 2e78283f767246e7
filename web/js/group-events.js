/** Pages: the words of a group's system messages ("张三 added 王五", "李四 left"). The server sends each
 * membership change as a structured event {type, by, uids, name?}; the page says it in its own language
 * with the names it knows, so a switch of language re-words the whole history. The sentence is ours,
 * the names in it are data: each is its own element marked translate="no" (and a browser's translation
 * leaves them alone). A line names at most a few people: a large group's creation names thousands. */
import {el} from './dom.js';
import {locale, t} from './i18n.js';

const TYPES = new Set(['created', 'renamed', 'added', 'removed', 'left', 'owner', 'large']);
const SHOWN = 10;  // names a line says at most: a large group's creation names thousands ("... and 9,990 others")

/** The nodes of a system message's sentence, names as elements of their own; for a type this page does
 * not know, the server's English (fallback) as data. */
export function eventNodes(event, nameOf, fallback = '') {
  if (!event || !TYPES.has(event.type)) return [el('span', {translate: 'no', text: fallback})];
  const who = (text) => el('span', {class: 'who', translate: 'no', text});
  const slots = {by: () => [who(nameOf(event.by))], name: () => [who(event.name || '')],
    names: () => namesNodes(event.uids, nameOf, who), n: () => [document.createTextNode(count(event.size))]};
  const key = event.type === 'created' && event.uids.length ? 'group.event.created_with' : `group.event.${event.type}`;
  const text = t(key, Object.fromEntries(Object.keys(slots).map((slot) => [slot, `{${slot}}`])));
  const nodes = text.split(/(\{\w+\})/).filter(Boolean).flatMap((part) => {
    const slot = /^\{(\w+)\}$/.exec(part);
    return slot && slot[1] in slots ? slots[slot[1]]() : [document.createTextNode(part)];
  });
  nodes[0].textContent = capitalized(nodes[0].textContent);  // "you left" starts a sentence: "You left"
  return nodes;
}

/** "Bob, Carol and Dave" as one name element; past SHOWN names, the first SHOWN and the rest as a count in
 * our words ("Bob, Carol, ... and 250 others"). */
function namesNodes(uids, nameOf, who) {
  if (uids.length <= SHOWN) return [who(new Intl.ListFormat(locale(), {type: 'conjunction'}).format(uids.map(nameOf)))];
  const names = new Intl.ListFormat(locale(), {type: 'conjunction', style: 'narrow'})  // "A, B, C": no "and"
    .format(uids.slice(0, SHOWN).map(nameOf));
  return t('group.event.names_more', {names: '{names}', n: count(uids.length - SHOWN)}).split(/(\{names\})/)
    .filter(Boolean).map((part) => (part === '{names}' ? who(names) : document.createTextNode(part)));
}

function count(n) {
  return Number(n || 0).toLocaleString(locale());
}

/** The sentence as plain text. */
export function eventText(event, nameOf, fallback = '') {
  return eventNodes(event, nameOf, fallback).map((node) => node.textContent).join('');
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
