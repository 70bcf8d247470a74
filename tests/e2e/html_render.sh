#!/usr/bin/env bash
# The HTML report in a real browser: a sample report (written by the unit test
# program, test_report_html --write-sample) is opened from a file:// URL by
# headless Chromium, which must render it to a picture of some substance,
# parse it into the elements we meant (three charts, no script), log nothing
# to the console, and fetch nothing from the network (checked in Chromium's
# own network log; a page that does fetch is rendered too, to prove that the
# check would see it).
#
# Chromium is a test dependency (Debian's `chromium`, installed by
# `make test-deps`, which `make test` runs): without it this fails rather than skips, as a report nobody
# looked at is the bug this test is for.
#
#   HTML_PNG_OUT=docs/report.png bash tests/e2e/html_render.sh
# also writes the README's picture (1100x1800, squeezed with pngquant or
# optipng when they are installed).
source "$(dirname "$0")/lib.sh"

GEN="$BUILD/tests/test_report_html"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"

# chromium_run NAME URL ARGS...: headless Chromium with everything that could
# reach the network off; names resolve to nothing, so a fetch cannot leave the
# machine even if the page tried one. stderr in $T/NAME.err.
chromium_run() {
    local name="$1" url="$2"; shift 2
    HOME="$T" timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update --disable-sync \
        --disable-default-apps --disable-extensions --mute-audio --hide-scrollbars \
        --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$T/chrome-$name" \
        --enable-logging=stderr --v=0 "$@" "$url" 2>"$T/$name.err"
}

# Requests made on behalf of the page: Chromium's own background requests
# (updates, time) carry no file:// isolation key, the page's do.
page_fetches() { # NETLOG
    grep -c '"network_isolation_key":"file://' "$1"
}

if [ ! -x "$GEN" ]; then
    not_ok "html: sample report" "$GEN not built (make $GEN)"
    exit 0
fi
if [ -z "$CHROMIUM" ]; then
    not_ok "html: chromium" "not installed; 'make test-deps' (as root) installs it"
    exit 0
fi

# The sample: 300 s of history with a ramp, a pause, failures and every kind
# of operator event.
if "$GEN" --write-sample "$T/r.html" && [ -s "$T/r.html" ]; then
    ok "html: sample report written"
else
    not_ok "html: sample report written"
    exit 0
fi

# Self-contained in the text already: nothing that loads anything.
loaders='<script|<link|<img|<iframe|<object|<embed|src=|href=|url\(|@import|@font-face'
if grep -Eiq "$loaders" "$T/r.html"; then
    not_ok "html: no external references" "$(grep -Eio "$loaders" "$T/r.html" | sort -u | tr '\n' ' ')"
else
    ok "html: no external references"
fi

chromium_run shot "file://$T/r.html" --window-size=1200,2400 --screenshot="$T/r.png" \
    --log-net-log="$T/net.json" >/dev/null
size=$(stat -c %s "$T/r.png" 2>/dev/null || echo 0)
magic=$(head -c 8 "$T/r.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')
if [ "$magic" = 89504e470d0a1a0a ] && [ "$size" -gt 20480 ]; then
    ok "html: chromium renders it ($size bytes of PNG)"
else
    not_ok "html: chromium renders it" "png of $size bytes; $(grep -v dbus "$T/shot.err" | tail -n 3 | tr '\n' ' ')"
fi

if grep -q ':CONSOLE' "$T/shot.err"; then
    not_ok "html: no console messages" "$(grep ':CONSOLE' "$T/shot.err" | head -n 3 | tr '\n' ' ')"
else
    ok "html: no console messages"
fi

if [ ! -s "$T/net.json" ]; then
    not_ok "html: fetches nothing" "no network log written"
elif [ "$(page_fetches "$T/net.json")" -ne 0 ]; then
    not_ok "html: fetches nothing" "$(grep -o '"url":"[^"]*"' "$T/net.json" | sort -u | head -n 5 | tr '\n' ' ')"
else
    ok "html: fetches nothing"
fi

# The network check has teeth: a page with one image from elsewhere is seen.
printf '<!DOCTYPE html><html><body><img src="http://hopper-test.invalid/x.png" alt=""></body></html>\n' >"$T/fetching.html"
chromium_run control "file://$T/fetching.html" --window-size=400,300 --screenshot="$T/control.png" \
    --log-net-log="$T/control.json" >/dev/null
if [ -s "$T/control.json" ] && [ "$(page_fetches "$T/control.json")" -gt 0 ]; then
    ok "html: the network check sees a page that fetches"
else
    not_ok "html: the network check sees a page that fetches"
fi

# What the browser built from the file: the elements we meant, and the hostile
# text of the unit tests is not among them (the sample has none, so check the
# parts instead).
chromium_run dom "file://$T/r.html" --dump-dom >"$T/dom.html"
svgs=$(grep -o '<svg' "$T/dom.html" | wc -l)
scripts=$(grep -o '<script' "$T/dom.html" | wc -l)
if [ "$svgs" -eq 3 ] && [ "$scripts" -eq 0 ] && grep -q '<b>FAILED</b>' "$T/dom.html" &&
   grep -q 'id="percentiles"' "$T/dom.html" && grep -q 'id="failures"' "$T/dom.html"; then
    ok "html: the browser parses three charts, the banner and the tables"
else
    not_ok "html: the browser parses three charts, the banner and the tables" \
        "$svgs svg, $scripts script, $(wc -c <"$T/dom.html") bytes of DOM"
fi

# The README's picture, on request.
if [ -n "${HTML_PNG_OUT:-}" ]; then
    chromium_run docs "file://$T/r.html" --window-size=1100,1800 --screenshot="$T/docs.png" >/dev/null
    if command -v pngquant >/dev/null; then
        pngquant --force --quality=70-95 --strip --output "$T/docs-q.png" "$T/docs.png" && mv "$T/docs-q.png" "$T/docs.png"
    fi
    command -v optipng >/dev/null && optipng -quiet -o2 "$T/docs.png"
    check "html: picture written to $HTML_PNG_OUT" cp "$T/docs.png" "$HTML_PNG_OUT"
fi
