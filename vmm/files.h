/* files: small host file helpers the image store, the run directories
 * and the Unix sockets share. */
#ifndef VMM_FILES_H
#define VMM_FILES_H

#include <stddef.h>
#include <sys/un.h>

/* rm -rf path, never following symlinks. 0 also when it is not there. */
int rm_rf(const char *path);

/* mkdir -p path (mode 0755 for what it makes). */
int mkdir_p(const char *path);

/* The whole of the regular file at path, NUL-terminated (*len bytes
 * without the NUL; free it), or NULL with errno: open's, EINVAL if it is
 * not a regular file, EFBIG if it is longer than max, EIO if it could not
 * be read whole. For small documents (configs, manifests) read at once. */
char *file_read_all(const char *path, size_t max, size_t *len);

/* *a for a Unix socket at path; -1 if path does not fit sun_path. */
int unix_addr(const char *path, struct sockaddr_un *a);

#endif
