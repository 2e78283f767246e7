/** Pages: the inspector's pane of one message's way across processes (lecture 19's trace). Each message sent
 * while an inspector is open carries a trace id in its notice; every process started with --inspect records
 * its steps of it (the request, the commit, the notice heard, the push or long poll answer, the ACK), and this
 * pane shows them in time order, each with its process and its time since the send, from whichever process
 * serves this page. It polls GET /api/inspect/traces; what the server recorded is data, shown as it is. */
import {code, el, phrase} from './dom.js';
import {i18n, t} from './i18n.js';

const EVERY = 1000;  // ms
const SHOWN = 3;  // the newest traced messages
const STEPS = ['request', 'committed', 'heard', 'pushed', 'answered', 'acknowledged'];  // each has a gloss
const pane = document.getElementById('traces');
let last = [];

/** What a step says besides its name: the user, the seq (a large group's: group and gseq), the transport and
 * the way of a push, the users held (data). */
function details(step) {
  const shown = ['name', 'uid', 'seq', 'group', 'gseq', 'mids', 'timelines', 'users_here', 'transport', 'way']
    .filter((key) => key in step);
  return shown.map((key) => `${key} ${Array.isArray(step[key]) ? step[key].join(',') : step[key]}`).join(' · ');
}

function stepView(step, first, processes) {
  const since = ((step.at - first) * 1000).toFixed(1);
  const which = processes.indexOf(step.process);
  return el('li', {class: `trace-step process-${which % 4}`, dataset: {step: step.step}},
    el('span', {class: 'since'}, ...phrase('inspect.traces.since', {ms: code(since)})),
    el('span', {class: 'process'}, code(step.process)),
    el('strong', {}, code(step.step)),
    STEPS.includes(step.step) ? el('span', {class: 'gloss', text: t(`inspect.traces.step.${step.step}`)}) : null,
    el('div', {class: 'info'}, code(details(step))));
}

function traceView(trace) {
  const processes = [...new Set(trace.steps.map((step) => step.process))];
  const first = trace.steps.length ? trace.steps[0].at : 0;
  const head = el('div', {class: 'trace-head'},
    ...phrase('inspect.traces.message', {mid: code(trace.mids.join(','))}), ' · ',
    ...phrase('inspect.traces.trace', {id: code(trace.trace)}), ' · ',
    ...phrase('inspect.traces.processes', {count: code(processes.length)}));
  return el('li', {class: 'trace', dataset: {trace: trace.trace}}, head,
    el('ol', {class: 'trace-steps'}, ...trace.steps.map((step) => stepView(step, first, processes))));
}

function render() {
  pane.querySelector('h2').textContent = t('inspect.traces.title');
  pane.querySelector('ol').replaceChildren(...last.slice(0, SHOWN).map(traceView));
  const none = pane.querySelector('.none');
  none.textContent = t('inspect.traces.none');
  none.hidden = last.length > 0;
}

async function poll() {
  try {
    const response = await fetch('/api/inspect/traces');
    if (response.ok) {
      last = (await response.json()).traces;
      render();
    }
  } finally {
    setTimeout(poll, EVERY);
  }
}

i18n.addEventListener('change', render);
render();
poll();
