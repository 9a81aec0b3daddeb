#!/usr/bin/env bash
# A real single-node Kubernetes for the e2e suite, on this host: etcd,
# kube-apiserver, kube-controller-manager, kube-scheduler, containerd + runc +
# the CNI bridge, kubelet, kube-proxy (iptables) and CoreDNS, all as host
# processes from `make testenv` (provision.sh node), with the images of
# test/env/images.sh imported into containerd.
#
#   test/env/node.sh start   sweep, then start; prints the run directory
#   test/env/node.sh stop    stop everything, remove every host-wide trace
#   test/env/node.sh sweep   the same as stop: for what an interrupted run left
#   test/env/node.sh check   list what a run left on the host; exit 1 if anything
#
# Every process is started with its PID in <run>/pids and stopped by that PID.
# Host-wide state (iptables chains, the cni0 bridge, network namespaces,
# mounts, addresses on lo, cgroups, sysctls) is recorded or recognisable as
# this node's and removed by stop, which is also the first thing start does:
# a run that was killed before its teardown is cleaned up by the next one.
# One node per machine: the ports and address ranges are fixed (node-env.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=node-env.sh
source "$here/node-env.sh"

R=$RUN_DIR
KBIN="$CACHE/kubernetes-$KUBERNETES_VERSION"
NBIN="$CACHE/kubernetes-node-$KUBERNETES_VERSION"
ETCD="$CACHE/etcd-$ETCD_VERSION/etcd"
COREDNS="$CACHE/coredns-$COREDNS_VERSION/coredns"
API="https://$NODE_IP:$API_PORT"
SOCK="$R/containerd/containerd.sock"
RUNC_ROOT="$R/runc"
T0=$SECONDS
log() { printf '[node %3ss] %s\n' "$((SECONDS - T0))" "$*" >&2; }

# --- stop / sweep ------------------------------------------------------------
stop_pid() { # NAME: the process in pids/NAME.pid, TERM then KILL
  local f="$R/pids/$1.pid" p
  [ -f "$f" ] || return 0
  p=$(cat "$f")
  if kill -0 "$p" 2>/dev/null; then
    kill "$p" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.3; done
    kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
    log "stopped $1 (pid $p)"
  fi
  rm -f "$f"
}

# PIDs whose command line names this run directory (containerd's shims are
# started with -address <run>/containerd/containerd.sock).
pids_of_run() {
  local d c
  for d in /proc/[0-9]*; do
    c=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    case "$c" in *"$R/"*) echo "${d#/proc/}" ;; esac
  done
}

remove_chains() { # iptables chains KUBE-* and CNI-*, with every jump to them
  local t chains c
  command -v iptables >/dev/null || return 0
  for t in filter nat mangle; do
    chains=$(iptables -w -t $t -S 2>/dev/null | awk '/^-N (KUBE|CNI)-/ {print $2}')
    [ -n "$chains" ] || continue
    for c in $chains; do
      iptables -w -t $t -S | grep -E -- "-j $c( |\$)" | grep -vE '^-A (KUBE|CNI)-' | sed 's/^-A/-D/' |
        while read -r rule; do eval "iptables -w -t $t $rule" || true; done
    done
    for c in $chains; do iptables -w -t $t -F "$c" 2>/dev/null || true; done
    for c in $chains; do iptables -w -t $t -X "$c" 2>/dev/null || true; done
  done
}

