# rosterctl.bash: bash completion for rosterctl (docs/CLI.md): commands, each command's
# flags, and the names of the scopes the running node has (asked with `rosterctl scopes`
# on the socket the command line names). Installed as
# share/bash-completion/completions/rosterctl; the command list is checked against
# `rosterctl --help` by tests/pkg/test_completion.sh.

_rosterctl_commands="status nodes scopes scope-create scope-join scope-leave scope-meta lookup names
members member groups count register elect check-token handoff update unregister join leave watch
monitor send publish call multi-call ping log-level cluster-join cluster-leave forget owner
top help"
_rosterctl_globals="--socket --json --timeout --scope --help"
# The metadata filters of names, members, count and --match (docs/CLI.md, "Queries").
_rosterctl_filters="--meta-eq --meta-prefix --meta-glob --where"

# The flags a command takes besides the global ones.
_rosterctl_flags() {
    case "$1" in
    nodes) echo "" ;;
    scope-create) echo "--strong --duplicate-members --unique-per-node" ;;
    scope-join) echo "--ttl" ;;
    lookup) echo "--stale --local --all" ;;
    names) echo "--prefix --pid --limit --node --local --stale $_rosterctl_filters" ;;
    groups) echo "--prefix --pid --limit --stale" ;;
    members) echo "--local --prefix --pid --node --limit --stale $_rosterctl_filters" ;;
    member) echo "--stale" ;;
    count) echo "--prefix --node --pid --local --stale $_rosterctl_filters" ;;
    unregister | leave) echo "--match --pid --prefix $_rosterctl_filters" ;;
    register | join) echo "--meta --ttl --exit-reason --recv --reply-with --reconnect" ;;
    elect) echo "--meta --exit-reason --recv --reply-with" ;;
    handoff) echo "--if-token" ;;
    update) echo "--meta --if-token --if-meta --member" ;;
    watch) echo "--snapshot --from-revision --exact --registry --groups --scope-meta" ;;
    send) echo "--confirm" ;;
    cluster-join) echo "--wait" ;;
    publish | multi-call) echo "--local" ;;
    top) echo "--once --interval --limit" ;;
    esac
}

# Scope names from the node, on the socket given with --socket if any; quietly nothing
# when no node answers within a second.
_rosterctl_scopes() {
    local sock=() i
    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
        case "${COMP_WORDS[i]}" in
        --socket) sock=(--socket "${COMP_WORDS[i + 1]}") ;;
        --socket=*) sock=(--socket "${COMP_WORDS[i]#--socket=}") ;;
        esac
    done
    "${COMP_WORDS[0]}" "${sock[@]}" --timeout 1000 scopes 2>/dev/null | while read -r s _; do
        printf '%s\n' "$s"
    done
}

_rosterctl() {
    local cur prev cmd="" i
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD - 1]}"
    # The command is the first word that is neither an option nor an option's value.
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "${COMP_WORDS[i]}" in
        --socket | --timeout | --scope) ((i++)) ;;
        -*) ;;
        *) cmd="${COMP_WORDS[i]}"; break ;;
        esac
    done
    case "$prev" in
    --socket)
        COMPREPLY=($(compgen -f -- "$cur"))
        return ;;
    --scope)
        COMPREPLY=($(compgen -W "$(_rosterctl_scopes)" -- "$cur"))
        return ;;
    --timeout | --limit | --interval | --pid | --prefix | --meta | --if-token | --if-meta | \
        --member | --node | --from-revision | --meta-eq | --meta-prefix | --meta-glob | --where | --ttl | --exit-reason | --wait)
        return ;;
    --reply-with)
        COMPREPLY=($(compgen -c -- "$cur"))
        return ;;
    esac
    if [[ "$cur" == --scope=* ]]; then
        COMPREPLY=($(compgen -P --scope= -W "$(_rosterctl_scopes)" -- "${cur#--scope=}"))
        return
    fi
    if [ -z "$cmd" ]; then
        if [[ "$cur" == -* ]]; then
            COMPREPLY=($(compgen -W "$_rosterctl_globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_rosterctl_commands" -- "$cur"))
        fi
        return
    fi
    case "$cmd" in
    scope-join | scope-leave)
        if [[ "$cur" != -* ]]; then
            COMPREPLY=($(compgen -W "$(_rosterctl_scopes)" -- "$cur"))
            return
        fi ;;
    log-level)
        COMPREPLY=($(compgen -W "off error warn info debug trace" -- "$cur"))
        return ;;
    scope-meta)
        # scope-meta OP SCOPE ...: the operation, then a scope from the node
        if [ "$prev" = scope-meta ]; then
            COMPREPLY=($(compgen -W "set get delete" -- "$cur"))
            return
        fi
        case "$prev" in set | get | delete)
            COMPREPLY=($(compgen -W "$(_rosterctl_scopes)" -- "$cur"))
            return ;;
        esac ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "$(_rosterctl_flags "$cmd") $_rosterctl_globals" -- "$cur"))
    fi
}
complete -F _rosterctl rosterctl
