# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Ember - one Makefile for the BPF object, its skeleton, the agent, the tests.
# Everything generated goes under $(OUTPUT); `make V=1` shows full commands.

OUTPUT ?= .output
CC ?= gcc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PROTOC_C ?= protoc-c
ARCH ?= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_ARCH ?= $(shell uname -m)
VMLINUX_H := vmlinux/$(VMLINUX_ARCH)/vmlinux.h

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
	MAKEFLAGS += --no-print-directory
endif

PKGS := libbpf libelf libdw libdebuginfod libcurl libprotobuf-c zlib json-c liblzma libpcre2-8 libcrypto \
	yaml-0.1 libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lbpf -lelf -ldw -ldebuginfod -lcurl -lprotobuf-c -lz -ljson-c -llzma -lpcre2-8 -lcrypto -lyaml -lmicrohttpd)

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wundef -Wwrite-strings -Wformat=2 -Wformat-security -Wno-unused-parameter \
	-Wvla -Wpointer-arith -Wcast-qual -Wno-format-nonliteral
SANITIZE ?=
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer)
CFLAGS ?= -g -O2
BASE_CFLAGS := -std=gnu11 $(CFLAGS) $(WARNINGS) $(SAN_FLAGS) -fno-omit-frame-pointer \
	-D_GNU_SOURCE -MMD -MP $(PKG_CFLAGS)

# The layers (DESIGN.md, "Folders"): each folder sees only the include paths
# of the layers it may use, so a header that leaks upward fails the build.
INC_base := -Ibase
INC_symbolizer := $(INC_base) -Isymbolizer
INC_proto := $(INC_base) -Iproto -I$(OUTPUT)/proto
INC_output := $(INC_proto) -Ioutput
INC_unwind := $(INC_base) -Ibpf -Iunwind
INC_agent := $(INC_symbolizer) -Iunwind -Iproto -I$(OUTPUT)/proto -Ioutput -Ibpf -I$(OUTPUT) -Iagent
# Tests and fuzz harnesses reach into every layer.
INC_ALL := $(INC_agent)
ALL_CFLAGS := $(BASE_CFLAGS) $(INC_ALL)
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)
# libiberty (the demanglers) is a static archive without pkg-config; its
# objects use only PIE-safe relocations. Only the symbolizer sees its headers,
# and as an archive only binaries that call the demangler pull it in.
IBERTY_CFLAGS := -I/usr/include/libiberty
IBERTY_LIBS := -liberty
LIBS := $(PKG_LIBS) $(IBERTY_LIBS) -lpthread -lm

BPF_SRC := bpf/profiler.bpf.c
BPF_OBJ := $(OUTPUT)/profiler.bpf.o
SKEL := $(OUTPUT)/profiler.skel.h