sweep() {
  [ -d "$R" ] || return 0
  # best effort, every step: one failure must not leave the rest behind
  set +e +o pipefail
  log "stopping the node in $R"
  for n in coredns kube-proxy kubelet kube-scheduler kube-controller-manager; do stop_pid $n; done
  # the pods' containers: every runc container of this node, then the shims
  if [ -d "$RUNC_ROOT" ]; then
    local ns id
    for ns in "$RUNC_ROOT"/*; do
      [ -d "$ns" ] || continue
      for id in $(runc --root "$ns" list -q 2>/dev/null); do
        runc --root "$ns" kill -a "$id" KILL 2>/dev/null || true
      done
    done
    sleep 0.5
    for ns in "$RUNC_ROOT"/*; do
      [ -d "$ns" ] || continue
      for id in $(runc --root "$ns" list -q 2>/dev/null); do runc --root "$ns" delete -f "$id" 2>/dev/null || true; done
    done
  fi
  stop_pid containerd
  stop_pid kube-apiserver
  stop_pid etcd
  # what has no PID file (containerd's shims) or outlived it
  local p
  for p in $(pids_of_run); do
    [ "$p" = $$ ] && continue
    log "killing leftover pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-80)"
    kill -9 "$p" 2>/dev/null
  done
  # network
  [ -x "$NBIN/kube-proxy" ] && "$NBIN/kube-proxy" --cleanup >/dev/null 2>&1 || true
  remove_chains
  ip link del cni0 2>/dev/null && log "removed cni0" || true
  ip addr del "$NODE_IP/32" dev lo 2>/dev/null || true
  ip addr del "$DNS_IP/32" dev lo 2>/dev/null || true
  local n
  for n in /var/run/netns/cni-*; do
    [ -e "$n" ] || continue
    umount "$n" 2>/dev/null || true
    rm -f "$n"
  done
  # mounts under the run directory (kubelet's volumes, containerd's snapshots), deepest first
  local m
  awk -v r="$R/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  # the pods' cgroups (cgroup v1: one tree per controller; v2: one)
  local c
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/kubepods.slice; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  # kubelet's links to the pods' logs, which live in the run directory
  for n in /var/log/containers/*.log; do
    [ -L "$n" ] && case "$(readlink "$n")" in "$R/"*) rm -f "$n" ;; esac
  done
  # sysctls set by start, back to what they were
  if [ -f "$R/sysctl.saved" ]; then
    while read -r key value; do sysctl -qw "$key=$value" 2>/dev/null || true; done <"$R/sysctl.saved"
  fi
  # paths outside the run directory that start created
  if [ -f "$R/created" ]; then
    while read -r n; do rm -rf "$n"; done <"$R/created"
  fi
  # shim sockets: /run/containerd is only ours when no other containerd runs
  if ! pgrep -x containerd >/dev/null && ! pgrep -x dockerd >/dev/null; then rm -rf /run/containerd; fi
  rm -rf "$R"
  set -e -o pipefail
  log "node stopped, host state removed"
}

# What a node (or the image builder) left on the host: one line per thing,
# nothing when the host is clean. Used after interrupted runs, by hand or by CI.
leftovers() {
  local d c n t
  for d in /proc/[0-9]*; do
    [ "${d#/proc/}" = $$ ] && continue
    c=$(tr '\0' ' ' 2>/dev/null <"$d/cmdline") || continue
    case "$c" in
      *"$R/"* | *"$BUILD_DIR/"*) echo "process ${d#/proc/}: ${c:0:100}" ;;
      *)
        case "$(cat "$d/comm" 2>/dev/null)" in
          kubelet | kube-proxy | kube-scheduler | coredns | containerd | containerd-shim* | dockerd)
            echo "process ${d#/proc/}: ${c:0:100}"
            ;;
        esac
        ;;
    esac
  done
  ip link show cni0 >/dev/null 2>&1 && echo "link cni0"
  ip -o link show master cni0 2>/dev/null | awk '{print "link " $2}'
  for n in "$NODE_IP" "$DNS_IP"; do
    ip -o addr show dev lo | grep -q " $n/" && echo "address $n on lo"
  done
  if command -v iptables >/dev/null; then
    for t in filter nat mangle; do
      iptables -w -t $t -S 2>/dev/null | awk -v t=$t '/^-N (KUBE|CNI)-/ {print "iptables " t " chain " $2}'
    done
  fi
  for n in /var/run/netns/cni-*; do [ -e "$n" ] && echo "netns $n"; done
  awk -v r="$R/" -v b="$BUILD_DIR/" 'index($2, r) == 1 || index($2, b) == 1 || $2 ~ /^\/var\/lib\/kubelet\// {print "mount " $2}' /proc/mounts
  for c in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods.slice /sys/fs/cgroup/kubepods.slice; do
    [ -d "$c" ] && echo "cgroup $c"
  done
  [ -e "$R" ] && echo "run directory $R"
  [ -e "$BUILD_DIR/dockerd.pid" ] && echo "image builder pid file $BUILD_DIR/dockerd.pid"
  return 0
}

check() {
  local found
  found=$(leftovers)
  if [ -n "$found" ]; then
    printf '%s\n' "$found"
    return 1
  fi
  log "nothing left on the host"
}

# --- start ---------------------------------------------------------------------
start_bg() { # NAME CMD...: in its own session (a Ctrl-C of the suite does not
  # kill it half-way: the teardown or the next sweep stops it)
  local n=$1
  shift
  setsid "$@" >"$R/logs/$n.log" 2>&1 </dev/null &
  echo $! >"$R/pids/$n.pid"
}
wait_for() { # WHAT TIMEOUT NAME CMD...: fails early when process NAME died
  local what=$1 t=$2 name=$3 s=$SECONDS
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$R/pids/$name.pid")" 2>/dev/null; then
      log "$name exited while waiting for $what:"
      tail -30 "$R/logs/$name.log" >&2
      return 1
    fi
    if [ $((SECONDS - s)) -ge "$t" ]; then
      log "timed out waiting for $what:"
      tail -30 "$R/logs/$name.log" >&2
      return 1
    fi
    sleep 0.5
  done
  log "$what ready ($((SECONDS - s))s)"
}
need() {
  local f
  for f in "$@"; do
    [ -x "$f" ] || { log "$f not found. Run \`make testenv\` (test/env/provision.sh node)."; exit 1; }
  done
}

pki() {
  local d=$R/pki
  mkdir -p "$d"
  cd "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout ca.key -out ca.crt -subj /CN=snapkeeper-e2e-ca \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  cert() { # NAME SUBJECT EXTENSIONS
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
    printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature,keyEncipherment "$3" >"$1.ext"
    openssl x509 -req -sha256 -days 2 -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -extfile "$1.ext" \
      -out "$1.crt" 2>/dev/null
  }
  cert apiserver /CN=kube-apiserver "extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$NODE_IP,IP:${SERVICE_CIDR%.0/*}.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert kubelet "/CN=$NODE_NAME" "extendedKeyUsage=serverAuth
subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME"
  cert apiserver-kubelet-client /CN=kube-apiserver-kubelet-client/O=system:masters extendedKeyUsage=clientAuth
  openssl genrsa -out sa.key 2048 2>/dev/null
  local u
  : >tokens.csv
  for u in admin:system:masters kcm:system:masters sched:system:masters "kubelet:system:nodes" proxy: coredns:system:masters; do
    local name=${u%%:*} group=${u#*:} user tok
    tok=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
    printf '%s' "$tok" >"$name.token"
    case $name in
      kubelet) user=system:node:$NODE_NAME ;; kcm) user=system:kube-controller-manager ;;
      sched) user=system:kube-scheduler ;; proxy) user=system:kube-proxy ;; *) user=$name ;;
    esac
    if [ -n "$group" ]; then echo "$tok,$user,$name,\"$group\"" >>tokens.csv; else echo "$tok,$user,$name" >>tokens.csv; fi
    cat >"$name.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: e2e, cluster: {server: "$API", certificate-authority-data: "$(base64 -w0 ca.crt)"}}]
users: [{name: $name, user: {token: "$tok"}}]
contexts: [{name: e2e, context: {cluster: e2e, user: $name, namespace: default}}]
current-context: e2e
KC
  done
  chmod 600 ./*.key ./*.token tokens.csv ./*.kubeconfig
  cd - >/dev/null
}

start() {
  need "$ETCD" "$KBIN/kube-apiserver" "$KBIN/kube-controller-manager" "$KBIN/kubectl" "$NBIN/kubelet" \
    "$NBIN/kube-proxy" "$NBIN/kube-scheduler" "$COREDNS"
  [ -s "$BUILD_DIR/images.tar" ] || { log "no images: run test/env/images.sh first"; exit 1; }
  sweep
  mkdir -p "$R/pids" "$R/logs" "$R/cni/net.d" "$R/containerd"
  : >"$R/created"
  [ -d /var/lib/cni ] || echo /var/lib/cni >>"$R/created"
  [ -d /var/log/pods ] || echo /var/log/pods >>"$R/created"
  [ -d /var/log/containers ] || echo /var/log/containers >>"$R/created"
  [ -d /var/run/netns ] || echo /var/run/netns >>"$R/created"
  [ -d /var/lib/kubelet ] || echo /var/lib/kubelet >>"$R/created"

  # host network: the two addresses on lo (this kernel has no dummy device),
  # forwarding and bridged traffic through iptables (kube-proxy's Services)
  for k in net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables; do
    echo "$k $(sysctl -n $k 2>/dev/null || echo 0)" >>"$R/sysctl.saved"
  done
  ip addr replace "$NODE_IP/32" dev lo
  ip addr replace "$DNS_IP/32" dev lo
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  pki
  log "pki ready"

  start_bg etcd "$ETCD" --data-dir "$R/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls http://127.0.0.1:0 \
    --unsafe-no-fsync --log-level warn
  wait_for etcd 60 etcd curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  start_bg kube-apiserver "$KBIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --cert-dir="$R/apiserver" --tls-cert-file="$R/pki/apiserver.crt" --tls-private-key-file="$R/pki/apiserver.key" \
    --client-ca-file="$R/pki/ca.crt" --secure-port=$API_PORT --bind-address="$NODE_IP" --advertise-address="$NODE_IP" \
    --service-cluster-ip-range=$SERVICE_CIDR --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$R/pki/sa.key" --service-account-signing-key-file="$R/pki/sa.key" \
    --authorization-mode=Node,RBAC --token-auth-file="$R/pki/tokens.csv" \
    --kubelet-client-certificate="$R/pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$R/pki/apiserver-kubelet-client.key" --kubelet-certificate-authority="$R/pki/ca.crt" \
    --kubelet-preferred-address-types=InternalIP --allow-privileged=true --profiling=false --v=1
  wait_for kube-apiserver 120 kube-apiserver curl -sf --cacert "$R/pki/ca.crt" \
    -H "Authorization: Bearer $(cat "$R/pki/admin.token")" "$API/readyz"

  start_bg kube-controller-manager "$KBIN/kube-controller-manager" --kubeconfig="$R/pki/kcm.kubeconfig" \
    --controllers='*' --service-account-private-key-file="$R/pki/sa.key" --root-ca-file="$R/pki/ca.crt" \
    --use-service-account-credentials=false --leader-elect=false --bind-address=127.0.0.1 --secure-port=10257 \
    --cert-dir="$R/kcm" --profiling=false --v=1
  start_bg kube-scheduler "$NBIN/kube-scheduler" --kubeconfig="$R/pki/sched.kubeconfig" --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port=10259 --profiling=false --v=1

  # containerd (Debian's 1.6) + runc + CNI bridge / host-local
  cat >"$R/cni/net.d/10-e2e.conflist" <<J
{"cniVersion":"1.0.0","name":"e2e","plugins":[
 {"type":"bridge","bridge":"cni0","isGateway":true,"ipMasq":true,"hairpinMode":true,
  "ipam":{"type":"host-local","ranges":[[{"subnet":"$POD_CIDR"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"$R/cni/ipam"}},
 {"type":"portmap","capabilities":{"portMappings":true}},
 {"type":"firewall"},
 {"type":"loopback"}]}
J
  cat >"$R/containerd/config.toml" <<T
version = 2
root = "$R/containerd/root"
state = "$R/containerd/state"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Some VMs drop CAP_SYS_RESOURCE from every bounding set: runc then cannot
  # set the sandbox's negative oom_score_adj ("can't get final child's PID
  # from pipe: EOF"). Clamp it to what the process may set.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$RUNC_ROOT"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$R/cni/net.d"
[plugins."io.containerd.internal.v1.opt"]
  path = "$R/containerd/opt"
T
  start_bg containerd /usr/bin/containerd --config "$R/containerd/config.toml"
  wait_for containerd 60 containerd ctr -a "$SOCK" version
  local s=$SECONDS
  ctr -a "$SOCK" -n k8s.io images import "$BUILD_DIR/images.tar" >/dev/null
  log "images imported ($((SECONDS - s))s)"
  wait_for kube-controller-manager 60 kube-controller-manager curl -skf https://127.0.0.1:10257/healthz
  wait_for kube-scheduler 60 kube-scheduler curl -skf https://127.0.0.1:10259/healthz

  cat >"$R/kubelet-config.yaml" <<Y
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failSwapOn: false
failCgroupV1: false
containerRuntimeEndpoint: unix://$SOCK
podLogsDir: $R/pod-logs
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
tlsCertFile: $R/pki/kubelet.crt
tlsPrivateKeyFile: $R/pki/kubelet.key
authentication: {anonymous: {enabled: false}, webhook: {enabled: false}, x509: {clientCAFile: $R/pki/ca.crt}}
authorization: {mode: AlwaysAllow}
clusterDNS: [$DNS_IP]
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
# No registry: an image removed by garbage collection could not come back.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
Y
  start_bg kubelet "$NBIN/kubelet" --config="$R/kubelet-config.yaml" --kubeconfig="$R/pki/kubelet.kubeconfig" \
    --hostname-override=$NODE_NAME --node-ip=$NODE_IP --root-dir="$R/kubelet" --v=1

  cat >"$R/kube-proxy-config.yaml" <<Y
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clusterCIDR: $CLUSTER_CIDR
hostnameOverride: $NODE_NAME
clientConnection: {kubeconfig: $R/pki/proxy.kubeconfig}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: {maxPerCore: 0}
Y
  start_bg kube-proxy "$NBIN/kube-proxy" --config="$R/kube-proxy-config.yaml" --v=1

  cat >"$R/Corefile" <<C
.:53 {
    bind $DNS_IP
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $R/pki/coredns.kubeconfig e2e
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
}
C
  start_bg coredns "$COREDNS" -conf "$R/Corefile"

  local K=("$KBIN/kubectl" --kubeconfig "$R/pki/admin.kubeconfig")
  wait_for "node $NODE_NAME Ready" 120 kubelet sh -c \
    "$(printf '%q ' "${K[@]}") get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  wait_for "default ServiceAccount" 60 kube-controller-manager "${K[@]}" get sa default
  wait_for "cluster DNS" 30 coredns bash -c "exec 3<>/dev/tcp/$DNS_IP/53"
  log "node up in $((SECONDS - T0))s"
  echo "$R"
}

case "${1:-}" in
  start) start ;;
  stop | sweep) sweep ;;
  check) check ;;
  *)
    echo "usage: test/env/node.sh start|stop|sweep|check" >&2
    exit 2
    ;;
esac
