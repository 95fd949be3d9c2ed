#!/usr/bin/env bash
# test_completion.sh: the bash completion of rosterctl (packaging/completion/rosterctl.bash)
# driven as bash drives it (COMP_WORDS, COMP_CWORD, then COMPREPLY) against a rosterd this
# test starts: commands, flags, scope names from the node on the --socket of the command
# line; and its command list is the one `rosterctl --help` prints. Where zsh exists, the zsh
# function runs with zsh's helpers stubbed (zsh_complete.zsh) for the same choices.
# Usage: test_completion.sh ROSTERD ROSTERCTL SRCDIR
set -u
ROSTERD=$1 CTL=$2 SRC=$3
fail=0
dir=$(mktemp -d /tmp/roster-comp.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

"$ROSTERD" --config /dev/null --socket "$dir/r.sock" --scope jobs --scope locks \
    --log-level warn &
pid=$!
for _ in $(seq 200); do "$CTL" --socket "$dir/r.sock" ping >/dev/null 2>&1 && break; sleep 0.05; done
"$CTL" --socket "$dir/r.sock" ping >/dev/null || { echo "FAIL: rosterd did not come up"; exit 1; }

# shellcheck source=/dev/null
source "$SRC/packaging/completion/rosterctl.bash"

# complete WORDS... : runs _rosterctl with the cursor on the last word; prints COMPREPLY sorted.
complete_words() {
    COMP_WORDS=("$CTL" "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _rosterctl
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() { # expect DESCRIPTION WANT GOT
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: want '$2', got '$3'"; fail=1; fi
}

expect "commands by prefix" "scope-create scope-join scope-leave scope-meta scopes" "$(complete_words sco)"
expect "global flags" "--scope --socket" "$(complete_words --s)"
expect "command flags" "--reconnect --recv --reply-with" "$(complete_words register x --re)"
expect "command and global flags" "--scope --scope-meta --snapshot --socket" \
    "$(complete_words --socket "$dir/r.sock" watch --s)"
expect "scopes from the node (--scope)" "default jobs locks" \
    "$(complete_words --socket "$dir/r.sock" lookup --scope '')"
expect "scopes from the node (--scope=)" "--scope=jobs" \
    "$(complete_words --socket="$dir/r.sock" names --scope=j)"
expect "scope-leave takes a scope" "locks" "$(complete_words --socket "$dir/r.sock" scope-leave l)"
expect "no node, no scopes" "" "$(complete_words --socket "$dir/none.sock" lookup --scope '')"
expect "log levels" "debug" "$(complete_words log-level d)"
expect "metadata filters" "--meta-eq --meta-glob --meta-prefix" "$(complete_words names --meta-)"
expect "--match and its filters" "--match --meta-eq --meta-glob --meta-prefix" \
    "$(complete_words unregister --m)"
expect "log levels off and trace" "off" "$(complete_words log-level o)"
expect "lease flags" "--timeout --ttl" "$(complete_words join g --t)"
expect "scope-meta operations" "delete" "$(complete_words scope-meta d)"
expect "scope-meta scope from the node" "jobs" \
    "$(complete_words --socket "$dir/r.sock" scope-meta get j)"
expect "scope-create options" "--duplicate-members" "$(complete_words scope-create x --du)"

# The command list is the one the binary knows: `rosterctl --help` lines "  COMMAND ...".
help_cmds=$("$CTL" --help | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u | tr '\n' ' ')
comp_cmds=$(printf '%s\n' $_rosterctl_commands | grep -v '^help$' | sort -u | tr '\n' ' ')
expect "command list matches rosterctl --help" "$help_cmds" "$comp_cmds"
zsh_cmds=$(sed -n "s/^        '\([a-z-]*\):.*/\1/p" "$SRC/packaging/completion/_rosterctl" | grep -v '^help$' | sort -u | tr '\n' ' ')
expect "zsh command list matches rosterctl --help" "$help_cmds" "$zsh_cmds"
if command -v zsh >/dev/null; then
    zsh -n "$SRC/packaging/completion/_rosterctl" && echo "ok: zsh syntax" || { echo "FAIL: zsh syntax"; fail=1; }
    zc() { zsh -f "$SRC/tests/pkg/zsh_complete.zsh" "$SRC/packaging/completion/_rosterctl" "$CTL" "$@" |
           grep -v '^--\(socket\|json\|timeout\|scope\|help\)$' | sort | tr '\n' ' ' | sed 's/ $//'; }
    expect "zsh: commands" "$(printf '%s\n' $_rosterctl_commands | sort | tr '\n' ' ' | sed 's/ $//')" "$(zc '')"
    expect "zsh: command flags" \
        "--limit --local --meta-eq --meta-glob --meta-prefix --node --pid --prefix --stale --where" \
        "$(zc members g '')"
    expect "zsh: member flags" "--stale" "$(zc member g '')"
    expect "zsh: scopes from the node" "default jobs locks" "$(zc --socket "$dir/r.sock" scope-leave '')"
    expect "zsh: log levels" "debug error info off trace warn" "$(zc log-level '')"
else
    echo "skip: zsh completion (zsh is not installed)"
fi
exit $fail
