/** Pages: the lab's timeline: a live sequence diagram of this tab (left) and the server (right). Each
 * frame or request is an arrow the way it went, with its type and seq; a fault of the lab draws the arrow
 * broken; notes (a cut, a silence, a reconnect wait) sit on the tab's lifeline. Newest at the bottom.
 * It keeps the entries, not the drawing, so a language switch redraws every row in the new language.
 */
import {el} from './dom.js';
import {t} from './i18n.js';
import {lab} from './lab-hooks.js';
import {RowWriter, round} from './timeline-rows.js';

const KEEP = 400;  // rows; the oldest go first
const NEAR_BOTTOM = 40;  // pixels: a reader scrolled up is not pulled down by new rows

export class Timeline {
  constructor() {
    this.entries = [];
    this.writer = new RowWriter();
    this.title = el('h3');
    this.clearButton = el('button', {type: 'button', class: 'ghost tl-clear', onclick: () => this.clear()});
    this.tabName = el('span');
    this.serverName = el('span');
    this.rows = el('ol', {class: 'tl-rows', 'aria-live': 'off'});
    this.empty = el('p', {class: 'tl-empty'});
    this.root = el('section', {class: 'tl'},
      el('div', {class: 'tl-head'}, this.title, this.clearButton),
      el('div', {class: 'tl-lifelines', 'aria-hidden': 'true'}, this.tabName, this.serverName),
      el('div', {class: 'tl-scroll'}, this.rows, this.empty));
    this.scroller = this.root.querySelector('.tl-scroll');
    this.render();
  }

  /** Record one entry (stamped now) and draw it. */
  add(entry) {
    const stamped = {...entry, at: Date.now(), offline: lab.faults.offline};  // then nothing leaves the tab
    this.entries.push(stamped);
    const follow = this.nearBottom();
    this.rows.append(this.draw(stamped));
    if (this.entries.length > KEEP) {
      this.entries.shift();
      this.rows.firstChild.remove();
    }
    this.empty.hidden = true;
    if (follow) this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  clear() {
    this.entries = [];
    this.render();
  }

  /** Draw everything again (after a clear, or in another language), where the reader had scrolled to. */
  render() {
    const [top, follow] = [this.scroller.scrollTop, this.nearBottom()];
    this.title.textContent = t('lab.timeline');
    this.clearButton.textContent = t('lab.clear');
    this.tabName.textContent = t('lab.tab');
    this.serverName.textContent = t('lab.server');
    this.empty.textContent = t('lab.empty');
    this.empty.hidden = this.entries.length > 0;
    this.writer.reset();
    this.rows.replaceChildren(...this.entries.map((entry) => this.draw(entry)));
    this.scroller.scrollTop = follow ? this.scroller.scrollHeight : top;
  }

  draw(entry) {
    const row = this.writer.row(entry);
    const started = this.entries[0].at;
    const dataset = {way: row.way, what: row.what, marks: row.marks.map((m) => m.kind).join(' '), ...row.data};
    const text = el('div', {class: 'tl-text'}, el('span', {class: 'tl-label'}, ...row.label),
      ...row.marks.map((m) => el('span', {class: `tl-mark tl-mark-${m.kind}`}, ...m.label)));
    const lane = el('div', {class: 'tl-lane'}, text);
    if (row.way !== 'note') lane.append(el('span', {class: 'tl-arrow', 'aria-hidden': 'true'}));
    const seconds = round((entry.at - started) / 1000);  // since the first row: a duration, as <time> says
    return el('li', {class: `tl-row tl-${row.way} ${row.tone ? `tl-${row.tone}` : ''}`, dataset},
      el('time', {class: 'tl-time', datetime: `PT${seconds}S`, text: t('lab.time', {seconds})}), lane);
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM;
  }
}
