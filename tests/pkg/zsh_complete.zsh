#!/usr/bin/env zsh
# zsh_complete.zsh: runs the zsh completion function (packaging/completion/_rosterctl) on a
# command line with zsh's completion helpers replaced by stubs that print what they were
# given, so test_completion.sh can check the function's choices without a terminal.
# Usage: zsh_complete.zsh COMPFILE WORD... (the cursor is on the last WORD)
compfile=$1; shift
words=("$@")
CURRENT=${#words}
PREFIX=${words[CURRENT]}
# Candidates: the array named by the last argument, each "value:description".
_describe() { local a; for a in "${(@P)${@[-1]}}"; do print -r -- "${a%%:*}"; done }
_values() { shift; print -rl -- "$@" }
# Option specs: print the option names ('--meta[...]:...' -> --meta; a repeatable
# '*--where[...]' -> --where), nothing else.
_arguments() { local a; for a in "$@"; do a=${a#\*}; [[ $a == --* ]] && print -r -- "${a%%\[*}"; done; return 1 }
_files() { print -r -- "<files>" }
_command_names() { print -r -- "<commands>" }
source "$compfile"
