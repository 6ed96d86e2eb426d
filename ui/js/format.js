// Everything the windows say in words: relative times, sizes, counts, account states and
// the sentence for each engine event. One place, so the wording stays consistent.

// The formatters are made once. `toLocaleString` with options makes a new one on every call,
// which showed when Activity made rows for hundreds of events a second.
const COUNT = new Intl.NumberFormat();
const SHORT_DATE_THIS_YEAR = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const SHORT_DATE = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const DATE_AND_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** "12,840", in the user's locale. */
export function count(n) {
  return COUNT.format(Number(n));
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "1 photo", "12,840 photos". */
export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** "just now", "5 minutes ago", "yesterday", "3 days ago", then a date. */
export function relativeTime(ms, now = Date.now()) {
  if (ms == null || !Number.isFinite(ms)) return "never";
  const diff = now - ms;
  if (diff < 45 * 1000) return "just now";
  if (diff < HOUR) return `${plural(Math.max(1, Math.round(diff / MINUTE)), "minute")} ago`;
  if (diff < DAY) return `${plural(Math.round(diff / HOUR), "hour")} ago`;
  if (diff < 2 * DAY) return "yesterday";
  if (diff < 7 * DAY) return `${plural(Math.floor(diff / DAY), "day")} ago`;
  const date = new Date(ms);
  const sameYear = date.getFullYear() === new Date(now).getFullYear();
  return (sameYear ? SHORT_DATE_THIS_YEAR : SHORT_DATE).format(date);
}

/** Full local date and time, for tooltips. */
export function absoluteTime(ms) {
  return DATE_AND_TIME.format(new Date(ms));
}

/** "0 B", "512 KB", "4.8 MB", "1.25 GB" (decimal units, as file managers show them). */
export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  const digits = i === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${v.toFixed(digits).replace(/\.0+$|(\.\d*[1-9])0+$/, "$1")} ${units[i]}`;
}

/** "3 days", "3 weeks", "2 months", "5 years": a length of time in days, in words. */
export function days(n) {
  if (n < 14) return plural(Math.round(n), "day");
  if (n < 60) return plural(Math.round(n / 7), "week");
  if (n < 730) return plural(Math.round(n / 30.4), "month");
  return plural(Math.round(n / 365), "year");
}

/** A folder's album choice in a few words: "No album", "An album per sub-folder", "Album “Family”". */
export function albumTitle(album) {
  switch (album?.kind) {
    case "folder":
      return "An album per sub-folder";
    case "named":
      return `Album “${(album.name || "").trim() || "…"}”`;
    default:
      return "No album";
  }
}

/** The live line beside a folder's exclusion patterns. */
export function excludedSentence(n) {
  if (n === 0) return "No files in this folder would be excluded";
  return `${plural(n, "file")} in this folder would be excluded`;
}

/** The last part of a path, for / and \ separators alike. */
export function fileName(path) {
  if (!path) return "";
  const trimmed = String(path).replace(/[\\/]+$/, "");
  const parts = trimmed.split(/[\\/]/);
  return parts[parts.length - 1] || trimmed;
}

/** The folder holding a path. */
export function parentPath(path) {
  const trimmed = String(path || "").replace(/[\\/]+$/, "");
  const i = Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\"));
  return i > 0 ? trimmed.slice(0, i) : "";
}

/**
 * "photos.example.com" from "https://photos.example.com/api", for an address being typed in
 * Settings. Status from the engine carries its own `host`, which Activity shows.
 */
export function host(url) {
  try {
    return new URL(url).host;
  } catch {
    return url || "";
  }
}

/** Upper-case the first letter. */
export function sentence(text) {
  const s = String(text || "").trim();
  return s ? s[0].toUpperCase() + s.slice(1) : "";
}

// ---------------------------------------------------------------- accounts

/** Which colour a state is shown in. */
export function stateTone(state) {
  return (
    { idle: "ok", syncing: "active", scanning: "active", starting: "active", paused: "muted" }[
      state
    ] || (state === "offline" ? "warn" : "error")
  );
}

/** How an account is doing, in the engine's own words (`line` in the status snapshot). */
export function accountStateSentence(account) {
  return account.line || sentence(account.state);
}

/** "12,840 synced · 3 waiting · 14 skipped · 1 failed": zero counts other than synced are left out. */
export function folderCounts(counts = {}) {
  const parts = [`${count(counts.synced || 0)} synced`];
  if (counts.queued) parts.push(`${count(counts.queued)} waiting`);
  if (counts.skipped) parts.push(`${count(counts.skipped)} skipped`);
  if (counts.failed) parts.push(`${count(counts.failed)} failed`);
  if (counts.missing) parts.push(`${count(counts.missing)} removed here`);
  return parts.join(" · ");
}

// ---------------------------------------------------------------- events

/** The activity filters and the events each one shows. */
export const FILTERS = {
  all: null,
  uploads: ["queued", "uploaded", "linked", "restored_in_immich", "upload_failed", "retry_scheduled", "added_to_album", "album_deleted", "metadata_updated"],
  deletes: [
    "deletes_held",
    "local_file_gone",
    "deleted_in_immich",
    "kept_in_immich",
    "remote_deleted",
    "moved_to_trash",
    "kept_local",
    "undone",
  ],
  skipped: ["skipped"],
  problems: ["account_error", "offline", "folder_unavailable", "upload_failed", "retry_scheduled", "error"],
};

// lead: the words before the file name; tone: colour; icon: a name from icons.js.
const EVENT_WORDS = {
  connected: { lead: "Connected to Immich", tone: "ok", icon: "check", noFile: true },
  account_error: { lead: "Syncing stopped: this account needs attention", tone: "error", icon: "error", noFile: true },
  offline: { lead: "Can't reach the server · will keep trying", tone: "warn", icon: "offline", noFile: true },
  paused: { lead: "Syncing paused", tone: "muted", icon: "pause", noFile: true },
  resumed: { lead: "Syncing resumed", tone: "ok", icon: "play", noFile: true },
  scan_started: { lead: "Checking for new and changed files in", tone: "info", icon: "search" },
  scan_finished: { lead: "Finished checking", tone: "ok", icon: "search" },
  folder_unavailable: { lead: "Folder not available:", tone: "warn", icon: "warn" },
  queued: { lead: "Waiting to upload", tone: "info", icon: "clock" },
  uploaded: { lead: "Uploaded", tone: "ok", icon: "upload" },
  linked: { lead: "Already in Immich: linked", tone: "ok", icon: "link" },
  restored_in_immich: { lead: "Restored from the Immich trash:", tone: "ok", icon: "restore" },
  skipped: { lead: "Skipped", tone: "muted", icon: "skip" },
  upload_failed: { lead: "Could not upload", tone: "error", icon: "error" },
  retry_scheduled: { lead: "Will try again to upload", tone: "warn", icon: "clock" },
  local_file_gone: { lead: "Deleted on this computer:", tone: "info", icon: "computer" },
  deleted_in_immich: { lead: "Deleted in Immich (moved to its trash):", tone: "delete", icon: "trash" },
  kept_in_immich: { lead: "Kept in Immich:", tone: "keep", icon: "shield" },
  remote_deleted: { lead: "Deleted in Immich:", tone: "delete", icon: "trash" },
  moved_to_trash: { lead: "Moved to this computer's trash:", tone: "delete", icon: "trash" },
  kept_local: { lead: "Kept on this computer:", tone: "keep", icon: "shield" },
  deletes_held: { lead: "Deletes held for your confirmation in", tone: "warn", icon: "warn" },
  undone: { lead: "Put back:", tone: "ok", icon: "restore" },
  moved_over: { lead: "Moved over from the older sync service:", tone: "ok", icon: "link" },
  metadata_updated: { lead: "Updated in Immich from its sidecar:", tone: "ok", icon: "upload" },
  added_to_album: { lead: "Added to its album:", tone: "ok", icon: "link" },
  album_deleted: { lead: "Album deleted in Immich, not made again", tone: "keep", icon: "shield", noFile: true },
  would_do: { lead: "Test run, nothing changed:", tone: "muted", icon: "eye" },
  error: { lead: "Problem with", tone: "error", icon: "error" },
};

// Engine details repeat the event's own words; trim them so each line says something new.
function cleanDetail(event, detail) {
  if (!detail) return "";
  let d = String(detail).trim();
  if (event === "skipped") d = d.replace(/^skipped:\s*/i, "");
  if (event === "folder_unavailable") d = d.replace(/^folder not available:\s*/i, "");
  if (event === "kept_in_immich") d = d.replace(/:\s*kept in Immich\.?$/i, "");
  if (event === "linked") d = d.replace(/^already in Immich:\s*linked, not uploaded again$/i, "");
  // The engine points to the command line; in the window the review panel is right above.
  if (event === "deletes_held") d = d.replace(/[.:;]?\s*review them with\b.*$/is, "");
  return sentence(d);
}

/**
 * How an event reads in the activity list:
 * `{lead, file, detail, tone, icon}` — shown as "<lead> <file>" with the detail below.
 */
export function describeEvent(ev) {
  const words = EVENT_WORDS[ev.event] || { lead: sentence(String(ev.event).replace(/_/g, " ")), tone: "info", icon: "info" };
  const file = words.noFile ? "" : fileName(ev.path);
  let lead = words.lead;
  if (ev.event === "error" && !file) lead = "Something went wrong";
  return { lead, file, detail: cleanDetail(ev.event, ev.detail), tone: words.tone, icon: words.icon };
}

/** The whole sentence as plain text (for search and screen readers). */
export function eventText(ev) {
  const d = describeEvent(ev);
  return [d.file ? `${d.lead} ${d.file}` : d.lead, d.detail].filter(Boolean).join(". ");
}

/** Whether an event belongs under a filter and matches a search text. */
export function eventMatches(ev, filter, query) {
  const kinds = FILTERS[filter];
  if (kinds && !kinds.includes(ev.event)) return false;
  if (!query) return true;
  const haystack = `${eventText(ev)} ${ev.path || ""} ${ev.user_id || ""}`.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

// ---------------------------------------------------------------- deletes done and undone

/** Where a delete the engine carried out went, as a heading: "Moved to the Immich trash". */
export function deleteDoneLead(entry) {
  return entry.direction === "to_immich" ? "Moved to the Immich trash:" : "Moved to this computer's trash:";
}

/** The line under a photo remembered as deleted in Immich. */
export function tombstoneLead(stone) {
  const day = SHORT_DATE.format(new Date(stone.seen_at));
  return stone.how === "purged" ? `Deleted from Immich on ${day}:` : `Moved to the Immich trash on ${day}:`;
}

/** What an undo did, for the notice under the deletes. */
export function undoSentence(results) {
  const ok = results.filter((r) => r.ok).length;
  const failed = results.filter((r) => !r.ok);
  if (!failed.length) return { text: ok === 1 ? sentence(results[0].message) : `${ok} photos are back.`, tone: "ok" };
  return { text: `Not undone: ${failed[0].message}`, tone: "error" };
}

/** Milliseconds of an event's RFC 3339 timestamp. */
export function eventTime(ev) {
  return Date.parse(ev.timestamp);
}

// ---------------------------------------------------------------- delete policy

/** The three delete modes in plain words. */
export const DELETE_MODES = [
  {
    value: "mirror",
    title: "Mirror",
    summary: "Keep both sides the same",
    text:
      "Delete a photo here and it goes to the Immich trash, if the photo is recent. " +
      "Delete it in Immich and it goes to this computer's trash.",
  },
  {
    value: "upload-only",
    title: "Upload only",
    summary: "Only add, never delete",
    text: "Photos are copied to Immich. Deleting on either side never removes the other copy.",
  },
  {
    value: "keep-local",
    title: "Keep local",
    summary: "Never remove files from this computer",
    text:
      "Delete a photo here and it goes to the Immich trash, if the photo is recent. " +
      "Deleting in Immich leaves the file on this computer.",
  },
];

export function modeTitle(value) {
  return DELETE_MODES.find((m) => m.value === value)?.title || value;
}

// ---------------------------------------------------------------- held deletes

/** The two ways a held delete can go, in the order the review panel lists them. */
export const HELD_DIRECTIONS = [
  {
    value: "to_immich",
    heading: "Deleted on this computer — would go to the Immich trash",
    trash: "the Immich trash",
    kept: "in Immich",
  },
  {
    value: "to_local",
    heading: "Deleted in Immich — would go to this computer's trash",
    trash: "this computer's trash",
    kept: "on this computer",
  },
];

const heldDirection = (value) => HELD_DIRECTIONS.find((d) => d.value === value) || HELD_DIRECTIONS[0];

/** "12 deletes are waiting for your confirmation". */
export function heldTitle(n) {
  return `${plural(n, "delete")} ${n === 1 ? "is" : "are"} waiting for your confirmation`;
}

/** How many of each direction: [[direction, count]], only those with some. */
function byDirection(items) {
  return HELD_DIRECTIONS.map((d) => [d, items.filter((h) => heldDirection(h.direction) === d).length]).filter(
    ([, n]) => n > 0,
  );
}

/** "8 go to the Immich trash, 4 to this computer's trash": `verb` after the first count only. */
function splitBy(parts, verb, where, joiner = ", ") {
  return parts
    .map(([d, n], i) => `${count(n)}${i === 0 ? ` ${verb(n)}` : ""} ${where(d)}`)
    .join(joiner);
}
const go = (n) => (n === 1 ? "goes" : "go");
const stay = (n) => (n === 1 ? "stays" : "stay");

/** Under a list that shows only the oldest of the waiting deletes. */
export function heldMore(shown, waiting) {
  return (
    `These are the oldest ${count(shown)} of ${count(waiting)}. ` +
    "The next ones show as you decide on these; Keep everything keeps all of them."
  );
}

/** "None selected", "3 of 12 selected". */
export function heldSelection(selected, total) {
  return selected ? `${count(selected)} of ${count(total)} selected` : "None selected";
}

/**
 * The question before deleting, e.g. "Delete 12 photos? They go to the Immich trash, where
 * they can be restored." or, both ways, "Delete 12 photos? 8 go to the Immich trash and 4 to
 * this computer's trash, where they can be restored."
 */
export function heldDeleteQuestion(items) {
  const n = items.length;
  const parts = byDirection(items);
  const where =
    parts.length === 1
      ? `${n === 1 ? "It goes" : "They go"} to ${parts[0][0].trash}`
      : splitBy(parts, go, (d) => `to ${d.trash}`, " and ");
  return `Delete ${plural(n, "photo")}? ${where}, where ${n === 1 ? "it" : "they"} can be restored.`;
}

/**
 * The line after a decision: "Deleting 3 photos: they go to the Immich trash.", "Kept 4
 * photos on this computer.", "Kept 12 photos: 8 stay in Immich, 4 on this computer."
 * `decided` is what the engine counted; when it differs from `items` only the number is said.
 */
export function heldDecidedSentence(items, approve, decided = items.length) {
  if (decided === 0) return "Nothing changed: these were decided already.";
  const parts = decided === items.length ? byDirection(items) : [];
  const n = plural(decided, "photo");
  const they = decided === 1 ? "it goes" : "they go";
  if (approve) {
    if (parts.length === 1) return `Deleting ${n}: ${they} to ${parts[0][0].trash}.`;
    if (parts.length > 1) return `Deleting ${n}: ${splitBy(parts, go, (d) => `to ${d.trash}`)}.`;
    return `Deleting ${n}: ${they} to the trash, where ${decided === 1 ? "it" : "they"} can be restored.`;
  }
  if (parts.length === 1) return `Kept ${n} ${parts[0][0].kept}.`;
  if (parts.length > 1) return `Kept ${n}: ${splitBy(parts, stay, (d) => d.kept)}.`;
  return `Kept ${n}: nothing was deleted.`;
}
