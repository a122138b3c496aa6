#!/usr/bin/env bash
# Runs every libFuzzer target of the sanitize build for a bounded time each (default 30 s;
# COLLAGE_FUZZ_SECONDS changes it), starting from its seed corpus in tests/fuzz/<name>/ (copied:
# the checkout is never written). Fails on the first finding; the crashing input is kept in
# build-sanitize/fuzz-findings/. Needs scripts/setup.sh --sanitize first.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${COLLAGE_FUZZ_SECONDS:-30}
build_dir=build-sanitize
findings=$build_dir/fuzz-findings
mkdir -p "$findings"
for target in "$build_dir"/tests/fuzz/*_fuzz; do
  name=$(basename "$target" _fuzz)
  corpus=$(mktemp -d)
  cp tests/fuzz/"$name"/* "$corpus"/ 2>/dev/null || true
  echo "== fuzzing $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$findings/$name-" -print_final_stats=1 "$corpus" \
      > "$findings/$name.log" 2>&1; then
    tail -40 "$findings/$name.log"
    echo "fuzz: $name found a problem; input in $findings/"
    rm -rf "$corpus"
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$findings/$name.log" | tr '\n' ' '
  echo
  rm -rf "$corpus"
done
