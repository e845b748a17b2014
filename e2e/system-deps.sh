#!/usr/bin/env bash
# Debian packages the tests need, installed when missing (as root, or with sudo):
# iproute2 for pod addresses, curl for the install notes' commands, and the real OpenStack client the facade journeys drive
# (python3-qinlingclient, with python3-openstackclient for the `openstack` CLI), and a real
# Keystone for the Keystone journeys (the library and uWSGI only; not the `keystone` package,
# whose install scripts start a system service).
set -euo pipefail
need=()
command -v ip >/dev/null || need+=(iproute2)
command -v curl >/dev/null || need+=(curl) # the chart's printed commands, run as printed
[ -x /usr/bin/openstack ] || need+=(python3-openstackclient)
/usr/bin/python3 -c 'import qinlingclient' 2>/dev/null || need+=(python3-qinlingclient)
[ -x /usr/bin/keystone-manage ] || need+=(python3-keystone)
command -v uwsgi-core >/dev/null || need+=(uwsgi-core)
[ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || need+=(uwsgi-plugin-python3)
# Time zone rules: kube-controller-manager (Go) and the operator read /usr/share/zoneinfo, and
# where a zone has no file the operator falls back to Node's ICU (tz 2026c in Node 26.10). A
# release older than that disagrees with both on real zones (tz 2025b has Africa/Casablanca at
# +01 after 2026-09-20, where 2026 releases have +00), so CronJobs and our next times would differ.
tz=$(dpkg-query -W -f='${Version}' tzdata 2>/dev/null || echo 0)
dpkg --compare-versions "$tz" ge 2026c || need+=(tzdata)
[ ${#need[@]} -eq 0 ] && exit 0
echo "system-deps: installing ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
