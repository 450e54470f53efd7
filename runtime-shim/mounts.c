/* mounts: OCI mounts into shares and agent mounts; see mounts.h. */
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "errf.h"

/* What the agent sets up itself for every container. */
static bool agent_made(const char *dst)
{
	static const char *const own[] = {"/proc", "/sys", "/dev", "/dev/pts", "/dev/shm"};
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!strcmp(dst, own[i]))
			return true;
	return false;
}

static bool has_option(const struct oci_mount *om, const char *opt)
{
	for (char **o = om->options; o && *o; o++)
		if (!strcmp(*o, opt))
			return true;
	return false;
}

/* The share of directory dir (made if new), or -1 when there are too
 * many. */
static int share_for(struct rt_mounts *m, const char *dir, bool ro)
{
	for (int i = 0; i < m->nshares; i++)
		if (m->shares[i].dir && !strcmp(m->shares[i].dir, dir)) {
			m->shares[i].ro &= ro;
			return i;
		}
	if (m->nshares == RT_MAX_SHARES)
		return -1;
	struct rt_share *s = &m->shares[m->nshares];
	snprintf(s->tag, sizeof(s->tag), "v%d", m->nshares);
	s->dir = dir;
	s->ro = ro;
	return m->nshares++;
}

int rt_mounts_plan(const struct oci_config *cfg, struct rt_mounts *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	int files_share = -1;
	for (int i = 0; i < cfg->nmounts; i++) {
		const struct oci_mount *om = &cfg->mounts[i];
		if (agent_made(om->destination))
			continue;
		bool bind = (om->type && !strcmp(om->type, "bind")) || has_option(om, "bind") ||
			    has_option(om, "rbind");
		const char *type = bind ? "bind" : om->type;
		if (!type)
			return errf(err, errlen, "mounts[%d]: no type and not a bind", i);
		if (!strcmp(type, "cgroup"))
			type = "cgroup2"; /* the guest has the unified hierarchy only */
		struct proto_mount *pm = &m->mounts[m->nmounts];
		int nopt = 0;
		for (char **o = om->options; o && *o; o++) {
			if (nopt == PROTO_MAX_MOUNT_OPTIONS)
				return errf(err, errlen, "mounts[%d]: more than %d options", i,
					    PROTO_MAX_MOUNT_OPTIONS);
			pm->options[nopt++] = *o;
		}
		pm->noptions = nopt;
		pm->destination = om->destination;
		pm->type = type;
		pm->source = om->source;
		if (bind) {
			struct stat st;
			if (!om->source || om->source[0] != '/')
				return errf(err, errlen,
					    "mounts[%d].source: a bind needs an absolute path", i);
			if (stat(om->source, &st))
				return errf(err, errlen, "mounts[%d].source: %.200s: %s", i,
					    om->source,
					    errno == ENOENT ? "does not exist" : strerror(errno));
			bool ro = has_option(om, "ro");
			char *src = m->sources[m->nmounts];
			if (S_ISDIR(st.st_mode)) {
				int s = share_for(m, om->source, ro);
				if (s < 0)
					goto too_many;
				snprintf(src, sizeof(m->sources[0]), "v%d", s); /* its tag */
			} else {
				if (files_share < 0) {
					if (m->nshares == RT_MAX_SHARES)
						goto too_many;
					files_share = m->nshares++;
					snprintf(m->shares[files_share].tag,
						 sizeof(m->shares[0].tag), "files");
					m->shares[files_share].ro = true;
				}
				m->shares[files_share].ro &= ro;
				struct rt_file *f = &m->files[m->nfiles];
				f->source = om->source;
				snprintf(f->name, sizeof(f->name), "f%d", m->nfiles);
				snprintf(src, sizeof(m->sources[0]), "files/f%d", m->nfiles);
				m->nfiles++;
			}
			pm->source = src;
		}
		m->nmounts++;
	}
	return 0;
too_many:
	return errf(err, errlen,
		    "too many bind mount sources: at most %d directories (files count as one)",
		    RT_MAX_SHARES);
}
