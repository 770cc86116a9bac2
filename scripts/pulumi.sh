#!/usr/bin/env bash
# `pulumi` as the project's commands run it. Usage: pulumi.sh PULUMI-ARGS...
#  - Before an update or a destroy, the operations an interrupted update left pending in the state
#    are settled on their hosts and removed from the state (scripts/pending-operations.ts).
#  - No process it starts outlives it, even if pulumi is killed (scripts/supervise.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
case "${1:-}" in
up | update | destroy) bash "$root/scripts/supervise.sh" node "$root/build/scripts/pending-operations.js" "${@:2}" ;;
esac
exec bash "$root/scripts/supervise.sh" pulumi "$@"
