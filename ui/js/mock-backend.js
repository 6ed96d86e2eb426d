// Canned data behind the same interface as backend.js, so the windows can be opened in a
// plain browser: settings.html?mock, activity.html?mock. `?mock=empty` starts with no accounts
// (the first-run flow). Rejections are plain `{code, message, problems}` objects, as Rust sends
// them. Handy inputs for trying the error paths:
//   API key containing "wrong"      -> the key is rejected
//   API key containing "limited"    -> the key lacks asset.delete
//   server address with "offline"   -> the server cannot be reached
//   server address with ".invalid"  -> saving reports a problem next to the address
//   a pattern with an unpaired { or } -> the excluded-files count (and saving) report it
//   a folder on USB-DISK             -> the excluded-files count says it is not available
// The first folder holds 12 deletes for confirmation (the mass-delete guard); approving or
// rejecting them is carried out a moment later, like the engine does.

import { days } from "./format.js";

const params = new URLSearchParams(location.search);
const empty = params.get("mock") === "empty";
const now = Date.now();
const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const clone = (v) => structuredClone(v);
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- canned state

const folder = (path, extra = {}) => ({
  path,
  delete_mode: "mirror",
  delete_threshold: 30,
  delete_max_age: 3650,
  exclude_extensions: [],
  exclude: [],
  album: { kind: "none" },
  stack_raw_jpeg: false,
  ...extra,
});

let settings = {
  first_run: empty,
  limits: { upload_concurrency_max: 16 }, // the engine's, as get_settings reports them
  accounts: empty
    ? []
    : [
        {
          name: "Family",
          server_url: "https://photos.example.com",
          key_masked: "••••3f9a",
          paused: false,
          folders: [
            folder("/home/alice/Pictures", { exclude: ["**/Screenshots/**"], album: { kind: "folder" } }),
            folder("/home/alice/Phone Backup", {
              delete_mode: "keep-local",
              delete_threshold: 14,
              album: { kind: "named", name: "Alice's phone" },
            }),
            folder("/media/alice/USB-DISK/Camera", { delete_mode: "upload-only", exclude_extensions: ["mov"] }),
          ],
        },
        {
          name: "Bob's phone",
          server_url: "http://immich.local:2283",
          key_masked: "••••81c0",
          paused: false,
          folders: [folder("/home/alice/Sync/Bob Camera")],
        },
      ],
  exclude_extensions: ["psd", "tar.gz"],
  exclude: ["*.tmp"],
  upload_concurrency: 4,
  full_scan_interval_hours: 24,
  event_log: null,
  start_at_login: true,
  notifications: true,
  key_storage_note: "No system keychain found: keys are stored in a file readable only by you.",
  about: "Immich Sync 0.1.0 (preview) · logs in ~/.local/state/immich-sync/logs",
};

const pending = [
  ["/home/alice/Pictures/2026/Holiday/IMG_2041.jpg", 4_812_304],
  ["/home/alice/Pictures/2026/Holiday/IMG_2042.jpg", 3_977_210],
  ["/home/alice/Pictures/2026/Holiday/VID_2043.mp4", 48_220_114],
];

let status = {
  accounts: empty
    ? []
    : [
        {
          name: "Family",
          server_url: "https://photos.example.com",
          host: "photos.example.com",
          state: "syncing",
          message: null,
          server_version: "2.3.1",
          user: "Alice Martin <alice@example.com>",
          queue_depth: 3,
          uploads: [{ path: pending[0][0], sent: 1_930_000, total: pending[0][1] }],
          folders: [
            {
              path: "/home/alice/Pictures",
              state: "active",
              counts: { synced: 12840, queued: 3, failed: 1, skipped: 14, missing: 0 },
              last_full_scan: now - 3 * HOUR,
              held_deletes: 12,
              message: "Deletes waiting for your confirmation (12)",
            },
            {
              path: "/home/alice/Phone Backup",
              state: "active",
              counts: { synced: 2311, queued: 0, failed: 0, skipped: 2, missing: 0 },
              last_full_scan: now - 26 * HOUR,
              held_deletes: 0,
              message: null,
            },
            {
              path: "/media/alice/USB-DISK/Camera",
              state: "unavailable",
              counts: { synced: 905, queued: 0, failed: 0, skipped: 0, missing: 0 },
              last_full_scan: now - 5 * DAY,
              held_deletes: 0,
              message:
                "Folder not available: the drive is not connected. Syncing and deletes are paused for it until it is back.",
            },
          ],
          last_error: null,
        },
        {
          name: "Bob's phone",
          server_url: "http://immich.local:2283",
          host: "immich.local:2283",
          state: "idle",
          message: null,
          server_version: "3.1.0",
          user: "Bob Martin <bob@example.com>",
          queue_depth: 0,
          uploads: [],
          folders: [
            {
              path: "/home/alice/Sync/Bob Camera",
              state: "active",
              counts: { synced: 2, queued: 0, failed: 0, skipped: 0, missing: 0 },
              last_full_scan: now - 40 * MIN,
              held_deletes: 0,
              message: null,
            },
          ],
          last_error: null,
        },
      ],
};

