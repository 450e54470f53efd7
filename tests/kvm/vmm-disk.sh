#!/usr/bin/env bash
# virtio-blk through vmm boot --disk: a read-write and a read-only image of
# random data. The guest sees their sizes, read-only flags and serials,
# reads back what the host wrote (checksums of the first MiB), and writes
# at sector 100: the host finds the write in the read-write image and the
# read-only image unchanged. The guest makes an ext4 file system on a disk
# and fills it; the host checks it with e2fsck -fn and reads the files with
# debugfs. Then the data-loss check: the guest writes and
# fsyncs, the host SIGKILLs the VMM at once, and the data is in the image.
# Last, a host file system that fills up under the guest's writes: the
# guest sees I/O errors, vmm says why once and ends normally.
# usage: vmm-disk.sh VMM BZIMAGE INITRAMFS
set -uo pipefail
vmm=$1 kernel=$2 initrd=$3
. "$(dirname "$0")/require-kvm.sh"
. "$(dirname "$0")/guest-run.sh"
head -c 16M /dev/urandom >"$dir/rw.img"
head -c 4M /dev/urandom >"$dir/ro.img"
chmod 0444 "$dir/ro.img" # a read-only image is fine with ,ro
md5() { head -c 1M "$1" | md5sum | cut -d' ' -f1; }
rw_md5=$(md5 "$dir/rw.img") ro_sum=$(md5sum <"$dir/ro.img")

timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --cmdline "$base vmmtest=blk" \
	--disk "$dir/rw.img" --disk "$dir/ro.img,ro" </dev/null >"$out" 2>"$err"
status=$?
sed -i 's/\r$//' "$out"
[ "$status" = 0 ] || fail "vmm exited $status"
grep -q "^VMM-TEST vda sectors=32768 ro=0 serial=rw.img md5=$rw_md5\$" "$out" ||
	fail "vda: wrong size, flag, serial or data as the guest sees it"
grep -q "^VMM-TEST vdb sectors=8192 ro=1 serial=ro.img md5=$(md5 "$dir/ro.img")\$" "$out" ||
	fail "vdb: wrong size, flag, serial or data as the guest sees it"
grep -q '^VMM-TEST vda write ok$' "$out" || fail "the guest could not write vda"
grep -q '^VMM-TEST vdb write refused$' "$out" || fail "the guest wrote to the read-only vdb"
[ "$(dd if="$dir/rw.img" bs=512 skip=100 count=1 2>/dev/null | head -c 28)" = "written by the guest to vda" ] ||
	fail "the guest's write is not in the image"
[ "$(md5sum <"$dir/ro.img")" = "$ro_sum" ] || fail "the read-only image changed"
[ -s "$err" ] && fail "unexpected stderr"
echo "PASS: virtio-blk reads, writes, read-only and serial as the host set them"

head -c 64M /dev/zero >"$dir/fs.img"
timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --cmdline "$base vmmtest=ext4" \
	--disk "$dir/fs.img" </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "ext4: vmm exited $status"
grep -q 'VMM-TEST ext4 done' "$out" || fail "ext4: the guest could not make and fill the file system"
e2fsck -fn "$dir/fs.img" >"$dir/fsck" 2>&1 || { cat "$dir/fsck"; fail "ext4: e2fsck -fn finds errors"; }
[ "$(debugfs -R 'cat /hello.txt' "$dir/fs.img" 2>/dev/null)" = "hello from the guest" ] ||
	fail "ext4: /hello.txt does not read back on the host"
[ "$(debugfs -R 'cat /dir/numbers' "$dir/fs.img" 2>/dev/null | md5sum)" = "$(seq 1 100000 | md5sum)" ] ||
	fail "ext4: /dir/numbers does not read back on the host"
echo "PASS: an ext4 file system made in the guest is clean on the host and holds its files"

# DISCARD punches a hole where the file system allows (tmpfs and ext4 do).
head -c 16M /dev/urandom >"$dir/discard.img"
before=$(stat -c %b "$dir/discard.img")
timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" --cmdline "$base vmmtest=discard" \
	--disk "$dir/discard.img" </dev/null >"$out" 2>"$err"
status=$?
[ "$status" = 0 ] || fail "discard: vmm exited $status"
grep -q 'VMM-TEST discard ok' "$out" || fail "discard: blkdiscard failed in the guest"
after=$(stat -c %b "$dir/discard.img")
[ $(((before - after) * $(stat -c %B "$dir/discard.img"))) -ge $((4 << 20)) ] ||
	fail "discard: the image did not shrink by 4 MiB ($before -> $after blocks)"
dd if="$dir/discard.img" bs=1M skip=1 count=4 2>/dev/null | cmp -s - /dev/zero -n $((4 << 20)) ||
	fail "discard: the discarded range does not read as zeros"
[ "$(stat -c %s "$dir/discard.img")" = $((16 << 20)) ] || fail "discard: the image changed size"
echo "PASS: DISCARD punches a hole in the image"

"$vmm" boot --kernel "$kernel" --initrd "$initrd" --cmdline "$base vmmtest=fsync" \
	--disk "$dir/rw.img" </dev/null >"$out" 2>"$err" &
pid=$!
for _ in $(seq 300); do grep -q 'VMM-TEST fsync done' "$out" && break; sleep 0.2; done
grep -q 'VMM-TEST fsync done' "$out" || fail "fsync: the guest never got there"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
[ "$(dd if="$dir/rw.img" bs=512 skip=7 count=1 2>/dev/null | head -c 20)" = "fsynced by the guest" ] ||
	fail "fsync: data written and fsynced by the guest is not in the image after SIGKILL"
echo "PASS: data the guest fsynced survives SIGKILL of the VMM"

# A 64 MiB sparse image on an 8 MiB tmpfs: the guest writes all of it.
# The host's ENOSPC reaches the guest as I/O errors; vmm runs on and
# names the cause once. A 32 KiB file beside it leaves room for half of
# the guest's last 64 KiB request: the host's write of it comes back
# short, and only going on with the rest gets the ENOSPC to name.
mkdir "$dir/small"
mount -t tmpfs -o size=8m vmm-disk-full "$dir/small" || fail "diskfull: cannot mount a small tmpfs"
trap 'umount "$dir/small" 2>/dev/null; rm -rf "$dir"' EXIT
head -c 32K /dev/zero >"$dir/small/filler"
truncate -s 64M "$dir/small/full.img"
timeout 300 "$vmm" boot --kernel "$kernel" --initrd "$initrd" \
	--cmdline "$base vmmtest=diskfull diskfull_mib=64" --disk "$dir/small/full.img" \
	</dev/null >"$out" 2>"$err"
status=$?
sed -i 's/\r$//' "$out"
[ "$status" = 0 ] || fail "diskfull: vmm exited $status, not 0"
grep -q '^VMM-TEST diskfull: dd failed$' "$out" || fail "diskfull: the guest's writes did not fail"
grep -q '^VMM-TEST diskfull: I/O error logged$' "$out" || fail "diskfull: the guest kernel logged no I/O error on vda"
[ "$(cat "$err")" = "vmm: disk $dir/small/full.img: No space left on device; the guest gets I/O errors" ] ||
	fail "diskfull: stderr is not the one clear line"
[ "$(df --output=avail -k "$dir/small" | tail -n1)" -lt 64 ] || fail "diskfull: the host file system did not fill"
umount "$dir/small"
echo "PASS: a host file system filling up: I/O errors in the guest, one line, status 0"
