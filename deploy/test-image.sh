#!/usr/bin/env bash
# Builds deploy/Dockerfile and checks the image as a user runs it, then the compose stack of deploy/compose.yaml.
#   sudo deploy/test-image.sh          (as root when it has to start its own dockerd; .ci/run runs it)
#
# 1. Docker: the daemon of DOCKER_HOST when one answers, else its own dockerd (vfs storage, no bridge, no
#    iptables: everything runs with --network host), with its data under a temporary folder.
# 2. The base image node:20-bookworm-slim when missing (no registry here): Debian bookworm from debootstrap
#    (minbase, docs and locales removed as the -slim images do), this machine's Node 20 with its npm and corepack in
#    /usr/local, a `node` user (uid 1000); the machine's CA bundle as NODE_EXTRA_CA_CERTS when it has one (a network
#    whose egress re-signs TLS, as here).
# 3. docker build; the image's size against the target (1.5 x the base + onnxruntime-node's CPU libraries).
# 4. The image with the fixture model mounted read-only and an API key: healthy through its HEALTHCHECK, a rerank
#    answer, 401 without the key; `docker stop` with requests in flight: every one answered, exit code 0.
# 5. Bad input: a missing or unreadable model folder, a bad RERANKER_* value, a /models it cannot write: the
#    container exits at once, non-zero, with one line saying why (no stack trace), and never turns healthy.
# 6. deploy/compose.yaml (+ router.yaml): Redis, two servers, the load balancer; a request through it, and an rpm
#    limit that the two balancers of the stack count together through Redis.
# Everything it made (containers, images, volumes, its dockerd and its files) is removed at the end, also on failure.
# Where Docker cannot run (no docker/dockerd, not root, dockerd does not start) it says why and exits 0.
#
# Knobs: RERANK_KIT_KEEP=1 keeps the images and its dockerd for another run (prints how to reach it);
# RERANK_KIT_IMAGE=<tag> checks that image instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$(date +%s)
id="rktest$$"
log() { printf '[test-image %4ss] %s\n' "$(($(date +%s) - started))" "$*"; }
fail() {
  log "FAILED: $*"
  exit 1
}
# Docker cannot run here: that message only, exit 0, nothing left behind.
skip() {
  echo "deploy/test-image.sh: not run: $*"
  trap - EXIT
  if [ -n "${work:-}" ]; then
    awk -v dir="$work/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n 1 umount 2>/dev/null
    rm -rf "$work"
  fi
  exit 0
}

command -v docker >/dev/null || skip "no docker command (install docker.io)"
command -v curl >/dev/null || fail "curl is needed"
work=$(mktemp -d "${TMPDIR:-/var/tmp}/rerank-kit-image-test.XXXXXX")
own_dockerd_pid=""
made_images=()
keep=${RERANK_KIT_KEEP:-}

