# shellcheck shell=bash
# What the end-to-end scripts that run Docker share; sourced by them from
# the top of the repository, with `set -euo pipefail` already on.
#
#   say, step, die       messages, prefixed with the script's name
#   unavailable          a missing prerequisite: a failure when CI is set,
#                        otherwise a skip (exit status 0) with a message
#   apt_install          installs packages when run as root with apt-get
#   install_missing      installs what the commands named need, or is
#                        unavailable saying what to install
#   start_docker         uses a running Docker daemon, or starts one (with
#                        the assignments in `dockerd_env` in its environment)
#   find_tool            sets `tool` to the binary under test
#   free_ports N         prints N different free TCP ports of 127.0.0.1
#   mb BYTES             bytes as megabytes, for the tables of sizes
#
# At exit, whatever the outcome: the script's own `cleanup_more` (if it
# defines one) runs first; then the containers in `containers` and, unless
# `keep_images` is set, the images in `images` are removed, the processes
# in `pids` are stopped, a daemon started here is stopped, and the work
# directory `work` is removed. The exit status is the script's.

me="$(basename "$0" .sh)"

say() { printf '%s: %s\n' "$me" "$*" >&2; }
step() { printf '\n==> %s\n' "$*" >&2; }
die() {
    printf '%s: FAILED: %s\n' "$me" "$*" >&2
    exit 1
}
# A missing prerequisite: a failure in CI, a skip elsewhere.
unavailable() {
    if [ -n "${CI:-}" ]; then
        die "$* (CI is set, so this is an error)"
    fi
    say "skipped: $*"
    exit 0
}
is_root() { [ "$(id -u)" -eq 0 ]; }

work="$(mktemp -d "${TMPDIR:-/tmp}/extract-elf-so-$me.XXXXXX")"
dockerd_pid=""
dockerd_env=()
containers=()
images=()
keep_images=""
pids=()

cleanup() {
    local rc=$? pid
    set +e
    if declare -F cleanup_more >/dev/null; then
        cleanup_more
    fi
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
        if [ "${#containers[@]}" -gt 0 ]; then
            docker rm -f "${containers[@]}" >/dev/null 2>&1
        fi
        if [ -z "$keep_images" ] && [ "${#images[@]}" -gt 0 ]; then
            docker rmi -f "${images[@]}" >/dev/null 2>&1
        fi
    fi
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "$dockerd_pid" ]; then
        kill "$dockerd_pid" 2>/dev/null
        for _ in $(seq 1 30); do
            kill -0 "$dockerd_pid" 2>/dev/null || break
            sleep 1
        done
        if kill -0 "$dockerd_pid" 2>/dev/null; then
            kill -9 "$dockerd_pid" 2>/dev/null
        fi
        wait "$dockerd_pid" 2>/dev/null
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a command with its output in a log, shown only if it fails.
quietly() {
    local log="$work/quietly.log"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        return 1
    fi
}

apt_install() {
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    say "installing $*"
    quietly env DEBIAN_FRONTEND=noninteractive apt-get update || return 1
    quietly env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# Installs the package of each command named that is missing (COMMAND, or
# COMMAND:PACKAGE when the package has another name), or gives up.
install_missing() {
    local want missing=()
    for want in "$@"; do
        command -v "${want%%:*}" >/dev/null 2>&1 || missing+=("${want#*:}")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install "${missing[@]}" || unavailable "missing packages: ${missing[*]} (install them, as root: apt-get install ${missing[*]})"
    fi
}

# The Docker daemon: a running one, or one started here (as root) with the
# environment assignments in `dockerd_env`, e.g. (MOBY_DISABLE_PIGZ=1).
start_docker() {
    if ! docker info >/dev/null 2>&1; then
        if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
            apt_install docker.io || unavailable "no Docker daemon, and docker.io could not be installed (needs root and apt-get)"
        fi
        is_root || unavailable "no Docker daemon running, and starting one needs root"
        step "starting dockerd"
        env "${dockerd_env[@]}" dockerd >"$work/dockerd.log" 2>&1 </dev/null &
        dockerd_pid=$!
        for _ in $(seq 1 60); do
            timeout 10 docker info >/dev/null 2>&1 && break
            kill -0 "$dockerd_pid" 2>/dev/null || break
            sleep 1
        done
        if ! docker info >/dev/null 2>&1; then
            tail -n 30 "$work/dockerd.log" >&2 || true
            if kill -0 "$dockerd_pid" 2>/dev/null; then
                unavailable "dockerd did not answer within 60 s (its log is above)"
            fi
            dockerd_pid=""
            unavailable "dockerd exited at start (its log is above)"
        fi
    fi
    say "docker server $(docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?')"
}

# The tool under test: $EXTRACT_ELF_SO, or target/release/extract-elf-so
# (built if missing), as an absolute path in `tool`.
find_tool() {
    tool="${EXTRACT_ELF_SO:-target/release/extract-elf-so}"
    if [ ! -x "$tool" ]; then
        if [ -n "${EXTRACT_ELF_SO:-}" ]; then
            die "EXTRACT_ELF_SO=$tool is not an executable file"
        fi
        step "cargo build --release --locked"
        cargo build --release --locked || die "cargo build --release --locked failed"
    fi
    tool="$(cd "$(dirname "$tool")" && pwd)/$(basename "$tool")"
    say "testing $tool ($("$tool" --version))"
}

# Free TCP ports on 127.0.0.1, all different: bound at once, then released.
free_ports() {
    python3 - "$1" <<'EOF'
import socket
import sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
EOF
}

mb() { awk -v b="$1" 'BEGIN { printf "%.3f", b / 1000000 }'; }
