#!/bin/bash
# manpage.sh — mlpctl(1) and the bash completion are generated from the verb
# table: the built man page has a section for every verb `mlpctl help` lists,
# with that verb's --help text, and renders; the completion (sourced into
# bash) completes verbs, a verb's options and, from a private mlpd, sweep names.
LIB_NAME=man
. "$(dirname "$0")/lib.sh"
: "${MANPAGE:?set MANPAGE to the built mlpctl.1}"
: "${COMPLETION:?set COMPLETION to the built completion script}"

verbs=$("$MLPCTL" help | awk '/^Verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }')
[ -n "$verbs" ] || fail "mlpctl help lists no verbs"
for v in $verbs; do
    checks=$((checks + 1))
    grep -qx "\.SS $v" "$MANPAGE" || fail "mlpctl.1 has no section for verb $v"
    first=$("$MLPCTL" "$v" --help | head -1 | sed 's/-/\\-/g')
    checks=$((checks + 1))
    grep -qF -- "$first" "$MANPAGE" || fail "mlpctl.1 lacks $v's usage line: $first"
done
if command -v man >/dev/null; then
    checks=$((checks + 1))
    out=$(MANWIDTH=100 man -l "$MANPAGE" 2>&1 >/dev/null)
    [ -z "$out" ] || fail "man -l mlpctl.1 warns: $out"
fi

# mlpd(8) and mlp-worker(1): every option of the program's --help is in its page.
for pair in "$MLPD:${MLPD_MAN:?}" "$MLP_WORKER:${WORKER_MAN:?}"; do
    prog=${pair%%:*} page=${pair#*:}
    n=0
    for flag in $("$prog" --help | grep -oE '^  --[a-z-]+' | tr -d ' '); do
        n=$((n + 1))
        checks=$((checks + 1))
        grep -qF -- "$(printf '%s' "$flag" | sed 's/-/\\-/g')" "$page" || fail "$page lacks $flag"
    done
    [ "$n" -ge 3 ] || fail "$prog --help lists only $n options"
    if command -v man >/dev/null; then
        checks=$((checks + 1))
        out=$(MANWIDTH=100 man -l "$page" 2>&1 >/dev/null)
        [ -z "$out" ] || fail "man -l $page warns: $out"
    fi
done

# complete WORDS...: what the completion offers for the last word.
complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mlpctl; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$COMPLETION" "$@"
}
PATH="$(dirname "$MLPCTL"):$PATH"
export PATH
checks=$((checks + 1))
complete_words mlpctl sh | grep -qx show || fail "no completion of 'sh' to show"
checks=$((checks + 1))
complete_words mlpctl list --t | grep -qx -- --tag || fail "no completion of 'list --t' to --tag"
# plot's --kind values: every kind of the kind table, the issue-18 ones included.
for k in ranking importance parallel heatmap; do
    checks=$((checks + 1))
    complete_words mlpctl plot s --kind "${k%???}" | grep -qx "$k" ||
        fail "no completion of 'plot --kind ${k%???}' to $k"
done
checks=$((checks + 1))
complete_words mlpctl plot s --method f | grep -qx fanova || fail "no completion of --method f"
start_daemon
cat >"$TMP/g.json" <<'G'
{"name": "tinycomp", "dataset": {"name": "xor", "n": 100}, "base": {"epochs": 1, "hidden": [4]}, "grid": {"lr": [0.1]}}
G
run submit 0 submit "$TMP/g.json"
checks=$((checks + 1))
complete_words mlpctl show tin | grep -qx tinycomp || fail "no completion of a sweep name from mlpd"
"$MLPCTL" shutdown >/dev/null 2>&1
stop_wait
echo "$checks checks, $failures failed"
[ "$failures" = 0 ]
