#!/usr/bin/env bash
# Builds the local control plane's binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, helm) from the tools modules beside this script, into a cache outside the repository
# keyed by every version that decides their bytes. A warm machine never rebuilds.
#
# Prints the cache directory holding the binaries on its last line of stdout.
# Env: QJ_CACHE_DIR (default ~/.cache/qinling-jobs), QJ_FORCE_BUILD=1 to rebuild.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools="$here/tools"

modver() { awk -v m="$2" '$1 == m {print $2; exit}' "$tools/$1/go.mod"; }
k8s_version=$(modver k8s k8s.io/kubernetes)
etcd_version=$(modver etcd go.etcd.io/etcd/server/v3)
helm_version=$(modver helm helm.sh/helm/v3)
[[ -n $k8s_version && -n $etcd_version && -n $helm_version ]] || { echo "[build-tools] cannot read versions from $tools/*/go.mod" >&2; exit 1; }
go_version=$(go env GOVERSION)
sums=$(cat "$tools"/*/go.mod "$tools"/*/go.sum "$0" | sha256sum | cut -c1-12)
key="k8s-${k8s_version}_etcd-${etcd_version}_helm-${helm_version}_${go_version}_${sums}"
cache="${QJ_CACHE_DIR:-$HOME/.cache/qinling-jobs}/bin/$key"
wanted=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl helm)

log() { printf '[build-tools] %s\n' "$*" >&2; }

complete=1
for b in "${wanted[@]}"; do [[ -x "$cache/$b" ]] || complete=0; done
if [[ $complete == 1 && "${QJ_FORCE_BUILD:-0}" != 1 ]]; then
  log "cached: $cache"
  echo "$cache"
  exit 0
fi

mkdir -p "$cache.partial"
export CGO_ENABLED=0
build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
minor=${k8s_version#v1.}; minor=${minor%%.*}

k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date -X $pkg.gitCommit="
done

step() { # step NAME DIR -- go build args...
  local name=$1 dir=$2; shift 3
  local start=$SECONDS
  log "building $name (log: $cache.partial/build-$name.log)"
  if ! (cd "$dir" && go build -trimpath "$@") >"$cache.partial/build-$name.log" 2>&1; then
    log "FAILED building $name; last lines of $cache.partial/build-$name.log:"
    tail -n 30 "$cache.partial/build-$name.log" >&2
    exit 1
  fi
  log "built $name in $((SECONDS - start))s"
}

total=$SECONDS
step etcd "$tools/etcd" -- -ldflags "-s -w" -o "$cache.partial/etcd" go.etcd.io/etcd/server/v3
step kubernetes "$tools/k8s" -- -ldflags "$k8s_ldflags" -o "$cache.partial/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
helm_ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$minor"
done
step helm "$tools/helm" -- -ldflags "$helm_ldflags" -o "$cache.partial/helm" helm.sh/helm/v3/cmd/helm

rm -rf "$cache"
mv "$cache.partial" "$cache"
log "all built in $((SECONDS - total))s into $cache"
echo "$cache"
