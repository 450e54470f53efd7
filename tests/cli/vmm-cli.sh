#!/usr/bin/env bash
# The vmm CLI's usage and input errors: each bad input gets one clear
# message and the documented exit status, before any KVM work.
# Guest memory is laid out before /dev/kvm is opened, so kernels and
# initrds that do not fit are caught here too.
# usage: vmm-cli.sh VMM BZIMAGE VMLINUX VSOCK_TEST
set -uo pipefail
vmm=$1 kernel=$2 vmlinux=$3 vsock_test=$4
fails=0 n=0
tmp=$(mktemp -d)
# An immutable file cannot be removed: take the flag off first.
trap 'chattr -i "$tmp/immutable.img" 2>/dev/null; rm -rf "$tmp"' EXIT

# run_expect HOW STATUS WANT CMD...: runs CMD (stderr+stdout together) and
# counts a pass if it exits STATUS and its output matches WANT, a regex
# (HOW=regex) or the whole output exactly (HOW=line).
run_expect() {
	local how=$1 want=$2 pat=$3
	shift 3
	n=$((n + 1))
	local out status ok=true
	out=$("$@" 2>&1)
	status=$?
	[ "$status" = "$want" ] || ok=false
	if [ "$how" = line ]; then
		[ "$out" = "$pat" ] || ok=false
	else
		grep -qE -- "$pat" <<<"$out" || ok=false
	fi
	if ! $ok; then
		echo "FAIL: $* -> status $status (want $want), output: $out" \
			"$([ "$how" = line ] && echo "(want: $pat)")"
		fails=$((fails + 1))
	else
		echo "ok: $* -> $status: $(head -n1 <<<"$out")"
	fi
}

# expect STATUS REGEX CMD...: CMD exits STATUS and its stderr+stdout match REGEX.
expect() { run_expect regex "$@"; }

# expect_line STATUS LINE CMD...: CMD exits STATUS and its stderr+stdout
# is exactly LINE: one clear error and nothing else.
expect_line() { run_expect line "$@"; }

# check DESCRIPTION CMD...: CMD succeeds (a state that must hold).
check() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		fails=$((fails + 1))
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
# More memory than the host has: refused before /dev/kvm (guest RAM is
# MAP_NORESERVE, so it would start and be OOM-killed later).
host_mib=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB$/\1/p' /proc/meminfo) / 1024))
big=$((host_mib + 1024))
expect_line 2 "vmm boot: --mem: '${big}M' ($big MiB) is more than this host's memory ($host_mib MiB)" \
	"$vmm" boot --kernel "$kernel" --mem "${big}M"
expect_line 2 "vmm run: --memory: '${big}M' ($big MiB) is more than this host's memory ($host_mib MiB)" \
	"$vmm" run --memory "${big}M" busybox true
expect 2 "--boot-timeout: '0' is not a duration from 1 s to 24h" \
	"$vmm" boot --kernel "$kernel" --boot-timeout 0
expect 2 "--boot-timeout: '5x' is not a duration" "$vmm" boot --kernel "$kernel" --boot-timeout 5x
expect 2 "--boot-timeout: '25h' is not a duration" "$vmm" boot --kernel "$kernel" --boot-timeout 25h
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

head -c 100000 "$vmlinux" >"$tmp/vmlinux-truncated"
expect 1 "^vmm: kernel $tmp/vmlinux-truncated: truncated or malformed ELF: bad loadable segment$" \
	"$vmm" boot --kernel "$tmp/vmlinux-truncated"
expect 1 "^vmm: kernel /bin/true: ELF file is not an executable \(ET_EXEC\)$" \
	"$vmm" boot --kernel /bin/true
# Memory too small for the kernel (it needs init_size above 16 MiB), for
# the initrd, and a command line longer than the kernel takes.
expect 1 "^vmm: kernel does not fit in guest memory: give the VM more memory$" \
	"$vmm" boot --kernel "$kernel" --mem 16M
expect 1 "^vmm: kernel does not fit in guest memory: give the VM more memory$" \
	"$vmm" boot --kernel "$vmlinux" --mem 16M
head -c $((40 << 20)) /dev/zero >"$tmp/big-initrd"
expect 1 "^vmm: initramfs does not fit in guest memory: give the VM more memory$" \
	"$vmm" boot --kernel "$kernel" --mem 48M --initrd "$tmp/big-initrd"
expect 1 "^vmm: command line longer than the kernel accepts$" \
	"$vmm" boot --kernel "$kernel" --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"

