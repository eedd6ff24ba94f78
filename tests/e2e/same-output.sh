#!/usr/bin/env bash
# Same-output check: proves that a change (a refactoring, a move of files, a
# dependency update) leaves extract-elf-so's behaviour unchanged, byte for
# byte. It runs one matrix of invocations with an OLD and a NEW binary and
# fails unless, for every case, both give the same exit status, the same
# standard output, the same standard error and the same output files (the
# archive, its name, its mode and its bytes).
#
# The matrix covers every fixture scenario (fixtures/README.md), the flags
# and their combinations, usage errors and failures, SOURCE_DATE_EPOCH unset
# and set, and a batch of real programs: every regular ELF file in /usr/bin
# and /usr/sbin, each packed alone, and then all of them in one -z archive.
#
# Each case runs OLD, then NEW, in the same working directory path (an empty
# directory holding only an empty out/), with stdin from /dev/null and the
# same environment: PATH, LC_ALL=C and the case's own variables, nothing else.
# The outputs of one run are moved away before the next starts.
#
# Usage: tests/e2e/same-output.sh [-k] OLD_BINARY NEW_BINARY
#
#   -k        keep the temporary directory (fixtures, inputs and, for each
#             differing case, both runs' outputs) and print where it is
#
# Environment:
#   BATCH     how many of the ELF files of /usr/bin and /usr/sbin to pack
#             (in name order; default: all of them, 0: none). BATCH=200 runs
#             in a few minutes on two cores.
#   KEEP      set to anything: same as -k
#   TMPDIR    where the temporary directory goes (default /tmp)
#
# Prints one line per case, "same: CASE" or "DIFF: CASE: what differed"
# (followed by indented details: the command and the first difference of
# each output), then a summary. Exit status: 0 when every case is the same,
# 1 when any differs, 2 on a usage or setup error.
#
# Needs: bash, coreutils, diffutils, GNU tar, and what fixtures/build.sh
# needs (gcc with static glibc, binutils for i386; musl-tools and
# gcc-aarch64-linux-gnu with libc6-dev-arm64-cross for the musl and AArch64
# scenarios). Install redis-server, wrk, curl, ca-certificates and netbase
# for the cases that pack them; cases whose inputs are absent (a scenario
# fixtures/build.sh skipped, wrk, curl, the /usr/aarch64-linux-gnu sysroot)
# are reported as skipped. Both binaries read the same system files, one
# right after the other: do not install packages while it runs.
#
# Example, comparing this tree with the main branch:
#   git worktree add ../before main && (cd ../before && cargo build --release --locked)
#   cargo build --release --locked
#   BATCH=200 tests/e2e/same-output.sh ../before/target/release/extract-elf-so target/release/extract-elf-so
set -euo pipefail

me="same-output"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

say() { printf '%s: %s\n' "$me" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$me" "$*" >&2
    exit 2
}
usage() {
    printf 'usage: %s [-k] OLD_BINARY NEW_BINARY\n' "$0" >&2
    exit 2
}

keep="${KEEP:-}"
while getopts ':kh' opt; do
    case "$opt" in
    k) keep=1 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ "$#" -eq 2 ] || usage

# An absolute path to an executable file, since the cases run elsewhere.
binary() {
    if [ ! -f "$1" ] || [ ! -x "$1" ]; then
        die "$1 is not an executable file"
    fi
    printf '%s/%s\n' "$(cd "$(dirname "$1")" && pwd)" "$(basename "$1")"
}
old_bin="$(binary "$1")"
new_bin="$(binary "$2")"

batch="${BATCH:-}"
case "$batch" in
'' | [0-9] | [0-9]*[0-9]) ;;
*) die "BATCH=$batch is not a number" ;;
esac

export LC_ALL=C
umask 022

