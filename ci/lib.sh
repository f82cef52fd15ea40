# shellcheck shell=bash
# Helpers shared by every ci/*.sh script. Source it; it does nothing on its own.
#
#   section NAME         print a header now and "NAME: ok/FAILED in Ns" when the script exits
#   run CMD...           echo a command, then run it
#   skip MESSAGE         say loudly that something is skipped (and tell ci/test.sh's summary)
#   ensure_apt PKG...    install Debian packages that are missing (apt-get update once)
#   ensure_target T...   rustup target add, for targets the active toolchain lacks
#   ensure_component C.. rustup component add, for components the active toolchain lacks
#   ensure_nightly C...  a nightly toolchain with the given components
#   ensure_venv          .venv at the repo root with the reference Python package
#   ensure_wasmtime      wasmtime in that venv, and cargo's runner for wasm32-wasip1 set to it
#
# Every ensure_* returns non-zero (after printing why) when it cannot install, so the caller
# decides whether that is fatal or a skip.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

# The reference implementation the ABI must match.
TVM_FFI_PY_PACKAGE="apache-tvm-ffi"
TVM_FFI_PY_VERSION="0.1.15.post2"
VENV="$REPO_ROOT/.venv"
# The wasm engine that runs wasm32 programs (ci/wasmtime-run.py) and hosts (examples/wasm).
WASMTIME_PY_VERSION="50.0.1"

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export DEBIAN_FRONTEND=noninteractive

section() {
    _SECTION_NAME="$1"
    _SECTION_START=$SECONDS
    printf '\n======== %s ========\n' "$_SECTION_NAME"
    trap _section_done EXIT
}

_section_done() {
    local rc=$?
    local took=$((SECONDS - _SECTION_START))
    if [ "$rc" -eq 0 ]; then
        printf -- '-------- %s: ok in %ss --------\n' "$_SECTION_NAME" "$took"
    else
        printf -- '-------- %s: FAILED (exit %s) after %ss --------\n' "$_SECTION_NAME" "$rc" "$took"
    fi
}

run() {
    printf '+ %s\n' "$*" >&2
    "$@"
}

skip() {
    printf '!!!!!!!! SKIPPED: %s\n' "$*"
    if [ -n "${CI_SKIP_LOG:-}" ]; then
        printf '%s: %s\n' "${_SECTION_NAME:-?}" "$*" >>"$CI_SKIP_LOG"
    fi
}

# Run as root: directly when we are root, through passwordless sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        echo "need root for: $*" >&2
        return 1
    fi
}

_APT_UPDATED=""
ensure_apt() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null; then
        echo "no apt-get to install: ${missing[*]}" >&2
        return 1
    fi
    if [ -z "$_APT_UPDATED" ]; then
        run as_root apt-get update -q || return 1
        _APT_UPDATED=1
    fi
    run as_root apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

ensure_target() {
    local installed missing=() t
    installed="$(rustup target list --installed)" || return 1
    for t in "$@"; do
        grep -qx "$t" <<<"$installed" || missing+=("$t")
    done
    [ "${#missing[@]}" -eq 0 ] || run rustup target add "${missing[@]}"
}

ensure_component() {
    local installed missing=() c
    installed="$(rustup component list --installed)" || return 1
    for c in "$@"; do
        # Installed components are listed as `clippy-x86_64-unknown-linux-gnu` or `rust-src`.
        grep -Eq "^$c(-|$)" <<<"$installed" || missing+=("$c")
    done
    [ "${#missing[@]}" -eq 0 ] || run rustup component add "${missing[@]}"
}

ensure_nightly() {
    local installed missing=() c
    if ! rustup toolchain list | grep -q '^nightly-'; then
        local comps
        comps="$(IFS=,; echo "$*")"
        run rustup toolchain install nightly --profile minimal --allow-downgrade \
            ${comps:+--component "$comps"} || return 1
    fi
    installed="$(rustup component list --toolchain nightly --installed)" || return 1
    for c in "$@"; do
        grep -Eq "^$c(-|$)" <<<"$installed" || missing+=("$c")
    done
    [ "${#missing[@]}" -eq 0 ] || run rustup component add --toolchain nightly "${missing[@]}"
}

_venv_ok() {
    [ -x "$VENV/bin/tvm-ffi-config" ] &&
        [ "$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$TVM_FFI_PY_PACKAGE'))" 2>/dev/null)" = "$TVM_FFI_PY_VERSION" ]
}

ensure_venv() {
    _venv_ok && return 0
    if [ ! -x "$VENV/bin/python" ]; then
        # Debian's own python3 needs python3-venv for this; pyenv's and others' do not.
        python3 -m venv "$VENV" 2>/dev/null || {
            rm -rf "$VENV"
            ensure_apt python3-venv && run python3 -m venv "$VENV"
        } || return 1
    fi
    run "$VENV/bin/pip" install -q "$TVM_FFI_PY_PACKAGE==$TVM_FFI_PY_VERSION" </dev/null || return 1
    _venv_ok
}

ensure_wasmtime() {
    ensure_venv || return 1
    if [ "$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('wasmtime'))" 2>/dev/null)" != "$WASMTIME_PY_VERSION" ]; then
        run "$VENV/bin/pip" install -q "wasmtime==$WASMTIME_PY_VERSION" </dev/null || return 1
    fi
    export CARGO_TARGET_WASM32_WASIP1_RUNNER="$VENV/bin/python $REPO_ROOT/ci/wasmtime-run.py"
}
