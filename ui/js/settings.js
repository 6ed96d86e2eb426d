// The settings window, and the first-run flow in the same page.
//
// The page edits a working copy of the Settings DTO (state.settings). Every input writes into
// it and is checked where it is typed; Save sends the whole copy plus the API keys typed since
// the last save. Problems, from these checks or from the Rust side, are kept by their key
// ("account[0].folder[1].delete_threshold") and shown next to the field with that data-key.

import { backend } from "./backend.js";
import { DELETE_MODES, albumTitle, excludedSentence, fileName, host, modeTitle, plural } from "./format.js";
import { fillIcons, icon } from "./icons.js";

/** A folder as it is added: the engine's defaults, nothing left out, no album. */
const newFolder = (path, extra = {}) => ({
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
const params = new URLSearchParams(location.search);
const app = document.getElementById("app");

const state = {
  settings: null, // the working copy
  savedJson: "", // the last saved settings, to tell unsaved changes
  keys: new Map(), // account object -> API key typed since the last save
  problems: new Map(), // problem key -> message
  selected: "general", // "general" or an account index
  openFolders: new Set(), // "account index:path" (delete settings) and "…:album" that are open
  firstRun: false, // the guided first-run page is shown instead of the settings window
};

// ---------------------------------------------------------------- small helpers

const $ = (root, selector) => root.querySelector(selector);
const bound = (root, name) => root.querySelector(`[data-bind="${name}"]`);

function fromTemplate(id) {
  const fragment = document.getElementById(id).content.cloneNode(true);
  fillIcons(fragment);
  return fragment;
}

let uid = 0;

/** Ties a field's label, hint and error to its input, and gives it its problem key. */
function wireField(fieldEl, key) {
  fieldEl.dataset.key = key;
  const input = $(fieldEl, "input, select, textarea");
  if (!input) return fieldEl;
  if (!input.id) input.id = `field-${++uid}`;
  const label = $(fieldEl, ":scope > label");
  if (label && !label.htmlFor) label.htmlFor = input.id;
  const described = [];
  for (const [selector, suffix] of [[":scope > .hint", "hint"], [":scope > .field-error", "error"]]) {
    const el = $(fieldEl, selector);
    if (el) {
      el.id = `${input.id}-${suffix}`;
      described.push(el.id);
    }
  }
  input.setAttribute("aria-describedby", described.join(" "));
  return fieldEl;
}

/** A number typed in an input, or NaN when it is empty or not a number. */
function numberOf(input) {
  return input.value.trim() === "" ? NaN : Number(input.value);
}

/**
 * Checks a text field when you leave it, and again at every key once it shows a problem, so a
 * message never nags while you are still typing and disappears as soon as it is fixed.
 */
function liveCheck(input, key, check) {
  input.addEventListener("input", () => {
    if (state.problems.has(key)) setProblem(key, check(input.value));
  });
  input.addEventListener("change", () => setProblem(key, check(input.value)));
}

function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---------------------------------------------------------------- checks where you type

const checks = {
  name(value, account) {
    const name = value.trim();
    if (!name) return "Give this account a name, for example Family photos.";
    const same = state.settings.accounts.filter((a) => a !== account && a.name.trim() === name);
    return same.length ? "Another account already has this name." : null;
  },
  server_url(value) {
    const url = value.trim();
    if (!url) return "Enter the address of your Immich server.";
    if (!/^https?:\/\//i.test(url)) return "The address must start with http:// or https://.";
    try {
      if (!new URL(url).hostname) throw new Error();
    } catch {
      return "This does not look like a web address. Copy it from your browser's address bar.";
    }
    return null;
  },
  api_key(value, account) {
    if (value.trim() || account?.key_masked) return null;
    return "Paste the API key you created in Immich.";
  },
  delete_threshold(value) {
    if (!Number.isFinite(value)) return "Enter a number of days (0 or more).";
    return value < 0 ? "The threshold must be 0 days or more." : null;
  },
  delete_max_age(value, folder) {
    if (!Number.isFinite(value)) return "Enter a number of days.";
    if (value <= 0) return "The safety limit must be more than 0 days.";
    if (Number.isFinite(folder.delete_threshold) && value < folder.delete_threshold) {
      return `The safety limit must be at least the delete threshold (${folder.delete_threshold} days).`;
    }
    return null;
  },
  upload_concurrency(value) {
    // The range is the engine's (`limits` in the settings), never a number of our own.
    const max = state.settings.limits.upload_concurrency_max;
    return Number.isInteger(value) && value >= 1 && value <= max
      ? null
      : `Choose a whole number from 1 to ${max}.`;
  },
  full_scan_interval_hours(value) {
    return Number.isFinite(value) && value > 0 ? null : "Enter a number of hours above 0.";
  },
  album(album) {
    if (album?.kind !== "named") return null;
    const name = (album.name || "").trim();
    if (!name) return "Type the album's name, or choose another album option.";
    // The settings file writes the album as one word, where these two mean the other choices.
    if (name === "none" || name === "folder") {
      return `An album cannot be called “${name}” here: the settings file uses that word for another choice. Choose another name.`;
    }
    return null;
  },
};

/** Every problem of the working copy, keyed as the Rust side keys them. */
function problemsOf(settings) {
  const found = new Map();
  const check = (key, problem) => problem && found.set(key, problem);
  settings.accounts.forEach((account, i) => {
    check(`account[${i}].name`, checks.name(account.name, account));
    check(`account[${i}].server_url`, checks.server_url(account.server_url));
    check(`account[${i}].api_key`, checks.api_key(state.keys.get(account) || "", account));
    account.folders.forEach((folder, j) => {
      const at = `account[${i}].folder[${j}]`;
      check(`${at}.delete_threshold`, checks.delete_threshold(folder.delete_threshold));
      check(`${at}.delete_max_age`, checks.delete_max_age(folder.delete_max_age, folder));
      check(`${at}.album`, checks.album(folder.album));
    });
  });
  check("upload_concurrency", checks.upload_concurrency(settings.upload_concurrency));
  check("full_scan_interval_hours", checks.full_scan_interval_hours(settings.full_scan_interval_hours));
  return found;
}

function setProblem(key, message) {
  if (message) state.problems.set(key, message);
  else state.problems.delete(key);
  for (const el of document.querySelectorAll(`[data-key="${CSS.escape(key)}"]`)) showProblem(el);
  refreshNav();
}

function showProblem(fieldEl) {
  const message = state.problems.get(fieldEl.dataset.key) || "";
  const error = $(fieldEl, ":scope > .field-error");
  if (error) {
    error.replaceChildren(...withCode(message));
    error.hidden = !message;
  }
  fieldEl.classList.toggle("invalid", Boolean(message));
  if (message) fieldEl.closest("details")?.setAttribute("open", "");
  const input = $(fieldEl, "input:not([type=radio]), textarea");
  if (input && fieldEl.dataset.field !== "path") input.setAttribute("aria-invalid", String(Boolean(message)));
}

/** Shows every problem: next to its field, or in the pane's list when no field shows it. */
function showAllProblems(root = document) {
  for (const el of root.querySelectorAll("[data-key]")) showProblem(el);
  const list = $(document, ".pane-problems");
  if (!list) return;
  const shown = new Set([...document.querySelectorAll("[data-key]")].map((el) => el.dataset.key));
  const paneKey = state.selected === "general" ? null : `account[${state.selected}]`;
  const here = [...state.problems].filter(([key]) => {
    if (shown.has(key)) return false;
    const account = /^account\[(\d+)\]/.exec(key);
    if (state.firstRun) return true;
    return account ? `account[${account[1]}]` === paneKey : paneKey === null;
  });
  list.replaceChildren();
  list.hidden = here.length === 0;
  if (here.length) {
    const title = document.createElement("p");
    title.className = "pane-problems-title";
    title.append(icon("error"), "These settings need fixing:");
    const ul = document.createElement("ul");
    for (const [key, message] of here) {
      const li = document.createElement("li");
      li.textContent = `${describeKey(key)}: ${message}`;
      ul.append(li);
    }
    list.append(title, ul);
  }
}

/** "Folder Pictures, delete threshold" from "account[0].folder[1].delete_threshold". */
function describeKey(key) {
  const m = /^account\[(\d+)\](?:\.folder\[(\d+)\])?\.?(.*)$/.exec(key);
  const words = (field) => (field ? field.replace(/_/g, " ") : "");
  if (!m) return words(key) || "Settings";
  const account = state.settings.accounts[Number(m[1])];
  const folder = m[2] != null ? account?.folders[Number(m[2])] : null;
  const parts = [];
  if (folder) parts.push(`Folder ${fileName(folder.path)}`);
  else if (!state.firstRun) parts.push(account?.name || "This account");
  if (m[3]) parts.push(words(m[3]));
  return parts.join(", ") || "This account";
}

// ---------------------------------------------------------------- connection test

const CONNECTION_TITLES = {
  unauthorized: "The API key was not accepted",
  missing_permission: "The API key is missing permissions",
  not_immich: "This is not an Immich server",
  invalid_url: "Check the server address",
  transient: "Cannot reach the server",
  tls: "The server's security certificate was not accepted",
};
const KEY_PROBLEMS = new Set(["unauthorized", "missing_permission"]);

/** Shows a test result under the key field; returns true when the account can sync. */
function showConnection(root, result, error) {
  const box = $(root, "#connection-result");
  const urlInput = $(root, "#server-url");
  const keyInput = $(root, "#api-key");
  box.replaceChildren();
  for (const input of [urlInput, keyInput]) input.classList.remove("connection-invalid");
  if (!result && !error) return false;

  const block = (tone, iconName, title, text, id) => {
    const div = document.createElement("div");
    div.className = `result ${tone}`;
    if (id) div.id = id;
    const body = document.createElement("div");
    const strong = document.createElement("strong");
    strong.textContent = title;
    body.append(strong);
    if (text) {
      body.append(" ");
      const span = document.createElement("span");
      if (text instanceof Node) span.append(text);
      else span.textContent = text;
      body.append(span);
    }
    div.append(icon(iconName), body);
    box.append(div);
    return div;
  };

  if (error) {
    const blame = KEY_PROBLEMS.has(error.code) ? keyInput : urlInput;
    blame.classList.add("connection-invalid");
    block("error", "error", CONNECTION_TITLES[error.code] || "Could not connect", error.message, "connection-error");
    return false;
  }
  block(
    "ok",
    "check",
    `Connected as ${result.user_name}`,
    `${result.user_email} · Immich ${result.version}`,
  );
  const missing = result.missing_permissions || [];
  if (missing.length) {
    keyInput.classList.add("connection-invalid");
    const text = document.createDocumentFragment();
    text.append("This key cannot do everything Immich Sync needs. Missing: ");
    missing.forEach((name, i) => {
      const code = document.createElement("code");
      code.textContent = name;
      text.append(i ? ", " : "", code);
    });
    text.append(". In Immich, create a new key that includes them and paste it here.");
    block("error", "warn", "The API key is missing permissions", text, "connection-error");
    return false;
  }
  return true;
}

async function runConnectionTest(root, serverUrl, apiKey, accountName) {
  const button = $(root, "#test-connection");
  button.disabled = true;
  button.classList.add("busy");
  button.textContent = "Testing…";
  try {
    const result = await backend.testConnection(serverUrl.trim(), apiKey.trim(), accountName);
    return { ok: showConnection(root, result, null), result };
  } catch (error) {
    showConnection(root, null, error);
    return { ok: false, error };
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
    button.textContent = "Test connection";
  }
}

// ---------------------------------------------------------------- shared pieces

function renderModes(container, name, value, onChange) {
  container.replaceChildren();
  for (const mode of DELETE_MODES) {
    const fragment = fromTemplate("tpl-mode");
    const input = $(fragment, "input");
    input.name = name;
    input.value = mode.value;
    input.checked = mode.value === value;
    input.id = `${name}-${mode.value}`;
    const label = $(fragment, ".mode");
    label.classList.toggle("checked", input.checked);
    input.addEventListener("change", () => {
      for (const other of container.querySelectorAll(".mode")) {
        other.classList.toggle("checked", $(other, "input").checked);
      }
      if (input.checked) onChange(mode.value);
    });
    $(fragment, ".mode-title").textContent = mode.title;
    $(fragment, ".mode-summary").textContent = mode.summary;
    $(fragment, ".mode-detail").textContent = mode.text;
    container.append(fragment);
  }
}

/** File extensions in a chip list: `psd`, shown as `.psd`. */
const EXTENSIONS = {
  example: "For example: psd",
  split: (text) =>
    text
      .split(/[\s,;]+/)
      .map((p) => p.trim().replace(/^\.+/, "").toLowerCase())
      .filter(Boolean),
  check: (p) =>
    /^[a-z0-9]+(\.[a-z0-9]+)*$/.test(p) ? null : `“${p}” is not a file extension. Use letters and numbers, like psd or tar.gz.`,
  show: (p) => `.${p}`,
  separators: ["Enter", ","],
};

/** Exclusion patterns in a chip list, as typed: one per Enter (names may hold spaces and commas). */
const PATTERNS = {
  example: "For example: **/Screenshots/**",
  split: (text) => [text.trim()].filter(Boolean),
  check: () => null, // the Rust side checks patterns: the count line and Save report bad ones
  show: (p) => p,
  separators: ["Enter"],
};

/** A list of values (file extensions, patterns) as removable chips, with an input to add more. */
function renderChips(container, values, onChange, inputId, kind = EXTENSIONS) {
  const list = document.createElement("ul");
  list.className = "chip-list";
  const input = document.createElement("input");
  input.type = "text";
  input.className = "chip-input";
  if (inputId) input.id = inputId;
  input.placeholder = values.length ? "Add another" : kind.example;
  input.autocomplete = "off";
  input.spellcheck = false;
  const field = container.closest(".field");

  const draw = () => {
    list.replaceChildren();
    for (const value of values) {
      const li = document.createElement("li");
      li.className = "chip";
      li.append(kind.show(value));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("aria-label", `Remove ${kind.show(value)}`);
      remove.append(icon("close"));
      remove.addEventListener("click", () => {
        values.splice(values.indexOf(value), 1);
        draw();
        onChange();
        input.focus();
      });
      li.append(remove);
      list.append(li);
    }
    input.placeholder = values.length ? "Add another" : kind.example;
  };

  const add = () => {
    const parts = kind.split(input.value);
    // Nothing typed (leaving the field to press a chip's ×): the chips stay as they are, so
    // the button under the pointer is still there when the click ends.
    if (!parts.length) {
      input.value = "";
      return true;
    }
    const problem = parts.map(kind.check).find(Boolean) || null;
    setProblem(field.dataset.key, problem);
    if (problem) return false;
    for (const p of parts) if (!values.includes(p)) values.push(p);
    input.value = "";
    draw();
    onChange();
    return true;
  };

  input.addEventListener("keydown", (e) => {
    if (kind.separators.includes(e.key)) {
      e.preventDefault();
      add();
    } else if (e.key === "Backspace" && !input.value && values.length) {
      values.pop();
      draw();
      onChange();
    }
  });
  input.addEventListener("blur", add);
  input.addEventListener("chips:commit", add);
  input.addEventListener("input", () => setProblem(field.dataset.key, null));
  draw();
  container.replaceChildren(list, input);
  container.addEventListener("click", (e) => e.target === container && input.focus());
}

// ---------------------------------------------------------------- the settings window

let layout; // the cloned settings layout

function renderSettings() {
  layout = fromTemplate("tpl-settings");
  app.replaceChildren(layout);
  layout = $(app, ".settings-layout");
  $(layout, "#add-account").addEventListener("click", addAccount);
  $(layout, '[data-pane="general"]').addEventListener("click", () => select("general"));
  $(layout, "#save").addEventListener("click", save);
  $(layout, "#revert").addEventListener("click", revert);
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
      e.preventDefault();
      save();
    }
  });
  refreshNav();
  renderPane();
  markChanged();
}