expect 1 "^vmm: disk $tmp/none.img: No such file or directory$" \
	"$vmm" boot --kernel "$kernel" --disk "$tmp/none.img"
head -c 1000 /dev/zero >"$tmp/odd.img"
mkfifo "$tmp/fifo"
expect 1 "^vmm: disk $tmp/fifo: not a regular file or block device$" \
	timeout 5 "$vmm" boot --kernel "$kernel" --disk "$tmp/fifo,ro"
expect 1 "^vmm: disk $tmp/odd.img: size 1000 is not a positive multiple of 512 bytes$" \
	"$vmm" boot --kernel "$kernel" --disk "$tmp/odd.img"
expect 1 "^vmm: disk $tmp/empty: size 0 is not a positive multiple of 512 bytes$" \
	"$vmm" boot --kernel "$kernel" --disk "$tmp/empty"
expect 1 "^vmm: disk $tmp: Is a directory$" \
	"$vmm" boot --kernel "$kernel" --disk "$tmp"
expect 2 "--disk: '$tmp/odd.img,rw' is not PATH or PATH,ro" \
	"$vmm" boot --kernel "$kernel" --disk "$tmp/odd.img,rw"

# A read-only image asked read-write. Root's open(O_RDWR) succeeds on a
# 0444 file, so vmm looks at the mode itself; others get EACCES. ",ro"
# opens it: vmm goes on to the next check (16M is too small for the
# kernel, which is after the disks), so no KVM is needed.
head -c 1M /dev/urandom >"$tmp/ro.img"
chmod 0444 "$tmp/ro.img"
ro_sum=$(md5sum <"$tmp/ro.img") ro_mtime=$(stat -c %Y "$tmp/ro.img")
if [ "$(id -u)" = 0 ]; then
	expect_line 1 "vmm: disk $tmp/ro.img: the image is read-only (mode 0444); add ,ro to use it read-only, or chmod u+w it" \
		"$vmm" boot --kernel "$kernel" --disk "$tmp/ro.img"
else
	expect_line 1 "vmm: disk $tmp/ro.img: Permission denied (add ,ro to use it read-only)" \
		"$vmm" boot --kernel "$kernel" --disk "$tmp/ro.img"
fi
expect_line 1 "vmm: kernel does not fit in guest memory: give the VM more memory" \
	"$vmm" boot --kernel "$kernel" --mem 16M --disk "$tmp/ro.img,ro"
check "the 0444 image is unchanged" \
	test "$(md5sum <"$tmp/ro.img") $(stat -c '%a %Y' "$tmp/ro.img")" = "$ro_sum 444 $ro_mtime"
# An image on a read-only mount (EROFS), in a mount namespace of our own
# that goes away with it; ",ro" opens it.
mkdir "$tmp/rofs"
on_rofs() {
	unshare -m${unshare_user:-} sh -c 'mount -t tmpfs -o size=2m tmpfs "$1" &&
		head -c 1M /dev/zero >"$1/img" && mount -o remount,ro "$1" && shift && exec "$@"' \
		sh "$tmp/rofs" "$@"
}
[ "$(id -u)" = 0 ] || unshare_user=r
if on_rofs true 2>/dev/null; then
	expect_line 1 "vmm: disk $tmp/rofs/img: Read-only file system: the image is on a read-only mount; add ,ro to use it read-only" \
		on_rofs "$vmm" boot --kernel "$kernel" --disk "$tmp/rofs/img"
	expect_line 1 "vmm: kernel does not fit in guest memory: give the VM more memory" \
		on_rofs "$vmm" boot --kernel "$kernel" --mem 16M --disk "$tmp/rofs/img,ro"
else
	echo "skip: no mount namespace here for the read-only mount case"
fi
# An immutable image (EPERM even for root); needs CAP_LINUX_IMMUTABLE and
# a file system with the flag.
head -c 1M /dev/zero >"$tmp/immutable.img"
if chattr +i "$tmp/immutable.img" 2>/dev/null; then
	expect_line 1 "vmm: disk $tmp/immutable.img: Operation not permitted: the file is immutable or append-only; add ,ro to use it read-only, or chattr -i -a it" \
		"$vmm" boot --kernel "$kernel" --disk "$tmp/immutable.img"
	expect_line 1 "vmm: kernel does not fit in guest memory: give the VM more memory" \
		"$vmm" boot --kernel "$kernel" --mem 16M --disk "$tmp/immutable.img,ro"
	chattr -i "$tmp/immutable.img"
