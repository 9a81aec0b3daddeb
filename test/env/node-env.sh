# shellcheck shell=bash
# Shared by test/env/images.sh and test/env/node.sh: where the e2e node keeps
# its state, and the fixed addresses of the one node a machine can run.
# Sourced, never run.
_env_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$_env_here/versions.env"
CACHE=${SNAPKEEPER_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snapkeeper/testenv}
# Kept between runs: the image-building daemon's data (its layer cache makes a
# rebuild of unchanged sources take seconds) and the built images' archive.
BUILD_DIR="$CACHE/node-build"
# One run of the node: PKI, logs, PIDs, containerd's root, kubelet's root.
# Removed by `node.sh stop`; what an interrupted run left here is what
# `node.sh sweep` finds.
RUN_DIR="$CACHE/node-run"

# The node's addresses. This kernel-agnostic setup puts them on lo (no dummy
# device needed); pods reach the host on NODE_IP, never on 127.0.0.1.
NODE_NAME=snapkeeper-e2e
NODE_IP=10.200.0.1
DNS_IP=10.200.0.10
SERVICE_CIDR=10.0.0.0/24
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
API_PORT=6443
ETCD_PORT=23790

# The images the e2e suite runs (test/env/images.sh builds them).
LOCAL_REPO=snapkeeper.local
PRODUCT_TAG="$(node -p "require('$_env_here/../../package.json').version")-e2e"
PRODUCT_IMAGES=(operator dumper-postgresql dumper-mariadb dumper-elasticsearch)
BASE_IMAGE="$LOCAL_REPO/bookworm:base"
NODE_IMAGE="$LOCAL_REPO/node:bookworm"
PAUSE_IMAGE="$LOCAL_REPO/pause:1"
POSTGRES_IMAGE="$LOCAL_REPO/postgresql-server:15"
MARIADB_IMAGE="$LOCAL_REPO/mariadb-server:10.11"

node_log() { printf '[node] %s\n' "$*" >&2; }
