#!/usr/bin/env bash
# End-to-end check of --image with real container tools: the labs of the talk
# "Quest for minimal Docker images" built as images with no Dockerfile.
#
#   push    lab 05 (redis-server) pushed to a local distribution registry
#           (docker-registry) with --image docker://localhost:PORT/..., pulled
#           by Docker and run: redis-cli on the host must get PONG. The digest
#           printed must be the one Docker pulled.
#   lab 13  wrk packed with --nss-net --cert, pushed, pulled and run: it must
#           resolve `localhost` and load a local python3 http.server.
#   load    lab 05 as docker-archive:, loaded by `docker load` and run (PONG
#           again), and loaded by `podman load`, whose container's files must
#           hold the program, and run by podman (PONG).
#   auth    a second registry with basic auth (htpasswd): a push with the
#           credentials from a Docker config file ($DOCKER_CONFIG), pulled by
#           Docker with the same file; a wrong password must fail with a
#           message naming the registry, the request and the status.
#
# Needs: docker (client and daemon), docker-registry, htpasswd (apache2-utils),
# podman, redis-server, redis-cli, wrk, python3. Run as root on Debian,
# missing packages are installed and a Docker daemon is started when none is
# running (and stopped at exit). The registries run on free ports of
# 127.0.0.1 with configuration files written here, and are stopped at exit;
# every container and image made here is removed.
#
# Outside CI (CI unset), a machine that cannot run Docker skips the check
# with a message and exit status 0. In CI (CI set to anything) that is a
# failure. Any failing step exits non-zero with a message saying which.
#
# Environment:
#   EXTRACT_ELF_SO  the binary to test (default target/release/extract-elf-so,
#                   built with `cargo build --release --locked` if missing)
#
# Usage: tests/e2e/image-labs.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# shellcheck source=lib.sh
. tests/e2e/lib.sh

tag="scratch-$$"
archive_image="extract-elf-so-archive:$tag"
containers=("extract-elf-so-img05-$$" "extract-elf-so-img13-$$" "extract-elf-so-load-$$" "extract-elf-so-auth-$$")
podman_images=()
podman_containers=()

cleanup_more() {
    if [ "${#podman_containers[@]}" -gt 0 ]; then
        podman rm -f "${podman_containers[@]}" >/dev/null 2>&1
    fi
    if [ "${#podman_images[@]}" -gt 0 ]; then
        podman rmi -f "${podman_images[@]}" >/dev/null 2>&1
    fi
}

# --- prerequisites --------------------------------------------------------

step "checking prerequisites"
install_missing redis-server redis-cli:redis-tools wrk python3 docker-registry \
    htpasswd:apache2-utils podman

start_docker

find_tool

ports="$(free_ports 6)" || die "could not find free ports"
read -r reg_port auth_port redis_port http_port load_port podman_port <<<"$ports"

# A distribution registry on 127.0.0.1:$2 with storage in $1, basic auth with $3 (an htpasswd file) if given.
start_registry() {
    local dir=$1 port=$2 htpasswd=${3:-}
    mkdir -p "$dir/data"
    {
        printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n'
        printf 'storage:\n  filesystem:\n    rootdirectory: %s\n' "$dir/data"
        printf 'http:\n  addr: 127.0.0.1:%s\n' "$port"
        if [ -n "$htpasswd" ]; then
            printf 'auth:\n  htpasswd:\n    realm: test\n    path: %s\n' "$htpasswd"
        fi
    } >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null &
    pids+=($!)
    for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    cat "$dir/log" >&2
    die "docker-registry did not listen on 127.0.0.1:$port"
}

# Waits for redis on $1 to answer PONG; $2 names the container for messages.
# expect_pong PORT CONTAINER [ENGINE]: redis in CONTAINER (run by ENGINE,
# docker by default) answers PONG on PORT.
expect_pong() {
    local port=$1 container=$2 engine=${3:-docker} pong=""
    for _ in $(seq 1 40); do
        pong="$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)"
        [ "$pong" = "PONG" ] && return 0
        [ "$("$engine" inspect -f '{{.State.Running}}' "$container" 2>/dev/null)" = "true" ] || break
        sleep 0.5
    done
    "$engine" logs "$container" >&2 || true
    die "$container: redis-cli -p $port ping got '$pong' instead of PONG"
}

step "registries on 127.0.0.1:$reg_port and (basic auth) 127.0.0.1:$auth_port"
start_registry "$work/registry" "$reg_port"
htpasswd -Bbn alice s3cret >"$work/htpasswd" || die "htpasswd failed"
start_registry "$work/auth-registry" "$auth_port" "$work/htpasswd"

# --- push: lab 05 ---------------------------------------------------------------

redis_ref="localhost:$reg_port/redis:$tag"
step "lab 05: extract-elf-so --image docker://$redis_ref /usr/bin/redis-server"
pushed="$("$tool" --image "docker://$redis_ref" --expose 6379 /usr/bin/redis-server)" ||
    die "lab 05: the push failed"
say "pushed $pushed"
images+=("$redis_ref")
timeout 120 docker pull "$redis_ref" >/dev/null || die "lab 05: docker pull $redis_ref failed"
pulled="$(docker image inspect -f '{{index .RepoDigests 0}}' "$redis_ref")"
[ "$pulled" = "$pushed" ] || die "lab 05: docker pulled $pulled, the push printed $pushed"
timeout 60 docker run -d --name "${containers[0]}" --network host "$redis_ref" \
    --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null ||
    die "lab 05: docker run failed"
expect_pong "$redis_port" "${containers[0]}"
say "lab 05: the pulled image answered PONG"