PROTOS := $(wildcard proto/*.proto)
PB_C := $(patsubst proto/%.proto,$(OUTPUT)/proto/%.pb-c.c,$(PROTOS))
PB_H := $(PB_C:.c=.h)

LAYERS := base symbolizer unwind proto output agent
LIB_SRCS := $(wildcard base/*.c) $(wildcard symbolizer/*.c) $(wildcard unwind/*.c) $(wildcard proto/*.c) $(wildcard output/*.c) \
	$(filter-out agent/main.c,$(wildcard agent/*.c))
LIB_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(LIB_SRCS)) $(PB_C:.c=.o)
LIB := $(OUTPUT)/libember.a
EMBER := $(OUTPUT)/ember

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/unit/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

# Debian packages a fresh Debian 12 machine needs to build and test Ember.
DEB_BUILD := make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev libdw-dev \
	libiberty-dev libcurl4-openssl-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev \
	libjson-c-dev liblzma-dev libdebuginfod-dev libpcre2-dev libyaml-dev libssl-dev \
	libmicrohttpd-dev dpkg-dev help2man
DEB_TEST := libcmocka-dev libclang-rt-14-dev libc6-dbg python3 python3-pytest python3-protobuf \
	protobuf-compiler golang-go rustc g++ linux-perf bpftrace openssl procps util-linux \
	default-jdk-headless nodejs xz-utils binutils debuginfod python3-prometheus-client \
	libxml2-utils chromium systemd lintian libcap2-bin python3-yaml

.PHONY: all clean vmlinux deps deps-test unit unit-sanitized test integration e2e faults soak fuzz bench \
	dry-run fixtures test-under-load repeat-under-load bench-relabel bench-unwind deb
.DELETE_ON_ERROR:
.SECONDARY:

all: $(EMBER) fixtures

$(OUTPUT) $(OUTPUT)/proto $(OUTPUT)/tests/unit $(OUTPUT)/tests/fixtures $(OUTPUT)/tests/fuzz:
	$(Q)mkdir -p $@

# The committed vmlinux.h is what builds use (CO-RE); this regenerates it.
vmlinux:
	$(call msg,GEN,$(VMLINUX_H))
	$(Q)mkdir -p $(dir $(VMLINUX_H))
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_H)

$(BPF_OBJ): $(BPF_SRC) bpf/profiler.h $(VMLINUX_H) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX_H)) -Ibpf \
		-Wall -Werror -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name profiler_bpf > $@

$(OUTPUT)/proto/%.pb-c.c $(OUTPUT)/proto/%.pb-c.h: proto/%.proto | $(OUTPUT)/proto
	$(call msg,PROTOC,$<)
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(OUTPUT)/proto $<

$(OUTPUT)/proto/%.pb-c.o: $(OUTPUT)/proto/%.pb-c.c $(PB_H)
	$(call msg,CC,$@)
	$(Q)$(CC) -std=gnu11 $(CFLAGS) $(SAN_FLAGS) -I$(OUTPUT)/proto $(PKG_CFLAGS) -c $< -o $@

# One rule per layer, each with its own include paths. Only the agent sees the
# BPF skeleton; only proto and the agent see the generated protobuf headers.
define layer_rule
$$(OUTPUT)/$(1)/%.o: $(1)/%.c $$(if $$(filter agent,$(1)),$$(SKEL)) $$(if $$(filter proto output agent,$(1)),$$(PB_H))
	$$(call msg,CC,$$@)
	$$(Q)mkdir -p $$(dir $$@)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $$(INC_$(1)) $$(if $$(filter symbolizer,$(1)),$$(IBERTY_CFLAGS)) -c $$< -o $$@
endef
$(foreach l,$(LAYERS),$(eval $(call layer_rule,$(l))))

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(EMBER): $(OUTPUT)/agent/main.o $(LIB)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) $^ $(LIBS) -o $@

include tests/fixtures/fixtures.mk

$(OUTPUT)/tests/unit/%: tests/unit/%.c $(LIB) | $(OUTPUT)/tests/unit fixtures
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -DFIXTURES_DIR='"$(abspath $(OUTPUT)/tests/fixtures)"' \
		-DTESTS_DIR='"$(abspath tests)"' $< $(LIB) $(ALL_LDFLAGS) $(LIBS) -lcmocka -o $@

unit: $(UNIT_BINS)
	$(Q)set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# Real BPF on the real kernel, the agent against a receiver: needs root.
integration: all
	$(Q)/usr/bin/python3 -m pytest -ra tests/integration

e2e: all
	$(Q)/usr/bin/python3 -m pytest -ra tests/e2e

# The agent run into faults (dead, slow, hostile servers, full disks, closed
# stdout, signals, bad settings): every window accounted for. About 2 minutes.
faults: all
	$(Q)/usr/bin/python3 -m pytest -ra tests/faults

# Not in CI: an hour of process churn with pushes to a flaky receiver, RSS
# and fd count sampled; figures go to bench/. SOAK_SECONDS=180 for a short run.
SOAK_SECONDS ?= 3600
SOAK_AGENT_ARGS ?=
soak: all
	$(Q)/usr/bin/python3 bench/soak.py --seconds $(SOAK_SECONDS) --agent-args="$(SOAK_AGENT_ARGS)"

# The root suites, in the order CI runs them (repeat-under-load runs the same).
PYTEST_SUITES := tests/integration tests/e2e tests/faults tests/output tests/packaging

# Everything CI runs: unit tests, a short fuzz of every parser, then the
# root suites (real BPF on the real kernel, the agent against a receiver,
# the agent into faults, the packages: unit, .deb, manifests, chart).
test: all unit unit-sanitized fuzz
	$(Q)/usr/bin/python3 -m pytest -ra $(PYTEST_SUITES)

# Not in CI: `make test` with one CPU kept about half busy (tests/load/), and
# REPEAT_RUNS runs in a row of the root suites under that load, stopping at
# the first failure. The timing and share tests must pass both.
REPEAT_RUNS ?= 3
test-under-load:
	$(Q)tests/load/under-load.sh $(MAKE) test

repeat-under-load: all
	$(Q)PYTEST_SUITES="$(PYTEST_SUITES)" tests/load/under-load.sh tests/load/repeat.sh $(REPEAT_RUNS)

# The unit tests again under ASan and UBSan, in their own output tree.
unit-sanitized:
	$(Q)$(MAKE) OUTPUT=$(OUTPUT)/sanitized SANITIZE=address,undefined unit

# libFuzzer harnesses, one per parser of untrusted bytes (clang only).
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/tests/fuzz/%,$(FUZZ_SRCS))
# The library is compiled once for all harnesses (instrumented, not linked
# with libFuzzer's main), then each harness links against it.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE \
	$(INC_ALL) $(PKG_CFLAGS) $(IBERTY_CFLAGS)
FUZZ_OBJS := $(patsubst %.c,$(OUTPUT)/fuzzobj/%.o,$(filter-out %.h,$(LIB_SRCS)) $(PB_C))
$(OUTPUT)/fuzzobj/%.o: %.c $(SKEL) $(PB_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(OUTPUT)/fuzzobj/$(OUTPUT)/%.o: $(OUTPUT)/%.c $(PB_H)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@
$(OUTPUT)/tests/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) | $(OUTPUT)/tests/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(subst fuzzer-no-link,fuzzer,$(FUZZ_CFLAGS)) $< $(FUZZ_OBJS) $(LIBS) -o $@

FUZZ_SECONDS ?= 10
fuzz: $(FUZZ_BINS)
	$(Q)set -e; for f in $(FUZZ_BINS); do n=$$(basename $$f); mkdir -p $(OUTPUT)/corpus/$$n; \
		echo "== $$n ($(FUZZ_SECONDS)s)"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=65536 $(OUTPUT)/corpus/$$n tests/fuzz/corpus/$$n \
		2>$(OUTPUT)/corpus/$$n.log || { tail -50 $(OUTPUT)/corpus/$$n.log; exit 1; }; done

# The Debian package: binary, hardened unit, default config (a conffile), man
# page from --help (packaging/, docs/packaging.md). EMBER_VERSION=0.1.1 make deb
# builds the next one.
EMBER_VERSION ?= 0.1.0
deb: $(EMBER)
	$(call msg,DEB,$(OUTPUT)/deb/ember_$(EMBER_VERSION)_*.deb)
	$(Q)packaging/deb/build-deb.sh $(EMBER) $(EMBER_VERSION) $(OUTPUT)/deb >/dev/null

bench: all
	$(Q)bench/run.sh

# labels_assign's CPU per window with 0 and 50 relabel rules (no root).
$(OUTPUT)/bench/relabel: bench/relabel.c $(LIB)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB) $(ALL_LDFLAGS) $(LIBS) -o $@

bench-relabel: $(OUTPUT)/bench/relabel
	$(Q)$<

# The CFI unwind tables' rows, kernel bytes and compile time for shared
# libraries (no root); UNWIND_BENCH_FILES to choose them.
UNWIND_BENCH_FILES ?= /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6 \
	/lib/x86_64-linux-gnu/libpython3.11.so.1.0 \
	$(shell find / -xdev -name '*.so*' -type f -size +20M -printf '%s %p\n' 2>/dev/null | sort -rn | head -1 | cut -d' ' -f2)
$(OUTPUT)/bench/unwind_tables: bench/unwind_tables.c $(LIB)
	$(call msg,BENCH,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB) $(ALL_LDFLAGS) $(LIBS) -o $@

bench-unwind: $(OUTPUT)/bench/unwind_tables
	$(Q)$< $(UNWIND_BENCH_FILES)

dry-run: $(EMBER)
	$(Q)$(EMBER) --dry-run --duration 10

# Installs only what is missing, so a ready machine makes no network calls.
deps:
	$(Q)missing=$$(for p in $(DEB_BUILD); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

deps-test: deps
	$(Q)missing=$$(for p in $(DEB_TEST); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null \
		| grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing: $$missing"; apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)

-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
