#!/usr/bin/env bash
# Quick start, command 2: set up and build, then run every test (unit and integration).
#   scripts/test.sh              the normal build (integration tests under every MPM)
#   scripts/test.sh --sanitize   the same tests under AddressSanitizer + UndefinedBehaviorSanitizer,
#                                then every fuzz target for a bounded time (scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "$@"
build_dir=build
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-sanitize
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300
# The same integration tests again under the other two MPMs: protocol code must not care which
# one carries it. (The tests of the MPMs themselves run all three in every pass.)
if [ "${1:-}" != "--sanitize" ]; then
  for mpm in worker prefork; do
    echo "== integration tests under the $mpm MPM"
    COLLAGE_TEST_MPM=$mpm ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300 \
      -R '_integration$' -E '^mpm_integration$'
  done
fi
if [ "${1:-}" = "--sanitize" ]; then
  scripts/fuzz.sh
fi
