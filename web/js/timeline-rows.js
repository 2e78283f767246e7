/** Pages: the lab's timeline in words: what each frame, request or note the transports told the lab is,
 * and what is remarkable about it: a retransmission (a seq this connection brought before), a duplicate
 * the sync loop drops (at or below its cursor), a gap (a seq past the one missing), a fault of the lab.
 *
 * A row is {way: 'out' | 'in' | 'note', what, text, marks: [{kind, text}], tone, data}; `data` becomes
 * data-* attributes, so a test (or a curious learner in the devtools) reads the sequence exactly.
 */
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
    const text = t('lab.row.close', {code: close.code, reason: close.reason || ''}).trim();
    return rowOf(way, 'close', text, {tone: way === 'in' ? 'bad' : '', data: {code: close.code}});
  }

  frameOut({frame, fate}) {
    const what = frame.type;
    const [marks, tone] = fate === 'withheld' ? [[mark('withheld')], 'lost'] : [[], what === 'ping' ? 'muted' : ''];
    if (what === 'hello') {
      return rowOf('out', what, t('lab.row.hello', {since: frame.since}), {tone: 'strong', data: {since: frame.since}});
    }
    if (what === 'ack') {
      return rowOf('out', what, t('lab.row.ack', {seq: frame.seq}), {marks, tone, data: {seq: frame.seq}});
    }
    return rowOf('out', what, t('lab.row.frame', {type: what}), {marks, tone});
  }

  frameIn({conn, frame, fate, cursor}) {
    const what = frame.type;
    if (what === 'message') return this.message(conn, frame.seq, fate, cursor);
    if (what === 'welcome') return rowOf('in', what, t('lab.row.welcome'), {tone: 'strong'});
    if (what === 'error') return rowOf('in', what, t('lab.row.error', {code: frame.code}), {tone: 'bad'});
    return rowOf('in', what, t('lab.row.frame', {type: what}), {tone: 'muted'});
  }

  message(conn, seq, fate, cursor) {
    const times = this.arrived(conn, [seq]);
    const marks = [];
    if (times > 1) marks.push(mark('retransmission', {n: times - 1}));
    if (fate === 'lost') marks.push(mark('lost'));
    else if (seq <= cursor) marks.push(mark('duplicate'));
    else if (seq > cursor + 1) marks.push(mark('gap', {missing: cursor + 1}));
    const tone = fate === 'lost' ? 'lost' : times > 1 ? 'warn' : '';
    return rowOf('in', 'message', t('lab.row.message', {seq}), {marks, tone, data: {seq}});
  }

  pollIn({poll, batch, failed, fate}) {
    if (failed) return rowOf('in', 'events', t('lab.row.no_answer'), {tone: 'bad'});
    const seqs = batch.events.filter((event) => event.type === 'message').map((event) => event.seq);
    const hints = [...new Set(batch.events.filter((event) => event.type !== 'message').map((event) => event.type))];
    let text = t('lab.row.nothing', {next: batch.next});
    if (seqs.length) text = t('lab.row.events', {first: seqs[0], last: seqs[seqs.length - 1], next: batch.next});
    else if (hints.length) text = t('lab.row.hints', {types: hints.join(', '), next: batch.next});
    const marks = [];
    if (seqs.length && this.arrived('poll', seqs) > 1) marks.push(mark('again', {since: poll.since}));
    if (fate === 'lost') marks.push(mark('lost'));
    const tone = fate === 'lost' ? 'lost' : seqs.length ? '' : 'muted';
    return rowOf('in', 'events', text, {marks, tone, data: {seqs: seqs.join(' ')}});
  }

  sentIn({id, mid, again}) {
    if (!again) this.firstMid.set(id, mid);
    const marks = again && this.firstMid.get(id) === mid ? [mark('same_mid')] : [];
    return rowOf('in', 'sent', t('lab.row.sent', {mid}), {marks, data: {mid}});
  }

  /** Count an arrival of each seq on a connection; return how many times the first of them came. */
  arrived(conn, seqs) {
    if (!this.seen.has(conn)) this.seen.set(conn, new Map());
    const times = this.seen.get(conn);
    for (const seq of seqs) times.set(seq, (times.get(seq) || 0) + 1);
    return times.get(seqs[0]);
  }
}

function pollOut({since, timeout}) {
  const text = timeout ? t('lab.row.poll_wait', {since, timeout}) : t('lab.row.poll', {since});
  return rowOf('out', 'poll', text, {data: {since}});
}

function sendOut({id, again}) {
  return rowOf('out', 'send', t('lab.row.send', {id: id.slice(0, 8)}), {marks: again ? [mark('again_id')] : []});
}

function note(entry) {
  const text = entry.what === 'control' ? t(entry.key, entry.params)
    : t(`lab.note.${entry.what}`, {seconds: round(entry.seconds)});
  const tone = entry.what === 'control' ? 'lab' : entry.what === 'wait' ? 'muted' : 'warn';
  return rowOf('note', entry.what, text, {tone});
}

function rowOf(way, what, text, {marks = [], tone = '', data = {}} = {}) {
  return {way, what, text, marks, tone, data};
}

function mark(kind, params = {}) {
  return {kind, text: t(`lab.mark.${kind}`, params)};
}

export function round(seconds) {
  return Number(seconds || 0).toFixed(1).replace(/\.0$/, '');
}