work="$(mktemp -d "${TMPDIR:-/tmp}/extract-elf-so-same-output.XXXXXX")"
cleanup() {
    local rc=$?
    if [ -n "$keep" ]; then
        say "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

run="$work/run"      # the working directory of every run, OLD and NEW
fx="$work/fixtures"  # fixtures/build.sh output
extra="$work/extra"  # inputs for --add-file, directory inputs, failures
per_run_timeout=600

total=0
same=0
differ=0
skipped=0
differing=()

# --- running and comparing ----------------------------------------------------

# run_one OUTDIR BINARY ENV ARGS...: runs BINARY ARGS in a fresh $run with
# the base environment plus ENV (an array name), and leaves exit status,
# standard output, standard error and the files it wrote in OUTDIR.
run_one() {
    local dir=$1 bin=$2 env_name=$3
    shift 3
    local -n env_ref="$env_name"
    local rc=0
    rm -rf "$run"
    mkdir -p "$run/out"
    (
        cd "$run"
        exec timeout "$per_run_timeout" env -i PATH="$PATH" LC_ALL=C "${env_ref[@]}" \
            "$bin" "$@" </dev/null >"$dir/stdout" 2>"$dir/stderr"
    ) || rc=$?
    printf '%s\n' "$rc" >"$dir/status"
    mv "$run" "$dir/files"
}

# A listing of the files a run left: type, mode, path and link target.
manifest() {
    (cd "$1" && find . -mindepth 1 -printf '%y %m %P %l\n' | sort)
}

is_text() {
    [ "$(tr -d '\000' <"$1" | wc -c)" -eq "$(wc -c <"$1")" ]
}

# Where two different files first differ: "byte N, line L" or which one ends
# first.
first_difference() {
    local out
    out="$(cmp -- "$1" "$2" 2>&1 || true)"
    case "$out" in
    *"differ: "*) printf '%s\n' "${out##*differ: }" | sed 's/^char /byte /' ;;
    *"EOF on $1"*) printf 'OLD ends first\n' ;;
    *"EOF on $2"*) printf 'NEW ends first\n' ;;
    *) printf '%s\n' "$out" ;;
    esac
}

# excerpt FILE LINE: that line, shortened, control characters made visible.
excerpt() {
    sed -n "$2p" "$1" | cut -c1-160 | cat -v
}

# detail LABEL OLD_FILE NEW_FILE: indented lines saying how they differ; for
# text the first differing line, for archives the first differing entry.
detail() {
    local label=$1 a=$2 b=$3 where line text=""
    where="$(first_difference "$a" "$b")"
    if is_text "$a" && is_text "$b"; then
        text=1
    else
        where="${where%, line *}"
    fi
    printf '    %s: %s and %s bytes, first difference: %s\n' "$label" \
        "$(wc -c <"$a")" "$(wc -c <"$b")" "$where"
    if [ -n "$text" ]; then
        line="$(printf '%s\n' "$where" | sed -n 's/.*line \([0-9][0-9]*\).*/\1/p')"
        if [ -z "$line" ]; then
            # One ends first: the first line the other has more.
            line="$(wc -l <"$a")"
            if [ "$(wc -l <"$b")" -lt "$line" ]; then
                line="$(wc -l <"$b")"
            fi
            line=$((line + 1))
        fi
        printf '      OLD line %s: %s\n' "$line" "$(excerpt "$a" "$line")"
        printf '      NEW line %s: %s\n' "$line" "$(excerpt "$b" "$line")"
    elif tar -tvf "$a" --full-time >"$work/old.tv" 2>/dev/null &&
        tar -tvf "$b" --full-time >"$work/new.tv" 2>/dev/null; then
        if cmp -s "$work/old.tv" "$work/new.tv"; then
            printf '      same entries, names, modes, owners and times (contents differ)\n'
        else
            line="$(diff "$work/old.tv" "$work/new.tv" | grep -m1 -o '^[0-9][0-9]*' || true)"
            [ -n "$line" ] || line=1
            printf '      OLD entry %s: %s\n' "$line" "$(excerpt "$work/old.tv" "$line")"
            printf '      NEW entry %s: %s\n' "$line" "$(excerpt "$work/new.tv" "$line")"
        fi
    fi
}

