/** Pages: the chat view: the open conversation, 1:1 or group (named by its key, u<uid> or g<gid>), newest
 * at the bottom; older pages load when scrolled to the top; live messages come from the sync loop;
 * opening it, and each message that arrives while it is on screen, marks the conversation read. A group
 * has a members panel; someone no longer in a group sees a note where the composer was. Opened with unread
 * messages, it lands on the first of them (first-unread.js; newer pages then load when scrolled to the
 * bottom). Signals: a recall or an edit redraws its message, who types shows under the title, @ offers
 * the group's members, and the header has the mute switch. */
import {Attacher} from './attach.js';
import {Attachments} from './attachment-view.js';
import {Composer} from './composer.js';
import {$} from './dom.js';
import {landingPage} from './first-unread.js';
import {GroupPanel} from './group-panel.js';
import {i18n} from './i18n.js';
import {MentionPicker} from './mentions.js';
import {MessageActions} from './message-actions.js';
import {MessageList} from './message-list.js';
import {MuteToggle} from './mute.js';
import {TypingSender, TypingView} from './typing.js';

const PAGE = 30;
const NEAR_EDGE = 80;  // pixels: "at the top" loads older messages, "at the bottom" follows new ones

export class ChatView {
  constructor(root, {api, store, outbox, picker, onClose, config = {}, maxUploadBytes}) {
    this.root = root;
    this.api = api;
    this.store = store;
    this.outbox = outbox;
    this.ol = $('.messages', root);
    this.list = new MessageList(this.ol, store.me, store.nameOf, new Attachments(api));
    this.attacher = new Attacher(root, {api, outbox, currentKey: () => this.key, maxBytes: maxUploadBytes});
    this.actions = new MessageActions({api, store, recallWindow: config.recall_window,
      onChanged: (message) => this.list.update(message)});
    this.list.decorate = (item, message) => this.actions.decorate(item, message);
    this.composer = new Composer($('.composer', root), (text) => this.send(text));
    this.mentions = new MentionPicker($('.composer', root), store);
    this.typing = new TypingView($('.typing', root), store);
    this.typingSender = new TypingSender(api, store, config.typing_most_members);
    this.composer.box.addEventListener('input', () => this.typingSender.input(this.key, this.composer.box.value));
    this.mute = new MuteToggle($('.mute-toggle', root), store);
    this.panel = new GroupPanel($('.group-panel', root), $('.members-toggle', root), {store, picker});
    this.key = null;
    this.loaded = false;  // the first page of the open conversation has arrived
    this.hasMore = false;
    this.hasNewer = false;  // landed on the first unread: newer pages wait below, loaded by scrolling down
    this.loading = false;
    this.generation = 0;  // bumped by each open, so an answer for a conversation left behind is ignored
    this.readTimer = null;
    this.readUpTo = 0;  // the newest mid this view has marked read
    this.ol.addEventListener('scroll', () => {
      this.loadOlder();
      this.loadNewer();
    });
    store.addEventListener('marks', () => this.key !== null && this.list.setMarks(store.marks(this.key)));
    store.addEventListener('conversation', (event) => {
      if (event.detail !== this.key) return;
      this.showHeader();
      this.list.relabel();  // the members may have brought names the list did not know yet
    });
    i18n.addEventListener('change', () => this.key !== null && this.showHeader());
    outbox.addEventListener('update', (event) => this.showPending(event.detail));
    outbox.addEventListener('sent', (event) => this.onMessage(event.detail.message));
    $('.back', root).addEventListener('click', onClose);
    document.addEventListener('visibilitychange', () => this.readSoon());
  }

  async open(key, {newest = false} = {}) {
    const generation = ++this.generation;
    const contact = this.store.conversation(key);  // what is unread, before the click clears it
    const landing = {unread: newest ? 0 : contact.unread, readMid: contact.read_mid || 0, me: this.store.me.uid};
    this.key = key;
    this.readUpTo = 0;
    this.store.setOpen(key);
    this.store.clearUnread(key);  // the badge drops on the click; the read itself follows the first page
    this.panel.show(key);
    this.actions.key = key;
    this.mentions.setConversation(key);
    this.typing.open(key);
    this.mute.show(key);
    this.showHeader();
    this.composer.focus();
    await this.showNewest(landing, generation);
  }

