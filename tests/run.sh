#!/usr/bin/env bash
# Run every test program under a timeout; print one line per test and the
# closing line "N passed, N failed, N skipped". Exit 1 if any failed.
# NETMEM_MUST_RUN='GLOB' (e.g. 'xsk_*'): a test whose name matches and that
# skips counts as failed (CI, where those parts must run).
set -u
must_run=${NETMEM_MUST_RUN:-}
timeout_s=${NETMEM_TEST_TIMEOUT:-300}
pass=0 fail=0 skip=0 failed=()
for t in "$@"; do
	name=$(basename "$t")
	log=$(mktemp)
	start=$(date +%s.%N)
	timeout -k 5 "$timeout_s" "$t" >"$log" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.2f", e-s}')
	case $rc in
	0) pass=$((pass + 1)); printf 'PASS %-28s %6ss\n' "$name" "$secs" ;;
	77) if [ -n "$must_run" ] && [[ $name == $must_run ]]; then
		fail=$((fail + 1)); failed+=("$name")
		printf 'FAIL %-28s (skipped, but NETMEM_MUST_RUN=%s: %s)\n' "$name" "$must_run" \
			"$(grep -m1 '^SKIP' "$log" | cut -c7-)"
	    else
		skip=$((skip + 1)); printf 'SKIP %-28s %s\n' "$name" "$(grep -m1 '^SKIP' "$log" | cut -c7-)"
	    fi ;;
	*) fail=$((fail + 1)); failed+=("$name")
	   [ $rc -eq 124 ] && echo "(timed out after ${timeout_s}s)" >>"$log"
	   printf 'FAIL %-28s (exit %d)\n' "$name" "$rc"; sed 's/^/    /' "$log" | tail -n 40 ;;
	esac
	rm -f "$log"
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