cleanup() {
  local status=$?
  set +e
  if [ -n "${compose_cmd[*]:-}" ] && [ -f "$work/compose.yaml" ]; then
    "${compose_cmd[@]}" down --volumes --remove-orphans >/dev/null 2>&1
  fi
  docker ps -aq --filter "label=rerank-kit-image-test=$id" 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
  if [ -z "$keep" ]; then
    for image in "${made_images[@]}"; do docker image rm -f "$image" >/dev/null 2>&1; done
    # The build stage's untagged layers (the legacy builder keeps them as dangling images).
    if [ -f "$work/dangling.before" ]; then
      docker images -q --filter dangling=true 2>/dev/null | sort -u | comm -23 - "$work/dangling.before" |
        xargs -r docker image rm -f >/dev/null 2>&1
    fi
    if [ -n "$own_dockerd_pid" ]; then
      kill "$own_dockerd_pid" 2>/dev/null
      for _ in $(seq 1 30); do kill -0 "$own_dockerd_pid" 2>/dev/null || break; sleep 1; done
      kill -9 "$own_dockerd_pid" 2>/dev/null
      # What dockerd leaves mounted under its folders (its network namespace), deepest first.
      awk -v dir="$work/" 'index($2, dir) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r -n 1 umount 2>/dev/null
    fi
    rm -rf "$work"
  else
    log "kept: DOCKER_HOST=${DOCKER_HOST:-default} (dockerd pid ${own_dockerd_pid:-none}), files in $work"
  fi
  log "total $(($(date +%s) - started)) s, exit $status"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. the daemon ---------------------------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
  log "using the running Docker daemon (${DOCKER_HOST:-default socket})"
else
  [ "$(id -u)" = 0 ] || skip "no Docker daemon answers and starting one needs root"
  command -v dockerd >/dev/null || skip "no Docker daemon answers and there is no dockerd (apt-get install docker.io)"
  mkdir -p "$work/docker/data" "$work/docker/exec"
  export DOCKER_HOST="unix://$work/docker/docker.sock"
  dockerd --storage-driver=vfs --iptables=false --bridge=none --data-root "$work/docker/data" \
    --exec-root "$work/docker/exec" --pidfile "$work/docker/dockerd.pid" -H "$DOCKER_HOST" \
    >"$work/docker/dockerd.log" 2>&1 &
  own_dockerd_pid=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$own_dockerd_pid" 2>/dev/null || break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    reason=$(grep -iE 'level=(fatal|error)|failed' "$work/docker/dockerd.log" | tail -n 3 | tr '\n' ' ')
    kill "$own_dockerd_pid" 2>/dev/null || true
    wait "$own_dockerd_pid" 2>/dev/null || true
    skip "dockerd did not start: ${reason:-no answer within 60 s}"
  fi
  log "started dockerd (pid $own_dockerd_pid, vfs, host network only)"
fi
docker images -q --filter dangling=true | sort -u >"$work/dangling.before"
run_label=(--label "rerank-kit-image-test=$id")

# ---- 2. the base image -----------------------------------------------------------------------------------------
base=node:20-bookworm-slim
if ! docker image inspect "$base" >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || skip "$base is missing and making it needs root (debootstrap)"
  command -v debootstrap >/dev/null || skip "$base is missing and there is no debootstrap (apt-get install debootstrap)"
  node_version=$(node -v)
  [[ $node_version == v20.* ]] || skip "$base is missing and this machine's Node is $node_version, not 20"
  # The Debian mirror apt uses here (deb822 URIs: or one-line deb), else debootstrap's own default.
  mirror=$(grep -hoE '(URIs:[[:space:]]*|^deb[[:space:]]+)https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | grep -oE 'https?://[^[:space:]]+' | head -n 1 || true)
  log "making $base: debootstrap bookworm from ${mirror:-the default mirror of debootstrap}, Node $node_version"
  rootfs="$work/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} >"$work/debootstrap.log" 2>&1 ||
    fail "debootstrap: $(tail -n 3 "$work/debootstrap.log")"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
  npm_root=$(npm root -g)
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/node_modules"
  cp "$(command -v node)" "$rootfs/usr/local/bin/node"
  cp -r "$npm_root/npm" "$npm_root/corepack" "$rootfs/usr/local/lib/node_modules/"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change "ENV NODE_VERSION=${node_version#v}" --change 'CMD ["node"]')
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    mkdir -p "$rootfs/etc/ssl/certs"
    cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
  fi
  tar -C "$rootfs" -c . | docker import "${changes[@]}" - "$base" >/dev/null
  rm -rf "$rootfs"
  made_images+=("$base")
fi
base_bytes=$(docker image inspect -f '{{.Size}}' "$base")
log "base $base: $((base_bytes / 1000000)) MB"

# ---- 3. the build ----------------------------------------------------------------------------------------------
image=${RERANK_KIT_IMAGE:-rerank-kit:$id}
build_args=()
for name in COREPACK_INTEGRITY_KEYS COREPACK_NPM_REGISTRY NPM_CONFIG_REGISTRY; do
  if [ -n "${!name+set}" ]; then build_args+=(--build-arg "$name=${!name}"); fi
done
build_started=$(date +%s)
if [ -z "${RERANK_KIT_IMAGE:-}" ]; then
  log "docker build -f deploy/Dockerfile -t $image . (${build_args[*]:-no build args})"
  made_images+=("$image")
  docker build --network host --force-rm "${build_args[@]}" -f deploy/Dockerfile -t "$image" . >"$work/build.log" 2>&1 ||
    fail "docker build: $(tail -n 30 "$work/build.log")"
fi
build_seconds=$(($(date +%s) - build_started))
image_bytes=$(docker image inspect -f '{{.Size}}' "$image")
ort_bytes=$(docker run --rm --network host "${run_label[@]}" "$image" sh -c \
  'du -sb packages/cli/node_modules/.pnpm/onnxruntime-node@*/node_modules/onnxruntime-node/bin | cut -f1')
target_bytes=$((base_bytes * 3 / 2 + ort_bytes))
log "built in ${build_seconds} s: image $((image_bytes / 1000000)) MB; base $((base_bytes / 1000000)) MB," \
  "onnxruntime-node CPU libraries $((ort_bytes / 1000000)) MB, target <= $((target_bytes / 1000000)) MB"
[ "$image_bytes" -le "$target_bytes" ] || fail "the image is larger than the target"
# What must not be in it: test sources, build tools, a root user.
docker run --rm --network host "${run_label[@]}" "$image" sh -c '
  set -e
  test "$(id -u)" = 1000
  ! find / -xdev \( -name "*.test.ts" -o -name "*.test.js" -o -path "*/test-support/*" \) -print -quit | grep -q .
  for tool in typescript tsup vitest esbuild @biomejs tsx; do
    ! ls -d packages/cli/node_modules/.pnpm/${tool}@* packages/cli/node_modules/.pnpm/${tool}+* >/dev/null 2>&1
  done
  ! command -v pnpm >/dev/null
  touch /models/.w && rm /models/.w
  ! touch packages/cli/dist/x 2>/dev/null
' || fail "the image holds test sources or build tools, or runs as root, or /models is not writable"
log "image: runs as uid 1000, no tests, no build tools, /models writable, code read-only"

# ---- 4. one container: health, answers, keys, stop with requests in flight --------------------------------------
fixture="$root/fixtures/models/tiny-bert-reranker"
[ -f "$fixture/onnx/model.onnx" ] || (cd "$root" && pnpm fixtures >/dev/null)
free_port() { node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })'; }
port=$(free_port)
key="test-key-$id"
container="$id-server"
# A long request deadline: the stop below is about draining, not admission (a request that would wait in the
# queue over half of it is refused at once, and this machine may be slow).
docker run -d --name "$container" --network host "${run_label[@]}" -e "RERANKER_PORT=$port" \
  -e "RERANKER_API_KEY=$key" -e RERANKER_MODEL_PATH=/model -e RERANKER_REQUEST_TIMEOUT=300000 \
  -v "$fixture:/model:ro" "$image" >/dev/null