function select(pane) {
  state.selected = pane;
  refreshNav();
  renderPane();
  $(layout, "#pane").focus({ preventScroll: true });
}

function refreshNav() {
  if (!layout || state.firstRun) return;
  const nav = $(layout, "#account-nav");
  const focusedIndex = nav.contains(document.activeElement) ? document.activeElement.dataset.pane : null;
  nav.replaceChildren();
  state.settings.accounts.forEach((account, i) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "nav-item";
    button.dataset.pane = String(i);
    const text = document.createElement("span");
    text.className = "nav-text";
    const name = document.createElement("span");
    name.className = "nav-name";
    name.textContent = account.name.trim() || "New account";
    const sub = document.createElement("span");
    sub.className = "nav-sub";
    sub.textContent = account.paused ? "Paused" : host(account.server_url) || "Not set up yet";
    text.append(name, sub);
    button.append(icon(account.paused ? "pause" : "server", "icon nav-icon"), text);
    if (hasProblems(`account[${i}]`)) {
      const badge = document.createElement("span");
      badge.className = "nav-badge";
      badge.textContent = "!";
      badge.title = "Needs fixing";
      const sr = document.createElement("span");
      sr.className = "visually-hidden";
      sr.textContent = " (needs fixing)";
      button.append(badge, sr);
    }
    button.addEventListener("click", () => select(i));
    li.append(button);
    nav.append(li);
  });
  for (const button of layout.querySelectorAll(".nav-item")) {
    const current = button.dataset.pane === String(state.selected);
    button.classList.toggle("current", current);
    if (current) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  const general = $(layout, '[data-pane="general"]');
  general.classList.toggle("has-problem", hasProblems(null));
  if (focusedIndex != null) $(nav, `[data-pane="${focusedIndex}"]`)?.focus();
}

