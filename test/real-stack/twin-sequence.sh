#!/bin/sh
# Runs twin-sequence.py the way shared/twin/run.sh runs twin.py: the vendored
# upstream code unpacked once per set of tarballs (the same cache and stamp as
# run.sh), the packages the twin needs, then a private mount namespace.
#   sh twin-sequence.sh TWIN_DIR --out DIR --inventory FILE STEP...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
twin=$(cd "$1" && pwd)
shift
vendor_src=$(cd "$twin/../vendor" && pwd)
vendor=${QWIRE_TWIN_VENDOR:-${XDG_CACHE_HOME:-$HOME/.cache}/qwire-twin/vendor}
stamp=$(cat "${QWIRE_VENDOR_TARBALLS:-$vendor_src}"/*.tar.xz "$vendor_src/setup.sh" | cksum | cut -d' ' -f1)
if [ ! -f "$vendor/.stamp" ] || [ "$(cat "$vendor/.stamp")" != "$stamp" ]; then
	rm -rf "$vendor"
	sh "$vendor_src/setup.sh" "$vendor" >&2
	echo "$stamp" >"$vendor/.stamp"
fi
for p in nftables iproute2 util-linux; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="${missing-} $p"
done
if [ -n "${missing-}" ]; then
	# shellcheck disable=SC2086 # one word per package
	apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >&2
fi
exec unshare --mount --propagation private /usr/bin/python3 "$here/twin-sequence.py" --twin "$twin" --vendor "$vendor" "$@"
