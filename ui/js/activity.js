// The activity window: how each account and folder is doing, what is uploading, and what
// happened lately. It asks for a status snapshot and the recent events once, then follows
// `sync://status` (a full snapshot each time) and `sync://event` (one event each time).

import { backend } from "./backend.js";
import {
  absoluteTime,
  accountStateSentence,
  bytes,
  describeEvent,
  eventMatches,
  eventTime,
  fileName,
  folderCounts,
  host,
  parentPath,
  relativeTime,
  stateTone,
} from "./format.js";
import { fillIcons, icon } from "./icons.js";

const MAX_EVENTS = 500;

const state = {
  status: null,
  events: [], // newest first, at most MAX_EVENTS
  filter: "all",
  query: "",
};

const $ = (id) => document.getElementById(id);
const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
};

// ---------------------------------------------------------------- accounts and uploads

/** "Alice Martin <alice@example.com>" -> ["Alice Martin", "alice@example.com"]. */
function splitUser(user) {
  const m = /^(.*?)\s*<([^>]+)>\s*$/.exec(user || "");
  return m ? [m[1], m[2]] : [user || "", ""];
}

function accountCard(account, first) {
  const card = el("article", "card account-card");
  card.dataset.tone = stateTone(account.state);

  const top = el("div", "account-top");
  const title = el("div", "account-title");
  title.append(el("h2", "", account.name));
  const server = el("p", "account-server", host(account.server_url));
  server.title = account.server_url;
  title.append(server);
  const who = el("div", "account-who");
  const [name, email] = splitUser(account.user);
  if (name) who.append(el("div", "", name));
  const details = [email, account.server_version && `Immich ${account.server_version}`].filter(Boolean);
  if (details.length) who.append(el("div", "", details.join(" · ")));
  top.append(title, who);

  const line = el("p", "state-line");
  line.append(el("span", "state-dot"));
  const sentence = el("span", "", accountStateSentence(account));
  if (first) sentence.id = "account-state";
  line.append(sentence);
  card.append(top, line);

  const message = account.message || (account.state === "error" || account.state === "offline" ? account.last_error : null);
  if (message) {
    const tone = account.state === "error" ? "error" : account.state === "offline" ? "warn" : "muted";
    const banner = el("p", `banner account-message ${tone}`);
    banner.append(icon(tone === "muted" ? "info" : "warn"), el("span", "", message));
    card.append(banner);
  }
  if (account.last_error && account.last_error !== message) {
    const banner = el("p", "banner account-message muted");
    banner.append(icon("info"), el("span", "", `Last problem: ${account.last_error}`));
    card.append(banner);
  }

  const folders = el("ul", "folder-rows");
  for (const folder of account.folders || []) folders.append(folderRow(account, folder));
  card.append(folders);
  return card;
}

function folderRow(account, folder) {
  const li = el("li", folder.state === "active" ? "" : folder.state);
  li.append(icon(folder.state === "active" ? "folder" : "warn", "icon folder-icon"));

  const body = el("div", "folder-names");
  const open = el("button", "folder-open", fileName(folder.path));
  open.type = "button";
  open.title = `Open ${folder.path}`;
  open.dataset.focusKey = `${account.name}\n${folder.path}`;
  open.addEventListener("click", () => backend.openPath(folder.path).catch(showError));
  body.append(open, el("span", "folder-path", folder.path), el("span", "folder-counts", folderCounts(folder.counts)));

  const scan = el(
    "div",
    "folder-scan",
    folder.last_full_scan ? `Checked ${relativeTime(folder.last_full_scan)}` : "Not checked yet",
  );
  if (folder.last_full_scan) scan.title = `Last full check: ${absoluteTime(folder.last_full_scan)}`;
  li.append(body, scan);

  const message = folder.message || (folder.state === "unavailable" ? "Folder not available." : folder.state === "mismatch" ? "This folder belongs to another Immich user or server." : null);
  if (message) {
    const note = el("p", "folder-message");
    note.append(icon("warn"), el("span", "", message));
    li.append(note);
  }
  return li;
}

function uploadRow(account, upload, showAccount) {
  const percent = upload.total > 0 ? Math.min(100, Math.floor((upload.sent / upload.total) * 100)) : 0;
  const li = el("li");
  const name = el("div", "upload-name", fileName(upload.path));
  name.title = upload.path;
  const where = fileName(parentPath(upload.path));
  name.append(el("span", "upload-where", ` in ${where}${showAccount ? ` · ${account.name}` : ""}`));
  const numbers = el("div", "upload-numbers", `${bytes(upload.sent)} of ${bytes(upload.total)} · ${percent}%`);
  const bar = el("div", "bar");
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", "100");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.setAttribute("aria-label", `Uploading ${fileName(upload.path)}`);
  const fill = el("div", "bar-fill");
  fill.style.width = `${percent}%`;
  bar.append(fill);
  li.append(name, numbers, bar);
  return li;
}