else
	echo "skip: chattr +i is not allowed here"
fi

expect 2 "--vsock: '2,$tmp/v.sock' is not CID,PATH with a CID from 3 to 4294967294" \
	"$vmm" boot --kernel "$kernel" --vsock "2,$tmp/v.sock"
expect 2 "--vsock: '4294967295,$tmp/v.sock' is not CID,PATH" \
	"$vmm" boot --kernel "$kernel" --vsock "4294967295,$tmp/v.sock"
expect 2 "--vsock: '$tmp/v.sock' is not CID,PATH" "$vmm" boot --kernel "$kernel" --vsock "$tmp/v.sock"
expect 2 "--vsock: the socket path must be 1 to 96 bytes long" \
	"$vmm" boot --kernel "$kernel" --vsock "3,"
expect 2 "--vsock: the socket path must be 1 to 96 bytes long" \
	"$vmm" boot --kernel "$kernel" --vsock "3,$tmp/$(printf 'x%.0s' $(seq 100))"
expect 2 "--vsock: only one is allowed" \
	"$vmm" boot --kernel "$kernel" --vsock "3,$tmp/a.sock" --vsock "4,$tmp/b.sock"
echo "not a socket" >"$tmp/plain"
expect 1 "^vmm: vsock $tmp/plain: exists and is not a socket$" \
	"$vmm" boot --kernel "$kernel" --vsock "3,$tmp/plain"
[ "$(cat "$tmp/plain")" = "not a socket" ] || { echo "FAIL: --vsock changed $tmp/plain"; fails=$((fails + 1)); }
# A socket another process listens on (another VMM, say) is left alone.
"$vsock_test" listen "unix:$tmp/busy.sock" 1 1 >"$tmp/busy.out" 2>&1 &
busy=$!
for _ in $(seq 50); do grep -q listening "$tmp/busy.out" && break; sleep 0.1; done
expect 1 "^vmm: vsock $tmp/busy.sock: in use by another process$" \
	"$vmm" boot --kernel "$kernel" --vsock "3,$tmp/busy.sock"
[ -S "$tmp/busy.sock" ] || { echo "FAIL: --vsock removed a live socket"; fails=$((fails + 1)); }
kill "$busy" 2>/dev/null
wait "$busy" 2>/dev/null

expect 2 "--net: 'eth0' is not tap=NAME\[,mac=MAC\]" "$vmm" boot --kernel "$kernel" --net eth0
expect 2 "--net: 'tap=t,color=red' is not tap=NAME\[,mac=MAC\]" \
	"$vmm" boot --kernel "$kernel" --net tap=t,color=red
expect 2 "--net: '' is not an interface name" "$vmm" boot --kernel "$kernel" --net tap=
expect 2 "--net: 'sixteen-chars-xx' is not an interface name \(1 to 15 bytes\)" \
	"$vmm" boot --kernel "$kernel" --net tap=sixteen-chars-xx
expect 2 "--net: '01:00:5e:00:00:01' is not a unicast MAC address" \
	"$vmm" boot --kernel "$kernel" --net tap=t,mac=01:00:5e:00:00:01
expect 2 "--net: '52:54:00:12:34' is not a unicast MAC address" \
	"$vmm" boot --kernel "$kernel" --net tap=t,mac=52:54:00:12:34
# --fs: every bad spec is a usage error, a missing directory a startup one.
expect 2 "--fs: '$tmp' is not TAG=HOSTDIR" "$vmm" boot --kernel "$kernel" --fs "$tmp"
expect 2 "--fs: tag 't': no HOSTDIR" "$vmm" boot --kernel "$kernel" --fs "t="
expect 2 "--fs: tag 't': unknown option 'cache=some'" \
	"$vmm" boot --kernel "$kernel" --fs "t=$tmp,cache=some"
expect 2 "--fs: tag '$(printf 'x%.0s' $(seq 37))' is longer than 36 bytes" \
	"$vmm" boot --kernel "$kernel" --fs "$(printf 'x%.0s' $(seq 37))=$tmp"
expect 1 "^vmm: fs t: $tmp/nothere: No such file or directory$" \
	"$vmm" boot --kernel "$kernel" --fs "t=$tmp/nothere,ro"
expect 1 "^vmm: fs t: $tmp/plain: Not a directory$" \
	"$vmm" boot --kernel "$kernel" --fs "t=$tmp/plain"

