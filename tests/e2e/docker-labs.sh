#!/usr/bin/env bash
# End-to-end check with real Docker images: the labs of the talk "Quest for
# minimal Docker images" rebuilt with extract-elf-so on FROM scratch.
#
#   lab 05  redis-server packed with -z, ADDed to a scratch image; redis-cli
#           on the host must get PONG from it.
#   import  redis-cli streamed gzipped (-z -o -) into `docker import`, which
#           reads it with Go's gzip reader (a daemon started here is told not
#           to use unpigz); run inside the imported image it must get PONG
#           from the lab 05 container.
#   lab 13  wrk packed with -z --nss-net --cert; run in a scratch image, it
#           must resolve `localhost` (through the packed NSS setup) and load
#           a local python3 http.server.
#
# Then it prints the size of each image, like the talk's table.
#
# Needs: docker (client and daemon), redis-server, redis-cli, wrk, python3.
# Run as root on Debian, missing packages (docker.io included) are installed
# and a Docker daemon is started when none is running, and stopped at exit.
# No image registry is needed: every image is built FROM scratch or imported.
#
# Outside CI (CI unset), a machine that cannot run Docker skips the check
# with a message and exit status 0. In CI (CI set to anything) that is a
# failure. Any failing step exits non-zero with a message saying which.
#
# Environment:
#   EXTRACT_ELF_SO  the binary to test (default target/release/extract-elf-so,
#                   built with `cargo build --release --locked` if missing)
#   KEEP_IMAGES     set to keep the images built here (removed by default)
#
# Usage: tests/e2e/docker-labs.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# shellcheck source=lib.sh
. tests/e2e/lib.sh

lab05_image="extract-elf-so-lab05"
lab13_image="extract-elf-so-lab13"
import_image="extract-elf-so-import"
lab05_container="extract-elf-so-lab05-$$"
lab13_container="extract-elf-so-lab13-$$"
import_container="extract-elf-so-import-$$"
containers=("$lab05_container" "$lab13_container" "$import_container")
keep_images="${KEEP_IMAGES:-}"
http_pid=""

# --- prerequisites --------------------------------------------------------

step "checking prerequisites"
install_missing redis-server redis-cli:redis-tools wrk python3 timeout:coreutils

# The Docker daemon: use a running one, or start one that reads gzip with
# Go's reader rather than unpigz.
dockerd_env=(MOBY_DISABLE_PIGZ=1)
start_docker

find_tool

ports="$(free_ports 2)" || die "could not find free ports"
read -r redis_port http_port <<<"$ports"

# docker build in a fresh context directory holding rootfs.tar.gz.
build_image() {
    local image=$1 context=$2
    images+=("$image")
    timeout 300 docker build -t "$image" "$context" >"$context.build.log" 2>&1 || {
        cat "$context.build.log" >&2
        die "docker build -t $image failed"
    }
}

image_size() {
    docker image inspect -f '{{.Size}}' "$1"
}

# --- lab 05: redis-server ---------------------------------------------------

