# A short run of the benchmark, so that bench/run cannot rot: every step must
# still work (tools there, counts equal the server's, no crash). Its timing
# figures are printed, never judged here: these machines are shared and noisy.
. "$(dirname "$0")/lib.sh"
BUILD="$BUILD" "$TOP/bench/run" --quick
