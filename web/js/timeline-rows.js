/** Pages: the lab's timeline in words: what each frame, request or note the transports told the lab is,
 * and what is remarkable about it: a retransmission (a seq this connection brought before), a duplicate
 * the sync loop drops (at or below its cursor), a gap (a seq past the one missing), a fault of the lab.
 * A large group's events and ACKs go by its gseq instead of a seq (the compound cursor, SPEC section 15):
 * the same marks, against the loop's cursor of that group, and its gap event (more missed than a page).
 *
 * A row is {way: 'out' | 'in' | 'note', what, label, marks: [{kind, label}], tone, data}; a label is the
 * nodes of a table string, whose data (frame types, seqs, codes, ids, requests) sits in <code>, the same
 * in every language; `data` becomes data-* attributes, so a test (or a curious learner in the devtools)
 * reads the sequence exactly.
 */
import {code, phrase} from './dom.js';
import {t} from './i18n.js';
import {answerLabel, gseqKey, gseqLabel, pollLabel} from './timeline-labels.js';

export class RowWriter {
  constructor() {
    this.reset();
  }

  reset() {
    this.seen = new Map();  // connection ('poll' for the polls) -> Map(seq, or 'g<gid>:<gseq>' -> times it arrived)
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
      const groups = Object.entries(frame.groups || {}).map(([gid, gseq]) => `g${gid}:${gseq}`).join(' ');
      const params = {what: code(what), since: code(frame.since), groups: code(groups)};
      const label = phrase(groups ? 'lab.row.since_groups' : 'lab.row.since', params);
      return rowOf('out', what, label, {tone: 'strong', data: {since: frame.since}});
    }
    if (what === 'ack' && frame.group !== undefined) {
      return rowOf('out', what, gseqLabel(what, frame), {marks, tone, data: {group: frame.group, gseq: frame.gseq}});
    }
    if (what === 'ack') {
      const label = phrase('lab.row.seq', {what: code(what), seq: code(frame.seq)});
      return rowOf('out', what, label, {marks, tone, data: {seq: frame.seq}});
    }
    return rowOf('out', what, [code(what)], {marks, tone});
  }

  frameIn({conn, frame, fate, cursor}) {
    const what = frame.type;
    if (frame.gseq !== undefined) return this.groupEvent(conn, frame, fate, cursor);
    if (frame.seq !== undefined) return this.message(conn, frame.seq, fate, cursor, what);  // a recall, an edit too
    if (what === 'welcome') return rowOf('in', what, [code(what)], {tone: 'strong'});
    if (what === 'error') {
      return rowOf('in', what, phrase('lab.row.error', {type: code(what), code: code(frame.code)}), {tone: 'bad'});
    }
    return rowOf('in', what, [code(what)], {tone: 'muted'});
  }

  /** A large group's push, by its gseq, against the loop's cursor of that group (undefined: none yet). */
  groupEvent(conn, frame, fate, cursor) {
    const times = this.arrived(conn, [gseqKey(frame)]);
    const marks = times > 1 ? [mark('retransmission', {n: times - 1})] : [];
    if (fate === 'lost') marks.push(mark('lost'));
    else if (cursor !== undefined && frame.gseq <= cursor) marks.push(mark('duplicate'));
    else if (frame.type === 'gap') marks.push(mark('gap_event'));
    else if (cursor !== undefined && frame.gseq > cursor + 1) {
      marks.push(mark('gseq_gap', {missing: code(cursor + 1), group: code(`g${frame.group}`)}));
    }
    const tone = fate === 'lost' ? 'lost' : times > 1 || frame.type === 'gap' ? 'warn' : '';
    const label = frame.type === 'gap' ? phrase('lab.row.gap', {what: code('gap'), group: code(`g${frame.group}`),
      after: code(frame.after), gseq: code(frame.gseq)}) : gseqLabel(frame.type, frame);
    return rowOf('in', frame.type, label, {marks, tone, data: {group: frame.group, gseq: frame.gseq}});
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
    const seqs = batch.events.filter((event) => event.seq !== undefined)
      .map((event) => event.seq);
    const gseqs = batch.events.filter((event) => event.gseq !== undefined).map(gseqKey);
    const marks = [];
    if (seqs.length + gseqs.length && this.arrived('poll', [...seqs, ...gseqs]) > 1) {
      marks.push(mark('again', {since: code(poll.since)}));
    }
    if (fate === 'lost') marks.push(mark('lost'));
    const tone = fate === 'lost' ? 'lost' : seqs.length + gseqs.length ? '' : 'muted';
    return rowOf('in', 'events', answerLabel(batch, seqs), {marks, tone,
      data: {seqs: seqs.join(' '), gseqs: gseqs.join(' ')}});
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

function pollOut(poll) {
  return rowOf('out', 'poll', pollLabel(poll), {data: {since: poll.since}});
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
