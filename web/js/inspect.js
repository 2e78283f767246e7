// The inspector page: lists traced actions live and shows the raw state of two users, or of a group.
// It polls the inspector's read-only endpoints; every value is shown with textContent. Its own
// words come from the language tables; what the server traced (names, SQL, keys, rows) is data, marked
// translate="no", and stays as it is in either language.
import {i18n, locale, t, translate} from "./i18n.js";
import {phrase} from "./dom.js";
import {mountLanguageSwitches} from "./language-switch.js";

const NOISE = /^(GET \/api\/sync|GET \/api\/unread|WebSocket frame|WebSocket events_after|WebSocket acknowledge)/;
// What the server's own actions (not a request's) are, in the reader's language, beside their traced name
const GLOSSES = [[/^unread merge$/, "inspect.event.merge"], [/^WebSocket frame in$/, "inspect.event.frame_in"],
  [/^WebSocket frame out$/, "inspect.event.frame_out"], [/^WebSocket hello$/, "inspect.event.hello"],
  [/^WebSocket retransmission$/, "inspect.event.retransmission"], [/^WebSocket closed/, "inspect.event.closed"],
  [/^WebSocket /, "inspect.event.call"]];
const actionsList = document.getElementById("actions");
const hideNoise = document.getElementById("hide-noise");
const actionOf = new WeakMap();  // li -> the action it shows, to draw it again in another language
let next = 0;
let lastState = null;  // {ok, body, render}: what the state pane shows, to draw again in another language
let showState = showPair;  // the pair, or the group last asked for: refreshed every 2 s

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** An element holding what the server traced: shown as it is in every language. */
function data(tag, className, text) {
  const node = el(tag, className, text);
  node.translate = false;
  return node;
}

const show = (value) => (typeof value === "string" ? value : JSON.stringify(value));

function stepView(step) {
  const item = el("li", `step step-${step.kind}`);
  if (step.kind === "sql") {
    item.append(el("span", "tag", t("inspect.tag.sql")), data("code", "", step.sql));
    if (step.params.length) {
      const params = el("div", "params", `${t("inspect.params")} `);
      params.append(data("span", "", show(step.params)));
      item.append(params);
    }
    if (step.rows >= 0 && !/^\s*SELECT|RETURNING/i.test(step.sql)) {
      item.append(el("div", "params", t("inspect.rows", {count: step.rows})));
    }
  } else if (step.kind === "lua") {
    item.append(el("span", "tag", t("inspect.tag.lua")),
      data("code", "", `${step.script} keys ${show(step.keys)} args ${show(step.args)}`));
    for (const key of Object.keys(step.after || {})) {
      item.append(data("div", "change", `${key}: ${show(step.before[key])} → ${show(step.after[key])}`));
    }
  } else {
    item.append(el("span", "tag", t(step.command[0] === "PUBLISH" ? "inspect.tag.pubsub" : "inspect.tag.redis")),
      data("code", "", step.command.map(show).join(" ")));
  }
  return item;
}

function actionView(action) {
  const item = el("li", "action");
  item.dataset.name = action.name;
  actionOf.set(item, action);
  const head = el("div", "action-head");
  const when = new Date(action.at * 1000);
  const time = el("time", "muted", when.toLocaleTimeString(locale()));
  time.dateTime = when.toISOString();
  head.append(data("strong", "", action.name), " ", time);
  if (action.trace) {  // its way across processes is in the traces pane
    head.append(" ", el("span", "trace-chip"));
    head.lastChild.append(...phrase("inspect.traces.trace", {id: data("code", "", action.trace)}));
  }
  const gloss = GLOSSES.find(([pattern]) => pattern.test(action.name));
  if (gloss) head.append(" ", el("span", "gloss", t(gloss[1])));
  const info = Object.entries(action.info).map(([k, v]) => `${k} ${show(v)}`).join(" · ");
  if (info) head.append(data("div", "info", info));
  item.append(head);
  if (action.steps.length) {
    const steps = el("ol", "steps");
    action.steps.forEach((step) => steps.append(stepView(step)));
    item.append(steps);
  }
  item.hidden = hideNoise.checked && NOISE.test(action.name);
  return item;
}

async function pollActions() {
  try {
    const response = await fetch(`/api/inspect/actions?after=${next}`);
    if (response.ok) {
      const body = await response.json();
      body.actions.forEach((action) => actionsList.prepend(actionView(action)));
      next = body.next;
      while (actionsList.children.length > 300) actionsList.lastChild.remove();
    }
  } finally {
    setTimeout(pollActions, 700);
  }
}

function tableView(name, rows) {
  const wrap = el("div", "table-wrap");
  wrap.append(el("h3", "", `${name} (${rows.length})`));
  if (!rows.length) return wrap;
  const table = el("table");
  const head = el("tr");
  Object.keys(rows[0]).forEach((column) => head.append(el("th", "", column)));
  table.append(head);
  rows.forEach((row) => {
    const tr = el("tr");
    Object.values(row).forEach((value) => tr.append(el("td", "", value === null ? "null" : String(value))));
    table.append(tr);
  });
  wrap.append(table);
  return wrap;
}

async function showPair(event) {
  if (event) event.preventDefault();
  showState = showPair;
  const form = new FormData(document.getElementById("pair"));
  const response = await fetch(`/api/inspect/state?a=${encodeURIComponent(form.get("a"))}&b=${encodeURIComponent(form.get("b"))}`);
  lastState = {ok: response.ok, body: await response.json(), render: renderPair};
  renderPair(lastState);
}