function hasProblems(prefix) {
  return [...state.problems.keys()].some((key) =>
    prefix ? key.startsWith(`${prefix}.`) || key === prefix : !key.startsWith("account["),
  );
}

function renderPane(keepScroll = false) {
  const pane = $(layout, "#pane");
  const scroll = keepScroll ? pane.scrollTop : 0;
  if (state.selected !== "general" && !state.settings.accounts[state.selected]) {
    state.selected = state.settings.accounts.length ? 0 : "general";
    refreshNav();
  }
  pane.replaceChildren(
    state.selected === "general" ? generalPane() : accountPane(state.settings.accounts[state.selected], state.selected),
  );
  showAllProblems(pane);
  pane.scrollTop = scroll;
}

function savedNames() {
  return new Set(JSON.parse(state.savedJson).accounts.map((a) => a.name));
}

function accountPane(account, index) {
  const root = document.createElement("div");
  root.className = "pane-content";
  root.append(fromTemplate("tpl-account"));
  const at = `account[${index}]`;
  const isSaved = savedNames().has(account.name);

  const header = () => {
    bound(root, "title").textContent = account.name.trim() || "New account";
    bound(root, "subtitle").textContent = host(account.server_url) || "Connect this account to an Immich server";
    const toggle = $(root, '[data-action="toggle-pause"]');
    toggle.replaceChildren(icon(account.paused ? "play" : "pause"), account.paused ? "Resume syncing" : "Pause syncing");
    bound(root, "paused-banner").hidden = !account.paused;
  };
  header();

  // Name: fixed once saved, because the sync history is kept under it.
  const nameField = wireField($(root, '[data-field="name"]'), `${at}.name`);
  const nameInput = $(nameField, "input");
  nameInput.value = account.name;
  if (isSaved) {
    nameField.hidden = true; // its sync history is kept under this name
  } else {
    $(nameField, ".hint").textContent = "Only for you: it names this account here and in the tray menu. It cannot be changed once saved.";
    liveCheck(nameInput, `${at}.name`, (v) => checks.name(v, account));
    nameInput.addEventListener("input", () => {
      account.name = nameInput.value;
      header();
      changed();
    });
  }

  const urlField = wireField($(root, '[data-field="server_url"]'), `${at}.server_url`);
  const urlInput = $(urlField, "input");
  urlInput.value = account.server_url;
  liveCheck(urlInput, `${at}.server_url`, checks.server_url);
  urlInput.addEventListener("input", () => {
    account.server_url = urlInput.value;
    showConnection(root, null, null);
    header();
    changed();
  });

  const keyField = wireField($(root, '[data-field="api_key"]'), `${at}.api_key`);
  const keyInput = $(keyField, "input");
  keyInput.value = state.keys.get(account) || "";
  keyInput.placeholder = account.key_masked
    ? `Saved key ${account.key_masked} · type a new key to replace it`
    : "Paste the key here";
  keyInput.addEventListener("input", () => {
    if (keyInput.value) state.keys.set(account, keyInput.value);
    else state.keys.delete(account);
    if (state.problems.has(`${at}.api_key`)) setProblem(`${at}.api_key`, checks.api_key(keyInput.value, account));
    showConnection(root, null, null);
    changed();
  });
  showKeyNote(root);

  bound(root, "connection").addEventListener("submit", (e) => {
    e.preventDefault();
    const urlProblem = checks.server_url(account.server_url);
    const keyProblem = checks.api_key(keyInput.value, account);
    setProblem(`${at}.server_url`, urlProblem);
    setProblem(`${at}.api_key`, keyProblem);
    if (urlProblem || keyProblem) {
      (urlProblem ? urlInput : keyInput).focus();
      return;
    }
    runConnectionTest(root, account.server_url, keyInput.value, account.name);
  });

  $(root, '[data-action="toggle-pause"]').addEventListener("click", async () => {
    const next = !account.paused;
    if (isSaved) {
      try {
        await (next ? backend.pause(account.name) : backend.resume(account.name));
      } catch (error) {
        setStatus(`Could not ${next ? "pause" : "resume"} syncing: ${error.message}`, "error");
        return;
      }
      const saved = JSON.parse(state.savedJson);
      const entry = saved.accounts.find((a) => a.name === account.name);
      if (entry) entry.paused = next;
      state.savedJson = JSON.stringify(saved);
    }
    account.paused = next;
    header();
    refreshNav();
    changed();
  });

  // Folders
  const list = $(root, "#folder-list");
  const drawFolders = () => {
    list.replaceChildren(...account.folders.map((folder, j) => folderItem(account, index, folder, j, drawFolders)));
    bound(root, "no-folders").hidden = account.folders.length > 0;
    showAllProblems(list);
  };
  drawFolders();
  $(root, "#add-folder").addEventListener("click", async () => {
    const path = await pickFolder();
    if (!path) return;
    if (account.folders.some((f) => f.path === path)) {
      setStatus(`${fileName(path)} is already in this account.`, "error");
      return;
    }
    account.folders.push(newFolder(path));
    state.openFolders.add(`${index}:${path}`);
    drawFolders();
    changed();
    list.lastElementChild?.querySelector("summary")?.focus();
  });

  // Remove
  const confirm = bound(root, "remove-confirm");
  bound(root, "remove-question").textContent = `Remove ${account.name.trim() || "this account"}? Your files stay on this computer and in Immich.`;
  $(root, '[data-action="remove-account"]').addEventListener("click", () => {
    confirm.hidden = false;
    $(confirm, '[data-action="remove-cancel"]').focus();
  });
  $(root, '[data-action="remove-cancel"]').addEventListener("click", () => {
    confirm.hidden = true;
    $(root, '[data-action="remove-account"]').focus();
  });
  $(root, '[data-action="remove-confirmed"]').addEventListener("click", () => {
    state.settings.accounts.splice(index, 1);
    state.keys.delete(account);
    reindexAfterRemoval("account", index);
    state.selected = state.settings.accounts.length ? Math.max(0, index - 1) : "general";
    refreshNav();
    renderPane();
    changed();
    $(layout, "#pane").focus();
  });
  return root;
}

