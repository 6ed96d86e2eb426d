// The activity window: how each account and folder is doing, what is uploading, and what
// happened lately. It asks for a status snapshot and the recent events once, then follows
// `sync://status` (a full snapshot each time) and `sync://events` (the events of the last
// moment, oldest first).
// When the mass-delete guard holds deletes, a card at the top lists them for review; the list
// is asked for again whenever the held count in the status changes.

import { backend } from "./backend.js";
import {
  HELD_DIRECTIONS,
  absoluteTime,
  accountStateSentence,
  bytes,
  count,
  describeEvent,
  eventMatches,
  eventTime,
  fileName,
  folderCounts,
  heldDecidedSentence,
  heldDeleteQuestion,
  heldMore,
  heldSelection,
  heldTitle,
  parentPath,
  relativeTime,
  stateTone,
} from "./format.js";
import { fillIcons, icon } from "./icons.js";
import * as deletes from "./deletes.js";
import { $, el } from "./dom.js";

const MAX_EVENTS = 500;
// Rows drawn at first, and added each time the list is scrolled to its end. A large import
// replaces every listed event twice a second; making a row for each of them kept the page
// busy, while a window shows a dozen.
const ROWS_AT_ONCE = 100;
// Held deletes listed at once, oldest first. A mass delete can hold a whole library; the
// rest follow as these are decided, and "Keep everything" covers them all.
const HELD_SHOWN = 200;

const state = {
  status: null,
  events: [], // newest first, at most MAX_EVENTS
  filter: "all",
  query: "",
  rowsDrawn: ROWS_AT_ONCE, // how many of the matching events have a row
  held: {
    count: 0, // waiting deletes, summed over the status's folders
    items: null, // the waiting ones from held_deletes, oldest first; null until loaded
    selected: new Set(), // ids
    error: null, // why the list could not be loaded
    busy: false, // a decision is on its way
    confirm: null, // the items "Delete selected" asks about, while the question shows
    notice: null, // { text, tone } after a decision
  },
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
  const server = el("p", "account-server", account.host);
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
      ? `${count(waiting)} ${waiting === 1 ? "file is" : "files are"} waiting to upload.`
      : "Nothing is uploading right now.";
}

// ---------------------------------------------------------------- events

// Events about a photo that is in Immich now: their rows link to it.
const IN_IMMICH = new Set([
  "uploaded",
  "linked",
  "restored_in_immich",
  "added_to_album",
  "metadata_updated",
  "stacked",
  "kept_in_immich",
]);

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
  if (ev.asset_id && ev.user_id && IN_IMMICH.has(ev.event)) {
    const open = el("button", "btn ghost small event-open", "Open in Immich");
    open.type = "button";
    open.title = "Show this photo in Immich's web app";
    open.addEventListener("click", () => backend.openInImmich(ev.user_id, ev.asset_id).catch(showError));
    body.append(open);
  }

  const meta = el("div", "event-meta");
  const ms = eventTime(ev);
  const time = el("time", "", relativeTime(ms));
  time.dateTime = ev.timestamp;
  time.title = absoluteTime(ms);
  time.dataset.ms = String(ms);
  meta.append(time);
  if (showAccount && ev.user_id) meta.append(el("span", "event-account", ev.user_id));

  li.append(badge, body, meta);
  return li;
}

// A row is made once per event and kept while the event is listed: during a large import
// batches keep coming, and making 500 rows for each kept the page busy. Only new rows are
// made and inserted; the oldest fall off the end.
let rows = new WeakMap();
let rowsShowAccount = false;

function rowFor(ev, several) {
  if (several !== rowsShowAccount) {
    rows = new WeakMap();
    rowsShowAccount = several;
  }
  let li = rows.get(ev);
  if (!li) {
    li = eventRow(ev, several);
    rows.set(ev, li);
  }
  return li;
}

