/** Pages: the API client. It speaks only the public JSON API; the token lives in sessionStorage,
 * so two tabs of one browser can be two users. */

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

/** The server could not be reached, or the connection broke mid-answer. */
export class NetworkError extends Error {}

export class Api {
  constructor(storage = sessionStorage) {
    this.storage = storage;
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
      response = await fetch(path, {method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body)});
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

  config() {
    return this.call('GET', '/api/config');
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

  async users() {
    return (await this.call('GET', '/api/users')).users;
  }

  /** Recent contacts newest first, each {user, last_message, unread, peer_read_mid, peer_delivered_mid}, and
   * total_unread. */
  contacts() {
    return this.call('GET', '/api/contacts');
  }

  async send(to, content, clientMsgId) {
    return (await this.call('POST', '/api/messages', {to, content, client_msg_id: clientMsgId})).message;
  }

  /** A page of one conversation, ascending: {messages, has_more, peer_read_mid, peer_delivered_mid}. */
  history(uid, {before, after, limit = 30} = {}) {
    const query = new URLSearchParams({limit: String(limit)});
    if (before !== undefined) query.set('before', String(before));
    if (after !== undefined) query.set('after', String(after));
    return this.call('GET', `/api/conversations/${uid}/messages?${query}`);
  }

  markRead(uid, upTo) {
    return this.call('POST', `/api/conversations/${uid}/read`, upTo === undefined ? {} : {up_to: upTo});
  }

  /** The timeline after seq since, waiting up to timeout seconds: {events, next, has_more}. */
  sync(since, timeout, {signal, limit = 500, hintsSince = null} = {}) {
    const hints = hintsSince ? `&hints_since=${encodeURIComponent(hintsSince)}` : '';
    return this.call('GET', `/api/sync?since=${since}&timeout=${timeout}&limit=${limit}${hints}`, undefined, {signal});
  }
}