/** The verdict line to fill, or null once it says the server refused the request. */
function verdictLine({ok, body}) {
  const verdict = document.getElementById("verdict");
  if (ok) return verdict;
  verdict.textContent = t("inspect.refused", {message: body.error.message});
  verdict.className = "verdict bad";
  return null;
}

function renderPair({ok, body}) {
  const verdict = verdictLine({ok, body});
  if (!verdict) return;
  if (body.differences.length) {  // the server's own account of each difference, as it wrote it
    verdict.replaceChildren(`${t("inspect.disagree")} `, data("span", "", body.differences.join("; ")));
  } else {
    verdict.textContent = t("inspect.agree");
  }
  verdict.className = `verdict ${body.differences.length ? "bad" : "good"}`;
  const unread = document.getElementById("unread");
  unread.replaceChildren(el("h3", "", t("inspect.unread_keys")));
  for (const info of Object.values(body.unread)) {
    for (const [key, value] of Object.entries(info.keys)) unread.append(data("div", "change", `${key} = ${show(value)}`));
  }
  const tables = document.getElementById("tables");
  tables.replaceChildren(...Object.entries(body.tables).map(([name, rows]) => tableView(name, rows)));
}

/** Show a group ("g5" or 5): its rows, and each member's unread field in Redis beside the database's count. */
async function showGroup(event) {
  if (event) event.preventDefault();
  showState = showGroup;
  const gid = new FormData(document.getElementById("group")).get("gid").trim().replace(/^g/i, "");
  const response = await fetch(`/api/inspect/group?gid=${encodeURIComponent(gid)}`);
  lastState = {ok: response.ok, body: await response.json(), render: renderGroup};
  renderGroup(lastState);
}

function renderGroup({ok, body}) {
  const verdict = verdictLine({ok, body});
  if (!verdict) return;
  const differing = body.unread.filter((u) => body.differences.includes(u.uid));
  verdict.textContent = differing.length
    ? differing.map((u) => t("group.inspect.differs", {uid: u.uid, redis: u.redis, database: u.database})).join("; ")
    : t("group.inspect.agrees");
  verdict.className = `verdict ${differing.length ? "bad" : "good"}`;
  const unread = document.getElementById("unread");
  const group = body.tables.im_group[0], large = body.storage === "read";
  unread.replaceChildren(el("p", "storage", t(large ? "group.inspect.read_diffusion" : "group.inspect.write_diffusion",
                                              {members: group.member_count, large_at: body.large_at})),
    el("h3", "", t(large ? "group.inspect.unread_large" : "group.inspect.unread", {field: `g${group.gid}`})));
  for (const u of body.unread) {
    const line = el("div", `change${body.differences.includes(u.uid) ? " differs" : ""}`);
    const shown = large ? `g${group.gid}_N − ${u.key}[${u.field}] = ${u.redis}` : `${u.key} ${u.field} = ${u.redis}`;
    line.append(data("span", "", shown), ` · ${t("group.inspect.database", {n: u.database})}`,
      u.waiting ? ` · ${t("group.inspect.waiting", {n: u.waiting})}` : "",  // merged changes (--unread-merge)
      u.member ? "" : ` · ${t("group.inspect.former")}`);
    line.dataset.uid = String(u.uid);
    unread.append(line);
  }
  const tables = document.getElementById("tables");
  tables.replaceChildren(...Object.entries(body.tables).map(([name, rows]) => tableView(name, rows)));
}

/** Show the recent uploads: each one's row, the chunk rows holding its bytes, the file it became (the server's
 * finding) and the messages that carry it. */
async function showUploads(event) {
  if (event) event.preventDefault();
  showState = showUploads;
  const response = await fetch("/api/inspect/uploads");
  lastState = {ok: response.ok, body: await response.json(), render: renderUploads};
  renderUploads(lastState);
}

function renderUploads({ok, body}) {
  const verdict = verdictLine({ok, body});
  if (!verdict) return;
  verdict.textContent = body.uploads.length ? t("inspect.uploads.count", {n: body.uploads.length})
    : t("inspect.uploads.none");
  verdict.className = "verdict";
  document.getElementById("unread").replaceChildren();
  const tables = document.getElementById("tables");
  tables.replaceChildren(...body.uploads.flatMap((one) => {
    const [upload] = one.im_upload;
    const head = el("h3", "upload-head", t(upload.fid ? "inspect.uploads.file" : "inspect.uploads.partial",
      {offset: upload.offset, length: upload.length, chunks: one.im_blob_chunk.length}));
    head.prepend(data("code", "", upload.name), " · ");
    return [head, ...Object.entries(one).map(([name, rows]) => tableView(name, rows))];
  }));
}

/** Draw what is on screen again in the language just chosen; nothing is fetched again. */
function relabel() {
  for (const item of [...actionsList.children]) item.replaceWith(actionView(actionOf.get(item)));
  if (lastState) lastState.render(lastState);
}

translate(document);
mountLanguageSwitches(document);
i18n.addEventListener("change", relabel);
hideNoise.addEventListener("change", () => {
  for (const item of actionsList.children) item.hidden = hideNoise.checked && NOISE.test(item.dataset.name);
});
document.getElementById("clear").addEventListener("click", () => actionsList.replaceChildren());
document.getElementById("pair").addEventListener("submit", showPair);
document.getElementById("group").addEventListener("submit", showGroup);
document.getElementById("uploads").addEventListener("submit", showUploads);
setInterval(() => showState(), 2000);
showPair();
pollActions();
