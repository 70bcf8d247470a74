# The tree keeps the architecture it shows (README, "Where things are"):
# each folder of src/ is a layer, and a file may include only the headers of
# its own layer and of the layers it builds on. A lower layer that reaches
# up (stats including a view, a report including the engine) fails here,
# naming the file and the line. Also: each rule of include/hopper.h is
# written once, and no source searches error texts with strstr.
#
#   tests/e2e/tree.sh            checks the checkout it lives in
#   TREE=DIR tests/e2e/tree.sh   checks another copy (how the check was seen to fail)
. "$(dirname "$0")/lib.sh"

TREE="${TREE:-$TOP}"

# layer -> the layers its files may include (besides their own and hopper.h).
declare -A MAY=(
    [util]=""
    [net]="util"
    [snapshot]="util"
    [plan]="util snapshot"
    [stats]="util snapshot"
    [http]="util net plan snapshot"
    [engine]="util plan snapshot stats http"
    [view]="util plan snapshot"
    [report]="util plan snapshot"
    [control]="util plan snapshot view"
    [metrics]="util snapshot"
    [cluster]="util"
    [target]="util net"
)

bad=0
files=0
while IFS= read -r f; do
    rel="${f#"$TREE"/}"
    case "$rel" in
        src/main.c) continue ;;   # the program: the one place that wires every layer
        src/*/*) layer="${rel#src/}"; layer="${layer%%/*}" ;;
        include/*/*) layer="${rel#include/}"; layer="${layer%%/*}" ;;
        *) continue ;;
    esac
    files=$((files + 1))
    if [ -z "${MAY[$layer]+set}" ]; then
        echo "# $rel: folder '$layer' is not a known layer (add it to tests/e2e/tree.sh and the README)"
        bad=$((bad + 1))
        continue
    fi
    while IFS=: read -r line inc; do
        dep="${inc#*\"}"; dep="${dep%%\"*}"
        case "$dep" in
            hopper.h) continue ;;
            */*) dlayer="${dep%%/*}" ;;
            *) # a private header beside its source, or a test helper
               [ -f "$(dirname "$f")/$dep" ] && continue
               echo "# $rel:$line: includes \"$dep\" without its layer folder"; bad=$((bad + 1)); continue ;;
        esac
        [ "$dlayer" = "$layer" ] && continue
        case " ${MAY[$layer]} " in
            *" $dlayer "*) ;;
            *) echo "# $rel:$line: layer '$layer' includes \"$dep\" from '$dlayer'"; bad=$((bad + 1)) ;;
        esac
    done < <(grep -n '^#include "' "$f" | sed 's/^\([0-9]*\):/\1:/')
done < <(find "$TREE/src" "$TREE/include" -name '*.[ch]' | sort)
check "tree: $files files include only their own layer and the ones below it" \
    test "$bad" = 0 -a "$files" -gt 40

# Each rule of hopper.h is written once: its numbers and version do not
# appear as literals anywhere else in src/.
dups=$(grep -rnE '\b10000000(ULL)?\b|"0\.1\.0"|hopper/0\.1|exit\((2|3|4|70)\)|return (3|4|70);|status = (2|3|4|70);|at most 1000000' "$TREE/src" |
       grep -v '^[^:]*:[0-9]*: *\(/\*\|\*\)' || true)
if [ -z "$dups" ]; then
    ok "tree: the limits, version and exit codes are written once (include/hopper.h)"
else
    not_ok "tree: the limits, version and exit codes are written once (include/hopper.h)" "$dups"
fi

# Error kinds are values: nothing decides what an error was by searching its text.
# (curl_client.c's tls_handshake_reason reads OpenSSL's reason out of libcurl's
# message, which is the only place libcurl gives it, for display; it decides
# no kind. Any other search of an error text fails here.)
found=$(grep -rn 'strstr *([a-z_>.-]*\(err\|message\)' "$TREE/src" |
        grep -v 'curl_client\.c:.*strstr(message, \(mark\|"SSL_ERROR_SYSCALL"\))' || true)
check "tree: no strstr on error texts in src/" [ -z "$found" ]
