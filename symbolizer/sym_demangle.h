/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* sym_demangle.h - C++ (Itanium) and Rust (legacy and v0) names as their
 * languages spell them (internal)
 *
 * A thin wrapper over libiberty's allocation-less demanglers: Rust first
 * (legacy Rust names are valid Itanium names too, and only the Rust
 * demangler drops their hash), then C++. Never the global-state dispatcher
 * cplus_demangle(). Output goes into the caller's arena, bounded; names
 * longer than SYM_DEMANGLE_MAX_IN stay mangled (libiberty's recursion limit
 * refuses them anyway, and its stack use grows with the name), and so do
 * Rust v0 names with more backreferences than the demangler can expand in
 * bounded time (see sym_demangle.c). Pure; any
 * thread, each with its own arena.
 */
#ifndef EMBER_SYM_DEMANGLE_H
#define EMBER_SYM_DEMANGLE_H

#include <stdbool.h>

#include "arena.h"

/* Longest mangled name tried; longest demangled name kept. */
#define SYM_DEMANGLE_MAX_IN 1024
#define SYM_DEMANGLE_MAX_OUT 4096

/* True when name looks mangled (C++ "_Z", Rust v0 "_R"): worth a try. */
bool sym_demangle_candidate(const char *name);

/* The demangled name of mangled, in out; NULL when it is not a mangled name
 * this understands, is too long, or on ENOMEM (the caller keeps the raw
 * name). params adds C++ parameter lists and qualifiers ("f(int) const");
 * without it names read as perf and Pyroscope show them. A symbol version
 * suffix ("@GLIBCXX_3.4", "@@...") is ignored. */
const char *sym_demangle(struct arena *out, const char *mangled, bool params);

#endif /* EMBER_SYM_DEMANGLE_H */
