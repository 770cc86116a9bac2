#!/usr/bin/env bash
# Sets up the Pulumi toolchain: the CLI, the nodejs language host and the resource plugins the
# library uses, at the versions its npm SDKs pin (the engine picks a plugin whose version equals
# the SDK's). Where they cannot be downloaded, they are built from source and cached.
#
#   scripts/setup-pulumi.sh            set up what is missing
#   scripts/setup-pulumi.sh --force    rebuild everything in the cache
#   . scripts/pulumi-env.sh            put the tools on PATH afterwards
#
# Where each piece comes from (scripts/pulumi-toolchain/README.md says why):
#   pulumi                  a `pulumi` v3.259.0 already on PATH, or built from the Go module
#                           github.com/pulumi/pulumi/pkg/v3@v3.259.0
#   pulumi-language-nodejs  the one beside that `pulumi`, or built from the source bundle in
#                           ../shared/vendor/ (v3.259.0)
#   pulumi-language-python  built from the source bundle in ../shared/vendor/ (v3.259.0), with its
#                           executor script and the pulumi-python provider beside it
#   pulumi-language-yaml    `go install` of github.com/pulumi/pulumi-yaml v1.38.3 (pinned)
#   command, tls, random    `pulumi plugin install` (downloads); where that fails, built from the
#                           source bundles in ../shared/vendor/ and installed with --file
# A plugin that can be had neither way is an error: no program of this project runs without it.
#
# Environment: ZEROTRUST_PULUMI_CACHE (default ~/.cache/zerotrust/pulumi), ZEROTRUST_VENDOR_DIR
# (default ../shared/vendor beside the project), and GOPROXY, GOMODCACHE, PULUMI_HOME as usual.
set -euo pipefail

