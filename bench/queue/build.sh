#!/bin/sh
# Builds bench_commit against the static libraries of a Meson build
# directory (default: build). Usage: bench/queue/build.sh [builddir]
set -e
B=${1:-build}
ninja -C "$B" src/queue/libgp_queue_core.a src/event/libgp_event.a src/base/libgp_base.a
cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$B/bench_commit" bench/queue/bench_commit.c \
   "$B/src/queue/libgp_queue_core.a" "$B/src/event/libgp_event.a" \
   "$B/src/base/libgp_base.a" -levent_core -lpthread
echo "$B/bench_commit"
