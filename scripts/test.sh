#!/usr/bin/env bash
# The test command: set-up (idempotent), then every test: unit (mocks), render (the real nft, wg,
# sshd, openssl), engine (the real Pulumi CLI) and e2e (lab hosts in network namespaces; root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The release labs' file trees (debootstrap, cached): made here rather than inside a test's `pulumi up`.
for release in debian-11 debian-12 debian-13; do bash components/hosts/lab/release-tree.sh "$release" >/dev/null; done
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec ava "$@"
