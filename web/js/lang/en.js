/** Pages: every string a person reads, in English. lang/zh.js has the same keys in Chinese; a test
 * keeps the two tables' keys equal. Keys are grouped by the part of the pages that shows them. */
export default {
  // -- the app: login, contacts, chat, status --
  'app.name': 'imdemo',
  'app.needs_js': 'imdemo needs JavaScript.',

  // -- the inspector --
  'inspect.title': 'imdemo inspector',

  // -- groups --
  'group.members': 'Members',

  // -- the lab --
  'lab.title': 'Lab',
  'lab.toggle': 'Lab',
  'lab.toggle_title': 'Break ACK, heartbeat and resume on purpose, and watch them recover',
  'lab.close': 'Close the lab',
  'lab.timers': 'Heartbeat {heartbeat} s · ACK timeout {ack} s · {retries} retries.',
  'lab.long_timers': 'Long for experiments: python run.py --lab shortens them.',
  'lab.intro': 'Break the protocol on purpose, one control at a time, and watch the recovery on the timeline. '
    + 'Each fault is this tab\'s own behaviour; the server runs its ordinary code.',
  'lab.ws_only': 'WebSocket only: choose WebSocket above',
  'lab.acks': 'Don\'t send ACKs',
  'lab.acks.explain': 'The tab takes each pushed message but never acknowledges it. Watch the same seq arrive '
    + '{times} times (retransmissions, every {ack} s), the server close with 4408 "ack timeout", and the tab '
    + 'reconnect with since = its last seq. The message shows once and counts once in the unread badge.',
  'lab.drop_ws': 'Drop the next pushed message',
  'lab.drop_ws.explain': 'The next message frame is lost on the way: not shown, not acknowledged. After the ACK '
    + 'timeout ({ack} s) the server sends it again with the same seq, and it shows once.',
  'lab.drop_poll': 'Drop the next poll answer',
  'lab.drop_poll.explain': 'The next answer that carries a message is lost on the way, as a failed request. The '
    + 'next poll asks with the same since and gets it again: the cursor is the acknowledgement.',
  'lab.heartbeat': 'Don\'t send heartbeats',
  'lab.heartbeat.explain': 'The tab stops its ping every {heartbeat} s (and so waits for no pong). The server '
    + 'closes a connection silent for three heartbeats ({silence} s) with 4408 "heartbeat timeout"; the tab '
    + 'reconnects.',
  'lab.cut': 'Cut the connection silently',
  'lab.cut.explain': 'The tab stops reading and writing on its connection and sends no close frame, as when a NAT '
    + 'forgets the mapping. The tab notices after {tab} s of silence (two heartbeats) and resumes from its seq; the '
    + 'server notices by its own timers (three heartbeats, or the ACK timeout of what it pushed: see the '
    + 'inspector). Send from the other tab meanwhile: nothing is lost.',
  'lab.twice': 'Send the next message twice',
  'lab.twice.explain': 'The next message you send goes out twice with the same client_msg_id, as a retry whose '
    + 'first answer was lost. The server stores it once and answers the second with the first message (the '
    + 'same mid).',
  'lab.offline': 'Go offline for',
  'lab.offline.explain': 'For {seconds} s nothing gets through: the connection drops without a close frame, every '
    + 'request fails, and the tab retries with backoff. Send from the other tab meanwhile: on reconnect '
    + 'everything arrives, in order, once.',
  'lab.online': 'Back online now ({seconds} s left)',
  'lab.offline_seconds': 'Seconds offline',
  'lab.seconds': 's',
  'lab.did.acks': 'lab: ACKs withheld from now',
  'lab.did.drop': 'lab: the next message will be lost on the way',
  'lab.did.heartbeat': 'lab: heartbeats stopped',
  'lab.did.cut': 'lab: cut the connection',
  'lab.did.twice': 'lab: the next message will be sent twice',
  'lab.did.offline': 'lab: offline for {seconds} s',
  'lab.did.online': 'lab: back online',
  'lab.did.undone': 'lab: "{what}" off',
  'lab.note.cut': 'the tab stops reading and writing on this connection (no close frame)',
  'lab.note.silent': 'heard nothing for {seconds} s: the tab gives up on the connection',
  'lab.note.wait': 'connection lost: reconnect in {seconds} s',
  'lab.timeline': 'Timeline',
  'lab.clear': 'Clear',
  'lab.tab': 'this tab',
  'lab.server': 'server',
  'lab.empty': 'Nothing yet. Use a control above, or send a message from the other tab.',
  'lab.time': '+{seconds} s',
  'lab.row.frame': '{type}',
  'lab.row.hello': 'hello · since {since}',
  'lab.row.welcome': 'welcome',
  'lab.row.message': 'message · seq {seq}',
  'lab.row.ack': 'ack · seq {seq}',
  'lab.row.close': 'close {code} {reason}',
  'lab.row.error': 'error · {code}',
  'lab.row.poll': 'GET /api/sync · since {since}',
  'lab.row.poll_wait': 'GET /api/sync · since {since} · waits up to {timeout} s',
  'lab.row.events': (p) => (p.first === p.last ? `seq ${p.first} · next ${p.next}`
    : `seq ${p.first}–${p.last} · next ${p.next}`),
  'lab.row.nothing': 'nothing new · next {next}',
  'lab.row.hints': 'hints: {types} · next {next}',
  'lab.row.no_answer': 'no answer',
  'lab.row.send': 'POST /api/messages · client_msg_id {id}…',
  'lab.row.sent': 'answer · message mid {mid}',
  'lab.mark.retransmission': 'retransmission {n}',
  'lab.mark.duplicate': 'already processed: dropped, counted once',
  'lab.mark.gap': 'seq {missing} is missing: waits for it',
  'lab.mark.lost': 'lost on the way (lab)',
  'lab.mark.withheld': 'not sent (lab)',
  'lab.mark.offline': 'offline: never sent (lab)',
  'lab.mark.again': 'again: since {since} acknowledged nothing more',
  'lab.mark.again_id': 'the same client_msg_id again (lab)',
  'lab.mark.same_mid': 'the first message: stored once',
  'lab.inspect.title': 'Open connections and their pending ACKs',
  'lab.inspect.none': 'No WebSocket connection is open.',
  'lab.inspect.connection': 'uid {uid} · {peer} · cursor {cursor} · silent {silent} s',
  'lab.inspect.nothing_pending': 'nothing pending: every push acknowledged',
  'lab.inspect.seq': 'seq',
  'lab.inspect.age': 'age',
  'lab.inspect.sends': 'times sent',
  'lab.inspect.seconds': '{seconds} s',

  // -- the language switch --
  'lang.switch': 'Language',
};
