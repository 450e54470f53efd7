/* files: small host file helpers the image store, the run directories
 * and the Unix sockets share. */
#ifndef VMM_FILES_H
#define VMM_FILES_H

#include <sys/un.h>

/* rm -rf path, never following symlinks. 0 also when it is not there. */
int rm_rf(const char *path);

/* mkdir -p path (mode 0755 for what it makes). */
int mkdir_p(const char *path);

/* *a for a Unix socket at path; -1 if path does not fit sun_path. */
int unix_addr(const char *path, struct sockaddr_un *a);

#endif