function renderEvents() {
  const several = (state.status?.accounts.length || 0) > 1;
  const shown = state.events.filter((ev) => eventMatches(ev, state.filter, state.query));
  const drawn = shown.slice(0, state.rowsDrawn);
  const list = $("activity-list");
  let next = list.firstChild;
  for (const ev of drawn) {
    const li = rowFor(ev, several);
    if (li === next) next = next.nextSibling;
    else list.insertBefore(li, next);
  }
  while (next) {
    const gone = next;
    next = next.nextSibling;
    gone.remove();
  }
  const empty = $("events-empty");
  empty.hidden = shown.length > 0;
  empty.textContent = state.events.length
    ? "Nothing here matches. Try another filter or search."
    : "Nothing has happened yet. New uploads, deletes and problems show up here.";

  const more = $("events-more");
  const hidden = shown.length - drawn.length;
  more.hidden = hidden <= 0;
  if (hidden > 0) {
    more.textContent = `Show ${count(Math.min(hidden, ROWS_AT_ONCE))} older`;
    // Observing again reports at once whether the button is in view: a tall window may
    // show it right after the rows above it were added.
    moreInView.unobserve(more);
    moreInView.observe(more);
  }
}

// Scrolling to the end of the list shows the next rows, as the button does.
const moreInView = new IntersectionObserver((entries) => {
  if (entries.some((entry) => entry.isIntersecting) && !$("events-more").hidden) showOlder();
});

function showOlder() {
  state.rowsDrawn += ROWS_AT_ONCE;
  renderEvents();
}

const eventKey = (ev) => `${ev.timestamp}|${ev.event}|${ev.user_id}|${ev.path || ""}`;
const listedKeys = new Map(); // eventKey -> how many listed events have it

function addEvents(newestFirst) {
  const fresh = newestFirst.filter((ev) => !listedKeys.has(eventKey(ev)));
  for (const ev of fresh) listedKeys.set(eventKey(ev), (listedKeys.get(eventKey(ev)) || 0) + 1);
  state.events = [...fresh, ...state.events];
  for (const ev of state.events.splice(MAX_EVENTS)) {
    const key = eventKey(ev);
    const n = listedKeys.get(key) - 1;
    if (n > 0) listedKeys.set(key, n);
    else listedKeys.delete(key);
  }
}

function updateEventTimes() {
  for (const time of $("activity-list").querySelectorAll("time[data-ms]")) {
    time.textContent = relativeTime(Number(time.dataset.ms));
  }
}

// ---------------------------------------------------------------- held deletes

const heldById = (id) => state.held.items?.find((h) => String(h.id) === String(id));
const selectedHeld = () => (state.held.items || []).filter((h) => state.held.selected.has(String(h.id)));

/** Asks for the list again when the status shows a different number of waiting deletes. */
function followHeldCount(status) {
  const waiting = status.accounts.reduce(
    (n, a) => n + (a.folders || []).reduce((m, f) => m + (f.held_deletes || 0), 0),
    0,
  );
  if (waiting === state.held.count) return;
  state.held.count = waiting;
  loadHeld();
}

let heldRequest = 0;
let heldLoading = Promise.resolve(); // the latest request for the list
function loadHeld() {
  heldLoading = fetchHeld();
  return heldLoading;
}

async function fetchHeld() {
  const request = ++heldRequest;
  try {
    const waiting = await backend.heldDeletes(HELD_SHOWN);
    if (request !== heldRequest) return;
    const held = state.held;
    held.items = waiting;
    held.error = null;
    const ids = new Set(held.items.map((h) => String(h.id)));
    held.selected = new Set([...held.selected].filter((id) => ids.has(id)));
    if (held.confirm) {
      held.confirm = held.confirm.filter((h) => ids.has(String(h.id)));
      if (!held.confirm.length) held.confirm = null;
    }
  } catch (error) {
    if (request !== heldRequest) return;
    state.held.error = error.message;
  }
  renderHeld();
}

/** "/home/alice/Pictures" + "2026/Holiday/IMG_1.jpg", with the root's own separator. */
function joinPath(root, relative) {
  const sep = root.includes("\\") && !root.includes("/") ? "\\" : "/";
  return relative ? `${root.replace(/[\\/]+$/, "")}${sep}${relative}` : root;
}

