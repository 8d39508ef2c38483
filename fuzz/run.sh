#!/bin/sh
# Runs every built fuzz target for a short time on its seed corpus.
#   fuzz/run.sh BUILD_DIR SECONDS
# Prints "fuzz NAME: ok" or "fuzz NAME: FAILED" per target; exit 1 if any failed.
set -u
build=$1
seconds=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
status=0
for bin in "$build"/fuzz/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    corpus="$work/$name"
    mkdir -p "$corpus"
    [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$corpus/"
    if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=0 "$corpus" >"$work/$name.log" 2>&1; then
        echo "fuzz $name: ok"
    else
        echo "fuzz $name: FAILED"
        tail -40 "$work/$name.log"
        status=1
    fi
done
rm -rf "$work"
exit $status