const iso = (ms) => new Date(ms).toISOString();
const ev = (ago, worker, event, user_id, extra = {}) => ({
  timestamp: iso(now - ago),
  worker,
  event,
  user_id,
  ...extra,
});
const P = "/home/alice/Pictures/2026/Holiday";

let events = empty
  ? []
  : [
      ev(20 * 1000, "uploader", "uploaded", "Family", { path: `${P}/IMG_2040.jpg`, asset_id: "a1" }),
      ev(50 * 1000, "uploader", "linked", "Family", {
        path: `${P}/IMG_0002.jpg`,
        asset_id: "a2",
        detail: "already in Immich: linked, not uploaded again",
      }),
      ev(2 * MIN, "uploader", "upload_failed", "Family", {
        path: `${P}/broken.heic`,
        detail: "Immich could not read this file (it may be damaged). Open it on this computer to check it; it will be tried again when it changes.",
      }),
      ev(4 * MIN, "scanner", "skipped", "Family", {
        path: "/home/alice/Pictures/notes.txt",
        detail: "skipped: .txt files are not photos or videos Immich accepts",
      }),
      ev(9 * MIN, "reconciler", "deleted_in_immich", "Family", {
        path: `${P}/IMG_1999.jpg`,
        asset_id: "a3",
        detail: "deleted here within the delete threshold: moved to the Immich trash (recoverable there)",
      }),
      ev(12 * MIN, "reconciler", "kept_in_immich", "Family", {
        path: "/home/alice/Pictures/2025/IMG_0417.jpg",
        asset_id: "a4",
        detail: "added 40 days ago, older than the 30-day delete threshold: kept in Immich",
      }),
      ev(35 * MIN, "reconciler", "moved_to_trash", "Bob's phone", {
        path: "/home/alice/Sync/Bob Camera/PXL_20261120_0915.jpg",
        asset_id: "b1",
        detail: "deleted in Immich: moved to the trash (recoverable there)",
      }),
      ev(41 * MIN, "scanner", "scan_finished", "Bob's phone", {
        path: "/home/alice/Sync/Bob Camera",
        detail: "2 files, 0 new or changed, 0 skipped, 0 gone",
      }),
      ev(2 * HOUR, "scanner", "folder_unavailable", "Family", {
        path: "/media/alice/USB-DISK/Camera",
        detail: "Folder not available: the drive is not connected. Syncing and deletes are paused for it until it is back.",
      }),
      ev(3 * HOUR, "uploader", "retry_scheduled", "Family", {
        path: `${P}/VID_1990.mp4`,
        detail: "the connection was reset; trying again in 5 minutes",
      }),
      ev(3 * HOUR + 5 * MIN, "engine", "connected", "Family", {
        detail: "Immich 2.3.1, Alice Martin <alice@example.com>",
      }),
      ev(26 * HOUR, "scanner", "skipped", "Family", {
        path: "/home/alice/Phone Backup/.trashed-1700000000-IMG_1.jpg",
        detail: "skipped: a deleted or old version kept by the phone or Syncthing",
      }),
    ];

