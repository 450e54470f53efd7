/* cmd_images: `vmm images`, `vmm load FILE`, `vmm rmi IMAGE`: the image
 * store from the command line (the work is in image.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "image.h"

/* The one positional argument of a store command, or NULL after a usage
 * message. */
static const char *one_arg(int argc, char **argv, const char *usage, const char **tag)
{
	static const struct option opts[] = {
		{"tag", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, tag ? "t:h" : "h", opts, NULL)) != -1) {
		if (c == 't' && tag) {
			*tag = optarg;
			continue;
		}
		fprintf(c == 'h' ? stdout : stderr, "Usage: %s\n", usage);
		return c == 'h' ? "" : NULL;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "Usage: %s\n", usage);
		return NULL;
	}
	return argv[optind];
}

int cmd_load(int argc, char **argv)
{
	const char *tag = NULL;
	const char *path =
		one_arg(argc, argv,
			"vmm load [--tag NAME[:TAG]] FILE|DIR\n"
			"Load a docker save tarball or an OCI image (layout directory or "
			"archive) into the store.",
			&tag);
	if (!path)
		return 2;
	if (!*path)
		return 0;
	struct image_store s;
	char err[512], id[65];
	if (store_open(&s, err, sizeof(err)) || image_load(&s, path, tag, id, err, sizeof(err))) {
		fprintf(stderr, "vmm load: %s\n", err);
		return 1;
	}
	printf("Loaded image %.12s\n", id);
	return 0;
}

int cmd_images(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(strcmp(argv[1], "--help") ? stderr : stdout,
			"Usage: vmm images\nList the images in the store.\n");
		return strcmp(argv[1], "--help") ? 2 : 0;
	}
	struct image_store s;
	char err[512];
	if (store_open(&s, err, sizeof(err)) || image_list(&s, err, sizeof(err))) {
		fprintf(stderr, "vmm images: %s\n", err);
		return 1;
	}
	return 0;
}

int cmd_rmi(int argc, char **argv)
{
	const char *ref = one_arg(argc, argv,
				  "vmm rmi NAME[:TAG]|ID\nRemove a tag, and the image when no tag "
				  "is left; an ID removes the image.",
				  NULL);
	if (!ref)
		return 2;
	if (!*ref)
		return 0;
	struct image_store s;
	char err[512];
	if (store_open(&s, err, sizeof(err)) || image_remove(&s, ref, err, sizeof(err))) {
		fprintf(stderr, "vmm rmi: %s\n", err);
		return 1;
	}
	return 0;
}
