/** Pages: asking the server for a group's members. A small group's come whole (GET /api/groups/<gid>): its
 * read marks say "read by k of n" of my messages. A large group's (a 万人群, read diffusion) come a page at a
 * time (GET /api/groups/<gid>/members): the first page as it opens, the next when the members panel shows
 * more, and a member not yet loaded is found by name on the server. Ten thousand members are never loaded
 * at once: that list was a megabyte, read again after each join while the group was open. */
import {groupKey} from './conversation.js';
import {noteUsers} from './store-users.js';

export const MEMBER_PAGE = 50;  // members a page: the panel's "Show more" and the first page alike
const MOST = 200;  // the server's largest page

export class GroupMembers {
  constructor(store) {
    this.store = store;
  }

  /** The members as they are now (a large group's first members, as many as were loaded: a join while the
   * panel is open does not fold it back to one page); an answer older than the newest request is dropped.
   * A group whose storage this page does not know yet is asked for a page first: the answer says. */
  async load(gid) {
    const {store} = this;
    const contact = store.contacts.get(groupKey(gid));
    if (!contact || !contact.member) return;
    const ticket = ++contact.ticket;
    let detail;
    try {
      const limit = Math.min(MOST, Math.max(MEMBER_PAGE, contact.members.length));  // as many as were shown
      detail = contact.group.storage === 'write' ? await store.api.group(gid)
        : await store.api.groupMembers(gid, {limit});
      if (detail.next && detail.group.storage !== 'read') detail = await store.api.group(gid);
    } catch (error) {
      console.warn('imdemo: could not load the group:', error.message);  // the next change asks again
      return;
    }
    const named = this.noteNames(detail.members);  // names are names, even in an answer made old
    const current = store.contacts.get(contact.key);  // a snapshot may have replaced it, keeping the ticket
    if (!current || ticket !== current.ticket) {
      if (named) this.tell(contact.key, false);  // its lines say the names
      return;
    }
    current.noteMembers(detail);
    this.tell(current.key, true);
  }

  /** A large group's next count members (a page at least), after those loaded (the panel's "Show more"). */
  async more(gid, count = MEMBER_PAGE) {
    const contact = this.store.contacts.get(groupKey(gid));
    if (!contact || !contact.next) return;
    const {ticket, next} = contact;
    let page;
    try {
      const limit = Math.min(MOST, Math.max(MEMBER_PAGE, count));
      page = await this.store.api.groupMembers(gid, {after: next, limit});
    } catch (error) {
      console.warn('imdemo: could not load more members:', error.message);
      return;
    }
    this.noteNames(page.members);
    const current = this.store.contacts.get(contact.key);
    if (!current || current.ticket !== ticket || current.next !== next) return;  // asked again meanwhile
    current.noteMoreMembers(page);
    this.tell(current.key, false);
  }

  /** The members of a group whose username or nickname holds text, as the server finds them (up to limit):
   * a large group's member past the pages loaded. */
  async find(gid, text, limit = MEMBER_PAGE) {
    const page = await this.store.api.groupMembers(gid, {q: text, limit});
    this.noteNames(page.members);
    return page.members;
  }

  noteNames(members) {
    return noteUsers(this.store, members.map((m) => m.user));
  }

  tell(key, marks) {
    this.store.dispatchEvent(new CustomEvent('conversation', {detail: key}));
    if (marks) this.store.dispatchEvent(new Event('marks'));
    this.store.changed();
  }
}
