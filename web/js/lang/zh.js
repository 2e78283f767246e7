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

  // -- the language switch --
  'lang.switch': '语言',
};