# compare NAME DIR COMMAND: prints the case's line; the details go after it.
compare() {
    local name=$1 dir=$2 cmdline=$3 what=() details="" f
    local o="$dir/old" n="$dir/new"
    if ! cmp -s "$o/status" "$n/status"; then
        what+=("exit status $(<"$o/status") vs $(<"$n/status")")
    fi
    if ! cmp -s "$o/stdout" "$n/stdout"; then
        what+=("stdout")
        details+="$(detail stdout "$o/stdout" "$n/stdout")"$'\n'
    fi
    if ! cmp -s "$o/stderr" "$n/stderr"; then
        what+=("stderr")
        details+="$(detail stderr "$o/stderr" "$n/stderr")"$'\n'
    fi
    manifest "$o/files" >"$dir/old.manifest"
    manifest "$n/files" >"$dir/new.manifest"
    if ! cmp -s "$dir/old.manifest" "$dir/new.manifest"; then
        what+=("file list")
        while IFS= read -r f; do
            details+="    only OLD wrote: $f"$'\n'
        done < <(comm -23 "$dir/old.manifest" "$dir/new.manifest")
        while IFS= read -r f; do
            details+="    only NEW wrote: $f"$'\n'
        done < <(comm -13 "$dir/old.manifest" "$dir/new.manifest")
    fi
    while IFS= read -r f; do
        if [ -f "$n/files/$f" ] && [ ! -L "$n/files/$f" ] &&
            ! cmp -s "$o/files/$f" "$n/files/$f"; then
            what+=("file $f")
            details+="$(detail "file $f" "$o/files/$f" "$n/files/$f")"$'\n'
        fi
    done < <(cd "$o/files" && find . -type f -printf '%P\n' | sort)

    total=$((total + 1))
    if [ "${#what[@]}" -eq 0 ]; then
        same=$((same + 1))
        printf 'same: %s\n' "$name"
        rm -rf "$dir"
        return
    fi
    differ=$((differ + 1))
    differing+=("$name")
    local joined="${what[0]}" w
    for w in "${what[@]:1}"; do
        joined+=", $w"
    done
    printf 'DIFF: %s: %s\n' "$name" "$joined"
    printf '    command: %s\n' "$cmdline"
    printf '%s' "$details"
}

case_env=()

# check NAME ARGS...: runs one case with OLD and NEW and compares them.
check() {
    local name=$1
    shift
    local dir
    dir="$work/cases/$(printf '%04d' "$((total + 1))")-$(printf '%s' "$name" | tr -c 'A-Za-z0-9._-' '_')"
    mkdir -p "$dir/old" "$dir/new"
    run_one "$dir/old" "$old_bin" case_env "$@"
    run_one "$dir/new" "$new_bin" case_env "$@"
    local cmdline
    cmdline="$(printf '%q ' "${case_env[@]}" extract-elf-so "$@")"
    cmdline="${cmdline% }"
    if [ "${#cmdline}" -gt 400 ]; then
        cmdline="${cmdline:0:400}... ($# arguments)"
    fi
    compare "$name" "$dir" "$cmdline"
}

# check_env NAME "VAR=VALUE..." ARGS...: check with these variables added.
check_env() {
    local name=$1
    read -ra case_env <<<"$2"
    shift 2
    check "$name" "$@"
    case_env=()
}

skip() {
    skipped=$((skipped + 1))
    printf 'skip: %s (%s)\n' "$1" "$2"
}

# have NAME PATH...: true if every PATH exists; otherwise reports NAME as
# skipped.
have() {
    local name=$1 p
    shift
    for p in "$@"; do
        if [ ! -e "$p" ] && [ ! -L "$p" ]; then
            skip "$name" "no $p"
            return 1
        fi
    done
}

# --- inputs -------------------------------------------------------------------

