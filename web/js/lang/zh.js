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
  'group.new': '创建群聊',
  'group.avatar': '群聊',
  'group.you': '你',
  'group.member_count': ({n}) => `${n} 位成员`,
  'group.members_title': ({n}) => `群成员（${n}）`,
  'group.said': '{name}：',
  'group.read_by': ({k, n}) => (k === n ? '全部已读' : `${k}/${n} 人已读`),
  'group.not_member': '你已不是本群成员。',
  'group.event.created': ({by, name, names}) => (names ? `${by}创建了群聊“${name}”，并邀请${names}加入`
    : `${by}创建了群聊“${name}”`),
  'group.event.renamed': '{by}将群名改为“{name}”',
  'group.event.added': '{by}邀请{names}加入了群聊',
  'group.event.removed': '{by}将{names}移出了群聊',
  'group.event.left': '{names}退出了群聊',
  'group.event.owner': '{names}成为新群主',
  'group.create_title': '创建群聊',
  'group.create': '创建',
  'group.name': '群聊名称',
  'group.pick': '选择群成员',
  'group.filter': '查找联系人',
  'group.nobody': '没有可以添加的人了。',
  'group.cancel': '取消',
  'group.add_title': '添加成员到“{name}”',
  'group.add': '添加',
  'group.add_members': '添加群成员',
  'group.close': '关闭',
  'group.rename': '修改群名',
  'group.leave': '退出群聊',
  'group.remove': '移出群聊',
  'group.remove_named': '将{name}移出群聊',
  'group.role.owner': '群主',
  'group.role.member': '成员',
  'group.error.no_name': '请填写群聊名称。',
  'group.error.no_one': '请至少选择一位成员。',
  'group.error.invalid_name': '群聊名称须为 1 到 64 个字符。',
  'group.error.group_too_large': '群成员人数将超出上限。',
  'group.error.not_owner': '只有群主可以这样做。',
  'group.error.not_a_member': '你已不是本群成员。',
  'group.error.no_such_user': '所选的人中有人已不存在。',
  'group.error.other': '操作失败，请重试。',
  'group.inspect.label': '群聊',
  'group.inspect.show': '查看',
  'group.inspect.unread': '每位成员在本群的未读数：Redis 中其 _C 哈希的 {field} 字段，旁边是数据库统计的数',
  'group.inspect.database': '数据库统计为 {n}',
  'group.inspect.former': '已不是群成员',
  'group.inspect.agrees': 'Redis 与数据库一致：每位成员在本群的未读数都相符。',
  'group.inspect.differs': '{uid}：Redis 记为本群未读 {redis}，数据库为 {database}',

  // -- the lab --
  'lab.title': '实验室',

  // -- the language switch --
  'lang.switch': '语言',
};
