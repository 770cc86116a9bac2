#!/usr/bin/env bash
# Drift: checks, read only, that every host still has what the stack last applied; with --repair,
# re-applies exactly the drifted concerns through the apply protocol.
#   npm run verify                        the dev stack
#   npm run verify -- --repair            ... and repair what drifted
#   npm run verify -- --stack staging     another stack of this project
#   npm run verify -- --json report.json  also write the result for `npm run report`
# Exit status: 0 in sync, 1 drift (left after a repair), 2 a host could not be checked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
. scripts/dev-backend.sh
exec node build/scripts/verify.js "$@"
