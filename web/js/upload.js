/** Pages: one file on its way to becoming a message (lecture 14's 分片上传). It is hashed in a worker; 秒传 is
 * asked (POST /api/files/check): a file the server already holds and I may read is sent at once, without its
 * bytes. Otherwise it is uploaded by tus in chunks through the tab's wire (so the lab's offline control cuts it
 * for real); after a cut it asks the server's offset (HEAD) and goes on from there, so no byte is sent twice,
 * and a 409 says the same. Then the file is sent as a message through the outbox.
 *
 *   states: hashing → checking → uploading (⇄ waiting, after a cut) → done | cancelled | failed
 *   'change' events as it goes; upload.sent / upload.file.size is its progress.
 */
import {ApiError, NetworkError} from './api.js';
import {sleep} from './wait.js';

const CHUNK = 1024 * 1024;  // bytes a PATCH: a cut loses at most one chunk's transfer
const TUS = {'Tus-Resumable': '1.0.0'};

export class Upload extends EventTarget {
  constructor(api, file, key) {
    super();
    this.api = api;
    this.file = file;
    this.key = key;  // the conversation it goes to
    this.state = 'hashing';
    this.sent = 0;  // bytes the server holds
    this.hashed = 0;
    this.instant = false;  // sent by 秒传
    this.error = null;  // an ApiError or NetworkError when failed
    this.result = null;  // the file it became: {fid, name, size, mime, kind, width?, height?}
    this.abort = new AbortController();
    this.local = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;  // shown while it goes
  }

  /** Go all the way; resolve with the file, or null when cancelled or failed (state and error say which). */
  async run() {
    try {
      const sha256 = await this.hash();
      this.set('checking');
      const {file} = await this.api.call('POST', '/api/files/check', {sha256, size: this.file.size},
        {signal: this.abort.signal});
      if (file) {
        this.instant = true;
        this.sent = this.file.size;
        return this.finish(file);
      }
      const location = await this.create(sha256);
      await this.push(location);
      return this.finish((await this.api.call('GET', location, undefined, {signal: this.abort.signal})).file);
    } catch (error) {
      if (this.abort.signal.aborted) {
        this.set('cancelled');
      } else {
        this.error = error;
        this.set('failed');
      }
      return null;
    }
  }

  cancel() {
    this.abort.abort();
    if (this.location) this.tus('DELETE', this.location, {}, undefined, false).catch(() => {});  // its bytes go too
  }

  finish(file) {
    this.result = file;
    this.set('done');
    return file;
  }

  hash() {
    return new Promise((resolve, reject) => {
      const worker = new Worker('/static/js/hash-worker.js', {type: 'module'});
      const stop = () => { worker.terminate(); reject(new DOMException('cancelled', 'AbortError')); };
      this.abort.signal.addEventListener('abort', stop);
      worker.onmessage = ({data}) => {
        if (data.sha256) {
          worker.terminate();
          this.abort.signal.removeEventListener('abort', stop);
          resolve(data.sha256);
        } else {
          this.hashed = data.done;
          this.dispatchEvent(new Event('change'));
        }
      };
      worker.onerror = (event) => { worker.terminate(); reject(new Error(event.message)); };
      worker.postMessage({file: this.file});
    });
  }

  async create(sha256) {
    const metadata = {filename: this.file.name || 'pasted.png', filetype: this.file.type, sha256};
    const response = await this.tus('POST', '/api/uploads/', {
      'Upload-Length': String(this.file.size),
      'Upload-Metadata': Object.entries(metadata).map(([k, v]) => `${k} ${base64(v)}`).join(','),
    });
    this.location = new URL(response.headers.get('Location'), location.href).pathname;
    this.set('uploading');
    return this.location;
  }

  /** PATCH chunk after chunk from the server's offset; after a cut, wait, ask the offset, go on. */
  async push(path) {
    let delay = 500;
    while (this.sent < this.file.size) {
      try {
        const chunk = this.file.slice(this.sent, this.sent + CHUNK);
        const response = await this.tus('PATCH', path, {'Upload-Offset': String(this.sent),
          'Content-Type': 'application/offset+octet-stream'}, chunk);
        this.moved(Number(response.headers.get('Upload-Offset')));
        delay = 500;
      } catch (error) {
        if (this.abort.signal.aborted) throw error;
        if (error instanceof ApiError && error.status === 409 && error.offset !== undefined) {
          this.moved(error.offset);  // the server holds more than I knew: go on from there
          continue;
        }
        if (!(error instanceof NetworkError) && !(error instanceof ApiError && error.status >= 500)) throw error;
        this.set('waiting');
        await sleep(delay, this.abort.signal);
        delay = Math.min(delay * 2, 8000);
        await this.resume(path);
      }
    }
  }

  /** After a cut: how far the server got (its answer to the last chunk may be what was lost). */
  async resume(path) {
    try {
      const response = await this.tus('HEAD', path, {});
      this.moved(Number(response.headers.get('Upload-Offset')));
      this.set('uploading');
    } catch (error) {
      if (!(error instanceof NetworkError)) throw error;  // still away: the next round asks again
    }
  }

  moved(offset) {
    this.sent = offset;
    this.dispatchEvent(new Event('change'));
  }

  /** One tus request through the tab's wire; ApiError (with the server's offset on 409) or NetworkError. */
  async tus(method, path, headers, body = undefined, abortable = true) {
    let response;
    try {
      response = await this.api.wire.fetch(path, {method, body, signal: abortable ? this.abort.signal : undefined,
        headers: {...TUS, ...headers, Authorization: `Bearer ${this.api.token}`}});
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      throw new NetworkError('the server cannot be reached');
    }
    if (response.ok) return response;
    const data = method === 'HEAD' ? null : await response.json().catch(() => null);
    const error = new ApiError(response.status, data?.error?.code || `http_${response.status}`,
      data?.error?.message || response.statusText);
    if (response.headers.has('Upload-Offset')) error.offset = Number(response.headers.get('Upload-Offset'));
    throw error;
  }

  set(state) {
    this.state = state;
    this.dispatchEvent(new Event('change'));
  }
}

function base64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}
