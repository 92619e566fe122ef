#!/bin/sh
# Renders an HTML file (e.g. a qsearch report) to a PNG with Debian's headless
# Chromium, for a visual check. No network, a fresh profile, no GPU.
#   scripts/screenshot.sh report.html out.png [HEIGHT] [WIDTH]
# HEIGHT defaults to 4000 px (the page is cut there), WIDTH to 1280.
# Exit status: 0 ok, 2 bad usage, 3 no chromium installed, 1 rendering failed.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: scripts/screenshot.sh PAGE.html OUT.png [HEIGHT] [WIDTH]" >&2
    exit 2
fi
page=$1
out=$2
height=${3:-4000}
width=${4:-1280}
[ -f "$page" ] || { echo "screenshot.sh: $page: no such file" >&2; exit 2; }
browser=""
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "screenshot.sh: chromium is not installed (apt-get install chromium)" >&2; exit 3; }
case "$page" in /*) url="file://$page" ;; *) url="file://$(pwd)/$page" ;; esac
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
rm -f "$out"
# Chromium runs as root only with --no-sandbox; it prints harmless D-Bus noise on stderr.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-default-apps --hide-scrollbars --user-data-dir="$profile" \
    --window-size="$width,$height" --screenshot="$out" "$url" >"$profile/log" 2>&1 || true
if [ ! -s "$out" ]; then
    echo "screenshot.sh: chromium wrote no screenshot; its output:" >&2
    cat "$profile/log" >&2
    exit 1
fi
echo "$out"