say "old: $old_bin ($("$old_bin" --version 2>&1 || true))"
say "new: $new_bin ($("$new_bin" --version 2>&1 || true))"
say "building the fixtures"
"$repo/fixtures/build.sh" "$fx" >"$work/fixtures.log" 2>&1 || {
    cat "$work/fixtures.log" >&2
    die "fixtures/build.sh failed"
}
grep 'skipping' "$work/fixtures.log" >&2 || true

# Files for --add-file, directory inputs and failures, with fixed times.
mkdir -p "$extra/share/sub" "$extra/escape"
printf 'listen 127.0.0.1\n' >"$extra/app.conf"
printf 'data\n' >"$extra/share/data.txt"
printf 'more\n' >"$extra/share/sub/more.txt"
chmod 750 "$extra/share/sub"
ln -s data.txt "$extra/share/data.link"
ln -s app.conf "$extra/app.link"
ln -s ../app.conf "$extra/escape/app.conf"
cp -a "$fx/hello" "$extra/tree"
cp "$extra/app.conf" "$extra/tree/app.conf"
find "$extra" -exec touch -h -d @946684800 {} +

# The batch: regular ELF files of /usr/bin and /usr/sbin, in name order; the
# one-archive run takes each file name once (two inputs may not share one).
batch_files=()
batch_once=()
declare -A batch_seen=()
if [ "$batch" != 0 ]; then
    while IFS= read -r f; do
        magic=""
        IFS= read -r -N 4 magic <"$f" 2>/dev/null || true
        [ "$magic" = $'\x7fELF' ] || continue
        batch_files+=("$f")
        if [ -z "${batch_seen[${f##*/}]:-}" ]; then
            batch_seen[${f##*/}]=1
            batch_once+=("$f")
        fi
        if [ -n "$batch" ] && [ "${#batch_files[@]}" -ge "$batch" ]; then
            break
        fi
    done < <(find /usr/bin /usr/sbin -maxdepth 1 -type f | sort)
fi

F="$fx"
hello="$F/hello/bin/hello"
hello_leaf="$F/hello/bin/hello-leaf"
leaf="$F/leaf/lib/libleaf.so.1"
redis=/usr/bin/redis-server
wrk=/usr/bin/wrk
curl=/usr/bin/curl
arm=/usr/aarch64-linux-gnu
libz=/usr/lib/x86_64-linux-gnu/libz.so.1
big="$redis"
[ -e "$big" ] || big="$hello"

say "running the cases"

# --- fixture scenarios ----------------------------------------------------------

check fixture/leaf-link "$leaf"
check fixture/leaf-file "$F/leaf/lib/libleaf.so.1.0.0"
check fixture/rpath "$F/rpath/bin/app"
check fixture/rpath-relative ../fixtures/rpath/bin/app
check fixture/runpath "$F/runpath/bin/app"
check fixture/runpath-allow-missing --allow-missing "$F/runpath/bin/app"
check fixture/runpath-library-path --library-path "$F/runpath/lib" "$F/runpath/bin/app"
check fixture/runpath-ok "$F/runpath-ok/bin/app"
check fixture/cycle "$F/cycle/bin/app"
check fixture/static "$F/static/bin/app"
check fixture/static-pie "$F/static/bin/app-pie"
check fixture/static-both "$F/static/bin/app" "$F/static/bin/app-pie"
if have fixture/wrongclass "$F/wrongclass/lib32"; then
    check fixture/wrongclass "$F/wrongclass/bin/app"
fi
check fixture/wrongmachine "$F/wrongmachine/bin/app"
check fixture/missing "$F/missing/bin/app"
check fixture/missing-allow-missing --allow-missing "$F/missing/bin/app"
check fixture/missing-allow-prefix --allow "$F/missing/bin/app"
check fixture/missing-allow-quiet -q --allow-missing "$F/missing/bin/app"
check fixture/hello "$hello"
check fixture/hello-leaf "$hello_leaf"
check fixture/hello-both "$hello" "$hello_leaf"
check fixture/same-file-name "$F/rpath/bin/app" "$F/runpath-ok/bin/app"
check fixture/same-library-path "$F/rpath/bin/app" "$hello_leaf"
check fixture/several "$F/rpath/bin/app" "$F/static/bin/app-pie" "$leaf" "$hello"
check fixture/several-reordered "$hello" "$leaf" "$F/static/bin/app-pie" "$F/rpath/bin/app"
if have fixture/musl "$F/musl/bin/hello"; then
    check fixture/musl "$F/musl/bin/hello"
    check fixture/musl-leaf "$F/musl/bin/hello-leaf"
    check fixture/musl-nss-net --nss-net "$F/musl/bin/hello-leaf"
    check fixture/musl-tree --tree "$F/musl/bin/hello-leaf"
fi
if have fixture/aarch64 "$F/aarch64/bin/hello" "$arm"; then
    check fixture/aarch64 --root "$arm" "$F/aarch64/bin/hello"
    check fixture/aarch64-leaf --root "$arm" "$F/aarch64/bin/hello-leaf"
    check fixture/aarch64-no-root "$F/aarch64/bin/hello"
    check fixture/aarch64-tree --root "$arm" --tree "$F/aarch64/bin/hello-leaf"
    check fixture/aarch64-json --root "$arm" --json "$F/aarch64/bin/hello-leaf"
    check fixture/aarch64-nss-net-no-services --root "$arm" --nss-net "$F/aarch64/bin/hello"
    if have fixture/aarch64-nss-net /etc/services /etc/protocols; then
        check fixture/aarch64-nss-net -z --root "$arm" --nss-net \
            --add-file /etc/services --add-file /etc/protocols "$F/aarch64/bin/hello-leaf"
    fi
fi
for f in empty short truncated text.so badphoff notelf.sh; do
    check "fixture/malformed-$f" "$F/malformed/$f"
done
check fixture/malformed-after-good "$hello" "$F/malformed/truncated"
check fixture/origin "$F/origin/bin/app"
check fixture/origin-dest -d /opt/app/bin "$F/origin/bin/app"
check fixture/origin-tree --tree "$F/origin/bin/app"

# --- output: compression, names, destinations ---------------------------------

check output/gzip -z "$hello_leaf"
check output/gzip-big -z "$big"
for level in 1 3 4 9; do
    check "output/level-$level" -z --level "$level" "$big"
done
check output/level-without-gzip --level 1 "$hello"
check output/name -n out/img "$hello"
check output/name-tar -n img.tar "$hello"
check output/name-tar-gzip -n img.tar -z "$hello"
check output/name-tgz -n img.tgz "$hello"
check output/name-tar-gz -n out/img.tar.gz "$hello"
check output/name-no-dir -n nodir/img "$hello"
check output/output -o out/image "$hello"
check output/output-gzip -o image -z "$hello"
check output/output-tgz -o image.tgz "$hello"
check output/output-tar-gz -o out/image.tar.gz "$hello"
check output/output-devnull -o /dev/null "$hello"
check output/stdout -o - "$hello_leaf"
check output/stdout-gzip -o - -z "$big"
check output/stdout-verbose -o - -v "$hello_leaf"
check output/stdout-report -o - --report -z "$hello_leaf"
check output/dest-relative -d bin "$hello"
check output/dest-absolute -d /app "$hello" "$F/origin/bin/app"
check output/dest-dotdot -d ../x "$hello"
check output/add -a "$leaf" "$hello"
check output/add-long --add "$F/runpath-ok/lib/libmid.so.1" --add "$F/cycle/lib/libcyca.so" "$hello"
check output/add-sodir -a "$leaf" -s lib "$hello"
check output/add-sodir-absolute -a "$leaf" --sodir /opt/lib "$hello"
if have output/add-system "$libz"; then
    check output/add-system -a "$libz" "$hello"
fi
check output/add-missing-lib -a "$F/runpath/lib/libmid.so.1" "$hello"
check output/sodir-dotdot -a "$leaf" -s ../lib "$hello"

# --- extra files and directories ----------------------------------------------

check extra/add-file "$hello" --add-file "$extra/app.conf"
check extra/add-file-dest --add-file "$extra/app.conf:/etc/app/app.conf" "$hello"
check extra/add-file-dest-relative --add-file "$extra/app.conf:etc/app.conf" "$hello"
check extra/add-file-dir --add-file "$extra/share:/usr/share/app" "$hello"
check extra/add-file-dir-own-path --add-file "$extra/share" "$hello"
check extra/add-file-link --add-file "$extra/app.link:/etc/app.link" \
    --add-file "$extra/app.conf:/etc/app.conf" "$hello"
check extra/add-file-dangling-link --add-file "$extra/app.link:/etc/app.link" "$hello"
check extra/add-file-elf --add-file "$hello_leaf:/opt/hello-leaf" "$hello"
check extra/add-file-elf-only-extra --add-file "$F/rpath/bin/app:/srv/bin/app" "$hello"
check extra/add-file-dotdot --add-file "$extra/app.conf:../../etc/app.conf" "$hello"
check extra/add-file-missing --add-file "$extra/nothing" "$hello"
check extra/dir-input "$extra/tree"
check extra/dir-input-fixture "$F/hello"
check extra/dir-input-with-program "$F/origin" "$F/rpath/bin/app"
check extra/dir-input-escaping-link "$extra/escape"
check extra/dir-input-escaping-link-added "$extra/escape" --add-file "$extra/app.conf:/usr/local/bin/app.conf"
check extra/dir-input-fixtures "$F"

# --- resolution -----------------------------------------------------------------

check resolve/root-host --root / "$hello"
check resolve/root-empty --root "$extra/share" "$hello"
check resolve/root-file --root "$extra/app.conf" "$hello"
check resolve/root-nonexistent --root "$extra/nothing" "$hello"
check resolve/library-path --library-path "$F/leaf/lib" "$F/runpath/bin/app"
check resolve/library-path-twice --library-path "$extra/share" --library-path "$F/runpath/lib" \
    "$F/runpath/bin/app"
check resolve/library-path-file --library-path "$extra/app.conf" "$hello"
check_env resolve/ld-library-path-ignored "LD_LIBRARY_PATH=$F/runpath/lib" "$F/runpath/bin/app"

# --- name lookup and certificates --------------------------------------------

if have net/wrk "$wrk"; then
    check net/wrk "$wrk"
    check net/wrk-nss-net --nss-net "$wrk"
    check net/wrk-cert --cert "$wrk"
    check net/wrk-nss-net-cert -z --nss-net --cert "$wrk"
    check net/wrk-nss-net-hosts --nss-net --add-file "$extra/app.conf:/etc/hosts" "$wrk"
fi
if have net/curl "$curl"; then
    check net/curl "$curl"
    check net/curl-cert --cert "$curl"
    check net/curl-cert-gzip-report -z --report --nss-net --cert "$curl"
    check net/curl-cert-root-empty --root "$extra/share" --allow-missing --cert "$curl"
fi
check net/static-nss-net --nss-net "$F/static/bin/app"

# --- looking before packing ---------------------------------------------------

check inspect/list --list "$F/rpath/bin/app"
check inspect/list-several --list "$hello" "$F/origin/bin/app" --add-file "$extra/share"
check inspect/json --json "$F/origin/bin/app"
check inspect/json-gzip --json -z "$hello_leaf"
check inspect/tree --tree "$F/rpath/bin/app" "$hello" "$F/static/bin/app-pie"
check inspect/tree-missing --tree "$F/missing/bin/app"
check inspect/json-missing-allowed --json --allow-missing "$F/missing/bin/app"
check inspect/list-missing --list "$F/missing/bin/app"
check inspect/report --report "$hello_leaf"
check inspect/report-gzip --report -z "$big"
check inspect/report-json --report --json "$hello_leaf"
check inspect/report-json-gzip --report --json -z "$hello_leaf"
check inspect/list-report --list --report "$hello_leaf"
check inspect/list-report-gzip --list --report -z "$hello_leaf"
check inspect/list-json --list --json "$hello"
if have inspect/redis "$redis"; then
    check inspect/redis-tree --tree "$redis"
    check inspect/redis-json --json "$redis"
fi

# --- messages -------------------------------------------------------------------

check messages/verbose -v "$F/rpath/bin/app"
check messages/verbose-long --verbose -z "$hello_leaf" --add-file "$extra/share"
check messages/quiet -q "$hello"
check messages/quiet-failure -q "$F/missing/bin/app"
check messages/verbose-quiet -v -q "$hello"

# --- usage errors and failures ------------------------------------------------

check usage/level-0 --level 0 "$hello"
check usage/level-10 -z --level 10 "$hello"
check usage/level-word --level fast "$hello"
check usage/unknown-flag --bogus "$hello"
check usage/unknown-short -x "$hello"
check usage/no-inputs
check usage/no-inputs-with-flags -z -v
check usage/name-and-output -n img -o img.tar "$hello"
check usage/ambiguous-prefix --a "$hello"
check usage/missing-value "$hello" -o
check usage/help --help
check usage/help-short -h
check usage/version --version
check usage/version-short -V
for shell in bash zsh fish; do
    check "usage/completions-$shell" --generate-completions "$shell"
done
check usage/man --generate-man
check usage/dash-dash -- --bogus
check fail/nonexistent /nonexistent/input
check fail/nonexistent-relative no-such-program
check fail/text-file "$extra/app.conf"
check fail/empty-name ""
check fail/directory-as-add -a /usr/lib "$hello"
check fail/directory-as-output -o out "$hello"
check output/name-beside-dir -n out "$hello"
check fail/output-in-missing-dir -o nodir/image "$hello"
check fail/add-not-elf -a "$extra/app.conf" "$hello"

# --- SOURCE_DATE_EPOCH ---------------------------------------------------------

check_env epoch/before-fixtures "SOURCE_DATE_EPOCH=946684799" "$F/rpath/bin/app"
check_env epoch/zero "SOURCE_DATE_EPOCH=0" -z "$hello_leaf"
check_env epoch/set-gzip "SOURCE_DATE_EPOCH=1700000000" -z "$big"
check_env epoch/set-extra "SOURCE_DATE_EPOCH=1000000000" --add-file "$extra/share" "$extra/tree"
check_env epoch/set-json "SOURCE_DATE_EPOCH=1000000000" --json "$hello_leaf"
check_env epoch/empty "SOURCE_DATE_EPOCH=" "$hello"
check_env epoch/not-a-number "SOURCE_DATE_EPOCH=yesterday" "$hello"
check_env epoch/negative "SOURCE_DATE_EPOCH=-1" "$hello"
if have epoch/net "$curl"; then
    check_env epoch/net "SOURCE_DATE_EPOCH=1600000000" --nss-net --cert "$curl"
fi

# --- real programs ----------------------------------------------------------------

if [ "${#batch_files[@]}" -eq 0 ]; then
    skip batch "BATCH=0 or no ELF files in /usr/bin and /usr/sbin"
else
    say "packing ${#batch_files[@]} programs of /usr/bin and /usr/sbin"
    for f in "${batch_files[@]}"; do
        check "batch$f" "$f"
    done
    check_env batch/all-gzip "SOURCE_DATE_EPOCH=1700000000" -z --allow-missing "${batch_once[@]}"
fi

# --- summary ----------------------------------------------------------------------

printf '\n%s cases: %s same, %s differ, %s skipped\n' "$total" "$same" "$differ" "$skipped"
if [ "$differ" -gt 0 ]; then
    printf 'differing: %s\n' "${differing[*]}"
    exit 1
fi