# Healthy as Docker sees it: the image's HEALTHCHECK (every 15 s) has passed.
wait_healthy() {
  local name=$1 deadline=$(($(date +%s) + ${2:-120})) status
  while :; do
    status=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$name")
    [ "$status" = "running healthy" ] && return 0
    [ "${status%% *}" = running ] || fail "$name: $status: $(docker logs "$name" 2>&1 | tail -n 5)"
    [ "$(date +%s)" -lt "$deadline" ] || fail "$name not healthy ($status): $(docker logs "$name" 2>&1 | tail -n 5)"
    sleep 1
  done
}
wait_healthy "$container"
log "$container healthy (docker inspect)"

body='{"query":"capital of France","documents":["Bananas are yellow.","Paris is the capital of France.","France is in Europe."]}'
answer=$(curl -sS -w '\n%{http_code}' "http://127.0.0.1:$port/rerank" -H 'content-type: application/json' \
  -H "authorization: Bearer $key" -d "$body")
[ "${answer##*$'\n'}" = 200 ] || fail "rerank with the key: $answer"
node -e '
  const { results } = JSON.parse(process.argv[1])
  const indexes = results.map((result) => result.index).sort()
  if (indexes.join() !== "0,1,2" || !results.every((r) => r.relevance_score >= 0 && r.relevance_score <= 1))
    throw new Error("unexpected answer: " + process.argv[1])
