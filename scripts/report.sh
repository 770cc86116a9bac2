#!/usr/bin/env bash
# The audit report of a stack: the policy as written and compiled, the access measured on the
# hosts, each host's firewall and peers, the certificates, the drift check and the scanners'
# verdicts, as audit/<stack>.html (self-contained), audit/<stack>.md and audit/<stack>-reach.svg.
#   npm run report                      the dev stack, scanners included (about two minutes)
#   npm run report -- --no-scan         without ssh-audit, nmap and testssl
#   npm run report -- --stack staging   another stack of this project (no probes or scanners off the lab)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
. scripts/dev-backend.sh
exec node build/scripts/report.js "$@"
