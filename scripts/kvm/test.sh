#!/usr/bin/env bash
# The KvmHost test command (npm run test:kvm): the project's set-up, the KVM set-up, then the VM
# test, which builds one base image per release it runs (from Debian packages, in parallel, then
# cached). Slow: minutes under TCG. ZT_KVM_RELEASES=debian-12,... runs a subset.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
bash scripts/kvm/setup.sh
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec ava --config scripts/kvm/ava.config.cjs "$@"