  /** Show the open conversation's newest page, from the server: when it opens, and when a large group's
   * gap (more missed while away than the server replays) stands for what was missed. */
  async showNewest(landing = {unread: 0}, generation = ++this.generation) {
    const key = this.key;
    this.list.clear(this.store.conversation(key));
    this.list.setMarks(this.store.marks(key));
    this.setHasMore(false);
    this.hasNewer = false;
    for (const item of this.outbox.pendingFor(key)) this.showPending(item);
    this.loading = true;
    let line = null;
    try {
      const {page, hasNewer, firstUnread} = await this.firstPage(key, landing);
      if (generation !== this.generation) return;
      for (const message of page.messages) this.list.upsert(message);
      this.store.notePage(key, page);
      this.setHasMore(page.has_more);
      this.hasNewer = hasNewer;
      line = firstUnread && this.list.markFirstUnread(firstUnread.mid);
      this.loaded = true;
    } catch (error) {
      this.loaded = false;  // resume() tries again once the connection is back
      console.warn('imdemo: could not load the conversation:', error.message);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
    this.land(line);
    this.readSoon(true);
    this.fillViewport();
  }

  /** The page a conversation opens on: from its first unread message, else its newest (first-unread.js);
   * anchored-chat-view.js opens one at a message. {page, hasNewer, firstUnread}. */
  firstPage(key, landing) {
    return landingPage(this.api, key, landing, PAGE);
  }

  /** Where the reader is put once the first page is in: the "new messages" line at the top, else the newest
   * message. */
  land(line) {
    if (line) this.ol.scrollTop += line.getBoundingClientRect().top - this.ol.getBoundingClientRect().top;
    else this.scrollToBottom();
  }

  /** A large group's gap: if it is on screen, its newest page replaces what was shown. */
  reload(key) {
    if (key === this.key) this.showNewest();
  }

  /** After a reconnect: load the open conversation if its first page never came. */
  resume() {
    if (this.key !== null && !this.loaded && !this.loading) this.open(this.key);
  }

  close() {
    this.generation += 1;
    this.key = null;
    this.panel.show(null);
    this.store.setOpen(null);
    this.root.classList.remove('is-open');
    $('.chat-open', this.root).hidden = true;
    $('.chat-placeholder', this.root).hidden = false;
  }

  /** Show who the conversation is with (again after a group's change: its name, its members, whether I
   * am still in it, which decides between the composer and the note that says I am not). */
  showHeader() {
    const conversation = this.store.conversation(this.key);
    $('.chat-avatar', this.root).replaceChildren(conversation.avatar());
    $('.chat-name', this.root).textContent = conversation.title;
    const subtitle = $('.chat-username', this.root);
    subtitle.textContent = conversation.subtitle;
    subtitle.setAttribute('translate', conversation.subtitleIsData ? 'no' : 'yes');
    $('.composer', this.root).hidden = !conversation.canSend;
    $('.not-member', this.root).hidden = conversation.canSend;
    $('.chat-placeholder', this.root).hidden = true;
    $('.chat-open', this.root).hidden = false;
    this.root.classList.add('is-open');
    this.panel.render();
  }

  /** A message from the sync loop or a send answer: show it if it belongs here, read it if it is theirs. */
  onMessage(message) {
    if (this.key === null || this.store.conversationOf(message) !== this.key) return;
    this.typing.heard(message);
    if (this.hasMore && message.mid < this.list.firstMid()) return;  // belongs to a page not loaded yet
    if (this.hasNewer) return;  // below pages not loaded yet: they bring it
    const mine = message.from === this.store.me.uid;
    const follow = mine || this.nearBottom();
    if (!this.list.upsert(message)) return;
    if (follow) this.scrollToBottom();
    if (!mine && message.kind !== 'system') this.readSoon();  // a system message is never unread
  }

  /** A recall ({conversation, mid, by}) or an edit (the message as it stands) of a message shown here. */
  onRecalled({conversation, mid, by}) {
    const message = conversation === this.key && this.list.messages.get(mid);
    if (message) this.list.update({...message, content: '', recalled_by: by});
  }

  onEdited(message) {
    if (this.key !== null && this.store.conversationOf(message) === this.key) this.list.update(message);
  }

  send(text) {
    if (this.key === null) return;
    this.outbox.send(this.key, text, {mentions: this.mentions.take(text)});
    this.typingSender.sent(this.key);
    if (this.hasNewer) this.open(this.key, {newest: true});  // my message goes at the bottom: show it there
    this.scrollToBottom();
  }

  showPending(item) {
    if (item.to !== this.key) return;
    this.list.showPending({...item, onRetry: () => this.outbox.retry(item.id)});
    this.scrollToBottom();
  }

  /** Mark read up to the newest message shown, once per burst of arrivals, when the tab is visible. */
  readSoon(always = false) {
    if (this.readTimer !== null) return;
    this.readTimer = setTimeout(() => {
      this.readTimer = null;
      const newest = this.list.lastMid();
      if (this.key === null || !newest || document.visibilityState !== 'visible') return;
      if (always || newest > this.readUpTo) {
        this.readUpTo = newest;
        this.store.markRead(this.key, newest);
      }
    }, 0);
  }

  async loadOlder() {
    if (this.loading || !this.hasMore || this.ol.scrollTop > NEAR_EDGE) return;
    const generation = this.generation;
    this.loading = true;
    this.ol.classList.add('loading-older');
    try {
      const page = await this.api.history(this.key, {before: this.list.firstMid(), limit: PAGE});
      if (generation !== this.generation) return;
      const fromBottom = this.ol.scrollHeight - this.ol.scrollTop;  // keep the reader's place
      for (const message of page.messages) this.list.upsert(message);
      this.ol.scrollTop = this.ol.scrollHeight - fromBottom;
      this.setHasMore(page.has_more);
    } catch (error) {
      console.warn('imdemo: could not load older messages:', error.message);
    } finally {
      if (generation === this.generation) this.loading = false;
      this.ol.classList.remove('loading-older');
    }
    this.fillViewport();
  }

  /** Landed on the first unread: load the next newer page when scrolled near the bottom. */
  async loadNewer() {
    if (this.loading || !this.hasNewer || !this.nearBottom()) return;
    const generation = this.generation;
    this.loading = true;
    try {
      const page = await this.api.history(this.key, {after: this.list.lastMid(), limit: PAGE});
      if (generation !== this.generation) return;
      for (const message of page.messages) this.list.upsert(message);
      this.hasNewer = page.has_more;
    } catch (error) {
      console.warn('imdemo: could not load newer messages:', error.message);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
    this.readSoon();
  }

  /** A first page too short to scroll cannot be scrolled to the top: load more until it can. */
  fillViewport() {
    if (this.hasMore && !this.loading && this.ol.scrollHeight <= this.ol.clientHeight) this.loadOlder();
  }

  setHasMore(hasMore) {
    this.hasMore = hasMore;
    this.ol.classList.toggle('at-start', !hasMore);
  }

  nearBottom() {
    return this.ol.scrollHeight - this.ol.scrollTop - this.ol.clientHeight < NEAR_EDGE;
  }

  scrollToBottom() {
    this.ol.scrollTop = this.ol.scrollHeight;
  }
}
