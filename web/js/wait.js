/** Pages: waiting: an abortable sleep and the exponential backoff with jitter of the reconnect loop. */

/** Resolve after ms milliseconds, or at once when signal aborts (the caller checks signal.aborted). */
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal && signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      if (signal) signal.removeEventListener('abort', done);
      resolve();
    }
    if (signal) signal.addEventListener('abort', done, {once: true});
  });
}

/** Delays of base, 2×base, 4×base ... up to cap, each scaled by a random 50-100% ("equal jitter"),
 * so tabs that lost the same server do not all come back in the same millisecond. */
export class Backoff {
  constructor({base = 500, cap = 10000} = {}) {
    this.base = base;
    this.cap = cap;
    this.attempt = 0;
  }

  next() {
    const ceiling = Math.min(this.cap, this.base * 2 ** this.attempt);
    this.attempt += 1;
    return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
  }

  reset() {
    this.attempt = 0;
  }
}
