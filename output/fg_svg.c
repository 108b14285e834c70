// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fg_svg.c - flame graph layout and the SVG writer */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fg_svg.h"
#include "hindex.h"

#define TOP_H 62.0 /* title, subtitle, search box */
#define BOTTOM_H 28.0 /* the details line */
#define FONT_PX 12.0
#define CHAR_PX (FONT_PX * 0.59)

/* gcc's clone suffixes ("foo.constprop.0") look like Go's "pkg.Func". */
static bool gcc_clone(const char *dot)
{
	static const char *const sfx[] = { ".constprop", ".isra",	".part", ".cold",
					   ".lto_priv",	 ".localalias", ".llvm" };
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (!strncmp(dot, sfx[i], strlen(sfx[i])))
			return true;
	return false;
}

static bool ends_with(const char *s, size_t len, const char *sfx)
{
	size_t n = strlen(sfx);

	return len >= n && !memcmp(s + len - n, sfx, n);
}

enum fg_kind fg_svg_kind(const char *name)
{
	size_t len = strlen(name);
	const char *dot, *p, *seg;

	if (ends_with(name, len, "_[k]") || ends_with(name, len, "[k]"))
		return FG_KIND_KERNEL;
	if (!len || name[0] == '[' || strstr(name, "+0x") || !strncmp(name, "0x", 2))
		return FG_KIND_UNKNOWN;
	/* CPython's perf trampoline names "py::func:/path/file.py". */
	if (!strncmp(name, "py::", 4) || strstr(name, ".py:") || ends_with(name, len, ".py"))
		return FG_KIND_PYTHON;
	/* perf-map JIT names: HotSpot ("void java.lang.Thread.run()",
	 * "Ljava/lang/Thread;::run"), V8 ("JS:*fn /app/x.js:6"). */
	if (ends_with(name, len, "_[j]") || !strncmp(name, "JS:", 3) ||
	    !strncmp(name, "LazyCompile:", 12) || strstr(name, ".js:") ||
	    (name[0] == 'L' && strchr(name, '/') && strchr(name, ';')) || strstr(name, "java.") ||
	    strstr(name, "javax.") || strstr(name, "jdk.") || strstr(name, "sun.") ||
	    strstr(name, "Interpreter") || strstr(name, "StubRoutines"))
		return FG_KIND_JIT;
	/* Go: "runtime.mallocgc", "net/http.(*conn).serve": an import path,
	 * a dot, no spaces or C++ scopes. */
	if (!strchr(name, ' ') && !strstr(name, "::") && name[0] != '_') {
		seg = strrchr(name, '/');
		seg = seg ? seg + 1 : name;
		dot = strchr(seg, '.');
		if (dot && dot > seg && !gcc_clone(dot)) {
			for (p = seg; p < dot; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
				      *p == '_' || *p == '-'))
					break;
			if (p == dot)
				return FG_KIND_GO;
		}
	}
	return FG_KIND_NATIVE;
}

uint32_t fg_svg_color(const char *name)
{
	uint64_t h = hindex_hash_bytes(name, strlen(name));
	unsigned v1 = h & 0xff, v2 = (h >> 8) & 0xff, r, g, b;

	switch (fg_svg_kind(name)) {
	case FG_KIND_KERNEL: /* orange */
		r = 220 + v1 * 35 / 255, g = 130 + v2 * 60 / 255, b = 0 + v1 * 50 / 255;
		break;
	case FG_KIND_JIT: /* green */
		r = 50 + v1 * 60 / 255, g = 165 + v2 * 65 / 255, b = 50 + v1 * 60 / 255;
		break;
	case FG_KIND_GO: /* aqua */
		r = 0 + v1 * 70 / 255, g = 175 + v2 * 50 / 255, b = 200 + v2 * 55 / 255;
		break;
	case FG_KIND_PYTHON: /* purple */
		r = 150 + v1 * 50 / 255, g = 110 + v2 * 40 / 255, b = 215 + v1 * 40 / 255;
		break;
	case FG_KIND_UNKNOWN: /* grey */
		r = g = b = 160 + v1 * 40 / 255;
		break;
	default: /* native: flamegraph.pl's warm red to yellow */
		r = 205 + v1 * 50 / 255, g = v2 * 230 / 255, b = v1 * 55 / 255;
		break;
	}
	return r << 16 | g << 8 | b;
}

void fg_svg_span(uint64_t start, uint64_t count, uint64_t total, double width, double *x, double *w)
{
	*x = total ? (double)start / (double)total * width : 0;
	*w = total ? (double)count / (double)total * width : 0;
}

/* XML text: &, <, > and quotes escaped; characters XML 1.0 forbids (C0
 * controls, U+FFFE, U+FFFF) become '?'. Names are valid UTF-8 already (the
 * name table repairs them). At most max characters, then "..". */
