/** Pages: the inspector's pane of open WebSocket connections, for the lab: whose each is, how far its
 * cursor has gone, how long it has been silent, and every message event still waiting for its ACK (seq,
 * age, times sent; a large group's by its group and gseq, g7:5). It polls GET /api/inspect/connections;
 * every value goes in as text. */
import {code, el, phrase} from './dom.js';
import {i18n, t} from './i18n.js';

const EVERY = 700;  // ms, as the inspector's list of actions
const pane = document.getElementById('connections');
let last = [];

function pendingTable(pending) {
  const head = el('tr', {}, ...['lab.inspect.seq', 'lab.inspect.age', 'lab.inspect.sends'].map(
    (key) => el('th', {text: t(key)})));
  return el('table', {}, head, ...pending.map((item) => el('tr', {class: item.sends > 1 ? 'late' : ''},
    el('td', {}, code(item.seq ?? `g${item.group}:${item.gseq}`)),
    el('td', {text: t('lab.inspect.seconds', {seconds: item.age})}),
    el('td', {text: String(item.sends)}))));
}

function card(connection) {
  const info = phrase('lab.inspect.connection', {uid: code(connection.uid), peer: code(connection.peer),
    cursor: code(connection.cursor), silent: connection.silent_for});
  return el('li', {class: 'connection-card', dataset: {uid: connection.uid}}, el('div', {class: 'info'}, ...info),
    connection.pending.length ? pendingTable(connection.pending)
      : el('div', {class: 'muted', text: t('lab.inspect.nothing_pending')}));
}

function render() {
  pane.querySelector('h2').textContent = t('lab.inspect.title');
  const list = pane.querySelector('ol');
  list.replaceChildren(...last.map(card));
  const none = pane.querySelector('.none');
  none.textContent = t('lab.inspect.none');
  none.hidden = last.length > 0;
}

async function poll() {
  try {
    const response = await fetch('/api/inspect/connections');
    if (response.ok) {
      last = (await response.json()).connections;
      render();
    }
  } finally {
    setTimeout(poll, EVERY);
  }
}

i18n.addEventListener('change', render);
render();
poll();
