/** Pages: what the views show, in one store: recent contacts with their last message and unread count,
 * the total, everyone, and how far each partner has received and read. The sync loop's events change
 * it; it tells the views with 'change' (contacts and counts) and 'marks' (receipts) events.
 *
 * Counts move by events, and a snapshot from GET /api/contacts replaces them at start and after each
 * reconnect. A snapshot may already include messages whose events arrive after it; since mids within
 * a conversation grow in commit order, a message at or below the snapshot's last mid of its
 * conversation is already counted and is skipped. Unread hints only ever lower a count (a read in
 * another tab): increases come from the message events themselves, which no hint can double.
 */

export class Store extends EventTarget {
  constructor(api, me) {
    super();
    this.api = api;
    this.me = me;
    this.contacts = new Map();  // uid -> {user, last_message, unread, peer_read_mid, delivered_mid}
    this.users = new Map();  // uid -> user: everyone but me
    this.total = 0;
    this.openUid = null;  // the conversation on screen, whose messages are read as they arrive
    this.replay = null;  // events applied while a snapshot is on its way, applied again on top of it
    this.refreshing = null;  // the last snapshot asked for
  }

  /** Load everyone and the recent contacts. */
  async load() {
    await Promise.all([this.loadUsers(), this.refresh()]);
  }

  async loadUsers() {
    for (const user of await this.api.users()) {
      this.users.set(user.uid, user);
      const contact = this.contacts.get(user.uid);
      if (contact) contact.user = user;
    }
    this.changed();
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
    for (const contact of snapshot.contacts) {
      const delivered = Math.max(contact.peer_delivered_mid || 0, before.get(contact.user.uid)?.delivered_mid || 0);
      this.contacts.set(contact.user.uid, {...contact, delivered_mid: delivered});
      this.users.set(contact.user.uid, contact.user);
    }
    for (const event of replay) this.apply(event);
    this.changed();
    this.dispatchEvent(new Event('marks'));
    const open = this.contacts.get(this.openUid);
    if (open && open.unread && this.isReading(this.openUid)) this.markRead(this.openUid, open.last_message.mid);
  }

  /** Apply one sync event. */
  apply(event) {
    if (this.replay) this.replay.push(event);
    if (event.type === 'message') this.applyMessage(event.message);
    else if (event.type === 'read') this.applyRead(event);
    else if (event.type === 'delivered') this.notePeer(event.to, {delivered: event.up_to});
    else if (event.type === 'unread') this.applyUnread(event.conversation);
  }

  applyMessage(message) {
    const other = this.partnerOf(message);
    const contact = this.contacts.get(other) || this.newContact(other);
    if (contact.last_message && message.mid <= contact.last_message.mid) return;
    contact.last_message = message;
    if (message.from !== this.me.uid && !this.isReading(other)) {
      contact.unread += 1;
      this.total += 1;
    }
    this.changed();
  }

  applyRead(event) {
    if (event.by !== this.me.uid) this.notePeer(event.with, {read: event.up_to});
  }

  applyUnread(conversation) {
    const contact = conversation && this.contacts.get(conversation.uid);
    if (!contact || conversation.unread >= contact.unread) return;
    this.total = Math.max(0, this.total - (contact.unread - conversation.unread));
    contact.unread = conversation.unread;
    this.changed();
  }

  /** Record how far the partner has received (delivered) or read (read implies delivered). */
  notePeer(uid, {read = 0, delivered = 0}) {
    const contact = this.contacts.get(uid);
    if (!contact) return;
    const readMid = Math.max(contact.peer_read_mid || 0, read);
    const deliveredMid = Math.max(contact.delivered_mid || 0, delivered, readMid);
    if (readMid === contact.peer_read_mid && deliveredMid === contact.delivered_mid) return;
    contact.peer_read_mid = readMid;
    contact.delivered_mid = deliveredMid;
    this.dispatchEvent(new Event('marks'));
  }

  marks(uid) {
    const contact = this.contacts.get(uid);
    return {read: contact?.peer_read_mid || 0, delivered: contact?.delivered_mid || 0};
  }

  /** Drop a conversation's badge and its share of the total at once; markRead tells the server. */
  clearUnread(uid) {
    const contact = this.contacts.get(uid);
    if (!contact || !contact.unread) return;
    this.total = Math.max(0, this.total - contact.unread);
    contact.unread = 0;
    this.changed();
  }

  /** Mark a conversation read up to a message: on screen at once, then on the server. */
  async markRead(uid, upTo) {
    this.clearUnread(uid);
    try {
      await this.api.markRead(uid, upTo);
    } catch (error) {
      // Still unread on the server: the snapshot after the next reconnect shows it, and reads again.
      console.warn('imdemo: could not mark read:', error.message);
    }
  }

  /** Open (or close, with null) a conversation; its unread count is cleared by the chat view. */
  setOpen(uid) {
    this.openUid = uid;
    this.changed();
  }

  isReading(uid) {
    return uid === this.openUid && document.visibilityState === 'visible';
  }

  partnerOf(message) {
    return message.from === this.me.uid ? message.to : message.from;
  }

  user(uid) {
    return this.users.get(uid) || {uid, username: `user${uid}`, nickname: '', avatar: ''};
  }

  newContact(uid) {
    if (!this.users.has(uid)) this.loadUsers().catch(() => {});  // someone new: learn their name
    const contact = {user: this.user(uid), last_message: null, unread: 0, peer_read_mid: 0, delivered_mid: 0};
    this.contacts.set(uid, contact);
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
