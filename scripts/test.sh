#!/usr/bin/env bash
# Runs every test of corelay: installs what the tests need (npm packages from the lock file),
# builds, checks the core's purity, runs the Rust tests and the interop suite with the official
# clients against the tokio examples. Prints one closing line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TERM_COLOR=never
failed=0
passed=0
step() { printf '\n== %s\n' "$*"; }
count() { # count PASSED FAILED from a suite
  passed=$((passed + $1)); failed=$((failed + $2))
}

step "install: npm packages of the interop suite (from the lock file)"
if ! command -v node >/dev/null; then echo "node is required"; exit 1; fi
(cd interop && npm ci --no-audit --no-fund --loglevel=error) || { echo "npm ci failed"; exit 1; }

step "core purity: no async runtime, no clock"
purity_fail=0
runtimes=$(cargo tree -p corelay-core -e normal --prefix none 2>/dev/null \
  | grep -E '^(tokio|monoio|glommio|async-std|smol|futures[a-z-]*|async-io|mio) ' || true)
if [ -n "$runtimes" ]; then echo "corelay-core depends on a runtime: $runtimes"; purity_fail=1; fi
# Library code may not read the clock; test code (after #[cfg(test)], or the simulated-time
# harness in shard/tests*) may take a starting instant.
while IFS=: read -r file ln _; do
  [ -z "$file" ] && continue
  case "$file" in core/src/shard/tests*) continue ;; esac
  first_test=$(grep -n '#\[cfg(test)\]' "$file" | head -1 | cut -d: -f1)
  if [ -z "$first_test" ] || [ "$ln" -lt "$first_test" ]; then
    echo "corelay-core reads the clock at $file:$ln"; purity_fail=1
  fi
done < <(grep -rnE 'Instant::now\(|SystemTime::now\(' core/src || true)
if [ $purity_fail = 0 ]; then echo "ok"; count 1 0; else count 0 1; fi

step "build: release examples"
cargo build --release -p corelay-tokio --examples || { echo "build failed"; exit 1; }

step "rust: unit, property and simulated-time tests"
out=$(cargo test --workspace 2>&1); status=$?
echo "$out" | grep -E '^test result|panicked|FAILED' || true
p=$(echo "$out" | grep -E '^test result' | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
f=$(echo "$out" | grep -E '^test result' | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\2/' | awk '{s+=$1} END {print s+0}')
[ $status -ne 0 ] && [ "${f:-0}" = 0 ] && { echo "$out" | tail -30; f=1; }
count "${p:-0}" "${f:-0}"

step "interop: official socket.io-client against the tokio examples"
out=$(cd interop && CORELAY_BIN_DIR="$root/target/release/examples" node --test --test-concurrency=1 --test-force-exit --test-reporter=spec test/ 2>&1); status=$?
echo "$out" | tail -n 60
p=$(echo "$out" | grep -E '^ℹ pass ' | awk '{print $3}')
f=$(echo "$out" | grep -E '^ℹ fail ' | awk '{print $3}')
[ $status -ne 0 ] && [ "${f:-0}" = 0 ] && f=1
count "${p:-0}" "${f:-0}"

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
