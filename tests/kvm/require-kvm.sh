# require-kvm: sourced by the shell kvm tests; exits 77 (ctest skip) with
# the reason unless /dev/kvm is usable. Same rule as scripts/with-kvm and
# kvm_usable.h: a /dev/kvm without vmx/svm (PVM) hangs real guests.
[ -c /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo ||
	{ echo "SKIP: no usable /dev/kvm: run through scripts/with-kvm"; exit 77; }
