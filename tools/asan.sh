#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer, in its own build folder so that the normal
# debug build is not rebuilt.
#
#   tools/asan.sh [swift test arguments, e.g. --filter WeightScopeScanTests]
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
exec swift test --sanitize=address --scratch-path .build/asan "$@"
