#!/usr/bin/env python3
"""vmm-runtime as containerd, conmon and runtime-tools call it: create,
start, state, kill, delete, exec, the pid file, stdio, the console socket,
hooks and the error log, each container in a real microVM; and its network
as Docker wires it (a veth put into the pid-file process's namespace).

usage: vmm-runtime.py BUILD_DIR   (needs /dev/kvm: run through scripts/with-kvm)
VMM_RUNTIME_ONLY=net (or crash) runs the network (or guest-crash) part alone;
VMM_RUNTIME_ONLY=netnone only its --network none container.

This script is the pid-file processes' subreaper, as containerd's shim and
conmon are, so it sees their exit status: the container's.
"""
import ctypes
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# Same rule as require-kvm.sh: a /dev/kvm without vmx/svm (PVM) hangs guests.
with open("/proc/cpuinfo") as f:
    flags = f.read().split()
if not os.path.exists("/dev/kvm") or not ("vmx" in flags or "svm" in flags):
    print("SKIP: no usable /dev/kvm: run through scripts/with-kvm")
    sys.exit(77)

build = os.path.abspath(sys.argv[1])
rt_bin = os.path.join(build, "vmm-runtime")
rootfs_src = os.path.join(build, "busybox-rootfs")
work = tempfile.mkdtemp(prefix="vmm-runtime-test.")
root = os.path.join(work, "state")
log = os.path.join(work, "log.json")
failures = 0

PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def check(ok, what, detail=""):
    global failures
    if ok:
        print("PASS:", what, flush=True)
    else:
        failures += 1
        print("FAIL:", what, detail, flush=True)


def rt(*args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120):
    return subprocess.run([rt_bin, "--root", root, "--log", log, "--log-format", "json", *args],
                          stdin=stdin, stdout=stdout, stderr=stderr, timeout=timeout)


def bundle(name, args, **kw):
    """A bundle with its own copy of the busybox rootfs and a config.json
    from `vmm-runtime spec`, changed as kw says."""
    b = os.path.join(work, name)
    os.makedirs(b)
    shutil.copytree(rootfs_src, os.path.join(b, "rootfs"), symlinks=True)
    r = rt("spec", "--bundle", b)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(b, "config.json")) as f:
        cfg = json.load(f)
    cfg["process"]["args"] = args
    cfg["process"]["terminal"] = kw.get("terminal", False)
    cfg["root"]["readonly"] = kw.get("readonly", False)
    for k in ("hostname", "hooks", "mounts"):
        if k in kw:
            cfg[k] = kw[k]
    if "env" in kw:
        cfg["process"]["env"] += kw["env"]
    if "cwd" in kw:
        cfg["process"]["cwd"] = kw["cwd"]
    if "user" in kw:
        cfg["process"]["user"] = kw["user"]
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    return b


def state(cid):
    r = rt("state", cid)
    return json.loads(r.stdout) if r.returncode == 0 else None


def reap(pid, timeout=120):
    """The pid-file process's exit status, as its subreaper sees it."""
    end = time.time() + timeout
    while time.time() < end:
        p, status = os.waitpid(pid, os.WNOHANG)
        if p == pid:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None


def create(cid, b, stdin=subprocess.DEVNULL, console=None):
    """create as containerd does it: our fds are the container's stdio."""
    out = open(os.path.join(work, cid + ".out"), "wb")
    err = open(os.path.join(work, cid + ".err"), "wb")
    pidfile = os.path.join(work, cid + ".pid")
    args = ["create", "--bundle", b, "--pid-file", pidfile]
    if console:
        args += ["--console-socket", console]
    r = rt(*args, cid, stdin=stdin, stdout=out, stderr=err)
    out.close()
    err.close()
    pid = None
    if r.returncode == 0:
        with open(pidfile) as f:
            text = f.read()
        check(text.isdigit(), f"{cid}: the pid file holds digits only", repr(text))
        pid = int(text)
    else:
        print(open(os.path.join(work, cid + ".err")).read(), file=sys.stderr)
    return r.returncode, pid


def script(name, body):
    """An executable shell script in the work directory: its path."""
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, 0o755)
    return path


def output(cid, which="out"):
    with open(os.path.join(work, f"{cid}.{which}"), "rb") as f:
        return f.read()