static void put_xml(FILE *f, const char *s, size_t max)
{
	size_t chars = 0;
	unsigned char c;

	for (; (c = (unsigned char)*s); s++) {
		if ((c & 0xc0) != 0x80 && chars++ == max) {
			fputs("..", f);
			return;
		}
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				fputc('?', f);
			} else if (c == 0xef && (unsigned char)s[1] == 0xbf &&
				   ((unsigned char)s[2] == 0xbe || (unsigned char)s[2] == 0xbf)) {
				fputc('?', f);
				s += 2;
			} else {
				fputc(c, f);
			}
		}
	}
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const char css[] =
	"text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
	"#title { font-size: 17px; text-anchor: middle; }\n"
	"#subtitle, #matched, #unzoom { fill: #444; }\n"
	"#unzoom { cursor: pointer; display: none; }\n"
	"g.f { cursor: pointer; }\n"
	"g.f text { pointer-events: none; }\n"
	"g.f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
	"g.p rect { opacity: 0.5; }\n"
	"input { font: 12px Verdana, sans-serif; width: 220px; }\n";

/* The viewer: one pass over the frames at load, then zoom and search
 * recompute positions from each frame's sample range (data-s, data-n), so
 * the maths is the C layout's. ES5: old browsers and headless ones. */
static const char js[] =
	"var W = %.3f, PAD = %.3f, TOTAL = %llu, UNIT = '%s';\n"
	"var frames = [], byName = {}, details, matched, unzoom, box;\n"
	"function fit(name, w) {\n"
	"  var n = Math.floor((w - 6) / %.3f);\n"
	"  if (n < 3) return '';\n"
	"  return name.length > n ? name.slice(0, n - 2) + '..' : name;\n"
	"}\n"
	"function pct(n) { return (100 * n / TOTAL).toFixed(2) + '%%'; }\n"
	"function place(f, x, w) {\n"
	"  f.rect.setAttribute('x', (PAD + x).toFixed(3));\n"
	"  f.rect.setAttribute('width', w.toFixed(3));\n"
	"  f.text.setAttribute('x', (PAD + x + 3).toFixed(3));\n"
	"  f.text.textContent = fit(f.name, w);\n"
	"}\n"
	"function zoom(z) {\n"
	"  for (var i = 0; i < frames.length; i++) {\n"
	"    var f = frames[i], show = false, x = 0, w = W;\n"
	"    f.g.setAttribute('class', 'f');\n"
	"    if (f.d < z.d) {\n"
	"      show = f.s <= z.s && f.s + f.n >= z.s + z.n;\n"
	"      if (show && z.d > 0) f.g.setAttribute('class', 'f p');\n"
	"    } else if (f.s >= z.s && f.s + f.n <= z.s + z.n) {\n"
	"      x = (f.s - z.s) / z.n * W; w = f.n / z.n * W; show = w >= 0.1;\n"
	"    }\n"
	"    f.g.style.display = show ? '' : 'none';\n"
	"    if (show) place(f, x, w);\n"
	"  }\n"
	"  unzoom.style.display = z.d > 0 ? 'inline' : 'none';\n"
	"  document.documentElement.setAttribute('data-zoom', z.name);\n"
	"}\n"
	"function search(re) {\n"
	"  var r = null, spans = [], sum = 0, end = -1, i;\n"
	"  if (re) { try { r = new RegExp(re); } catch (e) { matched.textContent = 'bad regex'; return; } }\n"
	"  for (i = 0; i < frames.length; i++) {\n"
	"    var f = frames[i], hit = r !== null && r.test(f.name);\n"
	"    f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);\n"
	"    if (hit) spans.push([f.s, f.s + f.n]);\n"
	"  }\n"
	"  spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });\n"
	"  for (i = 0; i < spans.length; i++) {\n"
	"    var a = Math.max(spans[i][0], end), b = spans[i][1];\n"
	"    if (b > a) { sum += b - a; end = b; }\n"
	"  }\n"
	"  matched.textContent = r ? 'Matched: ' + pct(sum) + ' (' + sum + ' ' + UNIT + ')' : '';\n"
	"  document.documentElement.setAttribute('data-matched', r ? (100 * sum / TOTAL).toFixed(2) : '');\n"
	"}\n"
	"function init() {\n"
	"  details = document.getElementById('details');\n"
	"  matched = document.getElementById('matched');\n"
	"  unzoom = document.getElementById('unzoom');\n"
	"  box = document.getElementById('search');\n"
	"  var gs = document.querySelectorAll('g.f');\n"
	"  for (var i = 0; i < gs.length; i++) {\n"
	"    var g = gs[i], t = g.querySelector('title').textContent.split('\\n');\n"
	"    var f = { g: g, s: +g.getAttribute('data-s'), n: +g.getAttribute('data-n'),\n"
	"              d: +g.getAttribute('data-d'), name: t[0], info: t.join(' '),\n"
	"              rect: g.querySelector('rect'), text: g.querySelector('text') };\n"
	"    f.fill = f.rect.getAttribute('fill');\n"
	"    frames.push(f);\n"
	"    if (!byName[f.name] || byName[f.name].n < f.n) byName[f.name] = f;\n"
	"    g.onmouseover = (function (f) { return function () { details.textContent = f.info; }; })(f);\n"
	"    g.onmouseout = function () { details.textContent = ' '; };\n"
	"    g.onclick = (function (f) { return function () { zoom(f); }; })(f);\n"
	"  }\n"
	"  unzoom.onclick = function () { zoom(frames[0]); };\n"
	"  if (box) box.oninput = function () { search(box.value); };\n"
	"  var q = {}, parts = location.search.replace(/^\\?/, '').split('&');\n"
	"  for (i = 0; i < parts.length; i++) {\n"
	"    var kv = parts[i].split('=');\n"
	"    if (kv[0]) q[decodeURIComponent(kv[0])] = decodeURIComponent((kv[1] || '').replace(/\\+/g, ' '));\n"
	"  }\n"
	"  if (q.x && byName[q.x]) zoom(byName[q.x]);\n"
	"  if (q.s) { if (box) box.value = q.s; search(q.s); }\n"
	"}\n"
	"window.addEventListener('load', init);\n";

