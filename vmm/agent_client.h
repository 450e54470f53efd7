/*
 * agent_client: the host side of the agent protocol (agent/proto.h) over
 * a VM's hybrid vsock socket. Blocking calls, for one client thread.
 *
 * The agent connects to host port PROTO_AGENT_PORT when it is ready, which
 * the VMM turns into a connection to the Unix socket PATH_1024: the
 * client listens there before the VM boots (agent_listen) and takes that
 * connection as its control connection (agent_accept). Stdio streams are
 * host-initiated connections through PATH ("CONNECT 1024").
 */
#ifndef VMM_AGENT_CLIENT_H
#define VMM_AGENT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The kernel command line a VM with the agent boots with (before the
 * devices). random.trust_cpu=on: the guest's CRNG is ready at boot (from
 * RDRAND) rather than after seconds of jitter entropy gathering, which
 * anything reading /dev/urandom early (jansson in the agent does) would
 * wait for. */
#define AGENT_CMDLINE "console=ttyS0 reboot=k,panic_w panic=-1 quiet random.trust_cpu=on"

/* Seconds a connection through the vsock socket may take to be answered
 * (the hybrid vsock "OK" and the agent's hello). */
#define AGENT_DIAL_TIMEOUT 20

/* Seconds a guest has, by default, from its start until its agent
 * connects (vmm run --boot-timeout, vmm-runtime's VMM_BOOT_TIMEOUT): a
 * guest that hangs in its kernel or never starts the agent is stopped
 * rather than waited for forever. Boots take about a second, several
 * under emulation. */
#define AGENT_BOOT_TIMEOUT 60

struct agent_client {
	char vsock_path[108]; /* the VM's --vsock PATH */
	char listen_path[128];
	int listen_fd;
	int ctl; /* the control connection, -1 until accepted */
	json_int_t next_id;
};

/* Listens on PATH_1024 for the agent. Before the VM starts. Returns 0 or
 * -1 with err. */
int agent_listen(struct agent_client *a, const char *vsock_path, char *err, size_t errlen);

/* Waits for the agent's connection and says hello. Returns 0, or -1 with
 * err (also when agent_abort() was called). */
int agent_accept(struct agent_client *a, char *err, size_t errlen);

/* Makes agent_accept() return: the VM ended first. Any thread. */
void agent_abort(struct agent_client *a);

/* Sends req (taking its reference) with the next id. Returns the id, or
 * -1 with err. */
json_int_t agent_send(struct agent_client *a, json_t *req, char *err, size_t errlen);

/* Sends req and waits for its response (other messages before it are an
 * error). Returns the response (ok or not), or NULL with err. */
json_t *agent_call(struct agent_client *a, json_t *req, char *err, size_t errlen);

/* Opens n stdio streams (roles[i]: "stdin", "stdout" or "stderr") of a
 * container's process (exec_id NULL: its own) into fds[i]. The
 * handshakes go step by step over all of them at once (connects, their
 * answers, hellos, theirs): two round trips to the guest, not two per
 * stream. The agent keeps a process's output until its stream is
 * attached, so the order they attach in does not matter. Returns 0, or
 * -1 with err and every fds[i] -1. */
int agent_streams(struct agent_client *a, const char *const *roles, int n, const char *container,
		  const char *exec_id, int *fds, char *err, size_t errlen);

/* A control connection of our own to a running VM's agent, through its
 * vsock PATH (for `vmm exec`); no listening. Returns 0 or -1 with err. */
int agent_connect(struct agent_client *a, const char *vsock_path, char *err, size_t errlen);

/* Bounds every later send and receive on the control connection to
 * seconds (0: no bound), for one-shot requests that must not hang on a VM
 * that is going away. Returns 0, or -1 if there is no connection. */
int agent_set_timeout(struct agent_client *a, int seconds);

void agent_close(struct agent_client *a);

#endif
