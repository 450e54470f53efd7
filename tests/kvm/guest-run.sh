# guest-run: sourced by the shell kvm tests that boot guests with vmm and
# check their console. Gives a scratch dir ($dir, removed on exit), files
# for the VMM's stdout and stderr ($out, $err), the command line every
# such test starts from ($base), and fail(), which shows both and exits 1.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$dir/out err=$dir/err
base="console=ttyS0 reboot=k,panic_w panic=-1 quiet"
fail() {
	echo "--- stdout"; cat "$out"; echo "--- stderr"; cat "$err"
	echo "FAIL: $*"
	exit 1
}