struct layout {
	const struct fg_node *nodes;
	const struct fg_names *names;
	uint64_t *start;
	uint64_t total;
	uint32_t max_depth;
	double height;
};

static void put_frame(FILE *f, const struct layout *l, uint32_t i, const struct fg_svg_opts *o,
		      double y)
{
	const struct fg_node *nd = &l->nodes[i];
	const char *name = fg_names__str(l->names, nd->name);
	double x, w, share = l->total ? 100.0 * (double)nd->total / (double)l->total : 0;
	uint32_t rgb = fg_svg_color(name);
	size_t fits;

	fg_svg_span(l->start[i], nd->total, l->total, FG_SVG_WIDTH - 2 * FG_SVG_PAD, &x, &w);
	if (o->diff) {
		const struct fg_svg_diff *d = o->diff;
		uint64_t b = d->before[i];
		double bshare = d->before_total ? 100.0 * (double)b / (double)d->before_total : 0;
		double delta, scale, k;

		/* Red grew, blue shrank, white unchanged; full colour at 5
		 * points (or at doubling, for counts). */
		if (d->normalize) {
			delta = share - bshare;
			scale = 5.0;
		} else {
			delta = (double)nd->total - (double)b;
			scale = (double)(nd->total > b ? nd->total : b) / 2 + 1;
		}
		k = fabs(delta) / scale;
		k = k > 1 ? 1 : k;
		if (delta > 0)
			rgb = 255u << 16 | (unsigned)(255 - 190 * k) << 8 |
			      (unsigned)(255 - 190 * k);
		else if (delta < 0)
			rgb = (unsigned)(255 - 190 * k) << 16 | (unsigned)(255 - 190 * k) << 8 |
			      255u;
		else
			rgb = 0xf0f0f0;
		fprintf(f, "<g class=\"f\" data-s=\"%llu\" data-n=\"%llu\" data-d=\"%u\"><title>",
			(unsigned long long)l->start[i], (unsigned long long)nd->total, nd->depth);
		put_xml(f, name, SIZE_MAX);
		fprintf(f, "\n%llu %s, %.2f%%; before %llu, %.2f%%; %+.2f points</title>",
			(unsigned long long)nd->total, o->unit, share, (unsigned long long)b,
			bshare, share - bshare);
	} else {
		fprintf(f, "<g class=\"f\" data-s=\"%llu\" data-n=\"%llu\" data-d=\"%u\"><title>",
			(unsigned long long)l->start[i], (unsigned long long)nd->total, nd->depth);
		put_xml(f, name, SIZE_MAX);
		fprintf(f, "\n%llu %s, %.2f%%</title>", (unsigned long long)nd->total, o->unit,
			share);
	}
	fprintf(f,
		"<rect x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%.1f\" rx=\"2\" "
		"fill=\"rgb(%u,%u,%u)\"/>",
		FG_SVG_PAD + x, y, w, FG_SVG_FRAME_H - 1, rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff);
	fprintf(f, "<text x=\"%.3f\" y=\"%.1f\">", FG_SVG_PAD + x + 3, y + FG_SVG_FRAME_H - 4.5);
	fits = w > 6 ? (size_t)((w - 6) / CHAR_PX) : 0;
	if (fits >= 3)
		put_xml(f, name, utf8_chars(name) > fits ? fits - 2 : SIZE_MAX);
	fputs("</text></g>\n", f);
}

