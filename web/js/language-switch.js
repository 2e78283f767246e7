/** Pages: the language switch (English / 中文): one button per language, the chosen one pressed.
 * Choosing re-renders the page in place (i18n's 'change'): no reload, nothing typed or open is lost. */
import {LANGUAGES, i18n, language, setLanguage} from './i18n.js';
import {el} from './dom.js';

/** Fill every .lang-switch under root with the buttons, and keep their pressed state true. */
export function mountLanguageSwitches(root = document) {
  for (const group of root.querySelectorAll('.lang-switch')) {
    group.replaceChildren(...LANGUAGES.map(({code, name, locale}) => el('button', {
      type: 'button', lang: locale, dataset: {lang: code}, text: name, onclick: () => setLanguage(code),
    })));
    showChoice(group);
  }
  i18n.addEventListener('change', () => root.querySelectorAll('.lang-switch').forEach(showChoice));
}

function showChoice(group) {
  for (const button of group.children) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === language()));
  }
}