# vmm run / load / exec: bad input before any VM, in a store and run
# directory of our own.
export VMM_STORE=$tmp/store VMM_RUN_DIR=$tmp/run
expect 2 "vmm run: no image given" "$vmm" run
expect 2 "--ulimit: 'nofile=x' is not NAME=SOFT\[:HARD\]" "$vmm" run --ulimit nofile=x busybox
expect 2 "--ulimit: 'nofile=9:1' is not NAME=SOFT" "$vmm" run --ulimit nofile=9:1 busybox
expect 2 "--name: 'a/b' is not 1 to 64 of" "$vmm" run --name a/b busybox
expect 2 "-d does not go with -i or -t" "$vmm" run -d -t busybox
expect 2 "--workdir: 'rel' is not absolute" "$vmm" run -w rel busybox
expect 125 "^vmm run: no image 'nosuch:1' here" "$vmm" run nosuch:1 true
expect 125 "^vmm run: -v $tmp/nothere: No such file or directory$" \
	"$vmm" run -v "$tmp/nothere:/data" --rootfs "$tmp" -- true
expect 2 "-v: 'nocolon' is not HOSTPATH:CTRPATH\[:ro\]" "$vmm" run -v nocolon busybox
expect 2 "-v: '$tmp:rel' is not HOSTPATH:CTRPATH" "$vmm" run -v "$tmp:rel" busybox
expect 2 "-v: ':/data' is not HOSTPATH:CTRPATH" "$vmm" run -v :/data busybox
expect 2 "-v: '$tmp:/a/../b:ro' is not HOSTPATH:CTRPATH" "$vmm" run -v "$tmp:/a/../b:ro" busybox
expect 2 "-v: at most 7 volumes" "$vmm" run $(for i in 1 2 3 4 5 6 7 8; do echo -v "$tmp:/v$i"; done) busybox
expect 125 "^vmm run: $tmp/nothere: No such file or directory$" "$vmm" run "$tmp/nothere" true
# A kernel that cannot be loaded: no VM is made, and its one line is all.
expect_line 125 "vmm: kernel $tmp/nokernel: No such file or directory" \
	"$vmm" run --kernel "$tmp/nokernel" --rootfs "$tmp" -- true
# --net: one line naming what is wrong, 125 as docker run has it.
expect 125 "^vmm run: --net: 'bogus' is not KEY=VALUE" "$vmm" run --net bogus busybox true
expect 125 "^vmm run: --net: 'ip=169.254.3.2/24' has no tap=NAME" \
	"$vmm" run --net ip=169.254.3.2/24 busybox true
expect 125 "^vmm run: --net: ip='169.254.3.2' is not an IPv4 address with its prefix length" \
	"$vmm" run --net tap=t0,ip=169.254.3.2 busybox true
expect 125 "^vmm run: --net: ip6='fd00::2/129' is not an IPv6 address" \
	"$vmm" run --net tap=t0,ip6=fd00::2/129 busybox true
expect 125 "^vmm run: --net: gw= needs ip=" "$vmm" run --net tap=t0,gw=169.254.3.1 busybox true
expect 125 "^vmm run: --net: gw6= is not in ip6=fd00:3::2/64's network" \
	"$vmm" run --net tap=t0,ip6=fd00:3::2/64,gw6=fd00:4::1 busybox true
expect 125 "^vmm run: --net: mtu='9' is not a number from 68 to 65535" \
	"$vmm" run --net tap=t0,mtu=9 busybox true
expect 125 "^vmm run: --net: mac='ff:ff:ff:ff:ff:ff' is not a unicast MAC" \
	"$vmm" run --net tap=t0,mac=ff:ff:ff:ff:ff:ff busybox true
expect 125 "^vmm run: --net: unknown key 'bridge'" "$vmm" run --net tap=t0,bridge=br0 busybox true
expect 1 "^vmm load: $tmp/plain: Unrecognized archive format$" "$vmm" load "$tmp/plain"
expect 1 "^vmm rmi: no image 'nosuch' here$" "$vmm" rmi nosuch
expect 125 "^vmm exec: no container named nosuch" "$vmm" exec nosuch true
expect 1 "^vmm stop: no container named nosuch" "$vmm" stop nosuch
expect 0 "^NAME +IMAGE +STATUS +COMMAND$" "$vmm" ps

echo "$((n - fails)) passed, $fails failed"
[ "$fails" = 0 ]
