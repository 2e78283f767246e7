/** Pages: a conversation, 1:1 or group, named by one key: `u<uid>` or `g<gid>`. The store keeps one per
 * recent contact, the chat view shows one, the outbox sends to one; what differs between the two kinds
 * (title, avatar, where its messages live, how its read marks are kept) is answered here, so no step
 * of the way of a message asks "is this a group?". A group's own class is in group-conversation.js.
 */
import {avatar, displayName} from './dom.js';

export const userKey = (uid) => `u${uid}`;
export const groupKey = (gid) => `g${gid}`;

/** The key of the conversation a message belongs to, as seen by me. */
export function keyOf(message, me) {
  if (message.group) return groupKey(message.group);
  return userKey(message.from === me ? message.to : message.from);
}

/** The key of the conversation a hint names: {group: gid}, or the other user as {with: uid} or {uid}. */
export function keyNamed({group, with: other, uid}) {
  return group ? groupKey(group) : userKey(other ?? uid);
}

/** Where a conversation lives in the API: its messages are under `${path}/messages`, its read marker
 * under `${path}/read`. */
export function pathOf(key) {
  const id = Number(key.slice(1));
  return key.startsWith('g') ? `/api/groups/${id}` : `/api/conversations/${id}`;
}

/** Where a message to a conversation is posted, and what names the conversation in its body. */
export function sendingTo(key) {
  const id = Number(key.slice(1));
  return key.startsWith('g') ? {path: `/api/groups/${id}/messages`, body: {}} : {path: '/api/messages', body: {to: id}};
}

/** A 1:1 conversation: its partner, and how far they have received and read. */
export class UserConversation {
  isGroup = false;
  subtitleIsData = true;  // @username: not ours to translate

  constructor(user) {
    this.key = userKey(user.uid);
    this.user = user;
    this.last_message = null;
    this.unread = 0;
    this.peer_read_mid = 0;
    this.delivered_mid = 0;
    this.read_mid = 0;  // how far I have read: the first unread lies after it (first-unread.js)
    this.muted = false;  // no notification, a dot for a badge, out of the title's count
    this.mentioned = false;  // only groups have mentions
  }

  /** Take a snapshot entry from GET /api/contacts, keeping a delivered mark this tab heard since. */
  static from(entry, before) {
    const conversation = new UserConversation(entry.user);
    Object.assign(conversation, {last_message: entry.last_message, unread: entry.unread,
      peer_read_mid: entry.peer_read_mid, read_mid: entry.read_mid || 0, muted: Boolean(entry.muted),
      delivered_mid: Math.max(entry.peer_delivered_mid || 0, before?.delivered_mid || 0)});
    return conversation;
  }

  get title() { return displayName(this.user); }
  get subtitle() { return `@${this.user.username}`; }
  get canSend() { return true; }
  get readOnSend() { return false; }  // a message of mine marks nothing read
  avatar(size) { return avatar(this.user, size); }

  /** The preview of a message in recent contacts: who said it ('you', a name, or null: nobody named) and
   * its text, or, for a group's system line, its nodes (our words, the names as data). */
  preview(message) {
    return {who: message.from === this.user.uid ? null : 'you', text: message.content};
  }

  marks() {
    return {read: this.peer_read_mid, delivered: this.delivered_mid};
  }

  /** Record how far the partner has received (delivered) or read (read implies delivered); true if moved. */
  notePeer({read = 0, delivered = 0}) {
    const readMid = Math.max(this.peer_read_mid || 0, read);
    const deliveredMid = Math.max(this.delivered_mid || 0, delivered, readMid);
    if (readMid === this.peer_read_mid && deliveredMid === this.delivered_mid) return false;
    this.peer_read_mid = readMid;
    this.delivered_mid = deliveredMid;
    return true;
  }

  notePage(page) {
    return this.notePeer({read: page.peer_read_mid || 0, delivered: page.peer_delivered_mid || 0});
  }

  noteRead(event, me) {
    return event.by !== me && this.notePeer({read: event.up_to});
  }
}
