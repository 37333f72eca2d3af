#!/usr/bin/env bash
# The folders of src/ depend one way (ARCHITECTURE.md): each may include only
# the folders below it. A quoted include that reaches upwards, or sideways
# between io/ and tokenize/, fails this check and names the line.
set -u
cd "$(dirname "$0")/../src"
rank() {
    case "$1" in
    util) echo 0 ;; core) echo 1 ;; io | tokenize) echo 2 ;; models) echo 3 ;;
    api) echo 4 ;; route) echo 5 ;; eval) echo 6 ;; serve) echo 7 ;; cli) echo 8 ;; *) echo 99 ;;
    esac
}
bad=0
while IFS=: read -r file line include; do
    from=${file%%/*}
    to=$(sed -n 's/.*#include "\([a-z_]*\)\/.*/\1/p' <<<"$include")
    [ -z "$to" ] && continue
    rf=$(rank "$from") rt=$(rank "$to")
    if [ "$rt" -gt "$rf" ] || { [ "$rt" -eq "$rf" ] && [ "$from" != "$to" ]; }; then
        echo "src/$file:$line: $from/ includes $to/, which is not below it"
        bad=1
    fi
done < <(grep -n '#include "[a-z_]*/' */*.c */*.h */*.cc)
[ "$bad" -eq 0 ] && echo "layers: every include points down"
exit "$bad"
