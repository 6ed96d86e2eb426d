// The Activity window's "Deletes" section: what Immich Sync deleted (with Undo), and the photos
// remembered as deleted in Immich (with Upload again). Both lists are asked for when the window
// opens and again after any event that may change them.

import { backend } from "./backend.js";
import { absoluteTime, count, deleteDoneLead, fileName, parentPath, relativeTime, sentence, tombstoneLead, undoSentence } from "./format.js";
import { $, el } from "./dom.js";
import { icon } from "./icons.js";

const LIMIT = 200;
// Events after which the lists may have changed.
const RELOAD_ON = new Set(["deleted_in_immich", "moved_to_trash", "undone", "kept_local", "remote_deleted", "skipped", "restored_in_immich"]);
// An upload takes a photo off the "deleted in Immich" list when it was forgiven elsewhere
// (`immich-syncd tombstones forget`): these matter only while that list has photos, so an
// import into an empty list does not reload it after every batch.
const RELOAD_ON_WHILE_REMEMBERED = new Set(["uploaded", "linked"]);

const state = { done: null, stones: null, standing: 0, busy: false, drawn: "" };

function row({ lead, file, path, detail, at, button, undone, tone }) {
  const li = el("li", `tone-${tone}`);
  const badge = el("span", "event-icon");
  badge.append(icon(tone === "delete" ? "trash" : "shield"));
  const body = el("div", "event-body");
  const title = el("p", "event-title", lead);
  const name = el("span", "event-file", file);
  name.title = path;
  title.append(" ", name);
  body.append(title, el("p", "event-detail", detail));
  const meta = el("div", "event-meta");
  const time = el("time", "", relativeTime(at));
  time.dateTime = new Date(at).toISOString();
  time.title = absoluteTime(at);
  meta.append(time);
  li.append(badge, body, meta);
  if (button) li.append(button);
  if (undone) li.append(el("span", "deletes-undone", undone));
  return li;
}

function actionButton(label, describe, run) {
  const button = el("button", "btn small deletes-action", label);
  button.type = "button";
  button.setAttribute("aria-label", describe);
  button.disabled = state.busy;
  button.addEventListener("click", run);
  return button;
}

function render() {
  // A reload that brings the same lists draws nothing (but ages "5 minutes ago" once a minute).
  const minute = Math.floor(Date.now() / 60000);
  const drawn = JSON.stringify([state.done, state.stones, state.standing, state.busy, minute]);
  if (drawn === state.drawn) return;
  state.drawn = drawn;
  const done = state.done || [];
  // The journal is read LIMIT at a time: a full page says it is the newest, not the total.
  $("done-count").textContent = !state.done
    ? ""
    : done.length < LIMIT
      ? `(${count(done.length)})`
      : `(the newest ${count(LIMIT)})`;
  $("done-list").replaceChildren(
    ...done.map((entry) =>
      row({
        lead: deleteDoneLead(entry),
        file: fileName(entry.path),
        path: entry.path,
        detail: `${sentence(entry.reason).replace(/\.?$/, ".")} Folder: ${parentPath(entry.path)}`,
        at: entry.at,
        tone: "delete",
        button: entry.undone ? null : actionButton("Undo", `Undo: put ${fileName(entry.path)} back`, () => undo([entry.id])),
        undone: entry.undone ? "Undone" : null,
      }),
    ),
  );
  $("done-empty").hidden = done.length > 0 || !state.done;

  const stones = state.stones || [];
  $("stones-count").textContent = state.stones ? `(${count(state.standing)})` : "";
  $("stones-list").replaceChildren(
    ...stones.map((stone) =>
      row({
        lead: tombstoneLead(stone),
        file: stone.path ? fileName(stone.path) : stone.sha1.slice(0, 12),
        path: stone.path || stone.sha1,
        detail: "Not uploaded again from any folder.",
        at: stone.seen_at,
        tone: "keep",
        button: actionButton("Upload again", `Upload ${stone.path ? fileName(stone.path) : "this photo"} again`, () => uploadAgain([stone.id])),
      }),
    ),
  );
  $("stones-empty").hidden = stones.length > 0 || !state.stones;
}

function notice(text, tone = "ok") {
  const line = $("deletes-notice");
  line.hidden = !text;
  line.className = `held-notice ${tone}`;
  line.replaceChildren();
  if (text) line.append(icon(tone === "error" ? "error" : "check"), el("span", "", text));
}

async function run(work) {
  state.busy = true;
  render();
  try {
    await work();
  } catch (error) {
    notice(error.message, "error");
  }
  state.busy = false;
  await load();
}

function undo(ids) {
  return run(async () => {
    const results = await backend.undoDeletes(ids);
    const said = undoSentence(results);
    notice(said.text, said.tone);
  });
}

function uploadAgain(ids) {
  return run(async () => {
    const n = await backend.uploadAgain(ids);
    notice(n === 1 ? "It will be uploaded again (or restored from the Immich trash) at once." : `${n} photos will be uploaded again.`);
  });
}

let request = 0;
export async function load() {
  const ticket = ++request;
  try {
    const [done, stones] = await Promise.all([backend.deletesDone(LIMIT), backend.deletedInImmich(LIMIT)]);
    if (ticket !== request) return;
    state.done = done;
    state.stones = stones.newest;
    state.standing = stones.standing;
  } catch (error) {
    if (ticket !== request) return;
    notice(`Could not load the deletes: ${error.message}`, "error");
  }
  render();
}

let timer;
/** Called for every batch of live events: reloads half a second after the last one that may
 *  matter. */
export function onEvents(batch) {
  const matters = (ev) => RELOAD_ON.has(ev.event) || (state.standing > 0 && RELOAD_ON_WHILE_REMEMBERED.has(ev.event));
  if (!batch.some(matters)) return;
  clearTimeout(timer);
  timer = setTimeout(load, 500);
}
