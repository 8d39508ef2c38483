#!/bin/sh
# Installs the test needs, builds gatepost three ways and runs every test:
#   build/       gcc, the normal build: unit tests
#   build-asan/  clang with AddressSanitizer + UndefinedBehaviorSanitizer:
#                unit tests, and the integration tests drive this daemon
#   build-fuzz/  clang libFuzzer targets, each run briefly
# Ends with "N passed, N failed"; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test || exit 1

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
sanitize="-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all"

./scripts/build.sh build --buildtype=debugoptimized || exit 1
CC=clang ./scripts/build.sh build-asan --buildtype=debug $sanitize || exit 1
CC=clang ./scripts/build.sh build-fuzz --buildtype=debug -Dfuzz=true -Dtests=false $sanitize || exit 1

passed=0
failed=0
count() {   # count PASSED FAILED
    passed=$((passed + $1))
    failed=$((failed + $2))
}

# meson test: one result per test program.
meson_tests() {
    out=$(meson test -C "$1" --suite unit --print-errorlogs 2>&1)
    echo "$out" | grep -E '^ *[0-9]+/[0-9]+ ' || true
    ok=$(echo "$out" | sed -n 's/^Ok: *\([0-9]*\).*/\1/p')
    bad=$(echo "$out" | sed -n 's/^Fail: *\([0-9]*\).*/\1/p')
    timeouts=$(echo "$out" | sed -n 's/^Timeout: *\([0-9]*\).*/\1/p')
    [ "${bad:-0}" -gt 0 ] || [ "${timeouts:-0}" -gt 0 ] && echo "$out" | tail -80
    count "${ok:-0}" $(( ${bad:-0} + ${timeouts:-0} ))
}

echo "== unit tests (gcc)"
meson_tests build
echo "== unit tests (clang, ASan+UBSan)"
meson_tests build-asan

echo "== integration tests (ASan+UBSan daemon, real clients and peers)"
# The daemon's own leak report at exit is not a test result.
GATEPOST_BIN=$(pwd)/build-asan/gatepost ASAN_OPTIONS="abort_on_error=1:detect_leaks=0" \
    /usr/bin/python3 -m pytest tests -q -p no:cacheprovider \
    --junitxml=build-asan/integration.xml </dev/null
if [ -f build-asan/integration.xml ]; then
    set -- $(/usr/bin/python3 - <<'PY'
import xml.etree.ElementTree as ET
root = ET.parse("build-asan/integration.xml").getroot()
suites = [root] if root.tag == "testsuite" else list(root)
tests = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(tests - bad - skipped, bad)
PY
)
    count "$1" "$2"
else
    count 0 1
fi

echo "== fuzz targets (5 s each)"
fuzz_out=$(fuzz/run.sh build-fuzz 5)
echo "$fuzz_out"
count "$(echo "$fuzz_out" | grep -c ': ok$')" "$(echo "$fuzz_out" | grep -c ': FAILED$')"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
