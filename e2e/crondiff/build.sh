#!/usr/bin/env bash
# Builds crondiff (the CronJob controller's schedule math, for the differential test) into a
# cache outside the repository, keyed by the Go version and the bytes of its sources, so a warm
# machine never rebuilds.
#
# Prints the binary's path on its last line of stdout.
# Env: QJ_CACHE_DIR (default ~/.cache/qinling-jobs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
go_version=$(go env GOVERSION)
sums=$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-12)
dir="${QJ_CACHE_DIR:-$HOME/.cache/qinling-jobs}/crondiff/${go_version}_${sums}"
bin="$dir/crondiff"

if [[ ! -x $bin ]]; then
  echo "[crondiff] building $bin" >&2
  mkdir -p "$dir"
  # Built beside its final name and moved there, so an interrupted build is never taken as done.
  (cd "$here" && CGO_ENABLED=0 go build -trimpath -o "$bin.partial" .)
  mv "$bin.partial" "$bin"
fi
echo "$bin"