function heldRow(item, showAccount) {
  const id = String(item.id);
  const li = el("li");
  li.dataset.id = id;
  const box = el("input");
  box.type = "checkbox";
  box.id = `held-${id}`;
  box.dataset.focusKey = `held-${id}`;
  box.checked = state.held.selected.has(id);
  box.addEventListener("change", () => {
    if (box.checked) state.held.selected.add(id);
    else state.held.selected.delete(id);
    selectionChanged();
  });

  const full = joinPath(item.folder, item.path);
  const label = el("label", "held-file");
  label.htmlFor = box.id;
  label.title = full;
  const where = parentPath(full);
  label.append(
    el("span", "held-name", fileName(item.path)),
    el("span", "held-path", showAccount ? `${where} · ${item.account}` : where),
  );

  const time = el("time", "held-time", relativeTime(item.held_at));
  time.dateTime = new Date(item.held_at).toISOString();
  time.title = `Held since ${absoluteTime(item.held_at)}`;
  time.dataset.ms = String(item.held_at);

  li.append(box, label, time);
  return li;
}

function heldGroup(direction, items, showAccount) {
  const group = el("section", "held-group");
  group.dataset.direction = direction.value;
  const head = el("div", "held-group-head");
  const all = el("input");
  all.type = "checkbox";
  all.id = `held-all-${direction.value}`;
  all.dataset.focusKey = all.id;
  all.dataset.group = direction.value;
  all.addEventListener("change", () => {
    for (const h of items) {
      if (all.checked) state.held.selected.add(String(h.id));
      else state.held.selected.delete(String(h.id));
    }
    selectionChanged();
  });
  const title = el("h3", "held-group-title");
  const label = el("label");
  label.htmlFor = all.id;
  label.append(el("span", "visually-hidden", "Select all: "), direction.heading);
  title.append(label);
  head.append(all, title, el("span", "held-group-count", count(items.length)));

  const list = el("ul", "held-rows");
  list.setAttribute("aria-label", direction.heading);
  list.append(...items.map((h) => heldRow(h, showAccount)));
  group.append(head, list);
  return group;
}

/** Draws the whole card: after loading the list, after a decision. */
function renderHeld() {
  const held = state.held;
  const card = $("held-deletes");
  const items = held.items || [];
  // The status counts every waiting delete; the list holds the first HELD_SHOWN of them.
  const waiting = held.items && items.length < HELD_SHOWN ? items.length : Math.max(held.count, items.length);
  const done = !(waiting > 0 || (held.error && held.count > 0));
  card.hidden = done && !held.notice;
  card.classList.toggle("done", done);
  card.setAttribute("aria-busy", String(held.busy));
  if (card.hidden) return;

  $("held-title").textContent = heldTitle(waiting || held.count);
  const more = $("held-more");
  more.hidden = !(held.items && waiting > items.length);
  more.textContent = more.hidden ? "" : heldMore(items.length, waiting);

  const focusKey = document.activeElement?.dataset?.focusKey;
  const list = $("held-list");
  if (held.error) {
    const problem = el("div", "held-problem");
    const retry = el("button", "btn small", "Try again");
    retry.type = "button";
    retry.dataset.focusKey = "held-retry";
    retry.addEventListener("click", loadHeld);
    problem.append(icon("error"), el("span", "", `Could not load the list: ${held.error}`), retry);
    list.replaceChildren(problem);
  } else if (!held.items) {
    list.replaceChildren(el("p", "held-loading", "Loading…"));
  } else {
    const several = new Set(items.map((h) => h.account)).size > 1;
    list.replaceChildren(
      ...HELD_DIRECTIONS.map((d) => [d, items.filter((h) => h.direction === d.value)])
        .filter(([, group]) => group.length)
        .map(([d, group]) => heldGroup(d, group, several)),
    );
  }
  if (focusKey) {
    [...list.querySelectorAll("[data-focus-key]")].find((b) => b.dataset.focusKey === focusKey)?.focus();
  }

  renderHeldNotice();
  updateSelection();
}

