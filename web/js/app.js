/** Pages: the entry point: show the login view or the messenger, and wire the tab's one sync loop to
 * the store and the views. Every change on screen flows sync loop -> store / chat view -> DOM. */
import {Api, ApiError} from './api.js';
import {AnchoredChatView} from './anchored-chat-view.js';
import {ContactsView} from './contacts-view.js';
import {groupKey} from './conversation.js';
import {LabPanel} from './lab.js';
import {$, avatar, displayName} from './dom.js';
import {translate} from './i18n.js';
import {mountLanguageSwitches} from './language-switch.js';
import {LoginView} from './login-view.js';
import {MemberPicker} from './member-picker.js';
import {Notifications} from './notify.js';
import {Outbox} from './outbox.js';
import {SearchView} from './search-view.js';
import {StatusView} from './status-view.js';
import {Store} from './store.js';
import {loadUsers} from './store-users.js';
import {SyncLoop} from './sync.js';
import {Wire} from './wire.js';

const NOTE_KEY = 'imdemo.note';  // a message for the login page that survives the reload (its table key)
const wire = new Wire();  // the tab's way to the network: the API client's requests and the WebSocket
const api = new Api({wire});

async function boot() {
  translate(document);
  mountLanguageSwitches(document);
  const config = await loadConfig();
  $('.login-hint').hidden = config.demo_accounts === false;  // no demo accounts, no hint to use them
  const login = new LoginView($('#login'), api, (user) => startMessenger(user, config, login));
  if (!api.token) return showLogin(login);
  try {
    await startMessenger(await api.me(), config, login);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) api.token = null;
    showLogin(login, error instanceof ApiError ? 'login.note.session_ended' : 'login.error.unreachable');
  }
}

/** The server's settings; if it cannot be asked, the defaults of a server on this host. */
async function loadConfig() {
  try {
    return await api.config();
  } catch {
    const port = Number(location.port || 80) + 1;
    return {ws_url: `ws://${location.hostname}:${port}/`, heartbeat: 30, ack_timeout: 5, poll_interval: 3};
  }
}

function showLogin(login, noteKey = '') {
  login.show(sessionStorage.getItem(NOTE_KEY) || noteKey);
  sessionStorage.removeItem(NOTE_KEY);
}

async function startMessenger(me, config, login) {
  const root = $('#messenger');
  const store = new Store(api, me);
  const loop = new SyncLoop(api, config, me.uid);
  const outbox = new Outbox(api);
  const picker = new MemberPicker(store);
  const chat = new AnchoredChatView($('.chat', root), {api, store, outbox, picker, config,
    onClose: () => chat.close(), maxUploadBytes: (config.max_upload_mb || 25) * 1024 * 1024});
  const notifications = new Notifications($('.notify-ask', root), store, (key) => chat.open(key));
  new ContactsView($('.sidebar', root), store, (key) => chat.open(key));
  new SearchView($('.sidebar', root), {api, store, onOpen: (key, mid) => chat.openAt(key, mid)});
  $('.new-group', root).addEventListener('click', async () => {
    const key = await picker.createGroup();
    if (key) chat.open(key);
  });
  new StatusView($('.connection', root), $('.banner'), loop);
  new LabPanel(root, loop, wire);

  loop.addEventListener('message', (event) => {
    store.apply(event.detail);
    chat.onMessage(event.detail.message);
    notifications.message(event.detail.message);
  });
  for (const type of ['read', 'delivered', 'unread', 'settings']) {
    loop.addEventListener(type, (event) => store.apply(event.detail));
  }
  // Signals in the stream (lecture 9): a recall or an edit changes a message wherever it shows; typing is live.
  loop.addEventListener('recalled', (event) => {
    store.apply(event.detail);
    chat.onRecalled(event.detail);
  });
  loop.addEventListener('edited', (event) => {
    store.apply(event.detail);
    chat.onEdited(event.detail.message);
  });
  loop.addEventListener('typing', (event) => chat.typing.show(event.detail));
  loop.addEventListener('gap', (event) => {
    // More of a large group was missed than the server replays: its newest page and exact counts instead.
    store.refresh().catch(() => {});
    chat.reload(groupKey(event.detail.group));
  });
  let loaded = false;
  loop.addEventListener('connected', (event) => {
    // Hints sent while we were away are lost: read the counts again, and resend what failed.
    if (event.detail.resumed || !loaded) store.refresh().then(() => { loaded = true; }, () => {});
    if (event.detail.resumed) {
      outbox.retryFailed();
      chat.resume();
    }
  });
  readEveryoneWhenStale(store, loop);
  loop.addEventListener('unauthorized', () => endSession(loop, 'login.note.session_ended'));
  $('.logout', root).addEventListener('click', () => endSession(loop, 'login.note.logged_out', true));

  $('.inspect-link', root).hidden = !config.inspector;
  loop.addEventListener('config', (event) => { $('.inspect-link', root).hidden = !event.detail.inspector; });
  $('.me-avatar', root).replaceChildren(avatar(me));
  $('.me-name', root).textContent = displayName(me);
  login.hide();
  root.hidden = false;
  try {
    await store.load();
    loaded = true;
    loop.groups.start(store.groupsSeq);  // each large group from its newest: the snapshot counts the rest
  } catch (error) {
    console.warn('imdemo: could not load contacts yet:', error.message);
  }
  loop.start();
}

/** Someone who registered since the page loaded belongs in "All contacts": read everyone again when the
 * list may be stale: each time the sync loop connects again, and when the tab is back in view or gains
 * the focus (the member picker asks as it opens). A push to every user at each registration was left out:
 * registrations are rare and the list is a demo's directory. */
function readEveryoneWhenStale(store, loop) {
  let asking = null;  // one question at a time: focus and visibilitychange come together
  const reread = () => {
    asking ||= loadUsers(store).catch(() => {}).finally(() => { asking = null; });  // unreachable: asked next time
  };
  loop.addEventListener('connected', (event) => event.detail.resumed && reread());
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && reread());
  window.addEventListener('focus', reread);
}

/** Forget the token and start over from the login page: a reload drops every listener and timer. */
async function endSession(loop, noteKey, tellServer = false) {
  loop.stop();
  if (tellServer) await api.logout().catch(() => {});
  api.token = null;
  sessionStorage.setItem(NOTE_KEY, noteKey);
  location.reload();
}

boot();