' "${answer%$'\n'*}" || fail "rerank answer"
unkeyed=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/rerank" -H 'content-type: application/json' \
  -d "$body")
[ "$unkeyed" = 401 ] || fail "rerank without the key: $unkeyed, expected 401"
log "rerank answered (3 results) with the key; 401 without it"

# Requests in flight during `docker stop`: each client opens a keep-alive connection, has it accepted (GET /health),
# then sends a large rerank on it. Once every request is sent, the client says so; SIGUSR2 marks the stop.
cat >"$work/in-flight.mjs" <<'EOF'
import { Agent, request } from 'node:http'
const [port, key, count] = process.argv.slice(2).map((value, i) => (i === 1 ? value : Number(value)))
const get = (agent, method, path, body) =>
  new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, agent, method, path, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let text = ''
      res.on('data', (chunk) => { text += chunk })
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('error', (error) => resolve({ status: 0, text: error.message }))
    req.on('finish', () => body && sent())
    req.end(body)
  })
let sentCount = 0
let answeredBeforeStop
let answered = 0
const sent = () => { if (++sentCount === count) console.log('sent') }
process.on('SIGUSR2', () => { answeredBeforeStop = answered })
const documents = Array.from({ length: 200 }, (_, i) => `Document ${i}: Paris lies on the Seine, ${i % 17} km from here.`)
const results = await Promise.all(Array.from({ length: count }, async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const health = await get(agent, 'GET', '/health')
  if (health.status !== 200) return health
  const answer = await get(agent, 'POST', '/rerank', JSON.stringify({ query: 'capital of France', documents }))
  answered++
  agent.destroy()
  return answer
}))
const failed = results.filter((r) => r.status !== 200 || JSON.parse(r.text).results.length !== documents.length)
console.log(JSON.stringify({ requests: count, ok: count - failed.length, answeredBeforeStop, failed: failed.slice(0, 3) }))
process.exit(failed.length === 0 && answeredBeforeStop !== undefined && answeredBeforeStop < count ? 0 : 1)
EOF
node "$work/in-flight.mjs" "$port" "$key" 16 >"$work/in-flight.out" 2>&1 &
client=$!
for _ in $(seq 1 600); do grep -qs '^sent' "$work/in-flight.out" && break; sleep 0.05; done
grep -q '^sent' "$work/in-flight.out" || fail "in-flight client: $(cat "$work/in-flight.out")"
kill -USR2 "$client"
docker stop --time 120 "$container" >/dev/null
client_status=0
wait "$client" || client_status=$?
exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$container")
summary=$(tail -n 1 "$work/in-flight.out")
[ "$client_status" = 0 ] || fail "requests in flight during docker stop: $summary"
[ "$exit_code" = 0 ] || fail "exit code after docker stop: $exit_code: $(docker logs "$container" 2>&1 | tail -n 5)"
# Read from a file, not a pipe: with pipefail, grep -q leaving at its match could fail `docker logs` on EPIPE.
docker logs "$container" >"$work/stopped.log" 2>&1
grep -q 'SIGTERM: no new connections' "$work/stopped.log" || fail "no SIGTERM drain in the log: $(tail -n 5 "$work/stopped.log")"
log "docker stop with requests in flight: $summary; exit code 0"
docker rm "$container" >/dev/null

# ---- 5. bad input: one line, non-zero exit, never healthy -----------------------------------------------------
# $1: what; $2: expected exit code; $3: a pattern the one line must match; the rest: docker run arguments.
expect_refused() {
  local what=$1 code=$2 pattern=$3 status output
  shift 3
  status=0
  output=$(timeout 120 docker run --rm --network host "${run_label[@]}" -e "RERANKER_PORT=$(free_port)" "$@" "$image" 2>&1) ||
    status=$?
  [ "$status" = "$code" ] || fail "$what: exit code $status, expected $code: $output"
  [ "$(printf '%s\n' "$output" | grep -c .)" = 1 ] || fail "$what: expected one line, got: $output"
  [[ $output =~ $pattern ]] || fail "$what: '$output' does not match /$pattern/"
  log "$what: exit $status: $output"
}
expect_refused "missing model folder" 1 '/no/such/model \(RERANKER_MODEL_PATH\) does not exist' \
  -e RERANKER_MODEL_PATH=/no/such/model
