/** Pages: the lab on the HTTP side: a tap on the wire's fetch (wire.js) that tells the timeline of each
 * sync request and its answer and of each message sent and its answer, and carries out the lab's faults
 * there. Each fault is decided when it applies (an answer's, when the answer comes: a long poll may have
 * been asked before the lab opened); while the lab is idle (its panel closed: no observer, every fault
 * off) a request and its answer pass as they are.
 *
 *   offline     no request gets through and no answer arrives: each fails as an unreachable server does
 *   dropNext    the next poll answer that carries a message is lost on the way, as a failed request, so
 *               the next poll asks with the same since (the WebSocket's is in lab-socket.js)
 *   sendTwice   the next message is POSTed twice with its one client_msg_id, as a retry whose first
 *               answer was lost; the page gets the first answer
 */
import {lab, take} from './lab-hooks.js';

const SENDS = /^\/api\/(messages|groups\/\d+\/messages)$/;  // where a message is POSTed (conversation.js)

/** The wire's fetch tap (wire.js). */
export function labFetch(path, options, next) {
  const url = new URL(path, location.href);
  if (url.pathname === '/api/sync') return poll(url, path, options, next);
  if (options.method === 'POST' && SENDS.test(url.pathname)) return send(path, options, next);
  return reach(path, options, next);
}

/** One request, unless the tab is offline: then it fails before leaving, or its answer never arrives. */
async function reach(path, options, next) {
  if (lab.faults.offline) throw new TypeError('offline (lab)');
  const response = await next(path, options);
  if (lab.faults.offline) throw new TypeError('offline (lab)');
  return response;
}

/** A GET /api/sync; an answer the lab loses is a failed request. */
async function poll(url, path, options, next) {
  const request = {since: Number(url.searchParams.get('since')), timeout: Number(url.searchParams.get('timeout')),
    groups: url.searchParams.get('groups') || ''};
  lab.observe?.({way: 'out', poll: request});
  let response;
  try {
    response = await reach(path, options, next);
  } catch (error) {
    lab.observe?.({way: 'in', poll: request, failed: true});
    throw error;
  }
  if (!lab.observe && !lab.faults.dropNext) return response;
  const batch = response.ok ? await response.clone().json().catch(() => null) : null;
  if (!batch) {
    lab.observe?.({way: 'in', poll: request, failed: true});
    return response;
  }
  const lost = lab.faults.dropNext && batch.events.some((event) => event.type === 'message') && take('dropNext');
  lab.observe?.({way: 'in', poll: request, batch, cursor: request.since, fate: lost ? 'lost' : undefined});
  if (lost) throw new TypeError('the answer was lost on the way (lab)');
  return response;
}

/** A message POSTed, and again when the lab says so (its answer: the first message, stored once). */
async function send(path, options, next) {
  const id = JSON.parse(options.body).client_msg_id;
  if (!id) return reach(path, options, next);  // not the outbox's: nothing to retry it with
  const once = async (again) => {
    lab.observe?.({way: 'out', send: {id, again}});
    const response = await reach(path, options, next);
    if (response.ok) lab.observe?.({way: 'in', sent: {id, mid: (await response.clone().json()).message.mid, again}});
    return response;
  };
  const first = await once(false);
  if (first.ok && lab.faults.sendTwice && take('sendTwice')) await once(true);
  return first;
}
