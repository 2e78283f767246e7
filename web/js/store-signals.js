/** Pages: what signals do to the store (store.js): a recall or an edit changes the message it names where
 * the store keeps it (a contact's last message), a settings hint mutes a conversation, a message that
 * mentions me marks its group until I read it, and the count the title shows leaves muted conversations
 * out. Unread counts themselves move by the server's hints: a recall that dropped a badge sends one (in a
 * large group the counts are read again). */
import {keyOf} from './conversation.js';

/** {type: 'recalled', conversation, mid, by}: the last message of that conversation, if it is the one. A
 * large group's recall (by gseq) comes with no unread hint, since no counter moved for it (SPEC 15's formula
 * does the drop): while its badge shows, the counts are read again. */
export function applyRecalled(store, {conversation, mid, by, gseq}) {
  const contact = store.contacts.get(conversation);
  if (!contact) return;
  if (contact.last_message?.mid === mid) contact.last_message = {...contact.last_message, content: '', recalled_by: by};
  const uncounted = gseq !== undefined && contact.unread > 0;
  if (contact.mentioned || uncounted) store.refresh();  // that message may have been the mention or unread
  store.changed();
}

/** {type: 'edited', message}: the message as it stands now, if it is a contact's last one. */
export function applyEdited(store, message) {
  const contact = store.contacts.get(keyOf(message, store.me.uid));
  if (contact?.last_message?.mid !== message.mid) return;
  contact.last_message = message;
  store.changed();
}

/** {type: 'settings', conversation, muted}: muted in another tab or device of mine. */
export function applySettings(store, {conversation, muted}) {
  const contact = store.contacts.get(conversation);
  if (!contact || contact.muted === muted) return;
  contact.muted = muted;
  store.changed();
}

/** Whether a message mentions me: by my uid, or everyone (not my own @all). */
export function mentionsMe(message, me) {
  const named = message.mentions;
  return message.from !== me && (named === 'all' || (Array.isArray(named) && named.includes(me)));
}

/** The total the page shows (title, header): unread of conversations that are not muted. */
export function shownTotal(store) {
  let muted = 0;
  for (const contact of store.contacts.values()) if (contact.muted) muted += contact.unread;
  return Math.max(0, store.total - muted);
}

/** Mute or unmute a conversation: at once on this page, then on the server (which tells my other tabs). */
export async function setMuted(store, key, muted) {
  const contact = store.conversation(key);
  const before = contact.muted;
  contact.muted = muted;
  store.changed();
  try {
    await store.api.setMuted(key, muted);
  } catch (error) {
    contact.muted = before;  // not saved: show what the server has
    store.changed();
    throw error;
  }
}
