/** Pages: every string a person reads, in Chinese (简体中文), with the course's own terms where it has
 * them (最近联系人, 所有联系人, 未读数, 短轮询, 长轮询, 长连接, 心跳, 消息确认/ACK). Same keys as lang/en.js. */
export default {
  // -- the app: login, contacts, chat, status --
  'app.name': 'imdemo',
  'app.needs_js': 'imdemo 需要启用 JavaScript。',

  // -- the inspector --
  'inspect.title': 'imdemo 观察器',

  // -- groups --
  'group.members': '群成员',

  // -- the lab --
  'lab.title': '实验室',
  'lab.toggle': '实验室',
  'lab.toggle_title': '故意破坏消息确认（ACK）、心跳和断线重连，看它们如何恢复',
  'lab.close': '关闭实验室',
  'lab.timers': '心跳 {heartbeat} 秒 · ACK 超时 {ack} 秒 · 最多重传 {retries} 次。',
  'lab.long_timers': '做实验嫌长：用 python run.py --lab 启动可缩短。',
  'lab.intro': '一次用一个开关，故意破坏协议，在时间线上看它如何恢复。每种故障都是本页自己的行为，服务器运行的是平常的代码。',
  'lab.ws_only': '仅限长连接：请在上方选择 WebSocket',
  'lab.acks': '不发送 ACK',
  'lab.acks.explain': '本页收下每条推送的消息，但从不回消息确认（ACK）。观察同一个 seq 到达 {times} 次（每 {ack} 秒重传一次），'
    + '随后服务器以 4408 "ack timeout" 关闭连接，本页以 since = 最后处理的 seq 断线重连。消息只显示一次，未读数只加一。',
  'lab.drop_ws': '丢掉下一条推送',
  'lab.drop_ws.explain': '下一条 message 帧在路上丢失：不显示，也不确认。ACK 超时（{ack} 秒）后服务器用同一个 seq 重传，'
    + '消息只显示一次。',
  'lab.drop_poll': '丢掉下一个轮询响应',
  'lab.drop_poll.explain': '下一个带消息的响应在路上丢失，就像一次失败的请求。下一次轮询带着同一个 since 再问，又拿到它：'
    + '游标本身就是确认。',
  'lab.heartbeat': '不发送心跳',
  'lab.heartbeat.explain': '本页停止每 {heartbeat} 秒一次的 ping（因此也不等 pong）。服务器把连续三个心跳周期（{silence} 秒）'
    + '没有声音的连接以 4408 "heartbeat timeout" 关闭；本页断线重连。',
  'lab.cut': '悄悄切断连接',
  'lab.cut.explain': '本页不再在这条连接上读写，也不发关闭帧，就像 NAT 忘掉了映射。本页在 {tab} 秒（两个心跳周期）'
    + '听不到任何数据后发现，并从自己的 seq 续传；服务器靠自己的计时器发现（三个心跳周期，或已推送消息的 ACK 超时：'
    + '见观察器）。期间从另一个标签页发消息：一条也不会丢。',
  'lab.twice': '下一条消息发两次',
  'lab.twice.explain': '你发的下一条消息会用同一个 client_msg_id 发出两次，就像第一次的响应丢了之后的重试。服务器只存一份，'
    + '第二次返回第一条消息（mid 相同）。',
  'lab.offline': '断网',
  'lab.offline.explain': '{seconds} 秒内什么都过不去：连接断开但没有关闭帧，每个请求都失败，本页按退避重试。期间从另一个'
    + '标签页发消息：重连后全部到达，按顺序，每条一次。',
  'lab.online': '立即恢复联网（还剩 {seconds} 秒）',
  'lab.offline_seconds': '断网秒数',
  'lab.seconds': '秒',
  'lab.did.acks': '实验：从现在起不发送 ACK',
  'lab.did.drop': '实验：下一条消息将在路上丢失',
  'lab.did.heartbeat': '实验：停止心跳',
  'lab.did.cut': '实验：切断连接',
  'lab.did.twice': '实验：下一条消息将发送两次',
  'lab.did.offline': '实验：断网 {seconds} 秒',
  'lab.did.online': '实验：恢复联网',
  'lab.did.undone': '实验：关闭“{what}”',
  'lab.note.cut': '本页不再在这条连接上读写（没有关闭帧）',
  'lab.note.silent': '{seconds} 秒没有收到任何数据：本页放弃这条连接',
  'lab.note.wait': '连接断开：{seconds} 秒后重连',
  'lab.timeline': '时间线',
  'lab.clear': '清空',
  'lab.tab': '本页',
  'lab.server': '服务器',
  'lab.empty': '还没有记录。用上面的开关，或者从另一个标签页发一条消息。',
  'lab.time': '+{seconds} 秒',
  'lab.row.frame': '{type}',
  'lab.row.hello': 'hello · since {since}',
  'lab.row.welcome': 'welcome',
  'lab.row.message': 'message · seq {seq}',
  'lab.row.ack': 'ack（确认）· seq {seq}',
  'lab.row.close': '关闭 {code} {reason}',
  'lab.row.error': 'error · {code}',
  'lab.row.poll': 'GET /api/sync · since {since}',
  'lab.row.poll_wait': 'GET /api/sync · since {since} · 最多等 {timeout} 秒',
  'lab.row.events': (p) => (p.first === p.last ? `seq ${p.first} · next ${p.next}`
    : `seq ${p.first}–${p.last} · next ${p.next}`),
  'lab.row.nothing': '没有新消息 · next {next}',
  'lab.row.hints': '提示：{types} · next {next}',
  'lab.row.no_answer': '没有响应',
  'lab.row.send': 'POST /api/messages · client_msg_id {id}…',
  'lab.row.sent': '响应 · message mid {mid}',
  'lab.mark.retransmission': '第 {n} 次重传',
  'lab.mark.duplicate': '已处理过：丢弃，不重复计数',
  'lab.mark.gap': '缺少 seq {missing}：先等它',
  'lab.mark.lost': '在路上丢失（实验）',
  'lab.mark.withheld': '未发送（实验）',
  'lab.mark.offline': '断网：没有发出（实验）',
  'lab.mark.again': '又一次：since {since} 没有确认更多',
  'lab.mark.again_id': '同一个 client_msg_id 再发一次（实验）',
  'lab.mark.same_mid': '返回第一条消息：只存了一份',
  'lab.inspect.title': '打开的长连接及其待确认（ACK）的消息',
  'lab.inspect.none': '没有打开的长连接。',
  'lab.inspect.connection': 'uid {uid} · {peer} · 游标 {cursor} · 静默 {silent} 秒',
  'lab.inspect.nothing_pending': '没有待确认的消息：每条推送都已确认',
  'lab.inspect.seq': 'seq',
  'lab.inspect.age': '已等待',
  'lab.inspect.sends': '发送次数',
  'lab.inspect.seconds': '{seconds} 秒',

  // -- the language switch --
  'lang.switch': '语言',
};
