// The only module that talks to the Rust side. Every command of the contract (ui/README.md)
// is one async function here; a rejection always arrives as a UiError. Outside Tauri (a plain
// browser, `?mock`) the same interface is served by mock-backend.js with canned data.

/** An error the UI can show: a `code`, a plain `message`, and per-field `problems`. */
export class UiError extends Error {
  constructor(code, message, problems = []) {
    super(message);
    this.name = "UiError";
    this.code = code;
    this.problems = problems;
  }
}

// Messages are shown as sentences, whatever case they were written in.
const capitalized = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);

/** Turns whatever a command rejected with into a UiError. */
export function toUiError(error) {
  if (error instanceof UiError) return error;
  if (typeof error === "string") return new UiError("error", capitalized(error));
  if (error && typeof error === "object") {
    const problems = Array.isArray(error.problems)
      ? error.problems.map((p) => ({ key: String(p.key ?? ""), message: capitalized(String(p.message ?? "")) }))
      : [];
    return new UiError(
      error.code || "error",
      capitalized(error.message) || "Something went wrong. Please try again.",
      problems,
    );
  }
  return new UiError("error", "Something went wrong. Please try again.");
}

function tauriBackend(tauri) {
  const call = (command, args) => tauri.core.invoke(command, args);
  const listen = (name) => (cb) => tauri.event.listen(name, (e) => cb(e.payload));
  return {
    getStatus: () => call("get_status"),
    recentEvents: (limit) => call("recent_events", { limit }),
    getSettings: () => call("get_settings"),
    saveSettings: (settings, keys) => call("save_settings", { settings, keys }),
    testConnection: (serverUrl, apiKey, account) =>
      call("test_connection", { serverUrl, apiKey, account }),
    pickFolder: () => call("pick_folder"),
    pause: (account) => call("pause", { account }),
    resume: (account) => call("resume", { account }),
    syncNow: () => call("sync_now"),
    openPath: (path) => call("open_path", { path }),
    openLogFolder: () => call("open_log_folder"),
    countExcluded: (path, patterns) => call("count_excluded", { path, patterns }),
    openInImmich: (account, asset) => call("open_in_immich", { account, asset }),
    deleteExample: (mode, threshold, maxAge) =>
      call("delete_example", { mode, threshold, maxAge }),
    heldDeletes: (limit) => call("held_deletes", { limit }),
    decideDeletes: (ids, approve) => call("decide_deletes", { ids, approve }),
    closeWindow: () => call("close_window"),
    deletesDone: (limit) => call("deletes_done", { limit }),
    undoDeletes: (ids) => call("undo_deletes", { ids }),
    deletedInImmich: (limit) => call("deleted_in_immich", { limit }),
    uploadAgain: (ids) => call("upload_again", { ids }),
    deletePreview: (account, folder, mode, threshold, maxAge) =>
      call("delete_preview", { account, folder, mode, threshold, maxAge }),
    pickOlderConfig: () => call("pick_older_config"),
    moveOver: (path) => call("move_over", { path }),
    onStatus: listen("sync://status"),
    onEvents: listen("sync://events"),
  };
}

// Every async function rejects with a UiError, whichever implementation is behind it.
function withUiErrors(impl) {
  const wrapped = {};
  for (const [name, fn] of Object.entries(impl)) {
    wrapped[name] = async (...args) => {
      try {
        return await fn(...args);
      } catch (error) {
        throw toUiError(error);
      }
    };
  }
  return wrapped;
}

const tauri = window.__TAURI__;

/** True when the pages run on canned data (no Tauri around them). */
export const isMock = !tauri?.core;

export const backend = withUiErrors(
  isMock ? (await import("./mock-backend.js")).mockBackend : tauriBackend(tauri),
);
