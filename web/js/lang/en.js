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
  'group.new': 'New group',
  'group.avatar': 'Group',
  'group.you': 'you',
  'group.member_count': ({n}) => (n === 1 ? '1 member' : `${n} members`),
  'group.members_title': ({n}) => `Members (${n})`,
  'group.said': '{name}: ',
  'group.read_by': ({k, n}) => `Read by ${k} of ${n}`,
  'group.not_member': 'You are no longer a member of this group.',
  'group.event.created': ({by, name, names}) => (names ? `${by} created the group “${name}” with ${names}`
    : `${by} created the group “${name}”`),
  'group.event.renamed': '{by} renamed the group to “{name}”',
  'group.event.added': '{by} added {names}',
  'group.event.removed': '{by} removed {names}',
  'group.event.left': '{names} left',
  'group.event.owner': 'The group’s owner is now {names}',
  'group.create_title': 'New group',
  'group.create': 'Create',
  'group.name': 'Group name',
  'group.pick': 'Members',
  'group.filter': 'Find people',
  'group.nobody': 'There is nobody else to add.',
  'group.cancel': 'Cancel',
  'group.add_title': 'Add members to “{name}”',
  'group.add': 'Add',
  'group.add_members': 'Add members',
  'group.close': 'Close',
  'group.rename': 'Rename',
  'group.leave': 'Leave group',
  'group.remove': 'Remove',
  'group.remove_named': 'Remove {name} from the group',
  'group.role.owner': 'Owner',
  'group.role.member': 'Member',
  'group.error.no_name': 'Give the group a name.',
  'group.error.no_one': 'Choose at least one person.',
  'group.error.invalid_name': 'A group name has 1 to 64 characters.',
  'group.error.group_too_large': 'That would make the group too large.',
  'group.error.not_owner': 'Only the group’s owner can do that.',
  'group.error.not_a_member': 'You are no longer a member of this group.',
  'group.error.no_such_user': 'One of those people no longer exists.',
  'group.error.other': 'That did not work. Please try again.',
  'group.inspect.label': 'group',
  'group.inspect.show': 'Show',
  'group.inspect.unread': 'Each member’s unread count of the group: the {field} field of their _C hash in Redis,'
    + ' beside the database’s count',
  'group.inspect.database': 'the database counts {n}',
  'group.inspect.former': 'no longer a member',
  'group.inspect.agrees': 'Redis agrees with the database: every member’s unread count of this group matches.',
  'group.inspect.differs': '{uid}: Redis says {redis} unread in this group, the database {database}',

  // -- the lab --
  'lab.title': 'Lab',

  // -- the language switch --
  'lang.switch': 'Language',
};
