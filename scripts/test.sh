#!/usr/bin/env bash
# The test command: set-up (idempotent), then every test: unit (mocks), render (the real nft, wg,
# sshd, openssl), engine (the real Pulumi CLI) and e2e (lab hosts in network namespaces; root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec ava "$@"