function renderHeldNotice() {
  const { notice } = state.held;
  const line = $("held-notice");
  line.hidden = !notice;
  line.className = `held-notice ${notice?.tone || ""}`;
  line.replaceChildren();
  if (notice) line.append(icon(notice.tone === "error" ? "error" : "check"), el("span", "", notice.text));
}

/** Checkboxes, the selection line, the buttons and the question: whatever the selection moves. */
function updateSelection() {
  const held = state.held;
  const items = held.items || [];
  const chosen = selectedHeld();
  for (const li of $("held-list").querySelectorAll("li[data-id]")) {
    const on = held.selected.has(li.dataset.id);
    li.classList.toggle("selected", on);
    li.querySelector("input").checked = on;
  }
  for (const all of $("held-list").querySelectorAll("input[data-group]")) {
    const ids = items.filter((h) => h.direction === all.dataset.group).map((h) => String(h.id));
    const n = ids.filter((id) => held.selected.has(id)).length;
    all.checked = n > 0 && n === ids.length;
    all.indeterminate = n > 0 && n < ids.length;
  }
  $("held-selection").textContent = items.length ? heldSelection(chosen.length, items.length) : "";

  const locked = held.busy || !held.items;
  $("held-keep-all").disabled = held.busy;
  $("held-keep-selected").disabled = locked || !chosen.length;
  $("held-delete-selected").disabled = locked || !chosen.length || !!held.confirm;
  for (const box of $("held-list").querySelectorAll("input")) box.disabled = held.busy;

  $("held-confirm-box").hidden = !held.confirm;
  if (held.confirm) $("held-question").textContent = heldDeleteQuestion(held.confirm);
  $("held-confirm").disabled = held.busy;
  $("held-cancel").disabled = held.busy;
}

function updateHeldTimes() {
  for (const time of $("held-list").querySelectorAll("time[data-ms]")) {
    time.textContent = relativeTime(Number(time.dataset.ms));
  }
}

let noticeTimer;
function heldNotice(text, tone = "ok") {
  state.held.notice = text ? { text, tone } : null;
  clearTimeout(noticeTimer);
  if (text) {
    noticeTimer = setTimeout(() => {
      state.held.notice = null;
      renderHeld();
    }, 10 * 1000);
  }
}

function selectionChanged() {
  state.held.confirm = null; // a question about another selection would mislead
  if (state.held.notice && state.held.notice.tone !== "error") {
    heldNotice(null);
    renderHeldNotice();
  }
  updateSelection();
}

/** Sends a decision (`items` null: every waiting delete), then shows the list as it is now. */
async function decide(items, approve) {
  const held = state.held;
  held.busy = true;
  held.confirm = null;
  renderHeld();
  try {
    const ids = items ? items.map((h) => h.id) : null;
    const decided = await backend.decideDeletes(ids, approve);
    held.selected.clear();
    heldNotice(heldDecidedSentence(items || held.items || [], approve, decided));
  } catch (error) {
    heldNotice(error.message, "error");
  }
  held.busy = false;
  await loadHeld();
  // The button pressed may be gone or disabled now: keep the focus in the card.
  if (!document.activeElement || document.activeElement === document.body || document.activeElement.disabled) {
    const next = $("held-list").querySelector("input:not([disabled])");
    (next && !$("held-deletes").classList.contains("done") ? next : $("held-deletes")).focus();
  }
}

$("held-keep-all").addEventListener("click", () => decide(null, false));
$("held-keep-selected").addEventListener("click", () => decide(selectedHeld(), false));
$("held-delete-selected").addEventListener("click", () => {
  const chosen = selectedHeld();
  if (!chosen.length) return;
  state.held.confirm = chosen;
  heldNotice(null);
  renderHeldNotice();
  updateSelection();
  $("held-cancel").focus();
});
$("held-cancel").addEventListener("click", () => {
  state.held.confirm = null;
  updateSelection();
  $("held-delete-selected").focus();
});
$("held-confirm").addEventListener("click", () => {
  const chosen = (state.held.confirm || []).filter((h) => heldById(h.id));
  if (chosen.length) decide(chosen, true);
});

