/** Pages: the API client. It speaks only the public JSON API; the token lives in sessionStorage,
 * so two tabs of one browser can be two users. A conversation is named by its key (conversation.js):
 * `u<uid>` or `g<gid>`. */
import {pathOf, sendingTo} from './conversation.js';
import {newClientMsgId} from './dom.js';
import {Wire} from './wire.js';

const TOKEN_KEY = 'imdemo.token';

/** The server answered with an error: {"error": {"code", "message"}}. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = 0) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;  // seconds, from Retry-After on 429 and 503
  }
}

/** The server could not be reached, or the connection broke mid-answer; reason names a known way of
 * losing it ('silent': a WebSocket that heard nothing for two heartbeats), else ''. */
export class NetworkError extends Error {
  constructor(message, reason = '') {
    super(message);
    this.reason = reason;
  }
}

/** A query string of the values given: undefined, null and '' are left out. */
function queryOf(values) {
  return new URLSearchParams(Object.entries(values).filter(([, value]) => value !== undefined && value !== null
    && value !== '').map(([name, value]) => [name, String(value)]));
}

export class Api {
  /** wire: the way to the network (wire.js), shared with the sync loop's WebSocket. */
  constructor({storage = sessionStorage, wire = new Wire()} = {}) {
    this.storage = storage;
    this.wire = wire;
  }

  get token() {
    return this.storage.getItem(TOKEN_KEY);
  }

  set token(value) {
    if (value) this.storage.setItem(TOKEN_KEY, value);
    else this.storage.removeItem(TOKEN_KEY);
  }

  /** Call the API and return the parsed JSON body (null for 204); throw ApiError or NetworkError. */
  async call(method, path, body = undefined, {signal} = {}) {
    const headers = {Accept: 'application/json'};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    let data = null;
    try {
      response = await this.wire.fetch(path, {method, headers, signal,
        body: body === undefined ? undefined : JSON.stringify(body)});
      const text = await response.text();
      data = text ? JSON.parse(text) : null;
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new NetworkError(response ? `bad answer from ${path}` : 'the server cannot be reached');
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      const retryAfter = Number(response.headers.get('Retry-After')) || 0;
      throw new ApiError(response.status, error.code || `http_${response.status}`,
        error.message || response.statusText, retryAfter);
    }
    return data;
  }

  config({signal} = {}) {
    return this.call('GET', '/api/config', undefined, {signal});
  }

  async login(username, password) {
    const data = await this.call('POST', '/api/login', {username, password});
    this.token = data.token;
    return data.user;
  }

  async register(username, password, nickname) {
    return (await this.call('POST', '/api/register', {username, password, nickname: nickname || undefined})).user;
  }

  async logout() {
    try {
      await this.call('POST', '/api/logout');
    } finally {
      this.token = null;
    }
  }

  async me() {
    return (await this.call('GET', '/api/me')).user;
  }

  /** Everyone but me: {users, total}: the first thousand, or (q) those whose username or nickname holds q. */
  users({q, limit} = {}) {
    return this.call('GET', `/api/users?${queryOf({q, limit})}`);
  }

  /** Recent contacts newest first, each {user, last_message, unread, peer_read_mid, peer_delivered_mid} or
   * {group, last_message, unread, member}, and total_unread. */
  contacts() {
    return this.call('GET', '/api/contacts');
  }

  /** Send to a conversation; a repeated clientMsgId answers with the message stored the first time. With an
   * attachment (a file id), content is its optional caption; a group's message may mention members: mentions
   * is [uid, ...] or 'all'. */
  async send(key, content, clientMsgId, {attachment = null, mentions = undefined} = {}) {
    const {path, body} = sendingTo(key);
    const media = attachment === null ? {} : {attachment, content: content || undefined};
    return (await this.call('POST', path, {...body, content, client_msg_id: clientMsgId, mentions, ...media}))
      .message;
  }

  /** Recall (撤回) a message of a conversation (key: its cid); the message as it stands after. */
  async recall(key, mid) {
    const path = `/api/conversations/${key}/messages/${mid}/recall`;
    return (await this.call('POST', path, {client_msg_id: newClientMsgId()})).message;
  }

  /** Give a message a new text; the message as it stands after. */
  async edit(key, mid, content) {
    const path = `/api/conversations/${key}/messages/${mid}`;
    return (await this.call('PATCH', path, {content, client_msg_id: newClientMsgId()})).message;
  }

  /** Tell the others in a conversation that I am typing (a live hint; at most every 2 s, else 429). */
  typing(key) {
    return this.call('POST', `/api/conversations/${key}/typing`);
  }

  /** Mute or unmute a conversation, for me: {conversation, muted}. */
  setMuted(key, muted) {
    return this.call('PUT', `/api/conversations/${key}/settings`, {muted});
  }

  /** A page of one conversation, ascending: {messages, has_more} and, for 1:1, peer_read_mid and
   * peer_delivered_mid, for a group, read_marks {"<uid>": read_mid} of its current members. */
  history(key, {before, after, limit = 30} = {}) {
    return this.call('GET', `${pathOf(key)}/messages?${queryOf({limit, before, after})}`);
  }

  markRead(key, upTo) {
    return this.call('POST', `${pathOf(key)}/read`, upTo === undefined ? {} : {up_to: upTo});
  }

  /** Make a group of me and the users members; return the group. */
  async createGroup(name, members) {
    return (await this.call('POST', '/api/groups', {name, members})).group;
  }

  /** A page of a group's members: {group, members, next}; after: the next of the page before; q: only those
   * whose username or nickname holds it. */
  groupMembers(gid, {after, limit, q} = {}) {
    return this.call('GET', `/api/groups/${gid}/members?${queryOf({after, limit, q})}`);
  }

  /** A group and all its members: {group, members: [{user, role, read_mid}]}. */
  group(gid) {
    return this.call('GET', `/api/groups/${gid}`);
  }

  renameGroup(gid, name) {
    return this.call('PATCH', `/api/groups/${gid}`, {name});
  }

  addMembers(gid, uids) {
    return this.call('POST', `/api/groups/${gid}/members`, {uids});
  }

  /** Remove a member (the owner), or leave (uid is me). */
  removeMember(gid, uid) {
    return this.call('DELETE', `/api/groups/${gid}/members/${uid}`);
  }

  /** The timeline after seq since and each large group's after its gseq (groups: `gid:gseq,...`), waiting
   * up to timeout seconds: {events, next, groups_next, hints_next, has_more}. */
  sync(since, timeout, {signal, limit = 500, hintsSince = null, groups = ''} = {}) {
    const query = queryOf({since, timeout, limit, hints_since: hintsSince, groups});
    return this.call('GET', `/api/sync?${query}`, undefined, {signal});
  }
}
