// Run in a page by tests/test_browser_i18n.py: walk everything visible and return what is not in the
// chosen language. Every text, title, placeholder, aria-label, alt and CSS-generated text must be a
// string of the current table (its {slots} filled with data, or with other strings of the table), or
// be data: inside translate="no" (names, message text, SQL), a <time> (written by Intl), a <code>, or
// without letters (numbers, marks, punctuation). Nothing here names an element of the pages, so it
// walks pages added later (groups, the lab) as they are.
async () => {
  const {LANGUAGES, TABLES, language, locale} = await import('/static/js/i18n.js');
  const FREE_SLOTS = new Set(['message', 'time', 'name']);  // filled with data, not with table strings
  const ATTRIBUTES = ['title', 'placeholder', 'aria-label', 'alt'];
  const normal = (text) => text.replace(/\s+/g, ' ').trim();
  const hasLetters = (text) => /\p{L}/u.test(text);
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const ownNames = new Set(LANGUAGES.map((l) => l.name));  // the switch names each language in itself

  const templates = Object.values(TABLES[language()]).filter((v) => typeof v === 'string').map((value) => {
    const slots = [];
    const pattern = normal(value).split(/(\{\w+\})/).map((part) => {
      const slot = /^\{(\w+)\}$/.exec(part);
      if (slot) {
        slots.push(slot[1]);
        return '(.*?)';
      }
      return escape(part).replace(/ /g, '\\s*');
    }).join('');
    return {slots, regex: new RegExp(`^${pattern}$`, 'su')};
  });

  function fromTable(text, depth = 0) {
    text = normal(text);
    if (!hasLetters(text) || ownNames.has(text)) return true;
    if (depth > 3) return false;
    return templates.some(({slots, regex}) => {
      const match = regex.exec(text);
      return match && slots.every((slot, i) => FREE_SLOTS.has(slot) || fromTable(match[i + 1], depth + 1));
    });
  }

  function isData(element) {
    const marked = element.closest('[translate]');
    if (marked && marked.getAttribute('translate') === 'no') return true;
    return !!element.closest('time, code, script, style, noscript, template');
  }

  const where = (element) => `<${element.tagName.toLowerCase()}${element.className ? ` class="${element.className}"` : ''}>`;
  const problems = [];
  const checked = [];
  function check(text, what) {
    if (!hasLetters(text)) return;
    checked.push(normal(text));
    if (!fromTable(text)) problems.push(`${what}: ${JSON.stringify(normal(text))}`);
  }

  check(document.title, 'the tab title');
  if (document.documentElement.lang !== locale()) problems.push(`<html lang="${document.documentElement.lang}">`);
  for (const element of document.body.querySelectorAll('*')) {
    if (isData(element) || !element.checkVisibility({checkVisibilityCSS: true})) continue;
    const own = [...element.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.data).join('');
    check(own, `text of ${where(element)}`);
    for (const name of ATTRIBUTES) {
      if (element.hasAttribute(name)) check(element.getAttribute(name), `${name} of ${where(element)}`);
    }
    for (const pseudo of ['::before', '::after']) {
      const content = getComputedStyle(element, pseudo).content;
      if (content.startsWith('"')) check(JSON.parse(content), `${pseudo} of ${where(element)}`);
    }
  }
  return {language: language(), problems, checked};
}
