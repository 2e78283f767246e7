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

  // -- the language switch --
  'lang.switch': 'Language',
};
