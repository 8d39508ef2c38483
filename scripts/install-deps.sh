#!/bin/sh
# Installs gatepost's dependencies from Debian 12 packages. Idempotent.
#
#   scripts/install-deps.sh          build and run the server
#   scripts/install-deps.sh --test   also what the test suite drives
#   scripts/install-deps.sh --bench  also Postfix and smtp-source for bench/
#
# Also creates the unprivileged mail_owner account "gatepost" when run as
# root. Package services (dovecot, saslauthd, nsd, postfix) are not started
# here: the tests start their own instances on 127.0.0.1.
set -eu

mode=run
for arg in "$@"; do
    case "$arg" in
    --test) mode=test ;;
    --bench) mode=bench ;;
    *) echo "usage: $0 [--test|--bench]" >&2; exit 2 ;;
    esac
done

# Build and run.
pkgs="gcc libc6-dev make meson ninja-build pkg-config ca-certificates
      libssl-dev openssl libevent-dev libc-ares-dev liblmdb-dev libpcre2-dev
      libcrypt-dev ssl-cert"
# Tests: unit tests, sanitizer and fuzzer builds, real clients and peers.
test_pkgs="clang libclang-rt-14-dev llvm libcmocka-dev python3 python3-pytest
      swaks pflogsumm dovecot-core sasl2-bin libsasl2-modules db-util lmdb-utils
      fail2ban nsd iproute2 procps gsasl socat libnet-ssleay-perl"
bench_pkgs="postfix iproute2 procps smem"

case "$mode" in
test) pkgs="$pkgs $test_pkgs" ;;
bench) pkgs="$pkgs $test_pkgs $bench_pkgs" ;;
esac

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done

if [ -n "$missing" ]; then
    export DEBIAN_FRONTEND=noninteractive
    # Postfix is only a benchmark peer here: install it unconfigured.
    echo "postfix postfix/main_mailer_type select No configuration" |
        as_root debconf-set-selections
    # Keep package scripts from starting system-wide daemons.
    created_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
        as_root chmod 755 /usr/sbin/policy-rc.d
        created_policy=yes
    fi
    as_root apt-get update
    # shellcheck disable=SC2086
    as_root apt-get install -y --no-install-recommends $missing
    if [ -n "$created_policy" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
fi

# The unprivileged account the SMTP processes run as (mail_owner).
if [ "$(id -u)" -eq 0 ] && ! getent passwd gatepost >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gatepost
fi
exit 0