// Held by the mass-delete guard: 8 files deleted here, 4 photos deleted in Immich.
const HELD_ROOT = "/home/alice/Pictures";
let held = empty
  ? []
  : [
      ...[
        "2026/Holiday/IMG_1981.jpg",
        "2026/Holiday/IMG_1982.jpg",
        "2026/Holiday/IMG_1983.jpg",
        "2026/Holiday/IMG_1984.heic",
        "2026/Holiday/VID_1985.mp4",
        "2026/Holiday/IMG_1986.jpg",
        "2026/Birthday/IMG_1702.jpg",
        "2026/Birthday/IMG_1703.jpg",
      ].map((path, i) => ({ path, direction: "to_immich", held_at: now - 7 * MIN + i * 1000 })),
      ...[
        "2025/Christmas/PXL_20251224_1830.jpg",
        "2025/Christmas/PXL_20251224_1831.jpg",
        "2025/Christmas/PXL_20251225_0912.jpg",
        "2025/Christmas/PXL_20251225_0913.mp4",
      ].map((path, i) => ({ path, direction: "to_local", held_at: now - 52 * MIN + i * 1000 })),
    ]
      .sort((a, b) => a.held_at - b.held_at)
      .map((h, i) => ({
        id: 101 + i,
        file_id: 5001 + i,
        account: "Family",
        folder: HELD_ROOT,
        asset_id: `c0ffee00-0000-4000-8000-${String(i).padStart(12, "0")}`,
        decision: "waiting",
        ...h,
      }));

if (held.length) {
  for (const [direction, what, how, ago] of [
    ["to_immich", "files deleted here", "nothing was deleted in Immich", 7 * MIN],
    ["to_local", "photos deleted in Immich", "no local file was touched", 52 * MIN],
  ]) {
    const n = held.filter((h) => h.direction === direction).length;
    events.push(
      ev(ago, "reconciler", "deletes_held", "Family", {
        path: HELD_ROOT,
        detail: `${n} ${what} at once (${n} in this folder's last hour, 12840 synced): ${how}. Review them with \`immich-syncd deletions list\`, then approve or reject`,
      }),
    );
  }
  events.sort((a, b) => Date.parse(b.timestamp) - Date.parse(a.timestamp));
}

// ---------------------------------------------------------------- live updates

// Deletes Immich Sync carried out, and photos remembered as deleted in Immich.
let journal = empty
  ? []
  : [
      { id: 7, account: "Family", direction: "to_local", path: `${P}/IMG_2041.jpg`, at: now - 2 * HOUR, reason: "deleted in Immich: moved to the Trash (recoverable there)", undone: false },
      { id: 6, account: "Family", direction: "to_immich", path: `${P}/IMG_2040.jpg`, at: now - 5 * HOUR, reason: "deleted here within the delete threshold: moved to the Immich trash (recoverable there)", undone: false },
      { id: 3, account: "Family", direction: "to_immich", path: `${P}/IMG_1999.jpg`, at: now - 3 * DAY, reason: "the file changed: its previous version was moved to the Immich trash (recoverable there)", undone: true },
    ];
let stones = empty
  ? []
  : [
      { id: 2, account: "Family", sha1: "9f2c0d1e5a7b3c4d", asset_id: "a-2041", how: "trashed", seen_at: now - 2 * HOUR, path: `${P}/IMG_2041.jpg`, forgiven: false },
      { id: 1, account: "Family", sha1: "41aa8e0c6f1d2b3a", asset_id: "a-1877", how: "purged", seen_at: now - 12 * DAY, path: `${P}/IMG_1877.jpg`, forgiven: false },
    ];

const statusListeners = new Set();
const eventListeners = new Set();

// The engine writes each account's `line` (sync_engine::summary::account_line); the mock
// stands in for it with the same words.
function withLines(s) {
  const copy = clone(s);
  for (const a of copy.accounts) {
    const photos = a.folders.reduce((n, f) => n + (f.counts?.synced || 0), 0);
    a.line = {
      paused: "Paused",
      idle: `Up to date · ${photos.toLocaleString()} ${photos === 1 ? "photo" : "photos"}`,
      syncing: a.queue_depth > 0 ? `Uploading · ${a.queue_depth.toLocaleString()} ${a.queue_depth === 1 ? "file" : "files"} waiting` : "Syncing",
      scanning: "Checking for new photos…",
      starting: "Connecting to the server…",
      offline: `Can't reach ${a.host} · will keep trying`,
      error: a.message ? `Needs attention: ${a.message.split(":")[0]}` : "Needs attention",
    }[a.state];
  }
  return copy;
}

function emitStatus() {
  for (const cb of statusListeners) cb(withLines(status));
}

function emitEvent(event) {
  events.unshift(event);
  events = events.slice(0, 1000);
  for (const cb of eventListeners) cb([clone(event)]);
}

function account(name) {
  return status.accounts.find((a) => a.name === name);
}

