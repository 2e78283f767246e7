/** Pages: the lab's timeline in words: what each frame, request or note the transports told the lab is,
 * and what is remarkable about it: a retransmission (a seq this connection brought before), a duplicate
 * the sync loop drops (at or below its cursor), a gap (a seq past the one missing), a fault of the lab.
 *
 * A row is {way: 'out' | 'in' | 'note', what, label, marks: [{kind, label}], tone, data}; a label is the
 * nodes of a table string, whose data (frame types, seqs, codes, ids, requests) sits in <code>, the same
 * in every language; `data` becomes data-* attributes, so a test (or a curious learner in the devtools)
 * reads the sequence exactly.
 */
import {code, phrase} from './dom.js';
import {t} from './i18n.js';

export class RowWriter {
  constructor() {
    this.reset();
  }

  reset() {
    this.seen = new Map();  // connection ('poll' for the polls) -> Map(seq -> times it arrived)
    this.firstMid = new Map();  // client_msg_id -> the mid its first answer named
  }

  /** Describe one observed entry as a row. */
  row(entry) {
    const described = this.describe(entry);
    if (entry.offline && described.way === 'out') {  // a request tried while offline never left the tab
      described.marks.push(mark('offline'));
      described.tone = 'lost';
    }
    return described;
  }

  describe(entry) {
    if (entry.close) return this.close(entry);
    if (entry.frame) return entry.way === 'out' ? this.frameOut(entry) : this.frameIn(entry);
    if (entry.poll) return entry.way === 'out' ? pollOut(entry.poll) : this.pollIn(entry);
    if (entry.send) return sendOut(entry.send);
    if (entry.sent) return this.sentIn(entry.sent);
    return note(entry);
  }

  close({way, close}) {
    const reason = close.reason ? code(close.reason) : '';
    const label = phrase('lab.row.close', {code: code(close.code), reason});
    return rowOf(way, 'close', label, {tone: way === 'in' ? 'bad' : '', data: {code: close.code}});
  }

  frameOut({frame, fate}) {
    const what = frame.type;
    const [marks, tone] = fate === 'withheld' ? [[mark('withheld')], 'lost'] : [[], what === 'ping' ? 'muted' : ''];
    if (what === 'hello') {
      const label = phrase('lab.row.since', {what: code(what), since: code(frame.since)});
      return rowOf('out', what, label, {tone: 'strong', data: {since: frame.since}});
    }
    if (what === 'ack') {
      const label = phrase('lab.row.seq', {what: code(what), seq: code(frame.seq)});
      return rowOf('out', what, label, {marks, tone, data: {seq: frame.seq}});
    }
    return rowOf('out', what, [code(what)], {marks, tone});
  }

  frameIn({conn, frame, fate, cursor}) {
    const what = frame.type;
    if (frame.seq !== undefined) return this.message(conn, frame.seq, fate, cursor, what);  // a recall, an edit too
    if (what === 'welcome') return rowOf('in', what, [code(what)], {tone: 'strong'});
    if (what === 'error') {
      return rowOf('in', what, phrase('lab.row.error', {type: code(what), code: code(frame.code)}), {tone: 'bad'});
    }
    return rowOf('in', what, [code(what)], {tone: 'muted'});
  }

  message(conn, seq, fate, cursor, what = 'message') {
    const times = this.arrived(conn, [seq]);
    const marks = [];
    if (times > 1) marks.push(mark('retransmission', {n: times - 1}));
    if (fate === 'lost') marks.push(mark('lost'));
    else if (seq <= cursor) marks.push(mark('duplicate'));
    else if (seq > cursor + 1) marks.push(mark('gap', {missing: code(cursor + 1)}));
    const tone = fate === 'lost' ? 'lost' : times > 1 ? 'warn' : '';
    return rowOf('in', 'message', phrase('lab.row.seq', {what: code(what), seq: code(seq)}),
      {marks, tone, data: {seq}});
  }

  pollIn({poll, batch, failed, fate}) {
    if (failed) return rowOf('in', 'events', phrase('lab.row.no_answer'), {tone: 'bad'});
    const seqs = batch.events.filter((event) => event.seq !== undefined).map((event) => event.seq);
    const marks = [];
    if (seqs.length && this.arrived('poll', seqs) > 1) marks.push(mark('again', {since: code(poll.since)}));
    if (fate === 'lost') marks.push(mark('lost'));
    const tone = fate === 'lost' ? 'lost' : seqs.length ? '' : 'muted';
    return rowOf('in', 'events', answerLabel(batch, seqs), {marks, tone, data: {seqs: seqs.join(' ')}});
  }

  sentIn({id, mid, again}) {
    if (!again) this.firstMid.set(id, mid);
    const marks = again && this.firstMid.get(id) === mid ? [mark('same_mid')] : [];
    return rowOf('in', 'sent', phrase('lab.row.sent', {mid: code(mid)}), {marks, data: {mid}});
  }

  /** Count an arrival of each seq on a connection; return how many times the first of them came. */
  arrived(conn, seqs) {
    if (!this.seen.has(conn)) this.seen.set(conn, new Map());
    const times = this.seen.get(conn);
    for (const seq of seqs) times.set(seq, (times.get(seq) || 0) + 1);
    return times.get(seqs[0]);
  }
}

/** What a poll's answer brought: its messages' seqs, else the hints it carried, and its next cursor. */
function answerLabel(batch, seqs) {
  const next = code(batch.next);
  if (seqs.length === 1) return phrase('lab.row.events', {first: code(seqs[0]), next});
  if (seqs.length) return phrase('lab.row.events_range', {first: code(seqs[0]), last: code(seqs.at(-1)), next});
  const hints = [...new Set(batch.events.map((event) => event.type))];
  if (hints.length) return phrase('lab.row.hints', {types: code(hints.join(', ')), next});
  return phrase('lab.row.nothing', {next});
}

function pollOut({since, timeout}) {
  const params = {what: code('GET /api/sync'), since: code(since)};
  const label = timeout ? phrase('lab.row.since_wait', {...params, timeout}) : phrase('lab.row.since', params);
  return rowOf('out', 'poll', label, {data: {since}});
}

function sendOut({id, again}) {
  const label = phrase('lab.row.send', {request: code('POST /api/messages'), id: code(`${id.slice(0, 8)}…`)});
  return rowOf('out', 'send', label, {marks: again ? [mark('again_id')] : []});
}

function note(entry) {
  const label = entry.what === 'control' ? phrase(entry.key, named(entry.params))
    : phrase(`lab.note.${entry.what}`, {seconds: round(entry.seconds)});
  const tone = entry.what === 'control' ? 'lab' : entry.what === 'wait' ? 'muted' : 'warn';
  return rowOf('note', entry.what, label, {tone});
}

/** A control's params, with each {key} (an experiment's name) in the language chosen now. */
function named(params) {
  return Object.fromEntries(Object.entries(params).map(([name, v]) => [name, v?.key ? t(v.key) : v]));
}

function rowOf(way, what, label, {marks = [], tone = '', data = {}} = {}) {
  return {way, what, label, marks, tone, data};
}

function mark(kind, params = {}) {
  return {kind, label: phrase(`lab.mark.${kind}`, params)};
}

export function round(seconds) {
  return Number(seconds || 0).toFixed(1).replace(/\.0$/, '');
}
