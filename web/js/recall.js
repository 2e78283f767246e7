/** Pages: the words of a recalled message (撤回): "张三 recalled a message", or, when a group's owner recalled
 * someone else's, "王五 recalled a message from 张三". The server keeps who recalled it (recalled_by) and
 * nothing of what it said; the sentence is ours, in the page's language, the names in it are data (each its
 * own element marked translate="no"), so a switch of language re-words it. */
import {el} from './dom.js';
import {t} from './i18n.js';

/** The nodes of the sentence that stands where a recalled message was. */
export function recalledNodes(message, nameOf) {
  const by = message.recalled_by;
  const key = by === message.from ? 'message.recalled' : 'message.recalled_other';
  const data = {by: nameOf(by), name: nameOf(message.from)};
  const nodes = t(key, {by: '{by}', name: '{name}'}).split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const slot = /^\{(\w+)\}$/.exec(part);
    return slot ? el('span', {class: 'who', translate: 'no', text: data[slot[1]]}) : document.createTextNode(part);
  });
  const first = nodes[0];
  first.textContent = first.textContent.charAt(0).toUpperCase() + first.textContent.slice(1);  // "You recalled…"
  return nodes;
}

/** The sentence as plain text (a notification, a preview). */
export function recalledText(message, nameOf) {
  return recalledNodes(message, nameOf).map((node) => node.textContent).join('');
}