int fg_svg_write(FILE *f, const struct fg_tree *t, const struct fg_svg_opts *o)
{
	struct layout l = { 0 };
	struct fg_svg_opts safe;
	char unit[64];
	size_t n, i;
	uint32_t c;
	uint64_t s;
	double draw_w = FG_SVG_WIDTH - 2 * FG_SVG_PAD, min_count, y;

	/* The unit comes from the input (a pprof's strings) and lands in a
	 * script: only characters that cannot end a string or the CDATA. */
	for (i = 0; o->unit[i] && i < sizeof(unit) - 1; i++)
		unit[i] = strchr("'\"\\<>]&", o->unit[i]) || (unsigned char)o->unit[i] < 0x20 ||
					  (unsigned char)o->unit[i] >= 0x7f ?
				  '_' :
				  o->unit[i];
	unit[i] = '\0';
	safe = *o;
	safe.unit = unit;
	o = &safe;
	l.nodes = fg_tree__nodes(t, &n);
	l.names = fg_tree__names(t);
	l.total = l.nodes[FG_ROOT].total;
	l.start = calloc(n, sizeof(*l.start));
	if (!l.start)
		return -ENOMEM;
	/* A parent is made before its children, so one pass in index order
	 * places every child after its parent. */
	for (i = 0; i < n; i++)
		for (s = l.start[i], c = l.nodes[i].child; c != FG_NONE; c = l.nodes[c].next) {
			l.start[c] = s;
			s += l.nodes[c].total;
		}
	min_count = FG_SVG_MIN_PX / draw_w * (double)l.total;
	for (i = 0; i < n; i++)
		if ((double)l.nodes[i].total >= min_count && l.nodes[i].depth > l.max_depth)
			l.max_depth = l.nodes[i].depth;
	l.height = TOP_H + (l.max_depth + 1) * FG_SVG_FRAME_H + BOTTOM_H;

	fprintf(f,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		"xmlns=\"http://www.w3.org/2000/svg\">\n",
		FG_SVG_WIDTH, l.height, FG_SVG_WIDTH, l.height);
	fprintf(f, "<style type=\"text/css\"><![CDATA[\n%s]]></style>\n", css);
	fputs("<script type=\"text/ecmascript\"><![CDATA[\n", f);
	fprintf(f, js, draw_w, FG_SVG_PAD, (unsigned long long)l.total, unit, CHAR_PX);
	fputs("]]></script>\n", f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#f8f8f4\"/>\n",
		FG_SVG_WIDTH, l.height);
	fprintf(f, "<text id=\"title\" x=\"%.1f\" y=\"22\">", FG_SVG_WIDTH / 2);
	put_xml(f, o->title ? o->title : "Flame Graph", SIZE_MAX);
	fputs("</text>\n", f);
	fprintf(f, "<text id=\"subtitle\" x=\"%.1f\" y=\"40\">", FG_SVG_PAD);
	if (o->subtitle)
		put_xml(f, o->subtitle, SIZE_MAX);
	fputs("</text>\n", f);
	fprintf(f, "<text id=\"unzoom\" x=\"%.1f\" y=\"56\">Reset zoom</text>\n", FG_SVG_PAD);
	fprintf(f, "<text id=\"matched\" x=\"%.1f\" y=\"40\" text-anchor=\"end\"></text>\n",
		FG_SVG_WIDTH - 250);
	fprintf(f,
		"<foreignObject x=\"%.1f\" y=\"26\" width=\"236\" height=\"24\">"
		"<input xmlns=\"http://www.w3.org/1999/xhtml\" id=\"search\" type=\"search\" "
		"placeholder=\"search (regex)\"/></foreignObject>\n",
		FG_SVG_WIDTH - 240);
	fprintf(f, "<text id=\"details\" x=\"%.1f\" y=\"%.1f\"> </text>\n", FG_SVG_PAD,
		l.height - 10);
	/* Depth first, children in name order: the same file whatever the
	 * order of the input's lines. */
	for (c = FG_ROOT; c != FG_NONE; c = fg_tree__next(t, c)) {
		if ((double)l.nodes[c].total < min_count || !l.nodes[c].total)
			continue;
		y = o->icicle ? TOP_H + l.nodes[c].depth * FG_SVG_FRAME_H :
				l.height - BOTTOM_H - (l.nodes[c].depth + 1) * FG_SVG_FRAME_H;
		put_frame(f, &l, c, o, y);
	}
	fputs("</svg>\n", f);
	free(l.start);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
