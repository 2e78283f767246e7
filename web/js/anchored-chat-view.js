/** Pages: the chat view that can also open a conversation at one message (a search result): the history
 * around it comes from the API's two cursors (GET .../messages?before=<mid + 1> and ?after=<mid>), the
 * message is scrolled to the middle of the view and lit for a moment; older pages load as the reader
 * scrolls up, as in any conversation, and newer ones as they scroll down until the newest is reached
 * (chat-view.js, as when it lands on the first unread message: a live message of this conversation waits
 * for the page that holds it, and sending goes back to the newest first). */
import {ChatView} from './chat-view.js';

const PAGE = 30;

export class AnchoredChatView extends ChatView {
  constructor(root, options) {
    super(root, options);
    this.anchor = null;  // the mid the next open lands on (null: as ChatView does)
    this.landing = null;  // the mid the conversation being opened lands on
  }

  /** Open the conversation key at message mid. */
  openAt(key, mid) {
    this.anchor = mid;
    return this.open(key);
  }

  open(key, options) {
    this.landing = this.anchor;
    this.anchor = null;
    return super.open(key, options);
  }

  /** The page around the anchor: up to PAGE messages before it, itself, and up to PAGE after it. */
  async firstPage(key, landing) {
    const at = this.landing;
    if (at === null) return super.firstPage(key, landing);
    const [older, newer] = await Promise.all([this.api.history(key, {before: at + 1, limit: PAGE}),
      this.api.history(key, {after: at, limit: PAGE})]);
    return {page: {...older, messages: [...older.messages, ...newer.messages]}, hasNewer: newer.has_more,
      firstUnread: null};
  }

  land(line) {
    const item = this.landing === null ? null : this.ol.querySelector(`li[data-mid="${this.landing}"]`);
    if (item === null) return super.land(line);
    item.scrollIntoView({block: 'center'});
    item.classList.add('found');
    // Opening a conversation reads it, as its badge dropped on the click: up to its newest message, though
    // the reader was put further back (else the server would count the rest unread and the page would not).
    const newest = this.store.conversation(this.key).last_message;
    if (this.hasNewer && newest) this.store.markRead(this.key, newest.mid);
    this.loadNewer();  // a window too short to scroll cannot be scrolled to its end
  }
}
