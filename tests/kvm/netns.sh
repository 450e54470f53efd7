# netns: sourced by the tests and benchmarks that put a VMM on a tap. Makes
# a network namespace $ns with tap $tap (169.254.0.1/16 and fd00::1/64:
# link-local IPv4 and ULA IPv6, no route leaves the machine) and lo up; in_ns runs a command in it; the
# namespace and everything in it go on exit. Exits 77 (skip) where it
# cannot: not root, no tun driver.
[ "$(id -u)" = 0 ] || { echo "SKIP: network namespaces and taps need root"; exit 77; }
modprobe tun 2>/dev/null
# The outer machine of scripts/with-kvm has devtmpfs, but a /dev made
# before the module was loaded may lack the node.
[ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; } ||
	{ echo "SKIP: no /dev/net/tun"; exit 77; }
ns=vmmnet$$ tap=tap0 host_ip=169.254.0.1 guest_ip=169.254.0.2 host_ip6=fd00::1 guest_ip6=fd00::2
in_ns() { ip netns exec "$ns" "$@"; }
netns_cleanup() {
	# Anything still running in the namespace first.
	local p
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
}
ip netns add "$ns" || { echo "SKIP: cannot make a network namespace"; exit 77; }
in_ns ip link set lo up &&
	in_ns ip tuntap add "$tap" mode tap &&
	in_ns ip addr add "$host_ip/16" dev "$tap" &&
	in_ns ip addr add "$host_ip6/64" dev "$tap" nodad &&
	in_ns ip link set "$tap" up || { netns_cleanup; echo "FAIL: cannot set up $tap"; exit 1; }