// The first account uploads its pending files, one after another.
function tick() {
  const family = status.accounts[0];
  if (!family || family.state === "paused") return;
  const upload = family.uploads[0];
  if (!upload) return;
  upload.sent = Math.min(upload.total, upload.sent + 700_000 + Math.random() * 600_000);
  if (upload.sent >= upload.total) {
    family.uploads = [];
    family.queue_depth = Math.max(0, family.queue_depth - 1);
    family.folders[0].counts.synced += 1;
    family.folders[0].counts.queued = family.queue_depth;
    emitEvent({
      timestamp: iso(Date.now()),
      worker: "uploader",
      event: "uploaded",
      user_id: family.name,
      path: upload.path,
      asset_id: crypto.randomUUID?.() ?? String(Math.random()),
    });
    const done = pending.findIndex(([p]) => p === upload.path);
    const next = pending[done + 1];
    if (next && family.queue_depth > 0) {
      family.uploads = [{ path: next[0], sent: 0, total: next[1] }];
    } else {
      family.state = "idle";
    }
  }
  emitStatus();
}

if (!params.has("still")) setInterval(tick, 700);

function setPaused(name, paused) {
  const targets = name == null ? status.accounts : [account(name)].filter(Boolean);
  for (const a of targets) {
    // Pausing stops uploads in flight; they start again on resume.
    if (paused && a.uploads.length) [a.stashed, a.uploads] = [a.uploads, []];
    if (!paused && a.stashed) [a.uploads, a.stashed] = [a.stashed, undefined];
    a.state = paused ? "paused" : a.uploads.length || a.queue_depth ? "syncing" : "idle";
    const s = settings.accounts.find((x) => x.name === a.name);
    if (s) s.paused = paused;
    emitEvent({
      timestamp: iso(Date.now()),
      worker: "engine",
      event: paused ? "paused" : "resumed",
      user_id: a.name,
    });
  }
  emitStatus();
}

// Like the engine's show_held: the count of waiting deletes per folder, in the status.
function showHeld() {
  for (const a of status.accounts) {
    for (const f of a.folders) {
      const waiting = held.filter(
        (h) => h.account === a.name && h.folder === f.path && h.decision === "waiting",
      ).length;
      const was = f.held_deletes;
      f.held_deletes = waiting;
      if (waiting > 0) f.message = `Deletes waiting for your confirmation (${waiting})`;
      else if (was > 0) f.message = null;
    }
  }
  emitStatus();
}

// The reconciler carries out what was decided and forgets those holds.
function carryOut() {
  const done = held.filter((h) => h.decision !== "waiting");
  held = held.filter((h) => h.decision === "waiting");
  const words = {
    to_immich: {
      approved: ["deleted_in_immich", "deleted here within the delete threshold: moved to the Immich trash (recoverable there)"],
      rejected: ["kept_in_immich", "you chose to keep it in Immich"],
    },
    to_local: {
      approved: ["moved_to_trash", "deleted in Immich: moved to the trash (recoverable there)"],
      rejected: ["kept_local", "you chose to keep it on this computer"],
    },
  };
  for (const h of done) {
    const [event, detail] = words[h.direction][h.decision];
    emitEvent({
      timestamp: iso(Date.now()),
      worker: "reconciler",
      event,
      user_id: h.account,
      path: `${h.folder}/${h.path}`,
      asset_id: h.asset_id,
      detail,
    });
  }
}

// ---------------------------------------------------------------- checks like the Rust side's

function validate(s) {
  const problems = [];
  const bad = s.exclude.map(patternProblem).find(Boolean);
  if (bad) problems.push({ key: "exclude", message: bad });
  s.accounts.forEach((a, i) => {
    if (/\.invalid\b/.test(a.server_url)) {
      problems.push({
        key: `account[${i}].server_url`,
        message: "No server answers at this address. Check it in your browser.",
      });
    }
    a.folders.forEach((f, j) => {
      const bad = f.exclude.map(patternProblem).find(Boolean);
      if (bad) problems.push({ key: `account[${i}].folder[${j}].exclude`, message: bad });
      if (f.album.kind === "named" && !f.album.name.trim()) {
        problems.push({ key: `account[${i}].folder[${j}].album`, message: "type the album's name, or choose another album option" });
      }
      if (f.delete_max_age < f.delete_threshold) {
        problems.push({
          key: `account[${i}].folder[${j}].delete_max_age`,
          message: "Must be at least the delete threshold.",
        });
      }
    });
  });
  return problems;
}

