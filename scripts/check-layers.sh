#!/usr/bin/env bash
# The core's layers read top to bottom: each module imports only the layers below it.
#   wire < engine < socketio < mesh < shard < api
# (config, date, id, pairs, sid, timer are leaves every layer may use; sim and the tests drive the
# public API.)
# Prints each import that goes upward; fails if there is one.
set -uo pipefail
cd "$(dirname "$0")/../core/src"
order=(wire engine socketio mesh shard api)
bad=0
for i in "${!order[@]}"; do
  layer=${order[$i]}
  above=("${order[@]:$((i + 1))}")
  [ ${#above[@]} -eq 0 ] && continue
  pattern="crate::($(IFS='|'; echo "${above[*]}"))\\b|crate::(App|Socket|Io|Operator|IoOperator|EngineSocket|Shard|AppBuilder|Namespace)\\b"
  files=$(ls -d "$layer" "$layer.rs" 2>/dev/null)
  # Code lines only: doc and plain comments may name what is above.
  hits=$(grep -rnHE "$pattern" $files | grep -v "/tests/" | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
  if [ -n "$hits" ]; then
    echo "$layer imports from above it:"; echo "$hits"; bad=1
  fi
done
[ $bad = 0 ] && echo "layers ok: ${order[*]}"
exit $bad
