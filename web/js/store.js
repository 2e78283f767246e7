/** Pages: what the views show, in one store: recent contacts (1:1 conversations and groups, each a
 * conversation named by its key, u<uid> or g<gid>: conversation.js) with their last message and unread
 * count, the total, everyone, and how far each partner or member has received and read. The sync loop's
 * events change it; it tells the views with 'change' (contacts and counts), 'marks' (receipts) and
 * 'conversation' (a group's name or members changed; detail: its key) events.
 *
 * Counts move by events, and a snapshot from GET /api/contacts replaces them at start and after each
 * reconnect. A snapshot may already include messages whose events arrive after it; since mids within
 * a conversation grow in commit order, a message at or below the snapshot's last mid of its
 * conversation is already counted and is skipped. Unread hints only ever lower a count (a read in
 * another tab): increases come from the message events themselves, which no hint can double. A group's
 * system messages (membership changes) are never unread; each one moves the group at once and asks the
 * server for its member list again.
 */
import {UserConversation, groupKey, keyNamed, keyOf, userKey} from './conversation.js';
import {displayName} from './dom.js';
import {GroupConversation} from './group-conversation.js';
import {GroupMembers} from './group-members.js';
import {t} from './i18n.js';
import {applyEdited, applyRecalled, applySettings, mentionsMe} from './store-signals.js';
import {loadUsers} from './store-users.js';
import {People} from './people.js';

export class Store extends EventTarget {
  constructor(api, me) {
    super();
    this.api = api;
    this.me = me;
    this.contacts = new Map();  // key -> UserConversation or GroupConversation
    this.users = new People();  // everyone but me
    this.usersTotal = 0;  // how many there are: more than users holds past the first thousand (store-users.js)
    this.groupMembers = new GroupMembers(this);  // asks the server for a group's members
    this.total = 0;
    this.openKey = null;  // the conversation on screen, whose messages are read as they arrive
    this.nameOf = (uid) => (uid === me.uid ? t('group.you') : displayName(this.user(uid)));
    this.replay = null;  // events applied while a snapshot is on its way, applied again on top of it
    this.refreshing = null;  // the last snapshot asked for
    this.groupsSeq = {};  // the snapshot's newest gseq of each large group: where the sync loop starts them
  }

  /** Load everyone and the recent contacts. */
  async load() {
    await Promise.all([loadUsers(this), this.refresh()]);
  }

  /** Replace previews and counts with the server's snapshot; keep what arrived while it was on its way.
   * Refreshes run one after another, so an older snapshot never lands on top of a newer one. */
  refresh() {
    this.refreshing = (this.refreshing || Promise.resolve()).catch(() => {}).then(() => this.takeSnapshot());
    return this.refreshing;
  }

  async takeSnapshot() {
    const replay = [];
    this.replay = replay;
    let snapshot;
    try {
      snapshot = await this.api.contacts();
    } finally {
      if (this.replay === replay) this.replay = null;
    }
    const before = this.contacts;
    this.contacts = new Map();
    this.total = snapshot.total_unread;
    this.groupsSeq = snapshot.groups_seq || {};
    for (const entry of snapshot.contacts) {
      const contact = entry.group
        ? GroupConversation.from(entry, before.get(groupKey(entry.group.gid)), this.me.uid, this.nameOf)
        : UserConversation.from(entry, before.get(userKey(entry.user.uid)));
      this.contacts.set(contact.key, contact);
      if (entry.user) this.users.note(entry.user);
    }
    for (const event of replay) this.apply(event);
    this.changed();
    this.dispatchEvent(new Event('marks'));
    const open = this.contacts.get(this.openKey);
    if (open && open.unread && this.isReading(this.openKey)) this.markRead(this.openKey, open.last_message.mid);
    if (open && open.isGroup) this.loadGroup(open.gid);  // read hints sent while we were away are lost
  }

  /** Apply one sync event. */
  apply(event) {
    if (this.replay) this.replay.push(event);
    if (event.type === 'message') this.applyMessage(event.message);
    else if (event.type === 'read') this.applyRead(event);
    else if (event.type === 'delivered') this.notePeer(userKey(event.to), {delivered: event.up_to});
    else if (event.type === 'unread') this.applyUnread(event.conversation);
    else if (event.type === 'recalled') applyRecalled(this, event);
    else if (event.type === 'edited') applyEdited(this, event.message);
    else if (event.type === 'settings') applySettings(this, event);
  }

  applyMessage(message) {
    const key = this.conversationOf(message);
    const contact = this.conversation(key, message);
    if (contact.last_message && message.mid <= contact.last_message.mid) return;
    contact.last_message = message;
    if (message.kind === 'system') this.applySystem(contact, message);
    else if (message.from !== this.me.uid && !this.isReading(key) && message.recalled_by === undefined) {
      contact.unread += 1;
      this.total += 1;
      if (mentionsMe(message, this.me.uid)) contact.mentioned = true;
    } else if (message.from === this.me.uid && contact.readOnSend) {
      this.clearUnread(key);  // a large group: my message marked what came before it read (the server's)
    }
    this.changed();
  }