def wait_stopped(cid, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        s = state(cid)
        if s and s["status"] == "stopped":
            return s
        time.sleep(0.1)
    return state(cid)


def vmm_processes():
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[0].endswith(b"vmm-runtime"):
                        n += 1
            except OSError:
                pass
    return n


def last_error():
    if not os.path.exists(log):  # nothing was logged yet
        return None
    with open(log) as f:
        lines = [json.loads(l) for l in f if l.strip()]
    errs = [l for l in lines if l["level"] == "error"]
    return errs[-1] if errs else None

# The network as Docker's prestart hook leaves it: a veth with link-local
# and ULA addresses, a MAC, an MTU and default routes, its far end in a
# namespace of the test's own (the bridge's side). Only namespaces and
# links this test makes; nothing leaves the machine.
NETSETUP = r"""#!/bin/sh
# netsetup.sh HOSTNS TARGET N: a veth pair, vrtNh in HOSTNS at
# 169.254.N.1/24 and fd00:N::1/64, its peer as eth0 in TARGET (a named
# namespace, or "-": the pid in the OCI state on stdin, as a prestart hook
# gets it) at .2 and ::2 with MAC 02:42:a9:fe:0N:02, MTU 1400 and
# default routes through the far end.
set -e
PATH=/usr/sbin:/usr/bin:/sbin:/bin
hostns=$1 target=$2 n=$3
if [ "$target" = - ]; then
	target=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p')
	path=/proc/$target/ns/net
else
	path=/run/netns/$target
fi
ip link add vrt${n}h type veth peer name vrt${n}c
ip link set vrt${n}h netns "$hostns"
ip link set vrt${n}c netns "$target"
c="nsenter --net=$path"
$c ip link set vrt${n}c name eth0
$c ip link set eth0 address 02:42:a9:fe:0$n:02 mtu 1400
$c ip addr add 169.254.$n.2/24 dev eth0
$c ip addr add fd00:$n::2/64 dev eth0 nodad
$c ip link set eth0 up
$c ip route add default via 169.254.$n.1
$c ip -6 route add default via fd00:$n::1
ip -n "$hostns" link set lo up
ip -n "$hostns" link set vrt${n}h mtu 1400 up
ip -n "$hostns" addr add 169.254.$n.1/24 dev vrt${n}h
ip -n "$hostns" addr add fd00:$n::1/64 dev vrt${n}h nodad
"""

# What the container checks, then it stays (the test ends it).
NET_GUEST = """(sleep 300 2>/dev/null | nc -l -p 5102 >/tmp/got) &
echo "mac=$(cat /sys/class/net/eth0/address) mtu=$(cat /sys/class/net/eth0/mtu)"
ip addr show dev eth0; ip route show; ip -6 route show
ping -c 1 -W 20 169.254.N.1 >/dev/null && echo ping4 ok
ping6 -c 1 -W 20 fd00:N::1 >/dev/null && echo ping6 ok
echo guest-to-host-v4 | nc 169.254.N.1 5101 && echo tcp4 sent
echo guest-to-host-v6 | nc fd00:N::1 5103 && echo tcp6 sent
for i in $(seq 300); do [ -s /tmp/got ] && break; sleep 0.5; done
echo "got=$(cat /tmp/got)"
echo done
exec sleep 1000"""


def net_container(cid, n, hostns, netns_path=None, hook=None):
    """Creates and starts cid with the network of netsetup.sh number n
    (already in netns_path, or put there by a prestart hook), runs
    NET_GUEST against the far end's listeners and client, and checks what
    it saw. Returns the pid-file process's pid (the container still
    runs), or None."""
    b = bundle(cid, ["sh", "-c", NET_GUEST.replace("N", str(n))],
               hooks={"prestart": [hook]} if hook else {})
    with open(os.path.join(b, "config.json")) as f:
        cfg = json.load(f)
    nss = [x for x in cfg["linux"]["namespaces"] if x["type"] != "network"]
    nss.append({"type": "network", "path": netns_path} if netns_path else {"type": "network"})
    cfg["linux"]["namespaces"] = nss
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    h = ["ip", "netns", "exec", hostns]
    bb = "/bin/busybox"
    # The far end's listeners: stdin a sleep, so they do not close first.
    got = {port: os.path.join(work, f"{cid}.{port}") for port in (5101, 5103)}
    listeners = [subprocess.Popen(h + ["sh", "-c", f"sleep 300 2>/dev/null | {bb} nc -l -p {port} >{f}"],
                                  start_new_session=True) for port, f in got.items()]
    pid = None
    try:
        rc, pid = create(cid, b)
        check(rc == 0, f"{cid}: create with the container's network", output(cid, "err"))
        if rc:
            return None
        r = rt("start", cid)
        check(r.returncode == 0, f"{cid}: start", r.stderr)
        end = time.time() + 300
        while time.time() < end and b"\ndone\n" not in output(cid):
            if b"got=" not in output(cid):
                # Until the container's listener has it (refused before).
                subprocess.run(["timeout", "5"] + h + [bb, "nc", f"169.254.{n}.2", "5102"],
                               input=b"host-to-guest\n", stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            time.sleep(0.5)
    finally:
        for p in listeners:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    out = output(cid).decode(errors="replace")
    h4, h6 = (open(f, "rb").read() if os.path.exists(f) else b"" for f in got.values())
    check(f"mac=02:42:a9:fe:0{n}:02 mtu=1400\n" in out,
          f"{cid}: the guest's eth0 has the veth's MAC and MTU", out)
    check(f"inet 169.254.{n}.2/24 " in out and f"inet6 fd00:{n}::2/64 " in out,
          f"{cid}: ... and its IPv4 and IPv6 addresses", out)
    check(f"default via 169.254.{n}.1 dev eth0" in out and
          f"default via fd00:{n}::1 dev eth0" in out,
          f"{cid}: ... and its default routes, on eth0", out)
    check("ping4 ok" in out and "ping6 ok" in out,
          f"{cid}: the container pings the far end over IPv4 and IPv6", out)
    check("tcp4 sent" in out and h4 == b"guest-to-host-v4\n" and
          "tcp6 sent" in out and h6 == b"guest-to-host-v6\n",
          f"{cid}: TCP container -> far end over IPv4 and IPv6", (out, h4, h6))
    check("got=host-to-guest" in out, f"{cid}: TCP far end -> container", out)
    # eth0 is in the container's own network namespace: an exec must
    # join it to see it.
    r = rt("exec", cid, "cat", "/sys/class/net/eth0/address")
    check(r.returncode == 0 and r.stdout == f"02:42:a9:fe:0{n}:02\n".encode(),
          f"{cid}: an exec sees the same eth0", (r.returncode, r.stdout, r.stderr))
    return pid


def tap_in(ns):
    return subprocess.run(["ip", "-n", ns, "link", "show", "vmmtap0"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def net_modules():
    """What every container here needs (a spec's config has a network
    namespace, so the shim makes a tap) and the network part uses."""
    for m in ("tun", "veth", "sch_ingress", "cls_u32", "act_mirred"):
        subprocess.run(["modprobe", m], stderr=subprocess.DEVNULL)
    if not os.path.exists("/dev/net/tun"):
        os.makedirs("/dev/net", exist_ok=True)
        os.mknod("/dev/net/tun", 0o666 | 0o020000, os.makedev(10, 200))


# What a container without a network sees (Docker's --network none):
# its interfaces, whether lo is up (ping 127.0.0.1), then it stays.
NONE_GUEST = """ls /sys/class/net; echo "links=$(ip -o link | wc -l)"
ip -o link show lo | grep -q ',UP' && echo lo-up
ping -c 1 -W 10 127.0.0.1 >/dev/null && echo ping-lo
echo done
exec sleep 1000"""


def net_none_test(nsname):
    """Docker's --network none: a fresh namespace with lo alone, no hook.
    The shim still makes its tap there (the VM's NIC exists from boot,
    before anyone knows), but the container, and an exec into it, see lo
    alone and up, as runc's container does; delete --force leaves no tap."""
    b = bundle("netnone", ["sh", "-c", NONE_GUEST])
    with open(os.path.join(b, "config.json")) as f:
        cfg = json.load(f)
    nss = [x for x in cfg["linux"]["namespaces"] if x["type"] != "network"]
    nss.append({"type": "network", "path": f"/run/netns/{nsname}"})
    cfg["linux"]["namespaces"] = nss
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    rc, pid = create("netnone", b)
    check(rc == 0, "netnone: create in a namespace with lo alone", output("netnone", "err"))
    if rc:
        return
    r = rt("start", "netnone")
    end = time.time() + 120
    while time.time() < end and b"done\n" not in output("netnone"):
        time.sleep(0.2)
    check(tap_in(nsname), "netnone: the shim's tap is in the namespace while the VM runs")
    check(output("netnone") == b"lo\nlinks=1\nlo-up\nping-lo\ndone\n",
          "netnone: the container sees lo alone, up (ping 127.0.0.1 answers)",
          (output("netnone"), output("netnone", "err")))
    r = rt("exec", "netnone", "sh", "-c",
           '[ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ] && echo same; '
           "ls /sys/class/net; ping -c 1 -W 10 127.0.0.1 >/dev/null && echo ping-lo")
    check(r.returncode == 0 and r.stdout == b"same\nlo\nping-lo\n",
          "netnone: an exec is in the container's network namespace and sees the same",
          (r.returncode, r.stdout, r.stderr))
    r = rt("delete", "--force", "netnone")
    status = reap(pid) if pid else None
    time.sleep(0.5)
    check(r.returncode == 0 and status is not None and not tap_in(nsname) and
          vmm_processes() == 0 and not os.path.exists(os.path.join(root, "netnone")),
          "netnone: delete --force: no tap, no VMM, no state", (r.stderr, status))


def net_tests():
    if os.getuid() != 0:
        print("SKIP: the network part needs root")
        return
    setup = os.path.join(work, "netsetup.sh")
    with open(setup, "w") as f:
        f.write(NETSETUP)
    os.chmod(setup, 0o755)
    tag = str(os.getpid())
    names = {k: f"vmmrt{k}{tag}" for k in ("a", "ha", "hb", "c", "n")}
    try:
        for ns in names.values():
            subprocess.run(["ip", "netns", "add", ns], check=True)
        # 9d. No network (first: VMM_RUNTIME_ONLY=netnone stops after it).
        net_none_test(names["n"])
        if os.environ.get("VMM_RUNTIME_ONLY") == "netnone":
            return
        # 9a. The config names the namespace (the engine made it first):
        #     the shim joins it; killing the pid-file process takes the tap
        #     and the VM, and the namespace's eth0 stays.
        r = subprocess.run([setup, names["ha"], names["a"], "7"], capture_output=True)
        check(r.returncode == 0, "the test's veth in a named namespace", r.stderr)
        pid = net_container("neta", 7, names["ha"], netns_path=f"/run/netns/{names['a']}")
        link = subprocess.run(["ip", "-n", names["a"], "link", "show", "vmmtap0"],
                              capture_output=True, text=True).stdout
        check("mtu 1400 " in link and ",UP," in link,
              "neta: vmmtap0 in the container's namespace while it runs, up, the veth's MTU", link)
        if pid:
            os.kill(pid, signal.SIGKILL)
            reap(pid)
            time.sleep(0.5)
        check(not tap_in(names["a"]) and subprocess.run(
            ["ip", "-n", names["a"], "link", "show", "eth0"], capture_output=True).returncode == 0,
              "neta: SIGKILL of the pid-file process: no tap left, eth0 still there")
        check(vmm_processes() == 0, "neta: no VMM process left")
        r = rt("delete", "neta")
        check(r.returncode == 0 and not os.path.exists(os.path.join(root, "neta")),
              "neta: delete removes its state", r.stderr)
        # 9b. As Docker does it: a namespace of the shim's own, the veth
        #     put there by a prestart hook; delete --force ends it all.
        pid = net_container("netb", 8, names["hb"], hook={
            "path": setup, "args": ["netsetup.sh", names["hb"], "-", "8"]})
        r = rt("delete", "--force", "netb")
        status = reap(pid) if pid else None
        time.sleep(0.5)
        far = subprocess.run(["ip", "-n", names["hb"], "link", "show", "vrt8h"], capture_output=True)
        check(r.returncode == 0 and status is not None and vmm_processes() == 0 and
              not os.path.exists(os.path.join(root, "netb")) and far.returncode != 0,
              "netb: delete --force: no VMM process, no state, the namespace (and the veth) gone",
              (r.stderr, status))
        # 9c. Two interfaces: one NIC per VM here, so create fails with
        #     one error and leaves nothing.
        subprocess.run(["ip", "-n", names["c"], "link", "add", "x0", "type", "veth", "peer",
                        "name", "x1"], check=True)
        b = bundle("netc", ["true"])
        with open(os.path.join(b, "config.json")) as f:
            cfg = json.load(f)
        for x in cfg["linux"]["namespaces"]:
            if x["type"] == "network":
                x["path"] = f"/run/netns/{names['c']}"
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(cfg, f)
        rc, pid = create("netc", b)
        time.sleep(0.5)
        e = output("netc", "err")
        check(rc != 0 and (b"more than one interface (x0, x1)" in e or
                           b"more than one interface (x1, x0)" in e) and
              not os.path.exists(os.path.join(root, "netc")) and not tap_in(names["c"]) and
              vmm_processes() == 0,
              "netc: two interfaces: create fails with one error, no state, no tap, no VMM",
              output("netc", "err"))
    finally:
        for ns in names.values():
            subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)


class Only(Exception):
    pass


def crash_test():
    # The eater runs from /dev (a tmpfs; /dev/shm is noexec): run from the
    # virtio-fs rootfs, its own text is what the kernel evicts and faults
    # back in near the end, a thrash that can hold the OOM (and the panic)
    # off for minutes.
    b = bundle("crash", ["sh", "-c", "echo 1 >/proc/sys/vm/panic_on_oom && "
                         "cp /bin/busybox /dev/busybox && echo armed && "
                         "exec /dev/busybox tail /dev/zero"])
    rc, pid = create("crash", b)
    if rc != 0:
        check(False, "create of the crash container", output("crash", "err"))
        return
    rt("start", "crash")
    status = reap(pid, timeout=600)
    err = output("crash", "err").decode(errors="replace")
    e = last_error()
    check(status == 255 and output("crash") == b"armed\n" and
          "vmm: guest kernel panicked" in err and
          "the VM stopped (status 3) while the container ran" in err and e and
          "while the container ran" in e["msg"],
          "a guest panic under a running container: the pid-file process exits 255, the "
          "reason on stderr and in the log", (status, output("crash"), err, e))
    s = wait_stopped("crash")
    check(s and s["status"] == "stopped", "state says stopped", s)
    r = rt("delete", "crash")
    check(r.returncode == 0 and not os.path.exists(os.path.join(root, "crash")),
          "delete after the crash removes its state", r.stderr)

    # A guest that ends before its agent is up (the marker init prints its
    # line and resets): create fails, and since it removes the state
    # directory, the report carries the end of the guest's console.
    b = bundle("noagent", ["true"])
    os.environ["VMM_INITRD"] = os.path.join(build, "guest", "marker-initramfs.cpio.gz")
    try:
        rc, _ = create("noagent", b)
    finally:
        del os.environ["VMM_INITRD"]
    err = output("noagent", "err").decode(errors="replace")
    e = last_error()
    check(rc != 0 and "the VM ended before its agent was ready; the end of its console:" in err and
          "VMM-GUEST-INIT-OK" in err and e and "VMM-GUEST-INIT-OK" in e["msg"] and
          not os.path.exists(os.path.join(root, "noagent")),
          "a guest that ends before its agent: create fails with the console's end on stderr "
          "and in the log, and leaves no state", (rc, err, e))

    # A guest whose agent never connects (its init only sleeps): the boot
    # timeout (VMM_BOOT_TIMEOUT, 60 s by default) stops it; create fails
    # with the reason and the console's end. A bad VMM_BOOT_TIMEOUT is one
    # clear line.
    hang = os.path.join(work, "hang-initramfs")
    os.makedirs(os.path.join(hang, "bin"))
    shutil.copy("/bin/busybox", os.path.join(hang, "bin", "busybox"))
    with open(os.path.join(hang, "init"), "w") as f:
        f.write("#!/bin/busybox sh\necho init-that-hangs\nexec /bin/busybox sleep 100000\n")
    os.chmod(os.path.join(hang, "init"), 0o755)
    cpio = subprocess.run("find . | cpio -o -H newc --quiet | gzip", shell=True, cwd=hang,
                          capture_output=True, check=True).stdout
    with open(hang + ".cpio.gz", "wb") as f:
        f.write(cpio)
    b = bundle("hang", ["true"])
    os.environ.update(VMM_INITRD=hang + ".cpio.gz", VMM_BOOT_TIMEOUT="5")
    try:
        rc, _ = create("hang", b)
    finally:
        del os.environ["VMM_INITRD"], os.environ["VMM_BOOT_TIMEOUT"]
    err = output("hang", "err").decode(errors="replace")
    check(rc != 0 and "the guest's agent did not connect within 5 s; the end of its console:"
          in err and "init-that-hangs" in err and not os.path.exists(os.path.join(root, "hang")),
          "a guest whose agent never connects: create fails after VMM_BOOT_TIMEOUT with the "
          "reason and the console's end, and leaves no state", (rc, err))
    b = bundle("badtimeout", ["true"])
    os.environ["VMM_BOOT_TIMEOUT"] = "soon"
    try:
        rc, _ = create("badtimeout", b)
    finally:
        del os.environ["VMM_BOOT_TIMEOUT"]
    err = output("badtimeout", "err").decode(errors="replace")
    check(rc != 0 and "VMM_BOOT_TIMEOUT: 'soon' is not a duration from 1 s to 24h" in err and
          not os.path.exists(os.path.join(root, "badtimeout")),
          "a malformed VMM_BOOT_TIMEOUT: create fails with one line", (rc, err))


try:
    net_modules()
    if os.environ.get("VMM_RUNTIME_ONLY") == "crash":
        crash_test()
        raise Only()
    net_tests()
    if os.environ.get("VMM_RUNTIME_ONLY") in ("net", "netnone"):
        raise Only()

    # 1. The life of a container: created, running, stopped; stdio apart;
    #    the exit status is the pid-file process's.
    b = bundle("life", ["sh", "-c", "echo out; echo err >&2; sleep 1; exit 3"],
               hostname="box", env=["GREETING=hi there"], cwd="/tmp",
               user={"uid": 1000, "gid": 1001})
    rc, pid = create("life", b)
    s = state("life")
    check(rc == 0 and s and s["status"] == "created" and s["pid"] == pid and
          s["bundle"] == b and s["id"] == "life",
          "create leaves a created container whose state pid is the pid file's", s)
    r = rt("start", "life")
    s = state("life")
    check(r.returncode == 0 and s["status"] in ("running", "stopped"), "start runs it",
          r.stderr)
    status = reap(pid)
    check(status == 3, "the pid-file process exits with the container's status (3)", status)
    check(output("life") == b"out\n" and output("life", "err") == b"err\n",
          "stdout and stderr arrive apart", (output("life"), output("life", "err")))
    s = wait_stopped("life")
    check(s["status"] == "stopped" and s["pid"] == 0, "state says stopped, pid 0", s)
    r = rt("delete", "life")
    check(r.returncode == 0 and not os.path.exists(os.path.join(root, "life")),
          "delete removes its state", r.stderr)

    # 1b. run: create, start, wait and delete in one, in the foreground.
    b = bundle("runner", ["sh", "-c", "echo ran; exit 6"])
    r = rt("run", "--bundle", b, "runner")
    check(r.returncode == 6 and r.stdout == b"ran\n" and
          not os.path.exists(os.path.join(root, "runner")),
          "run: the container's output and status (6), and no state left", (r.returncode, r.stdout, r.stderr))

    # 2. What the process sees: hostname, env, cwd, uid/gid, pid 1.
    b = bundle("inside", ["sh", "-c", 'echo "$(hostname) $GREETING $(pwd) $(id -u):$(id -g) $$"'],
               hostname="box", env=["GREETING=hi"], cwd="/tmp", user={"uid": 1000, "gid": 1001})
    rc, pid = create("inside", b)
    rt("start", "inside")
    status = reap(pid)
    check(status == 0 and output("inside") == b"box hi /tmp 1000:1001 2\n",
          "hostname, env, cwd and uid:gid as the config says", output("inside"))
    rt("delete", "inside")

    # 3. stdin from the caller, EOF included.
    b = bundle("stdin", ["wc", "-l"])
    with open(os.path.join(work, "two-lines"), "wb") as f:
        f.write(b"a\nb\n")
    with open(os.path.join(work, "two-lines"), "rb") as f:
        rc, pid = create("stdin", b, stdin=f)
    rt("start", "stdin")
    status = reap(pid)
    check(status == 0 and output("stdin").strip() == b"2", "stdin reaches the container",
          output("stdin"))
    rt("delete", "stdin")

    # 4. kill by name and number; state notices by itself; errors as
    #    containerd matches them.
    b = bundle("sleeper", ["sleep", "1000"])
    rc, pid = create("sleeper", b)
    rt("start", "sleeper")
    check(state("sleeper")["status"] == "running", "a started container is running")
    r = rt("kill", "sleeper", "SIGNOPE")
    check(r.returncode != 0 and b"unknown signal 'SIGNOPE'" in r.stderr and
          state("sleeper")["status"] == "running",
          "kill with an unknown signal name: one error, the container runs on", r.stderr)
    r = rt("kill", "sleeper", "SIGTERM")
    status = reap(pid)
    check(r.returncode == 0 and status == 143, "kill SIGTERM: the pid-file process exits 143",
          (r.stderr, status))
    s = wait_stopped("sleeper")
    check(s["status"] == "stopped", "state notices the end", s)
    r = rt("kill", "sleeper", "15")
    check(r.returncode != 0 and b"container not running" in r.stderr,
          "kill of a stopped container: 'container not running'", r.stderr)
    rt("delete", "sleeper")
    r = rt("kill", "sleeper", "KILL")
    e = last_error()
    check(r.returncode != 0 and "does not exist" in e["msg"] and
          time.strptime(e["time"][:19], "%Y-%m-%dT%H:%M:%S"),
          "kill of a deleted container: 'does not exist' in a JSON log line with an RFC 3339 time",
          e)

    # 5. exec --process, detached with its own pid-file process, and in the
    #    foreground.
    b = bundle("execs", ["sleep", "1000"])
    rc, pid = create("execs", b)
    rt("start", "execs")
    proc = {"args": ["sh", "-c", "echo exec $(hostname); exit 5"], "cwd": "/", "env": ["A=1"],
            "user": {"uid": 0, "gid": 0}, "terminal": False}
    with open(os.path.join(work, "process.json"), "w") as f:
        json.dump(proc, f)
    epid_file = os.path.join(work, "exec.pid")
    with open(os.path.join(work, "exec.out"), "wb") as out:
        r = rt("exec", "--process", os.path.join(work, "process.json"), "--detach",
               "--pid-file", epid_file, "execs", stdout=out)
    epid = int(open(epid_file).read()) if r.returncode == 0 else None
    estatus = reap(epid) if epid else None
    check(r.returncode == 0 and estatus == 5 and open(os.path.join(work, "exec.out")).read() ==
          "exec vmm\n", "exec --detach: its pid-file process relays and exits with 5",
          (r.stderr, estatus))
    r = rt("exec", "execs", "sh", "-c", "echo foreground; exit 4")
    check(r.returncode == 4 and r.stdout == b"foreground\n", "exec in the foreground",
          (r.returncode, r.stdout, r.stderr))
    r = rt("delete", "execs")
    check(r.returncode != 0 and b"not stopped" in r.stderr,
          "delete of a running container without --force is refused", r.stderr)
    r = rt("delete", "--force", "execs")
    status = reap(pid)
    check(r.returncode == 0 and status is not None and
          not os.path.exists(os.path.join(root, "execs")),
          "delete --force ends the VM and removes the state", (r.stderr, status))

    # 6. A terminal through --console-socket: the pty master arrives with
    #    SCM_RIGHTS, and the process has a tty.
    b = bundle("tty", ["sh", "-c", "tty; read line; echo got $line"], terminal=True)
    sock_path = os.path.join(work, "console.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    srv.listen(1)
    rc, pid = create("tty", b, console=sock_path)
    conn, _ = srv.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 1024, 1)
    check(rc == 0 and len(fds) == 1 and msg.startswith(b"/dev/pts/"),
          "the console socket gets the pty master and its name", (rc, msg, fds))
    rt("start", "tty")
    master = fds[0] if fds else -1
    os.write(master, b"hello\n")
    seen = b""
    end = time.time() + 60
    while time.time() < end and b"got hello" not in seen:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    check(b"/dev/pts/" in seen and b"got hello" in seen,
          "the process has a tty and reads what the master writes", seen)
    status = reap(pid)
    check(status == 0, "the terminal container exits 0", status)
    rt("delete", "tty")

    # 7. Hooks: prestart and createRuntime get the state on stdin during
    #    create, poststart after start, poststop on delete; a failing
    #    prestart hook fails create and leaves nothing.
    hook = script("hook.sh", "cat > \"$1\"")
    hooks = {k: [{"path": hook, "args": ["hook.sh", os.path.join(work, k + ".state")]}]
             for k in ("prestart", "createRuntime", "poststart", "poststop")}
    b = bundle("hooks", ["true"], hooks=hooks)
    rc, pid = create("hooks", b)
    st = json.load(open(os.path.join(work, "prestart.state")))
    check(rc == 0 and st["id"] == "hooks" and st["pid"] == pid and
          os.path.exists(os.path.join(work, "createRuntime.state")),
          "prestart and createRuntime run during create with the state", st)
    rt("start", "hooks")
    check(os.path.exists(os.path.join(work, "poststart.state")), "poststart runs on start")
    reap(pid)
    rt("delete", "hooks")
    check(os.path.exists(os.path.join(work, "poststop.state")), "poststop runs on delete")
    # What a failing hook wrote is in the error (as runc reports it), not
    # in the container's stdio (ours, in create).
    bad = script("bad-hook.sh", "echo 'no network for you' >&2\necho out-line\nexit 3")
    b = bundle("badhook", ["true"], hooks={"prestart": [{"path": bad}]})
    rc, pid = create("badhook", b)
    err = output("badhook", "err")
    check(rc != 0 and err.count(b"no network for you") == 1 and
          re.search(rb"prestart hook \S+bad-hook.sh: exit status 3, it said: "
                    rb"(no network for you out-line|out-line no network for you)", err) and
          output("badhook") == b"" and not os.path.exists(os.path.join(root, "badhook")),
          "a failing prestart hook fails create with what it said, and leaves no state", err)
    # A hook that fails because the VM went away (here: it kills the shim,
    # the state's pid): the error says the VM had ended, not only what the
    # hook said.
    killer = script("kill-hook.sh", "pid=$(sed 's/.*\"pid\": *\\([0-9]*\\).*/\\1/')\n"
                    "kill -9 \"$pid\"\nwhile kill -0 \"$pid\" 2>/dev/null && "
                    "! grep -q '^State:.*Z' /proc/$pid/status; do sleep 0.1; done\n"
                    "echo 'no such file or directory' >&2\nexit 1")
    b = bundle("killhook", ["true"], hooks={"prestart": [{"path": killer}]})
    rc, pid = create("killhook", b)
    err = output("killhook", "err")
    check(rc != 0 and re.search(rb"prestart hook \S+kill-hook.sh: exit status 1, it said: no such "
                                rb"file or directory; the container's VM \(pid \d+\) had ended: "
                                rb"signal 9", err) and
          not os.path.exists(os.path.join(root, "killhook")),
          "a hook failing after the VM ended: create says the VM had ended", err)

    # 8. Mounts: binds of host directories (rw and ro) and of a single
    #    file, a tmpfs; the guest sees the bound file and not its
    #    neighbours; no host mount is left.
    data = os.path.join(work, "data")
    rodata = os.path.join(work, "rodata")
    etc = os.path.join(work, "etc")
    for p in (data, rodata, etc):
        os.makedirs(p)
    open(os.path.join(data, "in"), "w").write("from-host\n")
    open(os.path.join(rodata, "ro"), "w").write("ro-file\n")
    open(os.path.join(etc, "resolv.conf"), "w").write("nameserver 169.254.0.53\n")
    open(os.path.join(etc, "secret"), "w").write("not for the guest\n")
    script = ("cat /data/in /ro/ro /etc/resolv.conf; echo from-guest > /data/out; "
              "touch /ro/x 2>/dev/null && echo ro-writable; "
              "grep -c ' /scratch tmpfs' /proc/mounts; "
              "mkdir /m && mount -t virtiofs files /m && ls /m")
    mounts = [{"destination": "/proc", "type": "proc", "source": "proc"},
              {"destination": "/data", "type": "bind", "source": data, "options": ["rbind", "rw"]},
              {"destination": "/ro", "type": "bind", "source": rodata, "options": ["rbind", "ro"]},
              {"destination": "/etc/resolv.conf", "type": "bind",
               "source": os.path.join(etc, "resolv.conf"), "options": ["rbind", "rprivate"]},
              {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "mode=755", "size=1m"]}]
    b = bundle("mounts", ["sh", "-c", script], mounts=mounts)
    rc, pid = create("mounts", b)
    rt("start", "mounts")
    status = reap(pid)
    got = output("mounts").decode()
    check(status == 0 and got == "from-host\nro-file\nnameserver 169.254.0.53\n1\nf0\n" and
          open(os.path.join(data, "out")).read() == "from-guest\n" and
          not os.path.exists(os.path.join(rodata, "x")),
          "bind mounts rw/ro and a file bind; a tmpfs; the guest sees the file, not its neighbours",
          (status, got, output("mounts", "err")))
    with open("/proc/self/mountinfo") as f:
        check(root not in f.read(), "no mount is left on the host")
    rt("delete", "mounts")
    b = bundle("nosrc", ["true"], mounts=[{"destination": "/x", "type": "bind",
                                            "source": os.path.join(work, "missing")}])
    rc, pid = create("nosrc", b)
    check(rc != 0 and b"does not exist" in output("nosrc", "err") and
          not os.path.exists(os.path.join(root, "nosrc")),
          "a bind of a missing source: one error, nothing left", output("nosrc", "err"))

    # 11. The guest dies under a running container: the runtime reports it
    #     stopped, with an error. The agent is the guest's PID 1, so its
    #     crash is a guest panic, and a container cannot reach it (its own
    #     pid namespace); so the container causes a real panic here instead:
    #     panic_on_oom, then it eats the guest's memory.
    crash_test()

    # 9. Bad input: one clear error each, nothing made.
    b = os.path.join(work, "nobundle")
    os.makedirs(b)
    r = rt("create", "--bundle", b, "bad1")
    check(r.returncode != 0 and b"config.json: does not exist" in r.stderr and
          not os.path.exists(os.path.join(root, "bad1")), "a missing config.json", r.stderr)
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": "sh"}}')
    r = rt("create", "--bundle", b, "bad2")
    check(r.returncode != 0 and b"process.args" in r.stderr, "process.args of the wrong type",
          r.stderr)
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/"}}')
    r = rt("create", "--bundle", b, "bad3")
    check(r.returncode != 0 and b"process.args" in r.stderr, "process.args missing", r.stderr)
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write('{"ociVersion": "2.0.0", "root": {"path": "rootfs"}, "process": {"args": ["sh"]}}')
    r = rt("create", "--bundle", b, "bad4")
    check(r.returncode != 0 and b"ociVersion: 2.0.0 is not supported" in r.stderr,
          "an unknown ociVersion", r.stderr)
    with open(os.path.join(b, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": [')
    r = rt("create", "--bundle", b, "bad5")
    check(r.returncode != 0 and b"config.json" in r.stderr and len(r.stderr.splitlines()) == 1,
          "a config.json that is not JSON: one line", r.stderr)
    for bad_id in ("../evil", "a/b", ".."):
        r = rt("create", "--bundle", b, bad_id)
        check(r.returncode != 0 and b"invalid container id" in r.stderr,
              f"a container id {bad_id!r} is refused", r.stderr)
    time.sleep(0.5)
    check(vmm_processes() == 0, "no vmm-runtime process is left")
    check(not os.listdir(root), "no state is left", os.listdir(root))
except Only:
    pass
finally:
    for cid in os.listdir(root) if os.path.isdir(root) else []:
        rt("delete", "--force", cid)
    shutil.rmtree(work, ignore_errors=True)

print(f"vmm-runtime: {failures} failed")
sys.exit(1 if failures else 0)
