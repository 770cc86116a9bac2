# shellcheck shell=sh # sourced, by scripts and by hand from any shell: kept POSIX
# Source me (". scripts/pulumi-env.sh") after scripts/setup-pulumi.sh has run:
# puts the Pulumi CLI, the nodejs language host and the dynamic-provider plugin built
# by setup-pulumi.sh first on PATH.
_zt_pulumi_bin="${ZEROTRUST_PULUMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust/pulumi}/bin"
case ":$PATH:" in
  *":$_zt_pulumi_bin:"*) ;;
  *) export PATH="$_zt_pulumi_bin:$PATH" ;;
esac
unset _zt_pulumi_bin
# The CLI would otherwise ask the vendor's site for a newer version on every command.
export PULUMI_SKIP_UPDATE_CHECK=true