function folderItem(account, accountIndex, folder, j, redraw) {
  const fragment = fromTemplate("tpl-folder");
  const li = $(fragment, "li");
  const at = `account[${accountIndex}].folder[${j}]`;
  li.dataset.key = `${at}.path`;
  bound(li, "name").textContent = fileName(folder.path);
  bound(li, "path").textContent = folder.path;
  $(li, '[data-action="open"]').setAttribute("aria-label", `Open ${fileName(folder.path)}`);
  $(li, '[data-action="remove"]').setAttribute("aria-label", `Stop syncing ${fileName(folder.path)}`);
  $(li, '[data-action="open"]').addEventListener("click", () =>
    backend.openPath(folder.path).catch((e) => setStatus(e.message, "error")),
  );
  $(li, '[data-action="remove"]').addEventListener("click", () => {
    account.folders.splice(j, 1);
    reindexAfterRemoval(`account[${accountIndex}].folder`, j);
    redraw();
    changed();
    setStatus(`${fileName(folder.path)} will no longer sync once you save. Nothing is deleted.`);
    $(document, "#add-folder")?.focus();
  });

  const details = $(li, "details");
  const openKey = `${accountIndex}:${folder.path}`;
  const folderHasProblem = [...state.problems.keys()].some((k) => k.startsWith(`${at}.delete_`));
  details.open = state.openFolders.has(openKey) || folderHasProblem || account.folders.length === 1;
  details.addEventListener("toggle", () => {
    if (details.open) state.openFolders.add(openKey);
    else state.openFolders.delete(openKey);
  });

  const summary = () => {
    const mode = modeTitle(folder.delete_mode);
    bound(li, "summary").textContent =
      folder.delete_mode === "upload-only" ? mode : `${mode} · within ${folder.delete_threshold} days`;
  };

  const thresholdField = wireField($(li, '[data-field="delete_threshold"]'), `${at}.delete_threshold`);
  const maxAgeField = wireField($(li, '[data-field="delete_max_age"]'), `${at}.delete_max_age`);
  const threshold = $(thresholdField, "input");
  const maxAge = $(maxAgeField, "input");
  threshold.value = String(folder.delete_threshold);
  maxAge.value = String(folder.delete_max_age);

  const exampleList = bound(li, "example");
  const preview = bound(li, "preview");
  let asked = 0;
  const updateExample = debounce(async () => {
    const ticket = ++asked;
    const t = folder.delete_threshold;
    const m = folder.delete_max_age;
    if (checks.delete_threshold(t) || checks.delete_max_age(m, folder)) {
      exampleList.replaceChildren(exampleLine("Fix the numbers above to see what happens."));
      preview.hidden = true;
      return;
    }
    try {
      const lines = await backend.deleteExample(folder.delete_mode, t, m);
      if (ticket === asked) exampleList.replaceChildren(...lines.map(exampleLine));
    } catch (error) {
      if (ticket === asked) exampleList.replaceChildren(exampleLine(error.message));
    }
    // What saving this policy would do right now with the deletes waiting in the folder.
    try {
      const now = await backend.deletePreview(account.name, folder.path, folder.delete_mode, t, m);
      if (ticket !== asked) return;
      preview.hidden = !now.sentence;
      bound(preview, "preview-text").textContent = now.sentence ? `If you save now: ${now.sentence}.` : "";
    } catch {
      if (ticket === asked) preview.hidden = true;
    }
  }, 120);

  const policyChanged = () => {
    const uploadOnly = folder.delete_mode === "upload-only";
    threshold.disabled = uploadOnly;
    maxAge.disabled = uploadOnly;
    li.classList.toggle("upload-only", uploadOnly);
    summary();
    updateExample();
  };

  threshold.addEventListener("input", () => {
    folder.delete_threshold = numberOf(threshold);
    setProblem(`${at}.delete_threshold`, checks.delete_threshold(folder.delete_threshold));
    setProblem(`${at}.delete_max_age`, checks.delete_max_age(folder.delete_max_age, folder));
    policyChanged();
    changed();
  });
  maxAge.addEventListener("input", () => {
    folder.delete_max_age = numberOf(maxAge);
    setProblem(`${at}.delete_max_age`, checks.delete_max_age(folder.delete_max_age, folder));
    policyChanged();
    changed();
  });
  renderModes(bound(li, "modes"), `mode-${accountIndex}-${j}`, folder.delete_mode, (mode) => {
    folder.delete_mode = mode;
    policyChanged();
    changed();
  });
  policyChanged();

  albumAndExclusions(li, account, accountIndex, folder, j);
  return fragment;
}

