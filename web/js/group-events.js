/** Pages: the words of a group's system messages ("张三 added 王五", "李四 left"). The server sends each
 * membership change as a structured event {type, by, uids, name?}; the page says it in its own language
 * with the names it knows, so a switch of language re-words the whole history. */
import {locale, t} from './i18n.js';

const TYPES = new Set(['created', 'renamed', 'added', 'removed', 'left', 'owner']);

/** The sentence of a system message's event; fallback (the server's English) for a type we do not know. */
export function eventText(event, nameOf, fallback = '') {
  if (!event || !TYPES.has(event.type)) return fallback;
  const names = new Intl.ListFormat(locale(), {type: 'conjunction'}).format(event.uids.map(nameOf));
  const text = t(`group.event.${event.type}`, {by: nameOf(event.by), names, name: event.name || ''});
  return text.charAt(0).toUpperCase() + text.slice(1);  // "you left" starts a sentence: "You left"
}