mkdir -p "$work/unreadable" && cp -r "$fixture/." "$work/unreadable/" && chmod 700 "$work/unreadable"
expect_refused "unreadable model folder" 1 'cannot read.*/model' \
  -e RERANKER_MODEL_PATH=/model -v "$work/unreadable:/model:ro"
expect_refused "bad RERANKER_BATCH_SIZE" 2 'RERANKER_BATCH_SIZE' -e RERANKER_BATCH_SIZE=lots
mkdir -p "$work/root-models" && chmod 755 "$work/root-models"
expect_refused "/models not writable" 1 'cannot write.*/models' -v "$work/root-models:/models"
expect_refused "/models read-only" 1 'cannot write.*/models' -v "$work/root-models:/models:ro"

# ---- 6. the compose stack ---------------------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  compose_tool=(docker compose)
elif command -v docker-compose >/dev/null; then
  compose_tool=(docker-compose)
else
  fail "no docker compose (v2) nor docker-compose (v1: apt-get install docker-compose) for deploy/compose.yaml"
fi
# redis:7 when missing (no registry): Redis 7 from Debian on the base image; like the official image, it turns
# protected mode off when started without a config file (the network is the stack's own).
if ! docker image inspect redis:7 >/dev/null 2>&1; then
  log "making redis:7 from $base and Debian's redis-server"
  made_images+=(redis:7)
  cat >"$work/redis.Dockerfile" <<EOF
