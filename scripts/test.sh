#!/usr/bin/env bash
# Runs every test of corelay: installs what the tests need (npm packages from the lock file),
# builds, checks the core's purity, builds the benchmarks, runs the Rust tests and the interop
# suite with the official clients against the examples of every runtime. Prints one closing
# line: "N passed, N failed".
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

step "install: redis-server (the corelay-redis tests start their own servers)"
# Only the binary: no service is started. `apt-get update` only if the install fails without it.
if command -v redis-server >/dev/null; then
  echo "redis-server is already installed: $(command -v redis-server)"
else
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null; then apt=(sudo "${apt[@]}"); fi
  redis_install() { "${apt[@]}" install -y --no-install-recommends redis-server; }
  redis_install || { "${apt[@]}" update && redis_install; }
  if command -v redis-server >/dev/null; then
    echo "installed: $(redis-server --version)"
  else
    echo "FAILED: could not install redis-server; the corelay-redis real-server tests will fail"
    count 0 1
  fi
fi

step "core purity: no async runtime, no clock, layers importing only downward"
purity_fail=0
# An empty tree proves nothing: cargo tree must succeed.
if tree=$(cargo tree -p corelay-core -e normal --prefix none 2>&1); then
  # `futures-channel` (a oneshot channel) and `futures-core` (the traits) run nothing and
  # are allowed; an executor, a reactor or a runtime is not.
  runtimes=$(echo "$tree" | grep -E '^(tokio|monoio|glommio|async-std|smol|futures|futures-executor|futures-util|futures-lite|async-io|async-executor|mio) ' || true)
  if [ -n "$runtimes" ]; then echo "corelay-core depends on a runtime: $runtimes"; purity_fail=1; fi
else
  echo "cargo tree failed:"; echo "$tree" | tail -20; purity_fail=1
fi
# Library code may not read the clock (the simulated-time harness `sim` included: its start
# instant is an argument); comments and doc examples (the runtime's side) and test code (after
# #[cfg(test)], the shard's tests) may take a starting instant.
while IFS=: read -r file ln _; do
  [ -z "$file" ] && continue
  case "$file" in core/src/shard/tests*) continue ;; esac
  first_test=$(grep -n '#\[cfg(test)\]' "$file" | head -1 | cut -d: -f1)
  if [ -z "$first_test" ] || [ "$ln" -lt "$first_test" ]; then
    echo "corelay-core reads the clock at $file:$ln"; purity_fail=1
  fi
done < <(grep -rnE 'Instant::now\(|SystemTime::now\(' core/src | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
# The layers import only downward (wire < engine < socketio < mesh < shard < api).
scripts/check-layers.sh || purity_fail=1
if [ $purity_fail = 0 ]; then echo "ok"; count 1 0; else count 0 1; fi

step "format: cargo fmt --check"
if cargo fmt --all --check >/dev/null 2>&1; then echo "ok"; count 1 0; else cargo fmt --all --check 2>&1 | grep '^Diff in' | head; count 0 1; fi

runtimes=(tokio monoio glommio)
step "build: release examples of every runtime"
# The examples share names across runtime crates, so each build's binaries are copied aside.
for rt in "${runtimes[@]}"; do
  cargo build --release -p "corelay-$rt" --examples || { echo "build of corelay-$rt failed"; exit 1; }
  mkdir -p "target/interop/$rt"
  for ex in echo engine_echo bench chat api extras; do cp "target/release/examples/$ex" "target/interop/$rt/"; done
done

# The emitter of corelay-redis as a plain process (the cluster test publishes with it).
cargo build --release -p corelay-redis --example emit || { echo "build of the emitter example failed"; exit 1; }

step "build: criterion benches (not run)"
if cargo bench -p corelay-benches --no-run; then count 1 0; else echo "the benches do not build"; count 0 1; fi

step "rust: unit, property, simulated-time, allocation, runtime and load-harness tests"
packages=(-p corelay-core -p corelay-redis -p corelay-rt -p corelay-example-apps -p corelay-benches -p corelay-perf)
for rt in "${runtimes[@]}"; do packages+=(-p "corelay-$rt"); done
# CORELAY_REQUIRE_REDIS=1: the real-server tests fail, not skip, without redis-server.
out=$(CORELAY_REQUIRE_REDIS=1 cargo test "${packages[@]}" 2>&1); status=$?
echo "$out" | grep -E '^test result|panicked|FAILED' || true
p=$(echo "$out" | grep -E '^test result' | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
f=$(echo "$out" | grep -E '^test result' | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\2/' | awk '{s+=$1} END {print s+0}')
[ $status -ne 0 ] && [ "${f:-0}" = 0 ] && { echo "$out" | tail -30; f=1; }
count "${p:-0}" "${f:-0}"

# One interop run: the official clients against one runtime's examples (default shard count:
# one per core), with extra environment given as arguments. An inherited CORELAY_SERVER or
# CORELAY_SERVER_ARGS would switch the run to the Node reference or change every server's
# flags: both are removed. A test that timed out is "cancelled" for node: a failure here.
interop() {
  local label=$1 rt=$2; shift 2
  step "interop: official socket.io-client against $label"
  out=$(cd interop && env -u CORELAY_SERVER -u CORELAY_SERVER_ARGS -u CORELAY_CLUSTER "$@" CORELAY_REQUIRE_REDIS=1 CORELAY_BIN_DIR="$root/target/interop/$rt" \
    node --test --test-concurrency=1 --test-force-exit --test-reporter=spec test/ 2>&1); status=$?
  echo "$out" | grep -vE '^\s*✔' | tail -n 40
  p=$(echo "$out" | grep -E '^ℹ pass ' | awk '{print $3}')
  f=$(echo "$out" | grep -E '^ℹ (fail|cancelled) ' | awk '{s+=$3} END {print s+0}')
  [ $status -ne 0 ] && [ "${f:-0}" = 0 ] && f=1
  echo "$label: ${p:-0} passed, ${f:-0} failed"
  count "${p:-0}" "${f:-0}"
}
# Whether this kernel lets a process set up an io_uring (asked of the kernel itself, through
# the io_uring_setup system call, number 425 on every architecture).
io_uring_works() {
  python3 -c 'import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
sys.exit(0 if libc.syscall(425, 8, ctypes.create_string_buffer(120)) >= 0 else 1)' 2>/dev/null
}
# Each run's cluster test (test/cluster.test.mjs, a real redis-server) joins that runtime's
# `api` server ("rust": the run's own binaries), one of another runtime and a Node server with
# @socket.io/redis-adapter.
interop "tokio" tokio CORELAY_EXPECT_IO_DRIVER=epoll CORELAY_CLUSTER=rust,monoio,node
if io_uring_works; then
  # Where io_uring works, the io_uring run may not silently fall back to epoll.
  interop "monoio (io_uring)" monoio CORELAY_MONOIO_DRIVER=auto CORELAY_EXPECT_IO_DRIVER=io_uring CORELAY_CLUSTER=rust,glommio,node
else
  echo "io_uring is not available here: the monoio run falls back to epoll, glommio can not run"
  interop "monoio (no io_uring here: epoll)" monoio CORELAY_MONOIO_DRIVER=auto CORELAY_EXPECT_IO_DRIVER=epoll CORELAY_CLUSTER=rust,tokio,node
fi
interop "monoio (epoll driver)" monoio CORELAY_MONOIO_DRIVER=legacy CORELAY_EXPECT_IO_DRIVER=epoll CORELAY_CLUSTER=rust,tokio,node
interop "glommio" glommio CORELAY_EXPECT_IO_DRIVER=io_uring CORELAY_CLUSTER=rust,tokio,node

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