// ---------------------------------------------------------------- drawing

// While updates keep coming the page draws at most every DRAW_EVERY_MS, the accounts and the
// events together. A large import sends a status five times a second and thousands of events;
// each drawing is a frame the webview paints and composites (in software where there is no
// GPU), and twice a second is as fast as anyone reads counts. The first update after a quiet
// moment, a search and a filter still draw at once.
const DRAW_EVERY_MS = 500;
let pending = new Set();
let drawnAt = -Infinity;
let drawing = false; // a drawing is waiting for its time or its frame

function schedule(what) {
  pending.add(what);
  if (drawing) return;
  drawing = true;
  const wait = drawnAt + DRAW_EVERY_MS - performance.now();
  if (wait > 0) setTimeout(() => requestAnimationFrame(draw), wait);
  else requestAnimationFrame(draw);
}

function draw() {
  drawing = false;
  drawnAt = performance.now();
  const todo = pending;
  pending = new Set();
  if (todo.has("status")) renderStatus();
  const several = (state.status?.accounts.length || 0) > 1;
  if (todo.has("events") || several !== rowsShowAccount) renderEvents();
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
    followHeldCount(state.status);
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

$("events-more").addEventListener("click", showOlder);

action("pause-all", () => backend.pause(null), "Syncing paused for every account.");
action("resume-all", () => backend.resume(null), "Syncing resumed.");
action("sync-now", () => backend.syncNow(), "Checking every folder now.");
action("open-logs", () => backend.openLogFolder(), "The log folder opens in your file manager.");

for (const button of document.querySelectorAll("[data-filter]")) {
  button.addEventListener("click", () => {
    state.filter = button.dataset.filter;
    state.rowsDrawn = ROWS_AT_ONCE;
    for (const b of document.querySelectorAll("[data-filter]")) {
      b.setAttribute("aria-pressed", String(b === button));
    }
    renderEvents();
  });
}
$("event-search").addEventListener("input", (e) => {
  state.query = e.target.value.trim();
  state.rowsDrawn = ROWS_AT_ONCE;
  renderEvents();
});

// ---------------------------------------------------------------- start

/** A performance mark once what is drawn now has been painted: "activity-status" when the
 *  accounts and recent events show, "activity-ready" when the held deletes and the Deletes lists
 *  have too. `scripts/bench app-activity` reads them to tell how long the window takes to open. */
function markAfterPaint(name) {
  requestAnimationFrame(() => setTimeout(() => performance.mark(name), 0));
}

async function start() {
  fillIcons(document);
  const early = []; // events that arrive while the history loads
  let loaded = false;
  let pushedStatus = false;
  await Promise.all([
    backend.onEvents((batch) => {
      const newestFirst = [...batch].reverse();
      if (!loaded) early.unshift(...newestFirst);
      else {
        addEvents(newestFirst);
        schedule("events");
      }
      if (batch.some((ev) => ev.event === "deletes_held")) loadHeld();
      deletes.onEvents(batch);
    }),
    backend.onStatus((status) => {
      pushedStatus = true;
      state.status = status;
      followHeldCount(status);
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
  followHeldCount(state.status);
  const deletesLoading = deletes.load();
  loaded = true;
  addEvents(early);
  state.events.sort((a, b) => eventTime(b) - eventTime(a));
  schedule("status");
  schedule("events");
  markAfterPaint("activity-status");
  Promise.allSettled([heldLoading, deletesLoading]).then(() => markAfterPaint("activity-ready"));

  // Relative times ("5 minutes ago") age; a window shown again asks for a fresh snapshot.
  setInterval(() => {
    schedule("status");
    updateEventTimes();
    updateHeldTimes();
  }, 30 * 1000);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    refresh();
    deletes.load();
    if (state.held.count > 0 || state.held.items?.length) loadHeld();
  });
}

start();
