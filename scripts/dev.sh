#!/usr/bin/env bash
# The main job: `pulumi up` of the `dev` stack (lab hosts in network namespaces on this machine, no
# cloud account), then the hosts and the access matrix measured on them.
#   npm run dev                  pulumi up -s dev, then the stack's summary (hosts, policy, measured matrix)
#   npm run dev -- preview       pulumi preview -s dev (the diff, the outputs' own included; nothing applied)
#   npm run dev -- destroy       pulumi destroy -s dev, then the stack is removed
#   npm run dev -- --outputs     up, and pulumi's listing of every raw stack output too (about 400 lines)
# pulumi runs through scripts/pulumi.sh: an interrupted earlier update is settled first, and no
# process of a run outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: npm run dev [-- up|preview|destroy] [--outputs]"
action=up
outputs=--suppress-outputs
for arg in "$@"; do
    case "$arg" in
    up|preview|destroy) action="$arg" ;;
    --outputs) outputs= ;;
    *) echo "$usage" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "lab hosts need root (network namespaces, nftables)" >&2; exit 1; }

bash scripts/setup.sh
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"

. scripts/dev-backend.sh
# Creating the stack writes its secrets salt to stacks/Pulumi.dev.yaml, which is not tracked: the
# dev stack's settings are the defaults in Pulumi.yaml.
pulumi stack select --create dev >/dev/null

case "$action" in
up)
    # A host that cannot be reached fails its own resources; the other hosts are still applied.
    # The raw outputs (about 400 lines) only on request: the summary below reads them.
    bash scripts/pulumi.sh up --yes --continue-on-error --stack dev ${outputs:+"$outputs"}
    pulumi stack output --json --stack dev | node build/scripts/lab/print-report.js
    ;;
preview)
    # A preview lists only the outputs that change (keyed by name: only the entries that change).
    bash scripts/pulumi.sh preview --stack dev
    ;;
destroy)
    bash scripts/pulumi.sh destroy --yes --stack dev
    pulumi stack rm --yes dev
    ;;
esac
