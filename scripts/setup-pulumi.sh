#!/usr/bin/env bash
# Builds the Pulumi toolchain from Go modules (the vendor's download site is not
# reachable here) into a cache directory, and installs the resource plugins.
#
#   scripts/setup-pulumi.sh            build what is missing, install plugins
#   scripts/setup-pulumi.sh --force    rebuild everything in the cache
#   scripts/setup-pulumi.sh --strict   exit 3 if a resource plugin could not be obtained
#   . scripts/pulumi-env.sh            put the built tools on PATH afterwards
#
# Idempotent: a step whose output exists (and whose inputs did not change) is
# skipped, so a second run takes seconds. If a `pulumi` of the expected version
# and a `pulumi-language-nodejs` are already on PATH, they are used as they are.
#
# What is built (see scripts/pulumi-toolchain/README.md for why these versions):
#   pulumi                  github.com/pulumi/pulumi/pkg/v3 (cmd/pulumi)
#   pulumi-language-nodejs  github.com/pulumi/pulumi/sdk/v3 (nodejs/cmd/pulumi-language-nodejs)
#   resource plugins        command, tls, random, each at the version of its npm SDK
#
# Environment:
#   ZEROTRUST_PULUMI_CACHE  cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/pulumi)
#   GOPROXY, GOMODCACHE, GOCACHE, PULUMI_HOME are honoured as usual.
set -euo pipefail

# ---- pinned versions ---------------------------------------------------------
PULUMI_VERSION=v3.259.0          # newest pkg/v3 release whose module zip the proxy serves
LANGHOST_SDK_VERSION=v3.68.0     # last sdk/v3 release that contains the nodejs language host
# name | plugin version | Go module | module version | main package | version variable | value
PROVIDERS=(
  "command|1.2.1|github.com/pulumi/pulumi-command/provider|v0.0.0-20260303235922-7f3eb6f3b77c|github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command|github.com/pulumi/pulumi-command/provider/pkg/version.Version|v1.2.1"
  "tls|5.6.1|github.com/pulumi/pulumi-tls/provider/v5|v5.6.1|github.com/pulumi/pulumi-tls/provider/v5/cmd/pulumi-resource-tls|github.com/pulumi/pulumi-tls/provider/v5/pkg/version.Version|5.6.1"
  "random|4.21.2|github.com/pulumi/pulumi-random/provider/v4|v4.21.2|github.com/pulumi/pulumi-random/provider/v4/cmd/pulumi-resource-random|github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version|4.21.2"
)
SDK_VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

# ---- arguments ---------------------------------------------------------------
FORCE=0
STRICT=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --strict) STRICT=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "setup-pulumi: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TPL="$HERE/pulumi-toolchain"
CACHE="${ZEROTRUST_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/pulumi}"
BIN="$CACHE/bin"
SRC="$CACHE/src"
PLUGBIN="$CACHE/plugins"

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'setup-pulumi: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$BIN" "$SRC" "$PLUGBIN"

# One run at a time per cache dir (a second run waits instead of building twice).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    note "another setup-pulumi run holds $CACHE/.lock; waiting..."
    flock 9
  fi
fi

# ---- Go environment ----------------------------------------------------------
need_go() {
  command -v go >/dev/null 2>&1 || die "Go is required (>= 1.25.11) to build the Pulumi toolchain"
  local have
  have="$(go env GOVERSION)"; have="${have#go}"
  if [ "$(printf '%s\n%s\n' 1.25.11 "$have" | sort -V | head -n1)" != 1.25.11 ]; then
    die "Go $have is too old: pulumi $PULUMI_VERSION needs Go >= 1.25.11"
  fi
  # Only the module proxy is reachable, not the checksum database: the go.sum files
  # in scripts/pulumi-toolchain pin every module hash instead.
  export GOSUMDB=off
  export GOTOOLCHAIN=local
  export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
  export CGO_ENABLED=0
}

# Hash of a template directory plus the extra build inputs given as arguments.
inputs_hash() {
  local dir="$1"; shift
  { (cd "$dir" && find . -type f | LC_ALL=C sort | xargs sha256sum)
    printf '%s\n' "$@" "$(go env GOVERSION)"; } | sha256sum | cut -c1-16
}