/** A folder's "Album and exclusions": its album, its patterns with the live count, its file types. */
function albumAndExclusions(li, account, accountIndex, folder, j) {
  const at = `account[${accountIndex}].folder[${j}]`;
  const details = bound(li, "album-options");
  const openKey = `${accountIndex}:${folder.path}:album`;
  const hasProblem = [...state.problems.keys()].some((k) =>
    ["album", "exclude", "exclude_extensions"].some((f) => k === `${at}.${f}` || k.startsWith(`${at}.${f}[`)),
  );
  details.open = state.openFolders.has(openKey) || hasProblem || account.folders.length === 1;

  const summary = () => {
    const left = folder.exclude.length + folder.exclude_extensions.length;
    const parts = [albumTitle(folder.album)];
    if (folder.stack_raw_jpeg) parts.push("RAW+JPEG stacked");
    if (left) parts.push(plural(left, "exclusion"));
    bound(li, "album-summary").textContent = parts.join(" · ");
  };

  // RAW+JPEG pairs shown as one photo.
  const stackBox = $(li, '[data-field="stack_raw_jpeg"] input');
  stackBox.id = `stack-raw-jpeg-${accountIndex}-${j}`;
  $(li, '[data-field="stack_raw_jpeg"] label').htmlFor = stackBox.id;
  stackBox.checked = Boolean(folder.stack_raw_jpeg);
  stackBox.addEventListener("change", () => {
    folder.stack_raw_jpeg = stackBox.checked;
    summary();
    changed();
  });

  // Album: the name typed is kept while another choice is tried, until the window closes.
  const albumField = wireField($(li, '[data-field="album"]'), `${at}.album`);
  const select = $(albumField, "select");
  const nameInput = $(albumField, ".album-name");
  nameInput.id = `${select.id}-name`;
  nameInput.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
  let typedName = folder.album.kind === "named" ? folder.album.name : "";
  select.value = folder.album.kind;
  nameInput.value = typedName;
  const drawAlbum = () => {
    nameInput.hidden = folder.album.kind !== "named";
    const name = fileName(folder.path);
    const permissions =
      " The API key needs `album.read`, `album.create`, `albumAsset.create` and `albumAsset.delete`.";
    const hint = {
      none: "Photos from this folder are not put into albums. Albums they are in already stay as they are.",
      folder: `Each folder inside ${name} becomes an album named by its path, such as “Trips/Rome”; photos directly in ${name} go to an album called “${name}”. Photos already synced are added too.${permissions}`,
      named: `Every photo from this folder goes into this album, photos already synced too. Immich Sync makes the album when it first needs it.${permissions}`,
    }[folder.album.kind];
    bound(albumField, "album-hint").replaceChildren(...withCode(hint));
    summary();
  };
  select.addEventListener("change", () => {
    folder.album = select.value === "named" ? { kind: "named", name: typedName } : { kind: select.value };
    setProblem(`${at}.album`, select.value === "named" && !typedName.trim() ? null : checks.album(folder.album));
    drawAlbum();
    changed();
    if (select.value === "named") nameInput.focus();
  });
  nameInput.addEventListener("input", () => {
    typedName = nameInput.value;
    folder.album = { kind: "named", name: typedName };
    drawAlbum();
    changed();
  });
  liveCheck(nameInput, `${at}.album`, () => checks.album(folder.album));
  drawAlbum();

  // Patterns, and how many files they leave out now.
  const patternField = $(li, '[data-field="exclude"]');
  const countLine = bound(patternField, "excluded-count");
  let asked = 0;
  const updateCount = debounce(async () => {
    const ticket = ++asked;
    const patterns = [...state.settings.exclude, ...folder.exclude];
    if (!patterns.length) {
      countLine.hidden = true;
      countLine.textContent = "";
      return;
    }
    if (!details.open) return; // counted when opened: it walks the whole folder
    countLine.hidden = false;
    countLine.classList.add("busy");
    if (!countLine.textContent) countLine.textContent = "Counting the files these patterns leave out…";
    try {
      const n = await backend.countExcluded(folder.path, patterns);
      if (ticket !== asked) return;
      countLine.className = "excluded-count";
      countLine.textContent = excludedSentence(n);
    } catch (error) {
      if (ticket !== asked) return;
      countLine.className = "excluded-count error";
      countLine.replaceChildren(...withCode(error.message));
    }
  }, 300);
  renderChips(
    bound(patternField, "patterns"),
    folder.exclude,
    () => {
      setProblem(`${at}.exclude`, null); // the count line says what is still wrong
      summary();
      updateCount();
      changed();
    },
    `exclude-pattern-${accountIndex}-${j}`,
    PATTERNS,
  );
  wireField(patternField, `${at}.exclude`);
  const input = $(patternField, ".chip-input");
  countLine.id = `${input.id}-count`;
  input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby")} ${countLine.id}`);
  details.addEventListener("toggle", () => {
    if (details.open) {
      state.openFolders.add(openKey);
      updateCount();
    } else {
      state.openFolders.delete(openKey);
    }
  });
  updateCount();

  const chipsField = $(li, '[data-field="exclude_extensions"]');
  const extensionsChanged = () => {
    summary();
    changed();
  };
  renderChips(bound(chipsField, "chips"), folder.exclude_extensions, extensionsChanged, `exclude-${accountIndex}-${j}`);
  wireField(chipsField, `${at}.exclude_extensions`);
  summary();
}

