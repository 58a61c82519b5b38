#!/usr/bin/env bash
# Fetches the vendored charting library, uPlot (MIT), from the npm registry with npm's own client and checks it
# against the registry's published integrity before copying the files the dashboard inlines. Run it only to
# upgrade: the files it writes are committed, so builds, tests and users never touch the network.
#   src/Cli/Dashboard/Vendor/fetch-uplot.sh            # the pinned version below
set -euo pipefail
VERSION=1.6.32
INTEGRITY='sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=='
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
tarball="$(npm pack "uplot@$VERSION" --silent)"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$INTEGRITY" ]; then
  echo "fetch-uplot: $tarball has integrity $actual, expected $INTEGRITY" >&2
  exit 1
fi
tar xzf "$tarball"
mkdir -p "$here/uplot"
cp package/dist/uPlot.iife.min.js package/dist/uPlot.min.css package/LICENSE "$here/uplot/"
echo "$VERSION $INTEGRITY" > "$here/uplot/VERSION"
echo "fetch-uplot: uPlot $VERSION copied to $here/uplot"