# build_go NAME TEMPLATE_DIR MAIN_PACKAGE LDFLAGS OUTPUT [tidy]
# Copies TEMPLATE_DIR to the cache and runs `go build` of MAIN_PACKAGE in it.
build_go() {
  local name="$1" tpl="$2" pkg="$3" ldflags="$4" out="$5" tidy="${6:-}"
  local hash stamp work
  hash="$(inputs_hash "$tpl" "$pkg" "$ldflags")"
  stamp="$out.stamp"
  if [ "$FORCE" = 0 ] && [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
    note "$name: up to date ($out)"
    return 0
  fi
  work="$SRC/$name"
  rm -rf "$work"; mkdir -p "$work" "$CACHE/logs"
  cp -R "$tpl/." "$work/"
  local log="$CACHE/logs/$name.log" t0=$SECONDS
  note "go output: $log"
  if ! { if [ -n "$tidy" ]; then (cd "$work" && go mod tidy); fi &&
         (cd "$work" && go build -mod=mod -trimpath -ldflags "$ldflags" -o "$out.tmp" "$pkg"); } >"$log" 2>&1; then
    rm -f "$out.tmp"
    grep -v '^go: downloading ' "$log" | tail -n 40 >&2
    return 1
  fi
  mv -f "$out.tmp" "$out"
  printf '%s\n' "$hash" > "$stamp"
  note "$name: built in $((SECONDS - t0))s -> $out"
}

# ---- 1. CLI and language host ------------------------------------------------
USE_EXISTING=0
existing="$(command -v pulumi 2>/dev/null || true)"
if [ "$FORCE" = 0 ] && [ -n "$existing" ] && [ "$existing" != "$BIN/pulumi" ] \
   && [ "$("$existing" version 2>/dev/null || true)" = "$PULUMI_VERSION" ] \
   && command -v pulumi-language-nodejs >/dev/null 2>&1; then
  USE_EXISTING=1
  PULUMI="$existing"
  step "using pulumi $PULUMI_VERSION already on PATH: $existing"
else
  PULUMI="$BIN/pulumi"
  need_go
  if [ "$FORCE" = 1 ] || [ ! -x "$BIN/pulumi" ]; then
    step "building pulumi CLI $PULUMI_VERSION (takes minutes: about 7 on 2 cores, more on a cold module cache)..."
  else
    step "checking pulumi CLI $PULUMI_VERSION..."
  fi
  build_go pulumi "$TPL/cli" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-s -w -X $SDK_VERSION_VAR=$PULUMI_VERSION" "$BIN/pulumi" \
    || die "building the pulumi CLI failed (go output above and in $CACHE/logs/pulumi.log)"

  if [ "$FORCE" = 1 ] || [ ! -x "$BIN/pulumi-language-nodejs" ]; then
    step "building pulumi-language-nodejs $LANGHOST_SDK_VERSION (takes about a minute)..."
  else
    step "checking pulumi-language-nodejs $LANGHOST_SDK_VERSION..."
  fi
  build_go pulumi-language-nodejs "$TPL/langhost" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
    "-s -w -X $SDK_VERSION_VAR=$LANGHOST_SDK_VERSION" "$BIN/pulumi-language-nodejs" \
    || die "building pulumi-language-nodejs failed (go output above and in $CACHE/logs/pulumi-language-nodejs.log)"

  # Plugin behind pulumi.dynamic.Resource (the real distribution ships it next to pulumi).
  if ! cmp -s "$TPL/bin/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"; then
    install -m 0755 "$TPL/bin/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
  fi
fi

# The language host and plugins are looked up next to the pulumi binary and on PATH.
export PATH="$(dirname "$PULUMI"):$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true

# ---- 2. resource plugins -----------------------------------------------------
plugin_installed() { # NAME VERSION
  "$PULUMI" plugin ls 2>/dev/null | awk -v n="$1" -v v="$2" '$1 == n && $2 == "resource" && $3 == v { f = 1 } END { exit !f }'
}

MISSING=()
for spec in "${PROVIDERS[@]}"; do
  IFS='|' read -r name version module modver mainpkg versionvar versionval <<<"$spec"
  step "resource plugin $name $version"
  if plugin_installed "$name" "$version"; then
    note "$name $version: already installed"
    continue
  fi
  out="$PLUGBIN/pulumi-resource-$name-v$version"
  if [ ! -x "$out" ] || [ "$FORCE" = 1 ]; then
    need_go
    # Ask the module proxy first: building is only possible if it serves the module.
    if ! probe="$(cd "$SRC" && go mod download -json "$module@$modver" 2>&1)" \
       || printf '%s' "$probe" | grep -q '"Error"'; then
      err="$(printf '%s\n' "$probe" | grep -m1 '"Error"' | sed -e 's/^[[:space:]]*"Error": "//' -e 's/",\{0,1\}$//' -e 's/\\n\\t/ /g')"
      warn "$name $version cannot be built: $module@$modver is not obtainable from the module proxy"
      note "${err:-$probe}"
      MISSING+=("$name $version ($module@$modver)")
      continue
    fi
    step "building $name provider $version (takes minutes)..."
    if ! build_go "provider-$name" "$TPL/providers/$name" "$mainpkg" "-s -w -X $versionvar=$versionval" "$out" tidy; then
      warn "building the $name provider failed"
      MISSING+=("$name $version (build failed)")
      continue
    fi
  fi
  step "installing $name $version plugin..."
  "$PULUMI" plugin install resource "$name" "$version" --file "$out"
done

# ---- 3. summary --------------------------------------------------------------
step "pulumi version"
"$PULUMI" version
step "pulumi plugin ls"
"$PULUMI" plugin ls
if [ "$USE_EXISTING" = 0 ]; then
  step "tools are in $BIN"
  note "add them to PATH with:  . scripts/pulumi-env.sh   (or: export PATH=\"$BIN:\$PATH\")"
fi
if [ "${#MISSING[@]}" -gt 0 ]; then
  warn "resource plugins NOT installed (a program using them will fail with 'could not find plugin'):"
  for m in "${MISSING[@]}"; do printf '    - %s\n' "$m" >&2; done
  [ "$STRICT" = 1 ] && exit 3
fi
exit 0