  /** A membership change of a group: applied at once, then the member list asked for again (a large
   * group's only while it is open: it lists thousands, and opening it asks anyway). Removed, I keep the
   * group and what I had, its unread count drops to 0 (as on the server) and I stop asking. */
  applySystem(contact, message) {
    this.applyChange(contact, message.event, message.mid);
    if (contact.member && (!contact.large || contact.key === this.openKey)) this.loadGroup(contact.gid);
  }

  /** A change I made to a group, from the server's answer, before its system message comes (a poll may be
   * seconds away): the same event, which the message then applies again to no effect (group-conversation.js). */
  applyOwnChange(key, event) {
    const contact = this.contacts.get(key);
    if (!contact || !contact.isGroup) return;
    contact.ticket += 1;  // a member list asked for before the change must not land after it
    this.applyChange(contact, {by: this.me.uid, uids: [], ...event});
    this.changed();
  }

  applyChange(contact, event, mid) {
    contact.applyEvent(event, mid);
    if (!contact.member) this.clearUnread(contact.key);
    this.dispatchEvent(new CustomEvent('conversation', {detail: contact.key}));
    this.dispatchEvent(new Event('marks'));
  }

  /** Ask for a group's members (roles, read marks; a large group's first page): group-members.js. */
  loadGroup(gid) {
    return this.groupMembers.load(gid);
  }

  /** A group I just made: known before its first message arrives, so the chat view can open it. */
  noteGroup(group) {
    const key = groupKey(group.gid);
    if (!this.contacts.has(key)) this.contacts.set(key, new GroupConversation(group, this.me.uid, this.nameOf));
    return key;
  }

  applyRead(event) {
    const contact = this.contacts.get(keyNamed(event));
    if (contact && contact.noteRead(event, this.me.uid)) this.dispatchEvent(new Event('marks'));
  }

  applyUnread(conversation) {
    const contact = conversation && this.contacts.get(keyNamed(conversation));
    if (!contact || conversation.unread >= contact.unread) return;
    this.total = Math.max(0, this.total - (contact.unread - conversation.unread));
    contact.unread = conversation.unread;
    this.changed();
  }

  /** Record how far a 1:1 partner has received (delivered) or read (read implies delivered). */
  notePeer(key, marks) {
    const contact = this.contacts.get(key);
    if (contact && contact.notePeer(marks)) this.dispatchEvent(new Event('marks'));
  }

  /** The receipts a history page carries: the partner's read mark, or each member's. */
  notePage(key, page) {
    const contact = this.contacts.get(key);
    if (contact && contact.notePage(page)) this.dispatchEvent(new Event('marks'));
  }

  marks(key) {
    return this.contacts.get(key)?.marks() || {read: 0, delivered: 0};
  }

  /** Drop a conversation's badge and its share of the total at once; markRead tells the server. */
  clearUnread(key) {
    const contact = this.contacts.get(key);
    if (!contact || (!contact.unread && !contact.mentioned)) return;
    this.total = Math.max(0, this.total - contact.unread);
    contact.unread = 0;
    contact.mentioned = false;  // read: a mention there is read too
    this.changed();
  }

  /** Mark a conversation read up to a message: on screen at once, then on the server (not for a group I
   * am no longer in: it counts nothing unread for me any more). */
  async markRead(key, upTo) {
    this.clearUnread(key);
    const contact = this.conversation(key);
    if (!contact.canSend) return;
    contact.read_mid = Math.max(contact.read_mid || 0, upTo || 0);
    try {
      await this.api.markRead(key, upTo);
    } catch (error) {
      // Still unread on the server: the snapshot after the next reconnect shows it, and reads again.
      console.warn('imdemo: could not mark read:', error.message);
    }
  }

  /** Open (or close, with null) a conversation; its unread count is cleared by the chat view. */
  setOpen(key) {
    this.openKey = key;
    const open = key && this.contacts.get(key);
    if (open && open.isGroup) this.loadGroup(open.gid);  // its members, as they are now
    this.changed();
  }

  isReading(key) {
    return key === this.openKey && document.visibilityState === 'visible';
  }

  conversationOf(message) {
    return keyOf(message, this.me.uid);
  }

  /** The conversation of key, made (with no message yet) if this tab has not seen it; a message of a
   * group this tab does not know yet (its first) names the group well enough until its members arrive. */
  conversation(key, message = null) {
    const known = this.contacts.get(key);
    if (known) return known;
    if (!key.startsWith('g')) return this.newContact(Number(key.slice(1)));
    const contact = GroupConversation.first(Number(key.slice(1)), message, this.me.uid, this.nameOf);
    this.contacts.set(key, contact);
    if (!message || message.kind !== 'system') this.loadGroup(contact.gid);  // a system message asks by itself
    return contact;
  }

  user(uid) {
    return this.users.get(uid);
  }

  newContact(uid) {
    if (!this.users.has(uid)) loadUsers(this).catch(() => {});  // someone new: learn their name
    const contact = new UserConversation(this.user(uid));
    this.contacts.set(contact.key, contact);
    return contact;
  }

  /** Recent contacts, newest message first (mids grow with time across conversations). */
  recent() {
    return [...this.contacts.values()]
      .filter((c) => c.last_message)
      .sort((a, b) => b.last_message.mid - a.last_message.mid);
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }
}