/** Text with its `quoted` parts as <code>, as the engine quotes patterns in its messages. */
function withCode(text) {
  return text.split("`").map((part, i) => {
    if (i % 2 === 0) return part;
    const code = document.createElement("code");
    code.textContent = part;
    return code;
  });
}

/** Sets a field's key before its input exists (the input is added next). */
function exampleLine(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}

function showKeyNote(root) {
  const note = state.settings.key_storage_note;
  const el = $(root, ".key-note");
  if (!el) return;
  el.hidden = !note;
  bound(el, "key-note").textContent = note || "";
}

function generalPane() {
  const s = state.settings;
  const root = document.createElement("div");
  root.className = "pane-content";
  root.append(fromTemplate("tpl-general"));

  const numberField = (name, parse) => {
    const field = wireField($(root, `[data-field="${name}"]`), name);
    const input = $(field, "input");
    input.value = Number.isFinite(s[name]) ? String(s[name]) : "";
    input.addEventListener("input", () => {
      s[name] = parse(input);
      setProblem(name, checks[name](s[name]));
      changed();
    });
  };
  numberField("upload_concurrency", numberOf);
  $(root, "#upload-concurrency").max = String(s.limits.upload_concurrency_max);
  $(root, "#upload-concurrency-hint").prepend(`From 1 to ${s.limits.upload_concurrency_max}. `);
  numberField("full_scan_interval_hours", numberOf);

  const chipsField = $(root, '[data-field="exclude_extensions"]');
  renderChips(bound(chipsField, "chips"), s.exclude_extensions, changed, "exclude-input");
  wireField(chipsField, "exclude_extensions");
  const patternField = $(root, '[data-field="exclude"]');
  const patternsChanged = () => {
    setProblem("exclude", null);
    changed();
  };
  renderChips(bound(patternField, "patterns"), s.exclude, patternsChanged, "exclude-pattern-input", PATTERNS);
  wireField(patternField, "exclude");

  for (const name of ["start_at_login", "notifications"]) {
    const input = $(root, `[data-field="${name}"] input`);
    input.checked = Boolean(s[name]);
    input.addEventListener("change", () => {
      s[name] = input.checked;
      changed();
    });
  }

  const logField = wireField($(root, '[data-field="event_log"]'), "event_log");
  const log = $(logField, "input");
  log.value = s.event_log || "";
  log.addEventListener("input", () => {
    s.event_log = log.value.trim() ? log.value : null;
    setProblem("event_log", null);
    changed();
  });

  const noteGroup = bound(root, "key-note-group");
  noteGroup.hidden = !s.key_storage_note;
  bound(noteGroup, "key-note").textContent = s.key_storage_note || "";
  bound(root, "about").textContent = s.about || "";
  return root;
}

// After a folder or account is removed, problems of the ones after it move up by one.
function reindexAfterRemoval(prefix, removed) {
  const pattern = new RegExp(`^${prefix.replace(/[[\]().]/g, "\\$&")}\\[(\\d+)\\]`);
  const next = new Map();
  for (const [key, message] of state.problems) {
    const m = pattern.exec(key);
    if (!m) next.set(key, message);
    else if (Number(m[1]) > removed) next.set(key.replace(pattern, `${prefix}[${Number(m[1]) - 1}]`), message);
    else if (Number(m[1]) < removed) next.set(key, message);
  }
  state.problems = next;
  if (prefix === "account") {
    state.openFolders = new Set(
      [...state.openFolders]
        .map((k) => k.split(":"))
        .filter(([i]) => Number(i) !== removed)
        .map(([i, ...rest]) => `${Number(i) > removed ? Number(i) - 1 : i}:${rest.join(":")}`),
    );
  }
}

