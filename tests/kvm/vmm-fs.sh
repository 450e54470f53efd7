#!/usr/bin/env bash
# virtio-fs through vmm boot --fs: the guest (vmmtest=fs in busybox-init,
# vmm-fstest) runs a file-system workout on the share, lists a directory of
# FS_ENTRIES files, tries to escape it, checksums a big file the host made
# and writes one the host checks, mounts an overlay with a share directory
# as lower and tmpfs as upper (the host's files stay as they were), is
# refused writes on a read-only share, and sees host changes live on a
# cache=none share.
# usage: vmm-fs.sh VMM BZIMAGE INITRAMFS   (FS_ENTRIES, FS_BIG_MIB to scale)
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3
entries=${FS_ENTRIES:-10000} big_mib=${FS_BIG_MIB:-256}
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
share=$dir/share ro=$dir/ro
mkdir -p "$share/lower" "$ro"
echo SECRET >"$dir/secret"
ln -s "$dir/secret" "$share/esc-abs"
ln -s ../secret "$share/esc-rel"
ln -s ../../../../../../.. "$share/esc-dotdot"
ln -s /etc/shadow "$share/esc-shadow"
head -c "${big_mib}M" /dev/urandom >"$share/big.bin"
big_sum=$(sha256sum <"$share/big.bin" | cut -d' ' -f1)
echo lower-a >"$share/lower/a"
echo lower-b >"$share/lower/b"
echo ro-a >"$ro/a"
echo before >"$share/live"

timeout 1200 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --mem 512M \
	--cmdline "$base vmmtest=fs fs_entries=$entries" \
	--fs "share=$share,cache=none" --fs "ro=$ro,ro" </dev/null >"$out" 2>"$err" &
pid=$!
for _ in $(seq 6000); do
	grep -q 'VMM-TEST waiting for the host' "$out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
touch "$share/hostnew"
echo after >"$share/live.tmp" && mv "$share/live.tmp" "$share/live"
wait "$pid"
status=$?
sed -i 's/\r$//' "$out"
[ "$status" = 0 ] || fail "vmm exited $status"
grep -q "^VMM-TEST fstest ok" "$out" || fail "the workout or an escape check failed"
echo "PASS: workout, $entries entries listed, escapes refused ($(grep -o 'fstest ok [0-9]*' "$out") checks)"
grep -q "^VMM-TEST big $big_sum\$" "$out" || fail "the guest's sha256 of big.bin differs"
echo "PASS: a ${big_mib} MiB file reads back with the host's sha256"
guest_sum=$(sed -n 's/^VMM-TEST guest //p' "$out")
[ -n "$guest_sum" ] && [ "$(sha256sum <"$share/guest.bin" | cut -d' ' -f1)" = "$guest_sum" ] ||
	fail "the file the guest wrote differs on the host"
echo "PASS: a file the guest wrote is on the host"
grep -q '^VMM-TEST ovl read lower-a$' "$out" &&
	grep -q '^VMM-TEST ovl changed new a n $' "$out" || fail "overlayfs over the share"
[ "$(cat "$share/lower/a")" = lower-a ] && [ "$(cat "$share/lower/b")" = lower-b ] &&
	[ ! -e "$share/lower/n" ] || fail "the overlay changed the lower directory on the host"
echo "PASS: overlayfs with the share as lower and tmpfs as upper"
grep -q '^VMM-TEST ro write refused$' "$out" && grep -q '^VMM-TEST ro read ro-a$' "$out" &&
	[ ! -e "$ro/new" ] || fail "read-only share"
echo "PASS: a read-only share reads and refuses writes"
grep -q '^VMM-TEST live before$' "$out" && grep -q '^VMM-TEST live after /mnt/hostnew$' "$out" ||
	fail "host changes not seen in the guest (cache=none)"
echo "PASS: host changes are visible in the guest with cache=none"
[ -s "$err" ] && fail "unexpected stderr"
exit 0