PULUMI_VERSION=v3.259.0
# name | version (= the npm SDK's) | source bundle | Go module of the provider | version variable
PLUGINS=(
  "command|1.2.1|pulumi-command-v1.2.1|github.com/pulumi/pulumi-command/provider|"
  "tls|5.5.1|pulumi-tls-v5.5.1-9-gf7db93b|github.com/pulumi/pulumi-tls/provider/v5|terraform-provider-tls-d72d90e1=github.com/hashicorp/terraform-provider-tls"
  "random|4.21.1|pulumi-random-v4.21.1-9-gf64d8726|github.com/pulumi/pulumi-random/provider/v4|terraform-provider-random-f8d869dc=github.com/terraform-providers/terraform-provider-random"
)
LANGHOST_BUNDLE=pulumi-language-nodejs-v3.259.0
PYHOST_BUNDLE=pulumi-language-python-v3.259.0
YAMLHOST_MODULE=github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
YAMLHOST_VERSION=v1.38.3
SDK_VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "setup-pulumi: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
TPL="$HERE/pulumi-toolchain"
VENDOR="${ZEROTRUST_VENDOR_DIR:-$(dirname "$ROOT")/shared/vendor}"
CACHE="${ZEROTRUST_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/pulumi}"
BIN="$CACHE/bin"
SRC="$CACHE/src"
PLUGBIN="$CACHE/plugins"

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die()  { printf 'setup-pulumi: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$BIN" "$SRC" "$PLUGBIN" "$CACHE/logs"

# One run at a time per cache (a second run waits instead of building twice).
exec 9>"$CACHE/.lock"
flock -n 9 || { note "another set-up holds $CACHE/.lock; waiting..."; flock 9; }

need_go() {
  command -v go >/dev/null 2>&1 || die "Go (>= 1.25.11) is required to build the Pulumi toolchain"
  local have; have="$(go env GOVERSION)"; have="${have#go}"
  [ "$(printf '%s\n%s\n' 1.25.11 "$have" | sort -V | head -n1)" = 1.25.11 ] || die "Go $have is too old: pulumi $PULUMI_VERSION needs Go >= 1.25.11"
  # The checksum database is not reachable here; the go.sum files pin every module hash.
  export GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
}

need_bundle() { # NAME -> prints its path
  local f="$VENDOR/$1.tar.gz"
  [ -f "$f" ] || die "source bundle $f is missing (set ZEROTRUST_VENDOR_DIR to the folder that holds the vendor bundles)"
  printf '%s\n' "$f"
}

# Fingerprint of a build's inputs: files or directories, plus extra strings.
inputs_hash() {
  { for p in "$@"; do
      if [ -d "$p" ]; then (cd "$p" && find . -type f | LC_ALL=C sort | xargs sha256sum)
      elif [ -f "$p" ]; then sha256sum <"$p"
      else printf '%s\n' "$p"; fi
    done
    go env GOVERSION; } | sha256sum | cut -c1-16
}

# up_to_date OUT HASH: the cached binary was built from exactly these inputs.
up_to_date() { [ "$FORCE" = 0 ] && [ -x "$1" ] && [ "$(cat "$1.stamp" 2>/dev/null)" = "$2" ]; }

# run_logged NAME COMMAND...: runs a build step with its output in the cache's log directory.
run_logged() {
  local name="$1"; shift
  local log="$CACHE/logs/$name.log"
  if ! "$@" >>"$log" 2>&1; then
    grep -v '^go: downloading ' "$log" | tail -n 40 >&2
    die "building $name failed (whole output: $log)"
  fi
}

unpack() { # BUNDLE_NAME -> unpacks into $SRC/<name>, fresh
  rm -rf "${SRC:?}/$1"
  tar -xzf "$(need_bundle "$1")" -C "$SRC"
  [ -d "$SRC/$1" ] || die "$1.tar.gz did not unpack into a directory named $1"
}

# ---- 1. the CLI and the language host ------------------------------------------------------
existing="$(command -v pulumi 2>/dev/null || true)"
if [ "$FORCE" = 0 ] && [ -n "$existing" ] && [ "$existing" != "$BIN/pulumi" ] \
   && [ "$("$existing" version 2>/dev/null || true)" = "$PULUMI_VERSION" ] \
   && [ -x "$(dirname "$existing")/pulumi-language-nodejs" ]; then
  PULUMI="$existing"
  step "using pulumi $PULUMI_VERSION and its language host from $(dirname "$existing")"
else
  PULUMI="$BIN/pulumi"
  need_go
  hash="$(inputs_hash "$TPL/cli" "$PULUMI_VERSION")"
  if up_to_date "$BIN/pulumi" "$hash"; then
    note "pulumi $PULUMI_VERSION: built ($BIN/pulumi)"
  else
    step "building the pulumi CLI $PULUMI_VERSION from its Go module (about 7 minutes on 2 cores; more on a cold module cache)"
    t0=$SECONDS; : >"$CACHE/logs/pulumi.log"
    rm -rf "$SRC/cli"; cp -R "$TPL/cli" "$SRC/cli"
    run_logged pulumi bash -c "cd '$SRC/cli' && go build -trimpath -ldflags '-s -w -X $SDK_VERSION_VAR=$PULUMI_VERSION' -o '$BIN/pulumi.tmp' github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
    mv -f "$BIN/pulumi.tmp" "$BIN/pulumi"; printf '%s\n' "$hash" >"$BIN/pulumi.stamp"
    note "built in $((SECONDS - t0)) s"
  fi

  bundle="$(need_bundle "$LANGHOST_BUNDLE")"
  hash="$(inputs_hash "$bundle" "$PULUMI_VERSION")"
  if up_to_date "$BIN/pulumi-language-nodejs" "$hash"; then
    note "pulumi-language-nodejs $PULUMI_VERSION: built ($BIN/pulumi-language-nodejs)"
  else
    step "building pulumi-language-nodejs $PULUMI_VERSION from $LANGHOST_BUNDLE.tar.gz"
    t0=$SECONDS; : >"$CACHE/logs/pulumi-language-nodejs.log"
    unpack "$LANGHOST_BUNDLE"
    dir="$SRC/$LANGHOST_BUNDLE/sdk/nodejs/cmd/pulumi-language-nodejs"
    # In the pulumi repository the host builds against its sibling pkg/ and sdk/; outside it,
    # against the released modules of the same version.
    run_logged pulumi-language-nodejs bash -c "cd '$dir' && go mod edit \
        -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
        -require github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION -require github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION \
      && go build -trimpath -ldflags '-s -w -X $SDK_VERSION_VAR=$PULUMI_VERSION' -o '$BIN/pulumi-language-nodejs.tmp' ."
    mv -f "$BIN/pulumi-language-nodejs.tmp" "$BIN/pulumi-language-nodejs"; printf '%s\n' "$hash" >"$BIN/pulumi-language-nodejs.stamp"
    note "built in $((SECONDS - t0)) s"
  fi

  # The plugin behind pulumi.dynamic.Resource, which the real distribution ships beside pulumi.
  cmp -s "$TPL/bin/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs" \
    || install -m 0755 "$TPL/bin/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"

  # The python and yaml hosts go beside pulumi: the engine warns about a copy found elsewhere
  # (../shared/vendor/README.md, "Where to put the hosts").
  bundle="$(need_bundle "$PYHOST_BUNDLE")"
  hash="$(inputs_hash "$bundle" "$PULUMI_VERSION")"
  if up_to_date "$BIN/pulumi-language-python" "$hash"; then
    note "pulumi-language-python $PULUMI_VERSION: built ($BIN/pulumi-language-python)"
  else
    step "building pulumi-language-python $PULUMI_VERSION from $PYHOST_BUNDLE.tar.gz"
    t0=$SECONDS; : >"$CACHE/logs/pulumi-language-python.log"
    unpack "$PYHOST_BUNDLE"
    dir="$SRC/$PYHOST_BUNDLE/sdk/python/cmd/pulumi-language-python"
    run_logged pulumi-language-python bash -c "cd '$dir' && go mod edit \
        -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
        -require github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION -require github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION \
      && go build -trimpath -ldflags '-s -w -X $SDK_VERSION_VAR=$PULUMI_VERSION' -o '$BIN/pulumi-language-python.tmp' ."
    # The host looks for its executor in its own directory, not on PATH.
    install -m 0755 "$dir/../pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
    install -m 0755 "$SRC/$PYHOST_BUNDLE/sdk/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python"
    mv -f "$BIN/pulumi-language-python.tmp" "$BIN/pulumi-language-python"; printf '%s\n' "$hash" >"$BIN/pulumi-language-python.stamp"
    note "built in $((SECONDS - t0)) s"
  fi

  hash="$(inputs_hash "$YAMLHOST_MODULE@$YAMLHOST_VERSION")"
  if up_to_date "$BIN/pulumi-language-yaml" "$hash"; then
    note "pulumi-language-yaml $YAMLHOST_VERSION: built ($BIN/pulumi-language-yaml)"
  else
    step "building pulumi-language-yaml $YAMLHOST_VERSION from its Go module"
    t0=$SECONDS; : >"$CACHE/logs/pulumi-language-yaml.log"
    # Pinned: @latest resolves to v1.25.0 on this proxy. `go install` writes to GOBIN; a temporary
    # one keeps a half-written binary out of $BIN.
    rm -rf "$SRC/yaml-bin"; mkdir -p "$SRC/yaml-bin"
    run_logged pulumi-language-yaml env GOBIN="$SRC/yaml-bin" go install -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAMLHOST_VERSION" \
      "$YAMLHOST_MODULE@$YAMLHOST_VERSION"
    mv -f "$SRC/yaml-bin/pulumi-language-yaml" "$BIN/pulumi-language-yaml"; printf '%s\n' "$hash" >"$BIN/pulumi-language-yaml.stamp"
    note "built in $((SECONDS - t0)) s"
  fi
fi
PATH="$(dirname "$PULUMI"):$PATH"
export PATH PULUMI_SKIP_UPDATE_CHECK=true

# ---- 2. resource plugins --------------------------------------------------------------------
plugin_installed() { # NAME VERSION
  "$PULUMI" plugin ls 2>/dev/null | awk -v n="$1" -v v="$2" '$1 == n && $2 == "resource" && $3 == v { f = 1 } END { exit !f }'
}

# build_plugin NAME VERSION BUNDLE MODULE [TF_BUNDLE=TF_MODULE] -> the binary's path on stdout
build_plugin() {
  local name="$1" version="$2" bundle="$3" module="$4" upstream="${5:-}"
  local out="$PLUGBIN/pulumi-resource-$name-v$version" inputs=("$(need_bundle "$bundle")") tf_bundle="" tf_module=""
  if [ -n "$upstream" ]; then tf_bundle="${upstream%%=*}"; tf_module="${upstream#*=}"; inputs+=("$(need_bundle "$tf_bundle")"); fi
  local hash; hash="$(inputs_hash "${inputs[@]}" "$version")"
  if up_to_date "$out" "$hash"; then printf '%s\n' "$out"; return 0; fi
  step "building the $name plugin $version from $bundle.tar.gz${tf_bundle:+ and $tf_bundle.tar.gz} (minutes: the first also downloads the bridge's modules)" >&2
  local t0=$SECONDS; : >"$CACHE/logs/plugin-$name.log"
  unpack "$bundle"
  local provider="$SRC/$bundle/provider"
  if [ -n "$tf_bundle" ]; then
    # The bridged Terraform provider comes from its own bundle, for the provider and its shim.
    unpack "$tf_bundle"
    run_logged "plugin-$name" bash -c "cd '$provider' && go mod edit -replace '$tf_module=$SRC/$tf_bundle' \
      && cd shim && go mod edit -replace '$tf_module=$SRC/$tf_bundle'"
    # The schema is embedded with its version; upstream generates it in their Makefile.
    run_logged "plugin-$name" bash -c "cd '$provider/cmd/pulumi-resource-$name' && VERSION='$version' go run generate.go"
  fi
  # Without the version at link time a plugin reports a placeholder and the engine warns every run.
  run_logged "plugin-$name" bash -c "cd '$provider' && go build -trimpath \
    -ldflags '-s -w -X $module/pkg/version.Version=$version' -o '$out.tmp' ./cmd/pulumi-resource-$name"
  mv -f "$out.tmp" "$out"; printf '%s\n' "$hash" >"$out.stamp"
  note "built in $((SECONDS - t0)) s" >&2
  printf '%s\n' "$out"
}

for spec in "${PLUGINS[@]}"; do
  IFS='|' read -r name version bundle module upstream <<<"$spec"
  if [ "$FORCE" = 0 ] && plugin_installed "$name" "$version"; then
    note "plugin $name $version: installed"
    continue
  fi
  step "plugin $name $version: trying the ordinary install"
  if [ "$FORCE" = 0 ] && timeout 120 "$PULUMI" plugin install resource "$name" "$version" >"$CACHE/logs/install-$name.log" 2>&1; then
    note "downloaded"
    continue
  fi
  note "cannot be downloaded here ($(grep -m1 -i 'error' "$CACHE/logs/install-$name.log" | cut -c1-160 || true)); building it from source"
  need_go
  binary="$(build_plugin "$name" "$version" "$bundle" "$module" "$upstream")"
  "$PULUMI" plugin install resource "$name" "$version" --file "$binary" --reinstall >/dev/null
  plugin_installed "$name" "$version" || die "plugin $name $version is still not installed after 'pulumi plugin install --file $binary'"
  note "installed from $binary"
done

step "pulumi $("$PULUMI" version); plugins:"
"$PULUMI" plugin ls

# ---- 3. the Python SDK ------------------------------------------------------------------------
# A virtualenv with the SDK at the CLI's version, for Python programs (test/engine/languages).
# The python host's executor runs as `python <script>`, so a program names this venv in its
# Pulumi.yaml (runtime.options.virtualenv) or runs with it first on PATH.
VENV="$CACHE/python"
PY_SDK_VERSION="${PULUMI_VERSION#v}"
if [ "$FORCE" = 0 ] && [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("pulumi"))' 2>/dev/null || true)" = "$PY_SDK_VERSION" ]; then
  note "python SDK pulumi==$PY_SDK_VERSION: installed ($VENV)"
else
  step "installing the python SDK pulumi==$PY_SDK_VERSION into $VENV"
  python3 -c 'import venv, ensurepip' 2>/dev/null || die "python3 has no venv module: install python3-venv (scripts/setup.sh does)"
  rm -rf "$VENV"; : >"$CACHE/logs/python-sdk.log"
  run_logged python-sdk python3 -m venv "$VENV"
  run_logged python-sdk "$VENV/bin/pip" install --quiet --disable-pip-version-check "pulumi==$PY_SDK_VERSION"
fi
