#!/usr/bin/env bash
# vmm and vmm-runtime keep their bss under 2 MiB (selfmem.h): they are
# static PIEs, libc writes its own variables in that bss before main can
# mark it MADV_NOHUGEPAGE, and under THP "always" any 2 MiB-aligned block
# wholly inside it may become a huge page at that first write. Big tables
# belong in selfmem_zalloc memory, not in statics.
# usage: selfmem-bss.sh PROGRAM...
set -uo pipefail
limit=$((2 * 1024 * 1024))
fails=0
for prog in "$@"; do
	# The anonymous part of the image: .bss and any other NOBITS section.
	# readelf -SW: ... NOBITS ADDRESS OFFSET SIZE ..., SIZE in hex.
	bss=0
	for size in $(readelf -SW "$prog" | awk '{
		for (i = 1; i <= NF; i++) if ($i == "NOBITS") print $(i + 3)
	}'); do
		bss=$((bss + 16#$size))
	done
	if [ "$bss" -eq 0 ]; then
		echo "FAIL: $prog: no bss found by readelf"
		fails=$((fails + 1))
	elif [ "$bss" -ge "$limit" ]; then
		echo "FAIL: $prog: bss is $bss bytes, not under 2 MiB; the biggest:"
		nm -S --size-sort "$prog" | awk '$3 ~ /^[bB]$/' | tail -5
		fails=$((fails + 1))
	else
		echo "PASS: $prog: bss $bss bytes"
	fi
done
exit $((fails > 0))
