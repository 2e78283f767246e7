/** Pages: everyone this page knows by name (but me): from GET /api/users, the recent contacts and a group's
 * members, as the server names them. Its version moves only when someone is new or renamed, so what lists
 * them ("All contacts", contacts-view.js) sorts them again only then: with a 万人群 the page knows ten
 * thousand people, and a message must not cost a sort of them all. */
export class People {
  constructor() {
    this.byUid = new Map();  // uid -> user
    this.version = 0;
  }

  has(uid) {
    return this.byUid.has(uid);
  }

  /** The user of uid, or a stand-in named after the uid until the page learns them. */
  get(uid) {
    return this.byUid.get(uid) || {uid, username: `user${uid}`, nickname: '', avatar: ''};
  }

  get size() {
    return this.byUid.size;
  }

  values() {
    return this.byUid.values();
  }

  /** Know a user as the server names them; true if they are new or renamed. */
  note(user) {
    const known = this.byUid.get(user.uid);
    this.byUid.set(user.uid, user);
    if (known && ['username', 'nickname', 'avatar'].every((field) => known[field] === user[field])) return false;
    this.version += 1;
    return true;
  }
}
