/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* fg_svg.h - a call tree as one self-contained interactive SVG flame graph
 *
 * Lays the tree out (each frame's width proportional to its samples,
 * children left to right in name order, a parent's own samples to their
 * right) and writes SVG with inline CSS and JavaScript: hover for name,
 * samples and share, click to zoom, a search box that highlights matches
 * and prints their total share, and the same search and zoom from the URL
 * (file.svg?s=REGEX&x=NAME) so a headless browser can drive them. Frames
 * narrower than FG_SVG_MIN_PX are left out, which bounds the file whatever
 * the input. Every name is XML-escaped; control characters become '?'.
 * Pure; any thread.
 */
#ifndef EMBER_FG_SVG_H
#define EMBER_FG_SVG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "fg_tree.h"

#define FG_SVG_WIDTH 1200.0
#define FG_SVG_PAD 10.0
#define FG_SVG_FRAME_H 16.0
#define FG_SVG_MIN_PX 0.1

enum fg_kind {
	FG_KIND_NATIVE, /* C, C++, Rust */
	FG_KIND_KERNEL, /* "_[k]" */
	FG_KIND_JIT, /* Java, JavaScript and other perf-map JIT code */
	FG_KIND_GO,
	FG_KIND_PYTHON,
	FG_KIND_UNKNOWN, /* "[unknown]", "file+0x...", bare addresses */
};

/* The kind of code a frame's name says it is, for its colour. */
enum fg_kind fg_svg_kind(const char *name);
/* The frame's colour as 0xRRGGBB: the kind's palette, the shade from a hash
 * of the name, so one function has one colour in every graph. */
uint32_t fg_svg_color(const char *name);

/* Where samples [start, start + count) of total fall, in pixels across the
 * drawing width: *x from the left edge of the frames, *w wide. */
void fg_svg_span(uint64_t start, uint64_t count, uint64_t total, double width, double *x,
		 double *w);

/* A differential graph: per node of the tree drawn, the same stack's total
 * in BEFORE (0 when it is new there), and BEFORE's root total. */
struct fg_svg_diff {
	const uint64_t *before; /* indexed by node */
	uint64_t before_total;
	bool normalize; /* compare shares, not sample counts */
};

struct fg_svg_opts {
	const char *title;
	const char *subtitle; /* NULL: none */
	const char *unit; /* "samples", "nanoseconds" */
	bool icicle; /* root at the top */
	const struct fg_svg_diff *diff; /* NULL: a plain flame graph */
};

/* Writes the SVG of t (finished) to f. 0 or -errno (write errors). */
int fg_svg_write(FILE *f, const struct fg_tree *t, const struct fg_svg_opts *o);

#endif /* EMBER_FG_SVG_H */
