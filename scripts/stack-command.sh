#!/usr/bin/env bash
# Runs one of the commands that work on a stack of this project (verify, report: see
# scripts/<command>.ts) after the set-up, with the project's toolchain and backend.
#   npm run verify [-- --repair] [-- --stack NAME] [-- --json FILE]
#   npm run report [-- --no-scan] [-- --stack NAME] [-- --out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
command="$1"
shift
case "$command" in verify|report) ;; *) echo "usage: stack-command.sh verify|report [args]" >&2; exit 2 ;; esac
bash scripts/setup.sh >/dev/null
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
. scripts/dev-backend.sh
# Supervised: no process the command starts (pulumi, drivers, ssh) outlives it.
exec bash scripts/supervise.sh node "build/scripts/$command.js" "$@"
