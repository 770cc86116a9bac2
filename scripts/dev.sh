#!/usr/bin/env bash
# The main job: `pulumi up` of the `dev` stack (lab hosts in network namespaces on this machine, no
# cloud account), then the hosts and the access matrix measured on them.
#   npm run dev                  pulumi up -s dev, then the report
#   npm run dev -- preview       pulumi preview -s dev (the diff, nothing applied)
#   npm run dev -- destroy       pulumi destroy -s dev, then the stack is removed
# pulumi runs through scripts/pulumi.sh: an interrupted earlier update is settled first, and no
# process of a run outlives it.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-up}"
case "$action" in up|preview|destroy) ;; *) echo "usage: npm run dev [-- up|preview|destroy]" >&2; exit 2 ;; esac
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
    bash scripts/pulumi.sh up --yes --continue-on-error --stack dev
    pulumi stack output --json --stack dev | node build/scripts/lab/print-report.js
    ;;
preview)
    bash scripts/pulumi.sh preview --stack dev
    ;;
destroy)
    bash scripts/pulumi.sh destroy --yes --stack dev
    pulumi stack rm --yes dev
    ;;
esac