function renderStatus() {
  const status = state.status;
  if (!status) return;
  const accounts = $("accounts");
  const focusKey = document.activeElement?.dataset?.focusKey;
  accounts.removeAttribute("aria-busy");

  if (!status.accounts.length) {
    const empty = el("div", "card list-empty");
    empty.append(
      el("p", "", "No accounts yet."),
      el("p", "", "Open Settings from the Immich Sync menu next to the clock to connect your Immich server."),
    );
    accounts.replaceChildren(empty);
  } else {
    accounts.replaceChildren(...status.accounts.map((a, i) => accountCard(a, i === 0)));
  }
  if (focusKey) {
    [...accounts.querySelectorAll("[data-focus-key]")].find((b) => b.dataset.focusKey === focusKey)?.focus();
  }

  const several = status.accounts.length > 1;
  const uploads = status.accounts.flatMap((a) => (a.uploads || []).map((u) => uploadRow(a, u, several)));
  $("uploads").replaceChildren(...uploads);
  const waiting = status.accounts.reduce((n, a) => n + (a.queue_depth || 0), 0);
  const allPaused = status.accounts.length > 0 && status.accounts.every((a) => a.state === "paused");
  const empty = $("uploads-empty");
  empty.hidden = uploads.length > 0;
  empty.textContent = allPaused
    ? "Paused. Nothing is uploaded until you resume."
    : waiting > 0
      ? `${waiting.toLocaleString()} ${waiting === 1 ? "file is" : "files are"} waiting to upload.`
      : "Nothing is uploading right now.";
}

// ---------------------------------------------------------------- events

function eventRow(ev, showAccount) {
  const d = describeEvent(ev);
  const li = el("li", `tone-${d.tone}`);
  li.dataset.event = ev.event;

  const badge = el("span", "event-icon");
  badge.append(icon(d.icon));

  const body = el("div", "event-body");
  const title = el("p", "event-title", d.lead);
  if (d.file) {
    const file = el("span", "event-file", d.file);
    if (ev.path) file.title = ev.path;
    title.append(" ", file);
  }
  body.append(title);
  if (d.detail) body.append(el("p", "event-detail", d.detail));

  const meta = el("div", "event-meta");
  const ms = eventTime(ev);
  const time = el("time", "", relativeTime(ms));
  time.dateTime = ev.timestamp;
  time.title = absoluteTime(ms);
  meta.append(time);
  if (showAccount && ev.user_id) meta.append(el("span", "event-account", ev.user_id));

  li.append(badge, body, meta);
  return li;
}

function renderEvents() {
  const several = (state.status?.accounts.length || 0) > 1;
  const shown = state.events.filter((ev) => eventMatches(ev, state.filter, state.query));
  $("activity-list").replaceChildren(...shown.map((ev) => eventRow(ev, several)));
  const empty = $("events-empty");
  empty.hidden = shown.length > 0;
  empty.textContent = state.events.length
    ? "Nothing here matches. Try another filter or search."
    : "Nothing has happened yet. New uploads, deletes and problems show up here.";
}

const eventKey = (ev) => `${ev.timestamp}|${ev.event}|${ev.user_id}|${ev.path || ""}`;

function addEvents(newestFirst) {
  const seen = new Set(state.events.map(eventKey));
  const fresh = newestFirst.filter((ev) => !seen.has(eventKey(ev)));
  state.events = [...fresh, ...state.events].slice(0, MAX_EVENTS);
}

// ---------------------------------------------------------------- drawing at most once a frame

let pending = null;
function schedule(what) {
  pending = pending || new Set();
  pending.add(what);
  requestAnimationFrame(() => {
    if (!pending) return;
    const todo = pending;
    pending = null;
    if (todo.has("status")) renderStatus();
    if (todo.has("status") || todo.has("events")) renderEvents();
  });
}

// ---------------------------------------------------------------- toolbar

let statusTimer;
function say(text, tone = "") {
  const out = $("toolbar-status");
  out.textContent = text;
  out.className = `toolbar-status ${tone}`;
  clearTimeout(statusTimer);
  if (text) statusTimer = setTimeout(() => say(""), 5000);
}

function showError(error) {
  say(error.message, "error");
}

async function refresh() {
  try {
    state.status = await backend.getStatus();
    schedule("status");
  } catch (error) {
    showError(error);
  }
}

function action(id, run, done) {
  $(id).addEventListener("click", async () => {
    const button = $(id);
    button.disabled = true;
    try {
      await run();
      say(done);
      await refresh();
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  });
}

action("pause-all", () => backend.pause(null), "Syncing paused for every account.");
action("resume-all", () => backend.resume(null), "Syncing resumed.");
action("sync-now", () => backend.syncNow(), "Checking every folder now.");

for (const button of document.querySelectorAll("[data-filter]")) {
  button.addEventListener("click", () => {
    state.filter = button.dataset.filter;
    for (const b of document.querySelectorAll("[data-filter]")) {
      b.setAttribute("aria-pressed", String(b === button));
    }
    renderEvents();
  });
}
$("event-search").addEventListener("input", (e) => {
  state.query = e.target.value.trim();
  renderEvents();
});

// ---------------------------------------------------------------- start

async function start() {
  fillIcons(document);
  const early = []; // events that arrive while the history loads
  let loaded = false;
  let pushedStatus = false;
  await Promise.all([
    backend.onEvent((ev) => {
      if (!loaded) early.unshift(ev);
      else {
        addEvents([ev]);
        schedule("events");
      }
    }),
    backend.onStatus((status) => {
      pushedStatus = true;
      state.status = status;
      schedule("status");
    }),
  ]).catch(showError);

  try {
    const [status, events] = await Promise.all([backend.getStatus(), backend.recentEvents(MAX_EVENTS)]);
    if (!pushedStatus) state.status = status;
    addEvents([...events].sort((a, b) => eventTime(b) - eventTime(a)));
  } catch (error) {
    showError(error);
    state.status = state.status || { accounts: [] };
  }
  loaded = true;
  addEvents(early);
  state.events.sort((a, b) => eventTime(b) - eventTime(a));
  schedule("status");

  // Relative times ("5 minutes ago") age; a window shown again asks for a fresh snapshot.
  setInterval(() => schedule("status"), 30 * 1000);
  document.addEventListener("visibilitychange", () => document.hidden || refresh());
}

start();
