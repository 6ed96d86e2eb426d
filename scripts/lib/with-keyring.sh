#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring, the Secret
# Service a Linux desktop has: for the tests that store and read keys in a real keychain.
# Its keyring lives in a temporary folder, never the user's own.
set -euo pipefail
if [ -z "${IMMICH_SYNC_KEYRING_SESSION:-}" ]; then
    export IMMICH_SYNC_KEYRING_SESSION=1
    exec dbus-run-session -- "$0" "$@"
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
eval "$(printf 'test-session' | gnome-keyring-daemon --unlock --components=secrets)"
"$@"
