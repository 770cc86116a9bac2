# shellcheck shell=bash # sourced by bash scripts only
# Sourced by the commands that work on the project's stacks: the file backend in .pulumi/
# (gitignored) unless PULUMI_BACKEND_URL says otherwise, and the dev stack's passphrase, made once
# per machine and kept beside the state, readable by root only.
umask 077
mkdir -p .pulumi
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi}"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    [ -s .pulumi/dev-passphrase ] || head -c 32 /dev/urandom | base64 >.pulumi/dev-passphrase
    export PULUMI_CONFIG_PASSPHRASE_FILE="$PWD/.pulumi/dev-passphrase"
fi
