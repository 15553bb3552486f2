#!/bin/sh
# Installs Debian's Prometheus (prometheus + promtool) once; a no-op when both are on PATH.
# No service is started: our tests and `credstream dev up --with-prometheus` run their own
# prometheus process on loopback with their own config and data under .credstream/.
set -eu

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "prometheus/promtool are missing; as root run: apt-get install prometheus" >&2
    exit 1
fi
# policy-rc.d answering 101 keeps the package's postinst from starting a service; we only
# add it (and take it away) when the machine has none of its own.
policy=/usr/sbin/policy-rc.d
added_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    added_policy=yes
fi
trap 'if [ "$added_policy" = yes ]; then rm -f "$policy"; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's prometheus package (prometheus, promtool) ..."
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus >/dev/null
command -v prometheus >/dev/null && command -v promtool >/dev/null
