/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* agent.h - the one struct that holds a running agent's modules
 *
 * Built by main.c, which wires the modules together; read by the exit
 * summary. Everything hangs off it and is passed explicitly: no module
 * keeps globals of its own. Thread: the main loop.
 */
#ifndef EMBER_AGENT_H
#define EMBER_AGENT_H

#include "agg.h"
#include "cgroup.h"
#include "cfg.h"
#include "ingest.h"
#include "jit.h"
#include "k8s.h"
#include "mapstore.h"
#include "pipeline.h"
#include "proc.h"
#include "push.h"
#include "sampler.h"
#include "sideband.h"
#include "sym.h"

struct http_server;
struct live_view;
struct summary;

struct agent {
	struct cfg cfg;
	/* The command line, parsed again over the file on each SIGHUP. */
	int argc;
	char **argv;
	char host[256];
	struct sym *sym;
	struct proc_table *procs;
	struct cgroup_cache *cgroups; /* NULL when it could not be made */
	struct jit *jit;
	struct agg *agg; /* CPU samples' window */
	struct agg *offcpu_agg; /* off-CPU time's window, NULL unless asked for */
	struct ingest *ingest;
	struct pipeline *pipeline;
	struct sampler *sampler;
	struct unwind_glue *unwind; /* NULL with --unwind fp */
	struct mapstore *mapstore;
	struct sideband *sideband; /* NULL with --no-mmap-events */
	struct push_client *push;
	struct k8s *k8s; /* Kubernetes pod metadata, NULL when off */
	uint64_t reloads, reloads_refused; /* SIGHUP with --config */
	struct http_server *http; /* --http-listen, else NULL */
	struct summary *snapshot; /* the counters as last published to http */
	/* ember top, report --live: the view that takes the windows, else NULL. */
	struct live_view *view;
};

#endif /* EMBER_AGENT_H */
