#!/usr/bin/env bash
# test-deps.sh: installs what the test suite needs besides PostgreSQL and Redis
# (with-services.sh handles those): Chromium for the web chat test, zbarimg to
# decode rendered QR codes. Fails loudly when something is missing and we
# cannot install it.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v zbarimg >/dev/null 2>&1 || missing+=(zbar-tools)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "test-deps: missing ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "test-deps: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq "${missing[@]}" >&2
