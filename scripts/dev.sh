#!/usr/bin/env bash
# The main job: bring the `dev` stack up on lab hosts on this machine (network namespaces, no cloud
# account) and print what it built and the measured access matrix. `npm run dev -- destroy` removes it.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-up}"
case "$action" in up|destroy) ;; *) echo "usage: npm run dev [-- up|destroy]" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "lab hosts need root (network namespaces, nftables)" >&2; exit 1; }

bash scripts/setup.sh
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"

# State: the file backend in .pulumi/ (gitignored). The dev stack's secrets are encrypted with a
# passphrase made once per machine and kept beside the state, readable by root only.
umask 077
mkdir -p .pulumi
export PULUMI_BACKEND_URL="file://$PWD/.pulumi"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    [ -s .pulumi/dev-passphrase ] || head -c 32 /dev/urandom | base64 >.pulumi/dev-passphrase
    export PULUMI_CONFIG_PASSPHRASE_FILE="$PWD/.pulumi/dev-passphrase"
fi

have_plugins=yes
for p in command tls random; do
    pulumi plugin ls --json | node -e 'const l=JSON.parse(require("fs").readFileSync(0,"utf8"));process.exit(l.some(p=>p.kind==="resource"&&p.name===process.argv[1])?0:1)' "$p" || have_plugins=no
done

if [ "$have_plugins" = yes ]; then
    pulumi stack select --create dev >/dev/null
    if [ "$action" = destroy ]; then
        pulumi destroy --yes --stack dev
    else
        pulumi up --yes --stack dev
        pulumi stack output --json --stack dev | node build/scripts/lab/print-report.js
    fi
else
    cat >&2 <<'MSG'
NOTE: the Pulumi resource plugins command, tls and random cannot be obtained on this machine (the Go
module proxy refuses their modules; see scripts/pulumi-toolchain/README.md). The dev stack's program
runs through the lab's offline engine instead: the same resources and commands, with real keys and
certificates made locally, state in .state/dev/. Install the plugins to use `pulumi up` itself.
MSG
    node build/scripts/lab/offline-engine.js "$action" dev
fi
