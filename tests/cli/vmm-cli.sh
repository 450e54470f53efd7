#!/usr/bin/env bash
# The vmm CLI's usage and input errors: each bad input gets one clear
# message and the documented exit status, before any KVM work.
# usage: vmm-cli.sh VMM BZIMAGE
set -uo pipefail
vmm=$1 kernel=$2
fails=0 n=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect STATUS REGEX CMD...: CMD exits STATUS and its stderr+stdout match REGEX.
expect() {
	local want=$1 re=$2
	shift 2
	n=$((n + 1))
	local out status
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" != "$want" ] || ! grep -qE -- "$re" <<<"$out"; then
		echo "FAIL: $* -> status $status (want $want), output: $out"
		fails=$((fails + 1))
	else
		echo "ok: $* -> $status: $(head -n1 <<<"$out")"
	fi
}

expect 0 '^Usage: vmm COMMAND' "$vmm" --help
expect 2 '^Usage: vmm COMMAND' "$vmm"
expect 0 '^vmm [0-9]+\.[0-9]+' "$vmm" --version
expect 2 "unknown command 'frob'" "$vmm" frob
expect 0 '^Usage: vmm boot --kernel' "$vmm" boot --help
expect 2 '--kernel is required' "$vmm" boot
expect 2 "unexpected argument 'extra'" "$vmm" boot --kernel "$kernel" extra
expect 2 "--mem: 'lots'" "$vmm" boot --kernel "$kernel" --mem lots
expect 2 "--mem: '1M' is not a size of at least 16M" "$vmm" boot --kernel "$kernel" --mem 1M
expect 2 "--cpus: '0'" "$vmm" boot --kernel "$kernel" --cpus 0
expect 2 "--cpus: '65'" "$vmm" boot --kernel "$kernel" --cpus 65
expect 1 "^vmm: kernel $tmp/none: No such file or directory$" "$vmm" boot --kernel "$tmp/none"
expect 1 "^vmm: kernel $tmp: not a regular file$" "$vmm" boot --kernel "$tmp"
: >"$tmp/empty"
expect 1 "^vmm: kernel $tmp/empty: file is empty$" "$vmm" boot --kernel "$tmp/empty"
head -c 100000 "$kernel" >"$tmp/truncated"
expect 1 "^vmm: kernel $tmp/truncated: truncated bzImage" "$vmm" boot --kernel "$tmp/truncated"
head -c 4096 /dev/zero >"$tmp/zeros"
expect 1 "^vmm: kernel $tmp/zeros: not a bzImage" "$vmm" boot --kernel "$tmp/zeros"
expect 1 "^vmm: initrd $tmp/none: No such file or directory$" \
	"$vmm" boot --kernel "$kernel" --initrd "$tmp/none"

echo "$((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
