/** Pages: everyone the store knows (store.users, people.js), from GET /api/users: the first thousand and how
 * many there are (store.usersTotal), and past them those a search finds (a 万人群's seed makes ten thousand).
 * A 1:1 contact's user follows what the server says of them. */
import {userKey} from './conversation.js';

const FOUND = 200;  // the most users a search shows

/** Read everyone: at start, and again whenever the list may be stale (app.js says when); tell the views only
 * if someone is new or renamed, or the count moved. */
export async function loadUsers(store) {
  const {users, total} = await store.api.users();
  const moved = noteUsers(store, users) || total !== store.usersTotal;
  store.usersTotal = total;
  if (moved) store.changed();
}

/** The users whose username or nickname holds text, as the server finds them: those past the first thousand
 * too (the searches of All contacts and of the member picker). */
export async function findUsers(store, text) {
  const {users} = await store.api.users({q: text, limit: FOUND});
  if (noteUsers(store, users)) store.changed();
  return users;
}

/** Know users as the server names them (never me); true if any is new or renamed. */
export function noteUsers(store, users) {
  let moved = false;
  for (const user of users) {
    if (user.uid === store.me.uid) continue;
    moved = store.users.note(user) || moved;
    const contact = store.contacts.get(userKey(user.uid));
    if (contact) contact.user = user;
  }
  return moved;
}
