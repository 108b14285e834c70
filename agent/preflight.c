// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* preflight.c - refuse at start what cannot work later
 *
 * A setting that can only fail (a read-only output directory, a URL libcurl
 * refuses, a process that is not there) is refused before sampling starts,
 * rather than found at the first window end, 15 s later, and then only as a
 * rate-limited log line. Side effects: the output directory is created and
 * probed with one temporary file, removed at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "out_files.h"
#include "preflight.h"
#include "push.h"

static int preflight_output_dir(const char *dir)
{
	int err = out_files_check(dir);

	if (!err)
		return 0;
	fprintf(stderr,
		"ember: error cannot write profiles to --output-dir '%s': %s; give a "
		"directory Ember can create and write\n",
		dir, strerror(-err));
	return -EINVAL;
}

static int preflight_server(const char *url)
{
	char why[256], shown[256];
	size_t i;

	if (!push_check_url(url, why, sizeof(why)))
		return 0;
	/* The URL is echoed on one line: a CR/LF in it must not start another. */
	for (i = 0; url[i] && i + 1 < sizeof(shown); i++)
		shown[i] = (unsigned char)url[i] < 0x20 || url[i] == 0x7f ? '?' : url[i];
	shown[i] = '\0';
	fprintf(stderr,
		"ember: error invalid --server '%s': %s; expected http[s]://HOST[:PORT][/PATH]\n",
		shown, why);
	return -EINVAL;
}

/* --pid means a process that runs now: Ember does not wait for one to
 * appear, so a pid that is not there would profile nothing, silently. */
static int preflight_pid(uint32_t pid)
{
	char path[32];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u", pid);
	if (!stat(path, &st))
		return 0;
	fprintf(stderr,
		"ember: error no process with --pid %u: %s; start it first (ember does not wait "
		"for it)\n",
		pid, strerror(errno));
	return -EINVAL;
}

int preflight_check(const struct cfg *cfg)
{
	int err = 0;
	size_t i;

	if (cfg->server && preflight_server(cfg->server))
		err = -EINVAL;
	for (i = 0; i < cfg->npids; i++)
		if (preflight_pid(cfg->pids[i]))
			err = -EINVAL;
	/* Last: the only check with a side effect (the directory is made). */
	if (!err && cfg->output_dir && preflight_output_dir(cfg->output_dir))
		err = -EINVAL;
	return err;
}
