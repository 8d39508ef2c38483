#!/bin/sh
# Builds the queue benchmarks against the static libraries of a Meson build
# directory (default: build). Usage: bench/queue/build.sh [builddir]
set -e
B=${1:-build}
LIBS="src/queue/libgp_queue.a src/queue/libgp_queue_core.a src/deliver/libgp_deliver.a
      src/policy/libgp_policy.a src/maps/libgp_maps.a src/config/libgp_config.a
      src/event/libgp_event.a src/base/libgp_base.a"
ninja -C "$B" $LIBS
A=""
for l in $LIBS; do A="$A $B/$l"; done
for prog in bench_commit bench_qmgr; do
    cc -O2 -std=c17 -D_GNU_SOURCE -Isrc -o "$B/$prog" "bench/queue/$prog.c" $A \
       -levent_core -lpcre2-8 -lpthread
    echo "$B/$prog"
done