step "lab 05: extract-elf-so -z /usr/bin/redis-server"
ctx05="$work/lab05"
mkdir "$ctx05"
(cd "$ctx05" && "$tool" -z /usr/bin/redis-server) || die "lab 05: extract-elf-so -z /usr/bin/redis-server failed"
[ -s "$ctx05/rootfs.tar.gz" ] || die "lab 05: rootfs.tar.gz was not written"
cat >"$ctx05/Dockerfile" <<EOF
FROM scratch
ADD rootfs.tar.gz /
CMD ["/usr/local/bin/redis-server", "--port", "$redis_port", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
EOF
build_image "$lab05_image" "$ctx05"

step "lab 05: docker run --network host $lab05_image (port $redis_port)"
timeout 60 docker run -d --name "$lab05_container" --network host "$lab05_image" >/dev/null ||
    die "lab 05: docker run failed"
pong=""
for _ in $(seq 1 40); do
    pong="$(timeout 5 redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>/dev/null || true)"
    [ "$pong" = "PONG" ] && break
    if [ "$(docker inspect -f '{{.State.Running}}' "$lab05_container" 2>/dev/null)" != "true" ]; then
        break
    fi
    sleep 0.5
done
if [ "$pong" != "PONG" ]; then
    docker logs "$lab05_container" >&2 || true
    if [ "$(docker inspect -f '{{.State.Running}}' "$lab05_container" 2>/dev/null)" != "true" ]; then
        die "lab 05: the redis-server container exited (its log is above)"
    fi
    die "lab 05: redis-cli -p $redis_port ping got '${pong}' instead of PONG within 20 s (container log above)"
fi
say "lab 05: redis-server in the scratch image answered PONG"

# --- import: redis-cli through -z -o - | docker import ---------------------

step "import: extract-elf-so -z -o - /usr/bin/redis-cli | docker import - $import_image"
images+=("$import_image")
"$tool" -z -o - /usr/bin/redis-cli 2>"$work/import.err" |
    timeout 120 docker import - "$import_image" >/dev/null 2>>"$work/import.err" || {
    cat "$work/import.err" >&2
    die "import: extract-elf-so -z -o - /usr/bin/redis-cli | docker import failed"
}
pong="$(timeout 60 docker run --rm --name "$import_container" --network host "$import_image" \
    /usr/local/bin/redis-cli -h 127.0.0.1 -p "$redis_port" ping 2>&1)" || {
    printf '%s\n' "$pong" >&2
    die "import: redis-cli in the imported image failed"
}
[ "$pong" = "PONG" ] || die "import: redis-cli in the imported image printed '$pong' instead of PONG"
say "import: redis-cli in the imported image got PONG from lab 05"

timeout 60 docker rm -f "$lab05_container" >/dev/null || die "lab 05: could not remove the container"

# --- lab 13: wrk with --nss-net --cert --------------------------------------

step "lab 13: extract-elf-so -z --nss-net --cert /usr/bin/wrk"
ctx13="$work/lab13"
mkdir "$ctx13"
(cd "$ctx13" && "$tool" -z --nss-net --cert /usr/bin/wrk) ||
    die "lab 13: extract-elf-so -z --nss-net --cert /usr/bin/wrk failed"
[ -s "$ctx13/rootfs.tar.gz" ] || die "lab 13: rootfs.tar.gz was not written"
tar -tzf "$ctx13/rootfs.tar.gz" >"$work/lab13.list" || die "lab 13: tar cannot read rootfs.tar.gz"
for want in usr/local/bin/wrk etc/nsswitch.conf etc/services etc/ssl/certs/ca-certificates.crt; do
    grep -qx "$want" "$work/lab13.list" ||
        die "lab 13: $want is not in the archive written with --nss-net --cert"
done
cat >"$ctx13/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar.gz /
ENTRYPOINT ["/usr/local/bin/wrk"]
EOF
build_image "$lab13_image" "$ctx13"

step "lab 13: python3 -m http.server $http_port --bind 127.0.0.1"
site="$work/site"
mkdir "$site"
echo "hello from the host" >"$site/index.html"
python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$site" \
    >"$work/http.log" 2>&1 </dev/null &
http_pid=$!
pids+=("$http_pid")
up=""
for _ in $(seq 1 40); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null; then
        up=1
        break
    fi
    kill -0 "$http_pid" 2>/dev/null || break
    sleep 0.25
done
if [ -z "$up" ]; then
    cat "$work/http.log" >&2
    die "lab 13: the http server did not start on 127.0.0.1:$http_port within 10 s"
fi

step "lab 13: docker run --rm --network host $lab13_image -t1 -c1 -d1 http://localhost:$http_port/"
out="$(timeout 60 docker run --rm --name "$lab13_container" --network host "$lab13_image" \
    -t1 -c1 -d1 "http://localhost:$http_port/" 2>&1)" || {
    printf '%s\n' "$out" >&2
    die "lab 13: wrk in the scratch image failed"
}
printf '%s\n' "$out" | sed 's/^/    /' >&2
requests="$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p')"
if ! printf '%s\n' "$out" | grep -q 'Requests/sec' || [ -z "$requests" ] || [ "$requests" -eq 0 ]; then
    die "lab 13: wrk reported no requests to http://localhost:$http_port/ (output above)"
fi
say "lab 13: wrk resolved localhost and made $requests requests"

# --- sizes --------------------------------------------------------------------

step "image sizes"
size05="$(image_size "$lab05_image")"
size13="$(image_size "$lab13_image")"
size_import="$(image_size "$import_image")"
printf '| %-6s | %-12s | %-15s | %9s |\n' "Lab" "Program" "Base" "Size (MB)"
printf '| %6s | %-12s | %-15s | %9s |\n' "------" "------------" "---------------" "---------"
printf '| %6s | %-12s | %-15s | %9s |\n' "05" "redis-server" "scratch" "$(mb "$size05")"
printf '| %6s | %-12s | %-15s | %9s |\n' "13" "wrk" "scratch" "$(mb "$size13")"
printf '| %6s | %-12s | %-15s | %9s |\n' "import" "redis-cli" "(docker import)" "$(mb "$size_import")"
echo
say "all labs passed"