FROM $base
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \\
  && rm -rf /var/lib/apt/lists/* \\
  && printf '#!/bin/sh\\nif [ "\$1" = redis-server ]; then shift; set -- redis-server --protected-mode no "\$@"; fi\\nexec "\$@"\\n' \\
    >/usr/local/bin/docker-entrypoint.sh && chmod +x /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
  docker build --network host -t redis:7 - <"$work/redis.Dockerfile" >"$work/redis-build.log" 2>&1 ||
    fail "redis:7: $(tail -n 5 "$work/redis-build.log")"
fi
# The stack of deploy/compose.yaml and router.yaml, changed only where this test must: the image just built (no
# build), the fixture model instead of a download, free host ports, an rpm limit on each server, and a second
# balancer (router-2, the router service again) on the same Redis.
limit=3
port_1=$(free_port)
port_2=$(free_port)
compose_cmd=("${compose_tool[@]}" -p "$id" -f "$work/compose.yaml")
RK_IMAGE="$image" RK_FIXTURE="$fixture" RK_WORK="$work" RK_PORTS="$port_1 $port_2" RK_LIMIT="$limit" node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs"
  import { parse } from "yaml"
  const { RK_IMAGE: image, RK_FIXTURE: fixture, RK_WORK: work, RK_PORTS: ports, RK_LIMIT: limit } = process.env
  const [port1, port2] = ports.split(" ")
  // merge: the file shares settings through a YAML 1.1 merge key (<<: *rerank-image), as compose reads it.
  const compose = parse(readFileSync("deploy/compose.yaml", "utf8"), { merge: true })
  const router = parse(readFileSync("deploy/router.yaml", "utf8"))
  for (const entry of router.model_list) entry.litellm_params.rpm = Number(limit)
  // JSON, which is YAML too: compose reads YAML 1.1, where an unquoted no is false.
  writeFileSync(`${work}/router.yaml`, JSON.stringify(router, null, 2))
  for (const [name, service] of Object.entries(compose.services)) {
    if (!service.build) continue
    delete service.build
    service.image = image
    if (name !== "router") {
      service.environment.RERANKER_MODEL_PATH = "/model"
      service.volumes.push(`${fixture}:/model:ro`)
    }
  }
  const lb = compose.services.router
  const mounted = lb.volumes.map((volume) => volume.replace(/^\.\/router\.yaml:/, `${work}/router.yaml:`))
  if (!mounted.some((volume) => volume.startsWith(`${work}/router.yaml:`)))
    throw new Error("router.yaml is no longer mounted as ./router.yaml")
  lb.volumes = mounted
  lb.ports = [`${port1}:8000`]
  compose.services["router-2"] = { ...structuredClone(lb), ports: [`${port2}:8000`] }
  for (const key of Object.keys(compose)) if (key.startsWith("x-") || key === "name") delete compose[key]
  writeFileSync(`${work}/compose.yaml`, JSON.stringify(compose, null, 2))
' || fail "could not derive the test stack from deploy/compose.yaml"
log "compose (${compose_tool[*]}): redis, rerank-a, rerank-b, router on :$port_1 and router-2 on :$port_2"
compose_started=$(date +%s)
timeout 400 "${compose_cmd[@]}" up -d >"$work/compose-up.log" 2>&1 ||
  fail "compose up: $(tail -n 10 "$work/compose-up.log"; "${compose_cmd[@]}" logs --tail 5 2>&1 | tail -n 20)"
for service in router router-2; do wait_healthy "$("${compose_cmd[@]}" ps -q "$service")" 180; done
log "stack up and healthy in $(($(date +%s) - compose_started)) s"

rerank_via() { # $1: port; prints the status code, the answer in $work/answer.json
  curl -sS -o "$work/answer.json" -w '%{http_code}' "http://127.0.0.1:$1/v1/rerank" -H 'content-type: application/json' \
    -d '{"model":"rerank","query":"capital of France","documents":["Paris is in France.","Bananas."]}'
}
status=$(rerank_via "$port_1")
[ "$status" = 200 ] || fail "rerank through the balancer: $status $(cat "$work/answer.json")"
node -e '
  const answer = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"))
  if (answer.results.length !== 2) throw new Error(JSON.stringify(answer))
' "$work/answer.json" || fail "rerank answer through the balancer"
log "rerank through the balancer: 200, 2 results"

# The limit: $limit requests a minute on each server, counted in Redis by both balancers. The counters are per
# minute, so this runs within one minute; what the first request used is read from the stats.
stats_used() {
  curl -sS "http://127.0.0.1:$1/lb/stats" | node -e '
    let text = ""
    process.stdin.on("data", (chunk) => { text += chunk }).on("end", () => {
      const stats = JSON.parse(text)
      if (stats.state !== "redis") throw new Error("state: " + stats.state)
      console.log(stats.deployments.reduce((sum, deployment) => sum + deployment.rpmUsed, 0))
    })'
}
second=$((10#$(date +%S)))
if [ "$second" -gt 45 ]; then sleep $((61 - second)); fi
used=$(stats_used "$port_1")
capacity=$((2 * limit))
ok=0
limited=0
for round in 1 2 3 4; do
  for port in "$port_1" "$port_2"; do
    status=$(rerank_via "$port")
    case $status in
      200) ok=$((ok + 1)) ;;
      429) limited=$((limited + 1)) ;;
      *) fail "round $round via :$port: $status $(cat "$work/answer.json")" ;;
    esac
  done
done
expected=$((capacity - used))
if [ "$expected" -lt 0 ]; then expected=0; fi
[ "$ok" = "$expected" ] || fail "rpm: $ok of 8 answered, expected $expected ($capacity a minute, $used used before)"
[ "$limited" = $((8 - expected)) ] || fail "rpm: $limited refused with 429, expected $((8 - expected))"
used_1=$(stats_used "$port_1")
used_2=$(stats_used "$port_2")
[ "$used_1" = "$capacity" ] && [ "$used_2" = "$capacity" ] ||
  fail "rpm used: $used_1 (router) and $used_2 (router-2), expected $capacity in both (shared through Redis)"
log "rpm $limit per server through both balancers: $ok answered, $limited refused (429); both count $capacity"

"${compose_cmd[@]}" down --volumes --remove-orphans >"$work/compose-down.log" 2>&1 || fail "compose down"
rm -f "$work/compose.yaml"
log "passed"
