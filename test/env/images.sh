#!/usr/bin/env bash
# Builds the images the e2e suite runs, on a machine that reaches no container
# registry: the product's four images through `make images` (images/*.Dockerfile,
# unchanged for users on the internet, steered here by build arguments) and
# the suite's own (pause, PostgreSQL and MariaDB servers from Debian packages),
# all FROM a debootstrap'd bookworm base (`provision.sh node`). The engine is
# Debian's docker.io daemon, started here with its own data root and socket,
# without a bridge or iptables rules (builds use the host network), and
# stopped again. The result is one archive for the node's containerd:
#
#   test/env/images.sh        build (cached layers: seconds when nothing changed)
#                             → <cache>/node-build/images.tar, images.list
#
# The MySQL dumper (FROM mysql:8.4, Oracle Linux) cannot be built here: no
# MySQL image and no MySQL packages are reachable. See docs/testing.md.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=node-env.sh
source "$here/node-env.sh"

rootfs="$CACHE/bookworm-rootfs/rootfs.tar"
pause_bin="$CACHE/pause-1/pause"
for f in "$rootfs" "$pause_bin"; do
  [ -f "$f" ] || { node_log "images: $f not found. Run \`make testenv\` (test/env/provision.sh node)."; exit 1; }
done
command -v dockerd >/dev/null || { node_log "images: dockerd not found. Run \`make testenv\` (provision.sh node)."; exit 1; }

mkdir -p "$BUILD_DIR/logs"
sock="$BUILD_DIR/docker.sock"
pidfile="$BUILD_DIR/dockerd.pid"
export DOCKER_HOST="unix://$sock" DOCKER_BUILDKIT=0
D=(docker)

docker_stop() {
  local pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$pidfile"
  # overlay mounts of an interrupted build
  awk -v r="$BUILD_DIR/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
}
# A daemon of an earlier, interrupted run is stopped first (its PID file).
docker_stop
trap docker_stop EXIT

start=$SECONDS
dockerd --data-root "$BUILD_DIR/data" --exec-root "$BUILD_DIR/exec" --pidfile "$pidfile" \
  -H "$DOCKER_HOST" --storage-driver=overlay2 --bridge=none --iptables=false --ip-masq=false \
  >"$BUILD_DIR/logs/dockerd.log" 2>&1 &
until "${D[@]}" info >/dev/null 2>&1; do
  [ $((SECONDS - start)) -lt 60 ] || { tail -20 "$BUILD_DIR/logs/dockerd.log" >&2; exit 1; }
  sleep 0.5
done
node_log "images: dockerd up ($((SECONDS - start))s)"

build() { # TAG CONTEXT DOCKERFILE [ARGS...]
  local tag=$1 ctx=$2 file=$3 s=$SECONDS
  shift 3
  local log="$BUILD_DIR/logs/build-${tag//[\/:]/_}.log"
  "${D[@]}" build -q --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" "$@" -f "$file" -t "$tag" "$ctx" \
    >"$log" 2>&1 || { tail -40 "$log" >&2; return 1; }
  node_log "images: $tag ($((SECONDS - s))s)"
}

# The base: the rootfs tar, imported again only when it changed.
rootfs_id=$(cat "$CACHE/bookworm-rootfs/.recipe" "$rootfs" | sha256sum | cut -c1-16)
if [ "$("${D[@]}" image inspect -f '{{index .Config.Labels "rootfs"}}' "$BASE_IMAGE" 2>/dev/null)" != "$rootfs_id" ]; then
  "${D[@]}" import -c "LABEL rootfs=$rootfs_id" -c 'CMD ["bash"]' "$rootfs" "$BASE_IMAGE" >/dev/null
  node_log "images: imported $BASE_IMAGE"
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"; docker_stop' EXIT
cp "$pause_bin" "$ctx/pause"
cp "$(readlink -f "$(command -v node)")" "$ctx/node"
cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ctx/npm"
# npm inside the build reaches the registry through this machine's TLS chain.
cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$ctx/build-ca.pem"
cp "$here"/images/*.sh "$ctx/"
build "$PAUSE_IMAGE" "$ctx" "$here/images/pause.Dockerfile"
build "$NODE_IMAGE" "$ctx" "$here/images/node-base.Dockerfile"
build "$POSTGRES_IMAGE" "$ctx" "$here/images/postgresql-server.Dockerfile"
build "$MARIADB_IMAGE" "$ctx" "$here/images/mariadb-server.Dockerfile"

# The product's images, exactly as `make images` builds them, with the local
# base and Debian's PostgreSQL 15 client (PGDG is not reachable here).
s=$SECONDS
make -s -C "$repo" images CONTAINER_ENGINE=docker IMAGE_REPO="$LOCAL_REPO" IMAGE_TAG="$PRODUCT_TAG" \
  IMAGES="${PRODUCT_IMAGES[*]}" \
  IMAGE_BUILD_ARGS="-q --network host --build-arg NODE_IMAGE=$NODE_IMAGE --build-arg PG_APT_SOURCE=debian --build-arg PG_MAJORS=15" \
  >"$BUILD_DIR/logs/make-images.log" 2>&1 || { tail -40 "$BUILD_DIR/logs/make-images.log" >&2; exit 1; }
node_log "images: make images ($((SECONDS - s))s)"

# earlier builds' layers that no tag uses any more: the data root stays bounded
"${D[@]}" image prune -f >/dev/null

all=("$PAUSE_IMAGE" "$POSTGRES_IMAGE" "$MARIADB_IMAGE")
for i in "${PRODUCT_IMAGES[@]}"; do all+=("$LOCAL_REPO/$i:$PRODUCT_TAG"); done
# Sizes, for docs/testing.md and the log.
for i in "${all[@]}"; do
  "${D[@]}" image inspect -f "{{.Size}} $i" "$i"
done | awk '{printf "[node] images: %-50s %4d MB\n", $2, $1/1e6}' >&2

# The archive for containerd, written again only when an image changed.
ids=$(for i in "${all[@]}"; do echo "$i $("${D[@]}" image inspect -f '{{.Id}}' "$i")"; done)
if [ "$ids" != "$(cat "$BUILD_DIR/images.list" 2>/dev/null)" ] || [ ! -s "$BUILD_DIR/images.tar" ]; then
  s=$SECONDS
  rm -f "$BUILD_DIR/images.list"
  "${D[@]}" save -o "$BUILD_DIR/images.tar.tmp" "${all[@]}"
  mv "$BUILD_DIR/images.tar.tmp" "$BUILD_DIR/images.tar"
  echo "$ids" >"$BUILD_DIR/images.list"
  node_log "images: saved $(du -m "$BUILD_DIR/images.tar" | cut -f1) MB ($((SECONDS - s))s)"
fi
node_log "images: ready ($((SECONDS - start))s)"