# --- push: lab 13 ---------------------------------------------------------------

wrk_ref="localhost:$reg_port/wrk:$tag"
step "lab 13: extract-elf-so --image docker://$wrk_ref --nss-net --cert /usr/bin/wrk"
"$tool" -q --image "docker://$wrk_ref" --nss-net --cert /usr/bin/wrk >/dev/null ||
    die "lab 13: the push failed"
images+=("$wrk_ref")
timeout 120 docker pull "$wrk_ref" >/dev/null || die "lab 13: docker pull failed"
mkdir "$work/site"
echo "hello from the host" >"$work/site/index.html"
python3 -m http.server "$http_port" --bind 127.0.0.1 --directory "$work/site" >"$work/http.log" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 1 40); do
    (exec 3<>"/dev/tcp/127.0.0.1/$http_port") 2>/dev/null && break
    sleep 0.25
done
out="$(timeout 60 docker run --rm --name "${containers[1]}" --network host "$wrk_ref" \
    -t1 -c1 -d1 "http://localhost:$http_port/" 2>&1)" || {
    printf '%s\n' "$out" >&2
    die "lab 13: wrk in the pulled image failed"
}
requests="$(printf '%s\n' "$out" | sed -n 's/^ *\([0-9][0-9]*\) requests in .*/\1/p')"
if ! { [ -n "$requests" ] && [ "$requests" -gt 0 ]; }; then
    printf '%s\n' "$out" >&2
    die "lab 13: wrk reported no requests"
fi
say "lab 13: wrk resolved localhost and made $requests requests"

# --- load: docker-archive ---------------------------------------------------------

step "load: extract-elf-so --image docker-archive:redis.tar:$archive_image"
"$tool" -q --image "docker-archive:$work/redis.tar:$archive_image" \
    --cmd=--port --cmd "$load_port" --cmd=--save --cmd "" /usr/bin/redis-server ||
    die "load: writing the docker archive failed"
images+=("$archive_image")
timeout 120 docker load -i "$work/redis.tar" >/dev/null || die "load: docker load failed"
timeout 60 docker run -d --name "${containers[2]}" --network host "$archive_image" >/dev/null ||
    die "load: docker run failed"
expect_pong "$load_port" "${containers[2]}"
say "load: docker load of the archive answered PONG"

podman_images+=("localhost/$archive_image")
timeout 120 podman load -i "$work/redis.tar" >"$work/podman-load.log" 2>&1 || {
    cat "$work/podman-load.log" >&2
    die "load: podman load failed"
}
container="$(podman create "localhost/$archive_image")" || die "load: podman create failed"
podman_containers+=("$container")
podman export "$container" | tar -t >"$work/podman.list" || die "load: podman export failed"
grep -qx 'usr/local/bin/redis-server' "$work/podman.list" ||
    die "load: the podman container has no usr/local/bin/redis-server"
entrypoint="$(podman image inspect -f '{{json .Config.Entrypoint}}' "localhost/$archive_image")"
[ "$entrypoint" = '["/usr/local/bin/redis-server"]' ] || die "load: podman sees entrypoint $entrypoint"
# podman asks runc to raise the container's open-file and process limits
# to its defaults, which a machine may refuse ("error setting rlimit");
# limits as low as these are always allowed, and enough for redis.
container="$(timeout 60 podman run -d --network host \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
    "localhost/$archive_image" --port "$podman_port" --save "")" || die "load: podman run failed"
podman_containers+=("$container")
expect_pong "$podman_port" "$container" podman
say "load: podman load of the archive gives the program and its entrypoint, and answered PONG"

# --- auth: basic, from a Docker config file ----------------------------------------

auth_ref="localhost:$auth_port/redis:$tag"
step "auth: extract-elf-so --image docker://$auth_ref with \$DOCKER_CONFIG"
mkdir "$work/docker-config"
printf '{"auths":{"localhost:%s":{"auth":"%s"}}}\n' "$auth_port" "$(printf 'alice:s3cret' | base64)" \
    >"$work/docker-config/config.json"
DOCKER_CONFIG="$work/docker-config" "$tool" -q --image "docker://$auth_ref" /usr/bin/redis-server >/dev/null ||
    die "auth: the push with the config file's credentials failed"
images+=("$auth_ref")
timeout 120 docker --config "$work/docker-config" pull "$auth_ref" >/dev/null ||
    die "auth: docker pull with the same credentials failed"
say "auth: pushed and pulled with the config file's credentials"

if "$tool" -q --image "docker://localhost:$auth_port/redis:wrong" --creds alice:nope /usr/bin/redis-server \
    >/dev/null 2>"$work/wrong.err"; then
    die "auth: a push with a wrong password succeeded"
fi
grep -q "registry localhost:$auth_port: GET /v2/: 401" "$work/wrong.err" || {
    cat "$work/wrong.err" >&2
    die "auth: the wrong password's message does not name the registry, the request and the status"
}
say "auth: a wrong password says: $(cat "$work/wrong.err")"

# --- sizes ------------------------------------------------------------------------

step "image sizes"
printf '| %-6s | %-12s | %-26s | %9s |\n' "Lab" "Program" "How" "Size (MB)"
printf '| %6s | %-12s | %-26s | %9s |\n' "05" "redis-server" "--image docker:// (pulled)" "$(mb "$(docker image inspect -f '{{.Size}}' "$redis_ref")")"
printf '| %6s | %-12s | %-26s | %9s |\n' "13" "wrk" "--image docker:// (pulled)" "$(mb "$(docker image inspect -f '{{.Size}}' "$wrk_ref")")"
echo
say "all image labs passed"
