/** Pages: a group as a conversation (conversation.js has the keys and the 1:1 kind): its name, its members
 * and their roles, whether I am still in it, how it is stored, and how far each other member has read, for
 * the "read by k of n" of own messages. A large group (storage "read": read diffusion, SPEC section 15)
 * keeps no read marks per message for anyone to show, so its messages say nothing of who read them, and
 * sending there marks what came before as read (the server does so). A membership change is applied as an
 * event, from the sync loop's system message or, at once, from the answer to my own request (store.js); a
 * change applied twice changes nothing the second time, so the system message that follows my own request
 * doubles nothing.
 */
import {groupKey} from './conversation.js';
import {el} from './dom.js';
import {eventNodes} from './group-events.js';
import {locale, t} from './i18n.js';

/** A group: its name, its members with their roles, and how far each other member has read, for the
 * "read by k of n" of own messages (n: the other current members). */
export class GroupConversation {
  isGroup = true;
  subtitleIsData = false;  // "3 members": our words

  constructor(group, me, nameOf) {
    this.key = groupKey(group.gid);
    this.group = {...group};
    this.me = me;
    this.nameOf = nameOf;  // uid -> the name this page knows them by
    this.last_message = null;
    this.unread = 0;
    this.member = true;  // false once I left or was removed: I keep what I had, and can no longer send
    this.members = [];  // [{user, role, read_mid}] as GET /api/groups/<gid> last said, or a large group's pages
    this.next = null;  // a large group's members past those loaded: the next page's cursor (group-members.js)
    this.moved = new Map();  // uid -> in (true) or out (false), by the changes applied since it said so
    this.reads = new Map();  // uid -> read_mid of each other current member
    this.ticket = 0;  // the newest request for the members: an older answer never lands on a newer one
    this.read_mid = 0;  // how far I have read: the first unread lies after it (first-unread.js)
    this.muted = false;  // no notification, a dot for a badge, out of the title's count
    this.mentioned = false;  // someone mentioned me (or everyone) past read_mid: "[Mentioned]"
  }

  static from(entry, before, me, nameOf) {
    const conversation = new GroupConversation(entry.group, me, nameOf);
    Object.assign(conversation, {last_message: entry.last_message, unread: entry.unread, member: entry.member,
      members: before?.members || [], next: before?.next ?? null, moved: before?.moved || new Map(),
      reads: before?.reads || new Map(),
      ticket: before?.ticket || 0, read_mid: entry.read_mid || 0, muted: Boolean(entry.muted),
      mentioned: Boolean(entry.mentioned)});
    return conversation;
  }

  /** A group this tab hears of by a message before it knows it (the first message it gets from it). */
  static first(gid, message, me, nameOf) {
    const made = message?.event?.type === 'created';  // only the first system message names the group
    const group = {gid, name: made ? message.event.name : '', owner: made ? message.from : 0, member_count: 0,
      storage: ''};  // not known until its members arrive
    const conversation = new GroupConversation(group, me, nameOf);
    if (message?.event?.type === 'added') conversation.member = false;  // until this message adds me
    return conversation;
  }

  get gid() { return this.group.gid; }
  get title() { return this.group.name; }
  get subtitle() {
    const n = this.group.member_count;
    const form = new Intl.PluralRules(locale()).select(n) === 'one' ? 'one' : 'other';
    return t(`group.member_count.${form}`, {n: n.toLocaleString(locale())});  // 10,000 members
  }
  get canSend() { return this.member; }
  get isOwner() { return this.group.owner === this.me; }
  /** Stored by read diffusion: one copy for everyone, each member a cursor (SPEC section 15). */
  get large() { return this.group.storage === 'read'; }
  /** Whether my own message marks what came before it as read (the server did so as it stored it). */
  get readOnSend() { return this.large; }

  avatar(size = '') {
    return el('span', {class: `avatar group-avatar ${size} hue-${this.gid % 8}`, role: 'img',
      'aria-label': t('group.avatar'), title: t('group.avatar')});
  }

