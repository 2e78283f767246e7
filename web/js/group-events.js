/** Pages: the words of a group's system messages ("张三 added 王五", "李四 left"). The server sends each
 * membership change as a structured event {type, by, uids, name?}; the page says it in its own language
 * with the names it knows, so a switch of language re-words the whole history. The sentence is ours,
 * the names in it are data: each is its own element marked translate="no" (and a browser's translation
 * leaves them alone). */
import {el} from './dom.js';
import {locale, t} from './i18n.js';

const TYPES = new Set(['created', 'renamed', 'added', 'removed', 'left', 'owner']);

/** The nodes of a system message's sentence, names as elements of their own; for a type this page does
 * not know, the server's English (fallback) as data. */
export function eventNodes(event, nameOf, fallback = '') {
  if (!event || !TYPES.has(event.type)) return [el('span', {translate: 'no', text: fallback})];
  const names = new Intl.ListFormat(locale(), {type: 'conjunction'}).format(event.uids.map(nameOf));
  const data = {by: nameOf(event.by), names, name: event.name || ''};
  const key = event.type === 'created' && event.uids.length ? 'group.event.created_with' : `group.event.${event.type}`;
  const text = t(key, {by: '{by}', names: '{names}', name: '{name}'});
  const nodes = text.split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const slot = /^\{(\w+)\}$/.exec(part);
    return slot ? el('span', {class: 'who', translate: 'no', text: data[slot[1]]}) : document.createTextNode(part);
  });
  nodes[0].textContent = capitalized(nodes[0].textContent);  // "you left" starts a sentence: "You left"
  return nodes;
}

/** The sentence as plain text. */
export function eventText(event, nameOf, fallback = '') {
  return eventNodes(event, nameOf, fallback).map((node) => node.textContent).join('');
}

function capitalized(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
