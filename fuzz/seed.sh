#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets from real files of this host,
# into fuzz/corpus/<target>/ (git-ignored; small hand-written seeds live in
# fuzz/seeds/<target>/ and are copied too). Safe to run again: it only adds.
#
#   fuzz/seed.sh            # then: cargo +nightly fuzz run elf_facts ...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
corpus="$here/corpus"
mkdir -p "$corpus"/{elf_facts,elf_runtime,ld_so_cache,ld_so_conf}

# Copies FILE into the corpus DIR under a name made from its path.
add() {
    local dir=$1 file=$2
    [[ -f $file && -r $file ]] || return 0
    local name=${file#/}
    cp -L -- "$file" "$corpus/$dir/${name//\//_}"
}

# ELF files: a few small programs and libraries (libFuzzer's default
# -max_len is the size of the largest seed, so keep them small), plus the
# fixtures if they are built.
max_elf_bytes=${MAX_ELF_BYTES:-65536}
is_small_elf() {
    [[ -f $1 && $(stat -Lc %s "$1") -le $max_elf_bytes ]] &&
        [[ $(head -c 4 "$1" | od -An -c | tr -d ' ') == '177ELF' ]]
}
# Up to ELF_PER_DIR small ELF files of one directory.
small_elves() {
    find "$1" -maxdepth 1 -type f 2>/dev/null | sort | while read -r f; do
        is_small_elf "$f" && echo "$f"
    done | head -n "${ELF_PER_DIR:-6}"
}
for f in /bin/true /bin/false /usr/bin/env; do add elf_facts "$f"; done
for dir in /usr/bin /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/gconv; do
    for f in $(small_elves "$dir"); do add elf_facts "$f"; done
done
# The test fixtures (fixtures/build.sh), if built: 32-bit, musl, aarch64, static-pie.
for fx in "$here"/../target/fixtures-*/; do
    [[ -d $fx ]] || continue
    for f in static/bin/app-pie hello/bin/hello hello/lib/libleaf.so.1.0.0 \
        wrongclass/lib32/libleaf.so.1 musl/bin/hello aarch64/bin/hello \
        origin/bin/app cycle/lib/libcyca.so malformed/badphoff malformed/truncated \
        note/bin/app note/bin/app-malformed needs/bin/tz needs/bin/plugins; do
        if is_small_elf "$fx$f"; then
            cp -- "$fx$f" "$corpus/elf_facts/fixture_${f//\//_}"
        fi
    done
done

# The run-time facts read the same files (symbols, notes, strings).
cp -- "$corpus/elf_facts"/* "$corpus/elf_runtime/" 2>/dev/null || true

# ld.so.cache: the host's (about 40 KB) and a truncated copy of it.
add ld_so_cache /etc/ld.so.cache
if [[ -f /etc/ld.so.cache ]]; then
    head -c 4096 /etc/ld.so.cache >"$corpus/ld_so_cache/etc_ld.so.cache.head4096"
fi
for fx in "$here"/../target/fixtures-*/; do
    [[ -d $fx ]] && find "$fx" -name ld.so.cache -type f -size -200k |
        while read -r f; do add ld_so_cache "$f"; done
done

# ld.so.conf and its includes.
add ld_so_conf /etc/ld.so.conf
for f in /etc/ld.so.conf.d/*.conf; do add ld_so_conf "$f"; done

# Hand-written seeds.
for target in elf_facts ld_so_cache ld_so_conf; do
    if [[ -d $here/seeds/$target ]]; then
        cp -- "$here/seeds/$target"/* "$corpus/$target/" 2>/dev/null || true
    fi
done

for target in elf_facts elf_runtime ld_so_cache ld_so_conf; do
    printf '%-12s %4d files, %7d bytes\n' "$target" \
        "$(find "$corpus/$target" -type f | wc -l)" \
        "$(cat "$corpus/$target"/* 2>/dev/null | wc -c)"
done
