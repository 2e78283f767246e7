/** Pages: the outbox: messages this tab composed that the server has not confirmed yet. Each carries
 * its own client_msg_id, so sending it again after a failure never stores it twice. Sending always
 * goes through POST /api/messages (to a group: POST /api/groups/<gid>/messages), whatever the transport:
 * one path for every transport. A message goes to a conversation, named by its key (u<uid> or g<gid>). */
import {ApiError} from './api.js';
import {newClientMsgId} from './dom.js';
import {sleep} from './wait.js';

export class Outbox extends EventTarget {
  constructor(api) {
    super();
    this.api = api;
    this.items = new Map();  // client_msg_id -> {id, to (a conversation key), content, state, created_at, error, retryable}
  }

  /** Queue a message to a conversation and send it; 'update' and 'sent' events tell how it goes. A file is
   * sent as {attachment: fid, file: the file as shown while it goes}; a group's message may mention members
   * ({mentions: [uid, ...] or 'all'}). */
  send(to, content, {attachment = null, file = null, mentions = undefined} = {}) {
    const item = {id: newClientMsgId(), to, content, attachment, file, mentions, state: 'sending',
      created_at: new Date().toISOString()};
    this.items.set(item.id, item);
    this.attempt(item);
    return item;
  }

  async attempt(item) {
    this.update(item, 'sending');
    for (;;) {
      try {
        const message = await this.api.send(item.to, item.content, item.id,
          {attachment: item.attachment, mentions: item.mentions});
        this.items.delete(item.id);
        this.dispatchEvent(new CustomEvent('sent', {detail: {item, message}}));
        return;
      } catch (error) {
        if (error instanceof ApiError && error.status === 429) {
          await sleep(Math.max(1, error.retryAfter) * 1000);  // sending too fast: wait as told
          continue;
        }
        item.error = error.message;
        item.retryable = !(error instanceof ApiError) || error.status >= 500;
        this.update(item, 'failed');
        return;
      }
    }
  }

  retry(id) {
    const item = this.items.get(id);
    if (item && item.state === 'failed') this.attempt(item);
  }

  /** Send again what failed because the server was away (called when the sync loop reconnects). */
  retryFailed() {
    for (const item of this.items.values()) {
      if (item.state === 'failed' && item.retryable) this.attempt(item);
    }
  }

  pendingFor(key) {
    return [...this.items.values()].filter((item) => item.to === key);
  }

  update(item, state) {
    item.state = state;
    this.dispatchEvent(new CustomEvent('update', {detail: item}));
  }
}