// What the engine says about a pattern it cannot read (here: only unpaired braces).
function patternProblem(pattern) {
  const open = (pattern.match(/\{/g) || []).length;
  const close = (pattern.match(/\}/g) || []).length;
  if (open > close) {
    return `\`${pattern}\` is not a pattern this app can read: unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)`;
  }
  if (close > open) {
    return `\`${pattern}\` is not a pattern this app can read: unopened alternate group; missing '{' (maybe escape '}' with '[}]'?)`;
  }
  return null;
}

// A made-up but steady number of files each pattern leaves out of a folder.
function excludedCount(path, patterns) {
  let n = 0;
  for (const pattern of patterns) {
    let hash = 0;
    for (const c of `${path}|${pattern}`) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    n += /screenshot/i.test(pattern) ? 120 + (hash % 300) : hash % 40;
  }
  return n;
}

function deleteSentences(mode, threshold, maxAge) {
  const lines = [];
  if (mode === "upload-only") {
    lines.push("A photo you delete here: kept in Immich.");
  } else if (threshold <= 0) {
    lines.push("A photo you delete here: kept in Immich (a 0-day threshold never deletes there).");
  } else {
    const young = Math.max(1, Math.min(threshold - 1, Math.round(threshold * 0.7)));
    const old = Math.min(Math.round(threshold * 2) + 1, maxAge);
    lines.push(`A photo you added ${days(young)} ago and delete here: moved to the Immich trash.`);
    if (old > threshold) lines.push(`A photo you added ${days(old)} ago and delete here: kept in Immich.`);
  }
  lines.push(
    mode === "mirror"
      ? "A photo deleted in Immich: moved to this computer's trash."
      : "A photo deleted in Immich: kept on this computer.",
  );
  return lines;
}

function testResult(serverUrl, apiKey, accountName) {
  if (!/^https?:\/\/[^/\s]+/i.test(serverUrl)) {
    return { error: { code: "invalid_url", message: "The address must start with http:// or https://." } };
  }
  if (/offline/i.test(serverUrl)) {
    return {
      error: {
        code: "transient",
        message: `Cannot reach ${serverUrl}. Check the address and that this computer is on the right network.`,
      },
    };
  }
  if (!apiKey && !settings.accounts.some((a) => a.name === accountName && a.key_masked)) {
    return { error: { code: "unauthorized", message: "Enter the API key first." } };
  }
  if (/wrong/i.test(apiKey)) {
    return {
      error: {
        code: "unauthorized",
        message: "The server rejected this API key. Check that you copied all of it, or create a new one.",
      },
    };
  }
  const bob = /immich\.local/.test(serverUrl);
  return {
    ok: {
      version: bob ? "3.1.0" : "2.3.1",
      profile: bob ? "v3" : "v2",
      user_name: bob ? "Bob Martin" : "Alice Martin",
      user_email: bob ? "bob@example.com" : "alice@example.com",
      missing_permissions: /limited/i.test(apiKey) ? ["asset.delete"] : [],
    },
  };
}

const folderChoices = [
  "/home/alice/Pictures/Scans",
  "/home/alice/Videos/Family",
  "/home/alice/Desktop/From Grandma",
  "/home/alice/Downloads/WhatsApp Images",
];
let picks = 0;

// ---------------------------------------------------------------- the interface