async function pickFolder() {
  try {
    return await backend.pickFolder();
  } catch (error) {
    setStatus(`Could not open the folder chooser: ${error.message}`, "error");
    return null;
  }
}

// ---------------------------------------------------------------- saving

let justSaved = false;

function isDirty() {
  return JSON.stringify(state.settings) !== state.savedJson || [...state.keys.values()].some(Boolean);
}

function changed() {
  justSaved = false;
  markChanged();
}

function markChanged() {
  if (!layout) return;
  const dirty = isDirty();
  $(layout, "#revert").disabled = !dirty;
  if (dirty) setStatus("Unsaved changes", "pending");
  else if (!justSaved) setStatus("");
}

function setStatus(text, tone = "") {
  const el = document.getElementById("save-status");
  if (!el) return;
  el.textContent = text;
  el.className = `save-status ${tone}`;
}

function clearErrorStatus() {
  if (document.getElementById("save-status")?.classList.contains("error")) setStatus("");
}

function adopt(saved) {
  state.settings = saved;
  state.savedJson = JSON.stringify(saved);
  state.keys.clear();
  state.problems.clear();
}

function revert() {
  adopt(JSON.parse(state.savedJson));
  justSaved = false;
  refreshNav();
  renderPane(true);
  markChanged();
}

/** Goes to the first field with a problem. */
function revealFirstProblem() {
  const [key] = state.problems.keys();
  if (!key) return;
  const account = /^account\[(\d+)\]/.exec(key);
  const pane = account ? Number(account[1]) : "general";
  if (pane !== state.selected) {
    state.selected = pane;
    refreshNav();
    renderPane();
  }
  const el = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
  el?.closest("details")?.setAttribute("open", "");
  const target = el?.querySelector("input:not([type=radio])") || el || document.querySelector(".pane-problems");
  target?.scrollIntoView({ block: "center" });
  target?.focus?.();
}

async function save() {
  const button = document.getElementById("save");
  if (button.disabled) return;
  for (const input of document.querySelectorAll(".chip-input")) input.dispatchEvent(new Event("chips:commit"));
  state.problems = problemsOf(state.settings);
  refreshNav();
  showAllProblems();
  if (state.problems.size) {
    setStatus(`Not saved: ${needFixing(state.problems.size)}.`, "error");
    revealFirstProblem();
    return;
  }
  const keys = {};
  for (const [account, key] of state.keys) {
    if (key.trim() && state.settings.accounts.includes(account)) keys[account.name.trim()] = key.trim();
  }
  for (const account of state.settings.accounts) {
    account.name = account.name.trim();
    account.server_url = account.server_url.trim();
  }
  button.disabled = true;
  setStatus("Saving…", "busy");
  try {
    adopt(await backend.saveSettings(state.settings, keys));
    justSaved = true;
    refreshNav();
    renderPane(true);
    markChanged();
    setStatus("Saved", "ok");
  } catch (error) {
    if (error.problems.length) {
      state.problems = problemMap(error.problems);
      refreshNav();
      showAllProblems();
      setStatus(`Not saved: ${needFixing(error.problems.length)}.`, "error");
      revealFirstProblem();
    } else {
      setStatus(`Not saved: ${error.message}`, "error");
    }
  } finally {
    button.disabled = false;
  }
}

// The engine names a few settings by their configuration-file keys; the page by the DTO's.
const KEY_ALIASES = {
  "defaults.upload_concurrency": "upload_concurrency",
  "defaults.full_scan_interval": "full_scan_interval_hours",
  "defaults.exclude_extensions": "exclude_extensions",
};

function problemMap(problems, rename = (key) => key) {
  return new Map(problems.map((p) => [rename(KEY_ALIASES[p.key] || p.key), p.message]));
}

function needFixing(n) {
  return n === 1 ? "1 setting needs fixing (marked in red)" : `${n} settings need fixing (marked in red)`;
}

function addAccount() {
  state.settings.accounts.push({
    name: "",
    server_url: "",
    key_masked: null,
    paused: false,
    folders: [],
  });
  select(state.settings.accounts.length - 1);
  changed();
  document.getElementById("account-name")?.focus();
}

// ---------------------------------------------------------------- first run