  preview(message) {
    if (message.kind === 'system') return {who: null, nodes: eventNodes(message.event, this.nameOf, message.content)};
    return {who: message.from === this.me ? 'you' : this.nameOf(message.from), text: message.content};
  }

  /** The read marks own messages show ("read by k of n"); none in a large group. */
  marks() {
    return {reads: this.large ? new Map() : this.reads};
  }

  /** The read marks of a history page: its members are the current ones. */
  notePage(page) {
    return this.setReads(Object.entries(page.read_marks || {}));
  }

  /** Whether members holds only the first pages of a large group's members. */
  get partial() { return this.next !== null; }

  /** The members as the server lists them (a large group's first page), with their roles and read marks. */
  noteMembers({group, members, next = null}) {
    this.group = {...group};
    this.members = members;
    this.next = next;
    this.moved = new Map();
    this.member = true;
    if (!this.large) this.setReads(members.map((m) => [m.user.uid, m.read_mid]));
  }

  /** A large group's next page of members, after those loaded. */
  noteMoreMembers({members, next}) {
    const present = new Set(this.members.map((m) => m.user.uid));
    this.members = [...this.members, ...members.filter((m) => !present.has(m.user.uid))];
    this.next = next;
  }

  /** Replace who the other members are; a read mark only ever moves forward. */
  setReads(pairs) {
    const reads = new Map();
    for (const [uid, mid] of pairs) {
      if (Number(uid) !== this.me) reads.set(Number(uid), Math.max(mid, this.reads.get(Number(uid)) || 0));
    }
    this.reads = reads;
    return true;
  }

  noteRead(event) {
    if (event.by === this.me || (this.reads.get(event.by) || 0) >= event.up_to) return false;
    this.reads.set(event.by, event.up_to);
    return true;
  }

  /** Whether uid is in the group as this page knows it: true, false, or null (its members not loaded). The
   * changes applied since the member list came count first: with thousands of members the list is asked for
   * again only while the group is open, and a change may come before the answer to the one before it. */
  has(uid, present = new Set(this.members.map((m) => m.user.uid))) {
    if (this.moved.has(uid)) return this.moved.get(uid);
    if (this.members.length) return present.has(uid) || (this.partial ? null : false);
    return uid === this.me ? this.member : null;
  }

  /** A membership change, applied at once (name, owner, members, read marks); the server's member list
   * follows (the store asks for it). Only who joins or goes is counted, so applying it twice (my own
   * request's answer, then its system message) counts once. */
  applyEvent(event, mid) {
    const others = event.uids.filter((uid) => uid !== this.me);
    const present = new Set(this.members.map((m) => m.user.uid));  // once: a large group has thousands
    if (event.type === 'created' || event.type === 'renamed') this.group.name = event.name;
    if (event.type === 'created') {
      for (const uid of [event.by, ...others]) if (uid !== this.me) this.reads.set(uid, mid);
      this.group.member_count = 1 + event.uids.length;
      for (const uid of [event.by, ...event.uids]) this.moved.set(uid, true);
    } else if (event.type === 'added') {
      const joining = event.uids.filter((uid) => this.has(uid, present) !== true);
      for (const uid of others) this.reads.set(uid, mid);
      for (const uid of event.uids) this.moved.set(uid, true);
      this.group.member_count += joining.length;
      if (event.uids.includes(this.me)) this.member = true;
    } else if (event.type === 'removed' || event.type === 'left') {
      const going = event.uids.filter((uid) => this.has(uid, present) !== false);
      for (const uid of event.uids) this.reads.delete(uid);
      for (const uid of event.uids) this.moved.set(uid, false);
      this.members = this.members.filter((m) => !event.uids.includes(m.user.uid));  // a removal names a few
      this.group.member_count = Math.max(0, this.group.member_count - going.length);
      if (event.uids.includes(this.me)) this.member = false;
    } else if (event.type === 'owner') {
      this.group.owner = event.uids[0];
      for (const m of this.members) m.role = m.user.uid === this.group.owner ? 'owner' : 'member';
    } else if (event.type === 'large') {  // grown past the server's threshold: read diffusion from here on
      this.group.storage = 'read';
      this.reads = new Map();
    }
  }
}