export const mockBackend = {
  async getStatus() {
    await wait(60);
    return withLines(status);
  },
  async recentEvents(limit) {
    await wait(80);
    return clone(events.slice(0, limit));
  },
  async getSettings() {
    await wait(60);
    return clone(settings);
  },
  async saveSettings(next, keys) {
    await wait(350);
    const problems = validate(next);
    if (problems.length) {
      throw { code: "invalid", message: "Some settings need fixing.", problems };
    }
    const saved = clone(next);
    saved.first_run = false;
    saved.accounts = saved.accounts.map((a) => ({
      ...a,
      key_masked: keys[a.name] ? `••••${keys[a.name].slice(-4)}` : a.key_masked,
    }));
    settings = saved;
    console.info("[mock] saved settings", saved, "new keys for", Object.keys(keys));
    return clone(settings);
  },
  async testConnection(serverUrl, apiKey, accountName) {
    await wait(500);
    const result = testResult(serverUrl, apiKey, accountName);
    if (result.error) throw result.error;
    return result.ok;
  },
  async pickFolder() {
    await wait(150);
    return folderChoices[picks++ % folderChoices.length];
  },
  async pause(name) {
    await wait(60);
    setPaused(name, true);
  },
  async resume(name) {
    await wait(60);
    setPaused(name, false);
  },
  async syncNow() {
    await wait(60);
    for (const a of status.accounts) {
      if (a.state === "paused") continue;
      for (const f of a.folders) {
        if (f.state === "active") f.last_full_scan = Date.now();
        emitEvent({
          timestamp: iso(Date.now()),
          worker: "scanner",
          event: "scan_started",
          user_id: a.name,
          path: f.path,
        });
      }
    }
    emitStatus();
  },
  async openPath(path) {
    console.info("[mock] open", path);
  },
  async openInImmich(account, asset) {
    console.info("[mock] open in Immich", account, asset);
  },
  async openLogFolder() {
    console.info("[mock] open the log folder");
  },
  async countExcluded(path, patterns) {
    await wait(250);
    const written = patterns.map((p) => p.trim()).filter(Boolean);
    const bad = written.map(patternProblem).find(Boolean);
    if (bad) throw { code: "invalid_pattern", message: bad };
    if (!written.length) return 0;
    if (/USB-DISK/.test(path)) {
      throw { code: "unavailable", message: "the folder is not available, so its files cannot be counted" };
    }
    return excludedCount(path, written);
  },
  async deleteExample(mode, threshold, maxAge) {
    await wait(40);
    return deleteSentences(mode, threshold, maxAge);
  },
  async heldDeletes(limit) {
    await wait(80);
    return clone(held.filter((h) => h.decision === "waiting").slice(0, limit));
  },
  async decideDeletes(ids, approve) {
    await wait(250);
    const decision = approve ? "approved" : "rejected";
    let changed = 0;
    for (const h of held) {
      if (ids == null ? h.decision === "waiting" : ids.includes(h.id)) {
        h.decision = decision;
        changed += 1;
      }
    }
    if (changed) {
      setTimeout(showHeld, 300);
      setTimeout(carryOut, 1500);
    }
    return changed;
  },
  async deletesDone(limit) {
    await wait(80);
    return clone(journal.slice(0, limit));
  },
  async undoDeletes(ids) {
    await wait(300);
    return ids.map((id) => {
      const entry = journal.find((e) => e.id === id);
      if (!entry) return { id, ok: false, message: `no delete with id ${id} in the journal` };
      if (entry.undone) return { id, ok: false, message: "already undone" };
      entry.undone = true;
      const where = entry.direction === "to_immich" ? "the Immich trash" : "the Trash";
      return { id, ok: true, message: `${entry.path} is back from ${where}` };
    });
  },
  async deletedInImmich(limit) {
    await wait(80);
    const standing = stones.filter((s) => !s.forgiven);
    return { standing: standing.length, newest: clone(standing.slice(0, limit)) };
  },
  async uploadAgain(ids) {
    await wait(200);
    const before = stones.length;
    stones = stones.filter((s) => ids != null && !ids.includes(s.id));
    return before - stones.length;
  },
  async deletePreview(account, folder, mode, threshold) {
    await wait(40);
    const waiting = folder.endsWith("Pictures") ? 3 : 0;
    if (!waiting) return { waiting: 0, to_immich_trash: 0, sentence: null };
    const trash = mode === "upload-only" ? 0 : threshold >= 30 ? 3 : 1;
    return {
      waiting,
      to_immich_trash: trash,
      sentence: trash
        ? `${trash} local delete${trash === 1 ? "" : "s"} waiting would go to the Immich trash`
        : `${waiting} local deletes waiting would stay in Immich`,
    };
  },
  async pickOlderConfig() {
    await wait(150);
    return "/home/alice/.config/immich-sync/config.toml";
  },
  async moveOver(path) {
    await wait(600);
    console.info("[mock] moving over from", path);
    settings = {
      ...settings,
      first_run: false,
      accounts: [
        {
          name: "alice",
          server_url: "https://photos.example.com",
          key_masked: "••••3f9a",
          paused: false,
          folders: [folder("/photos/alice", { delete_threshold: 14 })],
        },
      ],
    };
    return { settings: clone(settings), accounts: 1, folders: 1, state_file: "/var/lib/immich-sync/state.db" };
  },
  async closeWindow() {
    console.info("[mock] the window closes now");
    document.documentElement.classList.add("mock-closed");
  },
  async onStatus(cb) {
    statusListeners.add(cb);
    return () => statusListeners.delete(cb);
  },
  async onEvents(cb) {
    eventListeners.add(cb);
    return () => eventListeners.delete(cb);
  },
};