function renderFirstRun() {
  state.firstRun = true;
  const fragment = fromTemplate("tpl-first-run");
  app.replaceChildren(fragment);
  const root = $(app, ".wizard");
  const index = state.settings.accounts.length; // the new account's place
  const at = `account[${index}]`;
  const wizard = { folders: [], mode: "mirror", tested: null };

  const urlField = wireField($(root, '[data-field="server_url"]'), `${at}.server_url`);
  const keyField = wireField($(root, '[data-field="api_key"]'), `${at}.api_key`);
  wireField($(root, '[data-field="folders"]'), `${at}.folder`);
  const url = $(urlField, "input");
  const key = $(keyField, "input");
  showKeyNote(root);

  // An empty field is only reported when you test or finish.
  liveCheck(url, `${at}.server_url`, (v) => (v.trim() ? checks.server_url(v) : null));
  liveCheck(key, `${at}.api_key`, () => null);
  for (const input of [url, key]) {
    input.addEventListener("input", () => {
      wizard.tested = null;
      showConnection(root, null, null);
      clearErrorStatus();
    });
  }

  const test = async () => {
    const urlProblem = checks.server_url(url.value);
    const keyProblem = checks.api_key(key.value, null);
    setProblem(`${at}.server_url`, urlProblem);
    setProblem(`${at}.api_key`, keyProblem);
    if (urlProblem || keyProblem) {
      (urlProblem ? url : key).focus();
      return false;
    }
    const outcome = await runConnectionTest(root, url.value, key.value, "");
    wizard.tested = outcome.ok ? { url: url.value.trim(), key: key.value.trim(), result: outcome.result } : null;
    return outcome.ok;
  };
  bound(root, "connection").addEventListener("submit", (e) => {
    e.preventDefault();
    test();
  });

  const list = $(root, "#folder-list");
  const drawFolders = () => {
    list.replaceChildren();
    for (const path of wizard.folders) {
      const li = document.createElement("li");
      li.className = "folder-simple";
      const names = document.createElement("span");
      names.className = "folder-names";
      const name = document.createElement("span");
      name.className = "folder-name";
      name.textContent = fileName(path);
      const full = document.createElement("span");
      full.className = "folder-path";
      full.textContent = path;
      names.append(name, full);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn small ghost";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${fileName(path)}`);
      remove.addEventListener("click", () => {
        wizard.folders.splice(wizard.folders.indexOf(path), 1);
        drawFolders();
        $(root, "#add-folder").focus();
      });
      li.append(icon("folder", "icon folder-icon"), names, remove);
      list.append(li);
    }
    $(root, "#add-folder").lastChild.textContent = wizard.folders.length ? "Add another folder…" : "Choose folders…";
  };
  drawFolders();
  $(root, "#add-folder").addEventListener("click", async () => {
    const path = await pickFolder();
    if (!path) return;
    if (!wizard.folders.includes(path)) wizard.folders.push(path);
    setProblem(`${at}.folder`, null);
    clearErrorStatus();
    drawFolders();
  });

  renderModes(bound(root, "modes"), "first-run-mode", wizard.mode, (mode) => {
    wizard.mode = mode;
  });

  const moveOver = $(root, "#move-over");
  moveOver.addEventListener("click", async () => {
    if (moveOver.disabled) return;
    const path = await backend.pickOlderConfig().catch((e) => {
      setStatus(e.message, "error");
      return null;
    });
    if (!path) return;
    moveOver.disabled = true;
    setStatus("Moving over from the older sync service…", "busy");
    try {
      const result = await backend.moveOver(path);
      adopt(result.settings);
      setStatus("Saved", "ok");
      showDone(
        root,
        "Moved over",
        moveOverSentence(result),
        6000,
      );
    } catch (error) {
      if (error.problems?.length) {
        setStatus(`Not moved over: ${error.problems.map((p) => p.message).join("; ")}`, "error");
      } else {
        setStatus(`Not moved over: ${error.message}`, "error");
      }
      moveOver.disabled = false;
      moveOver.focus();
    }
  });

  const finish = $(root, "#finish");
  finish.addEventListener("click", async () => {
    if (finish.disabled) return;
    const urlProblem = checks.server_url(url.value);
    const keyProblem = checks.api_key(key.value, null);
    const folderProblem = wizard.folders.length ? null : "Choose at least one folder to keep in Immich.";
    setProblem(`${at}.server_url`, urlProblem);
    setProblem(`${at}.api_key`, keyProblem);
    setProblem(`${at}.folder`, folderProblem);
    if (urlProblem || keyProblem || folderProblem) {
      setStatus("A few things are missing: see the notes in red.", "error");
      (urlProblem ? url : keyProblem ? key : $(root, "#add-folder")).focus();
      return;
    }
    finish.disabled = true;
    try {
      const same = wizard.tested && wizard.tested.url === url.value.trim() && wizard.tested.key === key.value.trim();
      if (!same) {
        setStatus("Checking the connection…", "busy");
        if (!(await test())) {
          setStatus("Fix the connection first (see above), then press Finish again.", "error");
          (document.querySelector("#api-key.connection-invalid") ? key : url).focus();
          return;
        }
      }
      setStatus("Saving…", "busy");
      const account = {
        name: uniqueName(wizard.tested?.result?.user_name || host(url.value) || "My photos"),
        server_url: url.value.trim(),
        key_masked: null,
        paused: false,
        folders: wizard.folders.map((path) => newFolder(path, { delete_mode: wizard.mode })),
      };
      const next = { ...state.settings, first_run: false, accounts: [...state.settings.accounts, account] };
      await backend.saveSettings(next, { [account.name]: key.value.trim() });
      setStatus("Saved", "ok");
      showDone(
        root,
        "All set",
        "Your photos are on their way to Immich. Immich Sync keeps running in the background: you find it next to the clock.",
      );
    } catch (error) {
      if (error.problems?.length) {
        state.problems = problemMap(error.problems, (key) => wizardKey(key, at));
        showAllProblems();
        setStatus(`Not saved: ${needFixing(error.problems.length)}.`, "error");
      } else {
        setStatus(`Not saved: ${error.message}`, "error");
      }
    } finally {
      if (!root.classList.contains("done")) finish.disabled = false;
    }
  });
  url.focus();
}

/** The first-run page's end: a panel saying what happened, then the window closes. */
function showDone(root, heading, message, closeAfter = 1500) {
  root.classList.add("done");
  const finish = $(root, "#finish");
  finish.textContent = "Done";
  finish.disabled = true;
  const done = document.createElement("div");
  done.className = "done-panel";
  const title = document.createElement("h2");
  title.textContent = heading;
  const text = document.createElement("p");
  text.textContent = message;
  done.append(icon("check", "icon done-icon"), title, text);
  $(root, ".wizard-header").after(done);
  window.scrollTo(0, 0);
  setTimeout(() => backend.closeWindow().catch(() => {}), closeAfter);
}

function moveOverSentence(result) {
  const accounts = result.accounts === 1 ? "1 account" : `${result.accounts} accounts`;
  const folders = result.folders === 1 ? "1 folder" : `${result.folders} folders`;
  const state = result.state_file
    ? " Photos it uploaded are linked, not uploaded again, and keep their age."
    : " Its state file was not found, so folders are checked against Immich: nothing already there is uploaded again.";
  return `Took over ${accounts} and ${folders} from the older sync service, with their delete settings; keys are in the keychain.${state}`;
}

// The wizard shows one list for all its folders: folder problems go there.
function wizardKey(key, at) {
  return key.startsWith(`${at}.folder[`) ? `${at}.folder` : key;
}

function uniqueName(base) {
  const names = new Set(state.settings.accounts.map((a) => a.name));
  let name = base;
  for (let n = 2; names.has(name); n += 1) name = `${base} ${n}`;
  return name;
}

// ---------------------------------------------------------------- start

async function start() {
  try {
    const settings = await backend.getSettings();
    adopt(settings);
    app.removeAttribute("aria-busy");
    if (settings.first_run || params.has("first-run")) {
      document.body.classList.add("first-run");
      document.title = "Welcome to Immich Sync";
      renderFirstRun();
    } else {
      state.selected = settings.accounts.length ? 0 : "general";
      renderSettings();
    }
  } catch (error) {
    app.removeAttribute("aria-busy");
    const p = document.createElement("p");
    p.className = "banner error";
    p.append(icon("error"), `The settings could not be loaded: ${error.message}`);
    app.replaceChildren(p);
  }
}

start();
