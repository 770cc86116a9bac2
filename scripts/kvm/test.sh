#!/usr/bin/env bash
# The KvmHost test command (npm run test:kvm): the project's set-up, the KVM set-up, the base image
# (built from Debian packages once, then cached), then the VM test. Slow: minutes under TCG.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
bash scripts/kvm/setup.sh
bash scripts/kvm/build-image.sh >/dev/null
. scripts/pulumi-env.sh
export PATH="$PWD/node_modules/.bin:$PATH"
exec ava --config scripts/kvm/ava.config.cjs "$@"
