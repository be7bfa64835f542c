#!/usr/bin/env bash
# The demo: installs the official socket.io-client browser bundle from npm (lock file in
# interop/), then runs the chat example. Extra arguments go to the example (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f interop/node_modules/socket.io-client/dist/socket.io.min.js ]; then
  (cd interop && npm ci --no-audit --no-fund --loglevel=error)
fi
exec cargo run --release -p corelay-tokio --example chat -- "$@"
