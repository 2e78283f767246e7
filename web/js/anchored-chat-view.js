/** Pages: the chat view that can also open a conversation at one message (a search result): the history
 * around it comes from the API's two cursors (GET .../messages?before=<mid + 1> and ?after=<mid>), the
 * message is scrolled to the middle of the view and lit for a moment; older pages load as the reader
 * scrolls up, as in any conversation, and newer ones as they scroll down until the newest is reached.
 * Until then a live message of this conversation waits (it would land after a gap: the page that holds it
 * comes as they scroll), and sending goes back to the newest first. */
import {ChatView} from './chat-view.js';

const PAGE = 30;

export class AnchoredChatView extends ChatView {
  constructor(root, options) {
    super(root, options);
    this.anchor = null;  // the mid the next open lands on (null: the newest, as ChatView does)
    this.landing = null;  // the mid the conversation being opened lands on
    this.hasNewer = false;  // messages newer than those shown exist
    this.loadingNewer = false;
    this.ol.addEventListener('scroll', () => this.loadNewer());
  }

  /** Open the conversation key at message mid. */
  openAt(key, mid) {
    this.anchor = mid;
    return this.open(key);
  }

  open(key) {
    this.hasNewer = false;
    this.landing = this.anchor;
    this.anchor = null;
    return super.open(key);
  }

  /** The page around the anchor: up to PAGE messages before it, itself, and up to PAGE after it. */
  async firstPage(key) {
    const at = this.landing;
    if (at === null) return super.firstPage(key);
    const generation = this.generation;
    const [older, newer] = await Promise.all([this.api.history(key, {before: at + 1, limit: PAGE}),
      this.api.history(key, {after: at, limit: PAGE})]);
    if (generation === this.generation) this.hasNewer = newer.has_more;
    return {...older, messages: [...older.messages, ...newer.messages]};
  }

  land() {
    const item = this.landing === null ? null : this.ol.querySelector(`li[data-mid="${this.landing}"]`);
    if (item === null) return super.land();
    item.scrollIntoView({block: 'center'});
    item.classList.add('found');
    // Opening a conversation reads it, as its badge dropped on the click: up to its newest message, though
    // the reader was put further back (else the server would count the rest unread and the page would not).
    const newest = this.store.conversation(this.key).last_message;
    if (this.hasNewer && newest) this.store.markRead(this.key, newest.mid);
    this.loadNewer();  // a window too short to scroll cannot be scrolled to its end
  }

  async loadNewer() {
    if (this.loadingNewer || !this.hasNewer || this.key === null || !this.nearBottom()) return;
    const generation = this.generation;
    this.loadingNewer = true;
    try {
      const page = await this.api.history(this.key, {after: this.list.lastMid(), limit: PAGE});
      if (generation !== this.generation) return;
      for (const message of page.messages) this.list.upsert(message);
      this.hasNewer = page.has_more;
    } catch (error) {
      console.warn('imdemo: could not load newer messages:', error.message);
      return;
    } finally {
      this.loadingNewer = false;
    }
    this.readSoon();
    this.loadNewer();
  }

  onMessage(message) {
    if (this.hasNewer && this.key !== null && this.store.conversationOf(message) === this.key) return;
    super.onMessage(message);
  }

  send(text) {
    if (this.hasNewer) this.open(this.key);  // what is sent belongs after the newest: show the newest first
    super.send(text);
  }
}
