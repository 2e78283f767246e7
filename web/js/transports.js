/** Pages: the polling transports. Every transport has one interface, so the sync loop can run any:
 *
 *   transport.run(link, signal)  keeps one session with the server until signal aborts; it rejects
 *                                when the connection is lost, and the sync loop (the tab's one
 *                                reconnect loop) waits and runs it again.
 *   link.since()                 the highest seq this tab has processed: the cursor to resume from
 *   link.groups                  the other half of the cursor: a gseq per large group (group-cursors.js)
 *   link.deliver(events, next)   hand a batch of events to the sync loop, in order (next: a poll answer's
 *                                groups_next, the server's large-group cursors after it)
 *   link.connected()             the session is up (the loop resets its backoff and catches up)
 *   link.settings(values)        the server said its timers (the WebSocket's welcome)
 *   link.config                  the server's settings when the session began (GET /api/config)
 *   link.api, link.wire          the API client, and the way to the network for a socket (wire.js)
 *
 * Short polling asks every poll_interval seconds; long polling holds each request until something
 * happens. Both carry a second cursor, hints_next, for the live hints (read, delivered, unread) the
 * server keeps a couple of minutes: a hint published between two requests comes with the next one.
 */
import {t} from './i18n.js';
import {sleep} from './wait.js';

const LONG_POLL_SECONDS = 25;

export class ShortPoll {
  name = 'short';
  get label() { return t('transport.short'); }  // read when shown: in the language chosen by then
  get about() { return t('transport.short.about'); }
  hints = true;

  async run(link, signal) {
    let hintsSince = null;
    while (!signal.aborted) {
      const batch = await poll(link, 0, {signal, hintsSince});
      hintsSince = batch.hints_next;
      link.connected();
      link.deliver(batch.events, batch.groups_next);
      if (!batch.has_more) await sleep(link.config.poll_interval * 1000, signal);
    }
  }
}

export class LongPoll {
  name = 'long';
  get label() { return t('transport.long'); }
  get about() { return t('transport.long.about'); }
  hints = true;

  async run(link, signal) {
    let timeout = 0;  // the first request only catches up, so the page knows at once it is connected
    let hintsSince = null;
    while (!signal.aborted) {
      const batch = await syncWithDeadline(link, timeout, hintsSince, signal);
      hintsSince = batch.hints_next;
      link.connected();
      link.deliver(batch.events, batch.groups_next);
      timeout = batch.has_more ? 0 : LONG_POLL_SECONDS;
    }
  }
}

/** A held request that the server never answers (a dead connection) is given up after a grace period. */
async function syncWithDeadline(link, timeout, hintsSince, signal) {
  const request = new AbortController();
  const giveUp = setTimeout(() => request.abort(), (timeout + 10) * 1000);
  const forward = () => request.abort();
  signal.addEventListener('abort', forward, {once: true});
  try {
    return await poll(link, timeout, {signal: request.signal, hintsSince});
  } catch (error) {
    if (error.name === 'AbortError' && !signal.aborted) throw new Error('the long poll got no answer');
    throw error;
  } finally {
    clearTimeout(giveUp);
    signal.removeEventListener('abort', forward);
  }
}

/** One GET /api/sync after the cursor: the seq, and each large group's gseq. */
function poll(link, timeout, options) {
  return link.api.sync(link.since(), timeout, {...options, groups: link.groups.query()});
}
