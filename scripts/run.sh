#!/bin/sh
# Installs what gatepost needs, builds it, and runs the server in the
# foreground with the configuration it finds: -c DIR, /etc/gatepost, or
# the embedded default (127.0.0.1:2525, mail for user@localhost stored
# under ./run). Extra arguments go to `gatepost serve`.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build --buildtype=debugoptimized -Dtests=false
echo "gatepost: built build/gatepost; starting (Ctrl-C stops it)" >&2
exec ./build/gatepost serve "$@"
