# netmem — GNU make, non-recursive. Output under build/.
#
#   make                 static and shared library, the netmem command
#   make test            build and run every test (SAN=address|thread|undefined)
#   make bench           run the benchmarks
#   make demo            run the main job (netmem rx)
#   make install         PREFIX=/usr/local, DESTDIR
#   make WERROR=1        warnings are errors (CI)

.DEFAULT_GOAL := all

CC      ?= cc
PREFIX  ?= /usr/local
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
VERSION := 0.2.0
SOVER   := 1

SAN     ?=
DEBUG   ?=
WERROR  ?=

B := build
ifneq ($(SAN),)
B := build/san-$(SAN)
endif
ifneq ($(DEBUG),)
B := $(B)-debug
endif

WARN    := -Wall -Wextra -Wshadow -Wno-unused-parameter
ifneq ($(WERROR),)
WARN    += -Werror
endif
OPT     ?= -O2 -g
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -fPIC -pthread -Iinclude -Isrc
ifneq ($(DEBUG),)
BASE_CFLAGS += -DNETMEM_DEBUG
endif
SANFLAGS :=
ifeq ($(SAN),address)
SANFLAGS := -fsanitize=address -fno-omit-frame-pointer
else ifeq ($(SAN),thread)
SANFLAGS := -fsanitize=thread
else ifeq ($(SAN),undefined)
SANFLAGS := -fsanitize=undefined -fno-sanitize-recover=all
else ifneq ($(SAN),)
$(error SAN must be address, thread or undefined)
endif
ALL_CFLAGS  = $(BASE_CFLAGS) $(SANFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) -pthread $(LDFLAGS)

# ---- optional parts, detected once -------------------------------------
PKG_CONFIG ?= pkg-config
HAVE_XDP  := $(shell $(PKG_CONFIG) --exists libxdp libbpf 2>/dev/null && echo 1)
HAVE_DPDK := $(shell $(PKG_CONFIG) --exists libdpdk 2>/dev/null && echo 1)
CUDA_HOME ?= /usr/local/cuda
HAVE_CUDA := $(shell test -f $(CUDA_HOME)/include/cuda.h && echo 1)

OPT_SRCS := src/providers/cuda.c src/drivers/xsk.c
LIB_SRCS := $(filter-out $(OPT_SRCS),$(sort $(wildcard src/*.c src/providers/*.c src/drivers/*.c)))
LIB_LIBS :=
ifeq ($(HAVE_XDP),1)
LIB_SRCS += $(wildcard src/drivers/xsk.c)
BASE_CFLAGS += -DNETMEM_HAVE_XDP $(shell $(PKG_CONFIG) --cflags libxdp libbpf)
LIB_LIBS += $(shell $(PKG_CONFIG) --libs libxdp libbpf)
endif
ifeq ($(HAVE_CUDA),1)
LIB_SRCS += $(wildcard src/providers/cuda.c)
BASE_CFLAGS += -DNETMEM_HAVE_CUDA -I$(CUDA_HOME)/include
# The driver API is loaded at run time (dlopen), so no -lcuda at link time.
LIB_LIBS += -ldl
endif
LIB_OBJS := $(LIB_SRCS:%.c=$(B)/obj/%.o)

TOOL_SRCS  := $(sort $(wildcard tools/*.c))
BENCH_SRCS := $(filter-out bench/dpdk_peer.c,$(sort $(wildcard bench/*.c)))
TOOL_OBJS  := $(TOOL_SRCS:%.c=$(B)/obj/%.o) $(BENCH_SRCS:%.c=$(B)/obj/%.o)
TOOL_LIBS  :=
ifeq ($(HAVE_DPDK),1)
ifneq ($(wildcard bench/dpdk_peer.c),)
TOOL_OBJS += $(B)/obj/bench/dpdk_peer.o
TOOL_LIBS += $(shell $(PKG_CONFIG) --libs libdpdk)
$(B)/obj/bench/dpdk_peer.o: ALL_CFLAGS += -DNETMEM_HAVE_DPDK $(shell $(PKG_CONFIG) --cflags libdpdk) -Wno-shadow -Wno-pedantic -std=gnu11
$(B)/obj/tools/netmem.o $(B)/obj/bench/bench_pool.o: ALL_CFLAGS += -DNETMEM_HAVE_DPDK
endif
endif

TEST_SRCS  := $(sort $(wildcard tests/*.c))
TEST_BINS  := $(TEST_SRCS:tests/%.c=$(B)/tests/%)
DEBUG_OBJS := $(LIB_SRCS:%.c=$(B)/dbg/%.o)
EXAMPLE_BINS := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))

# Objects depend on the options they were built with: a build with others
# (HAVE_XDP=, HAVE_CUDA=, CFLAGS=...) in the same directory rebuilds them.
# The stamp changes only when the options do (cmp), as the kernel's filechk.
FLAGS_STAMP := $(B)/.flags
FLAGS_NOW    = $(ALL_CFLAGS) | $(ALL_LDFLAGS) | $(LIB_LIBS) | $(LIB_SRCS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(B)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@
.PHONY: FORCE
FORCE:

STATIC := $(B)/libnetmem.a
SHARED := $(B)/libnetmem.so.$(VERSION)
TOOL   := $(B)/netmem

.PHONY: all lib test bench demo install clean examples fuzz format
all: lib $(TOOL) examples
lib: $(STATIC) $(SHARED)
examples: $(EXAMPLE_BINS)

$(B)/obj/%.o: %.c $(MAKEFILE_LIST) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# The same sources with NETMEM_DEBUG, for tests of debug-build checks.
$(B)/dbg/%.o: %.c $(MAKEFILE_LIST) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DNETMEM_DEBUG -MMD -MP -c $< -o $@

$(STATIC): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(SHARED): $(LIB_OBJS) src/libnetmem.map
	$(CC) -shared -Wl,-soname,libnetmem.so.$(SOVER) -Wl,--version-script=src/libnetmem.map \
		$(ALL_LDFLAGS) -o $@ $(LIB_OBJS) $(LIB_LIBS)
	ln -sf libnetmem.so.$(VERSION) $(B)/libnetmem.so.$(SOVER)
	ln -sf libnetmem.so.$(VERSION) $(B)/libnetmem.so

$(TOOL): $(TOOL_OBJS) $(STATIC)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJS) $(STATIC) $(LIB_LIBS) $(TOOL_LIBS) -lm

DEBUG_TEST_BINS := $(filter $(B)/tests/debug_%,$(TEST_BINS))
PLAIN_TEST_BINS := $(filter-out $(DEBUG_TEST_BINS),$(TEST_BINS))

$(DEBUG_TEST_BINS): $(B)/tests/%: tests/%.c $(wildcard tests/*.h) $(DEBUG_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DNETMEM_DEBUG -o $@ $< $(DEBUG_OBJS) $(ALL_LDFLAGS) $(LIB_LIBS) -lm

$(PLAIN_TEST_BINS): $(B)/tests/%: tests/%.c $(wildcard tests/*.h) $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(ALL_LDFLAGS) $(LIB_LIBS) -lm

$(B)/examples/%: examples/%.c $(STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(STATIC) $(ALL_LDFLAGS) $(LIB_LIBS) -lm

test: $(TEST_BINS) $(TOOL) $(EXAMPLE_BINS)
	@NETMEM_BUILD=$(B) SAN=$(SAN) tests/run.sh $(TEST_BINS)

bench: $(TOOL)
	$(TOOL) bench pool
	-$(TOOL) bench frag
	-$(TOOL) bench rx

demo: $(TOOL)
	$(TOOL) rx

# Written at every install (PREFIX, LIBDIR, INCDIR may differ from the last).
# A static link of a program that uses AF_XDP needs libxdp's and libbpf's own
# dependencies (libelf, zlib): Libs.private lists them as found now, not as
# Requires.private, which would make every use of the .pc, a shared link
# included, need libxdp's and libbpf's .pc files.
PC_LIBS     := -pthread $(if $(filter 1,$(HAVE_XDP)),$(shell $(PKG_CONFIG) --static --libs libxdp libbpf)) \
	       $(if $(filter 1,$(HAVE_CUDA)),-ldl)
$(B)/netmem.pc: FORCE
	@mkdir -p $(dir $@)
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: netmem\nDescription: zero-copy receive buffers over pluggable memory providers\nVersion: %s\nLibs: -L$${libdir} -lnetmem\nLibs.private: %s\nCflags: -I$${includedir}\n' \
		'$(PREFIX)' '$(LIBDIR)' '$(INCDIR)' '$(VERSION)' '$(strip $(PC_LIBS))' > $@

install: all $(B)/netmem.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/netmem $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED) $(DESTDIR)$(LIBDIR)/
	ln -sf libnetmem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetmem.so.$(SOVER)
	ln -sf libnetmem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetmem.so
	install -m 644 include/netmem/*.h $(DESTDIR)$(INCDIR)/netmem/
	install -m 644 $(B)/netmem.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 755 $(TOOL) $(DESTDIR)$(BINDIR)/
	-install -m 644 docs/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	-install -m 644 docs/man/*.7 $(DESTDIR)$(MANDIR)/man7/

# ---- fuzzing ---------------------------------------------------------------
# libFuzzer targets fuzz/fuzz_*.c, built with clang into build/fuzz with the
# address and undefined-behaviour sanitizers; library objects get coverage
# instrumentation (fuzzer-no-link). Seeds are committed in fuzz/corpus/NAME;
# what a run discovers goes to build/fuzz/corpus/NAME, crashes to
# build/fuzz/artifacts/.
#   make fuzz                     run each fuzzer for FUZZ_SECONDS (default 60)
#   make fuzz-build               build them only
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -timeout=30 -rss_limit_mb=2048 -max_len=4096
FUZZ_B       := build/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(BASE_CFLAGS) $(FUZZ_SAN) $(CFLAGS)
FUZZ_SRCS    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRCS:fuzz/%.c=%)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_B)/%)
FUZZ_OBJS    := $(LIB_SRCS:%.c=$(FUZZ_B)/obj/%.o)

$(FUZZ_B)/obj/%.o: %.c $(MAKEFILE_LIST)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_B)/%: fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIB_LIBS) -lm

.PHONY: fuzz-build
.SECONDARY: $(FUZZ_OBJS)
fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_NAMES); do \
		mkdir -p $(FUZZ_B)/corpus/$$f $(FUZZ_B)/artifacts; \
		echo "== $$f for $(FUZZ_SECONDS) s"; \
		$(FUZZ_B)/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(FUZZ_FLAGS) \
			-artifact_prefix=$(FUZZ_B)/artifacts/$$f- $(FUZZ_B)/corpus/$$f fuzz/corpus/$$f; \
	done

format:
	clang-format -i $(LIB_SRCS) $(TOOL_SRCS) $(BENCH_SRCS) $(TEST_SRCS) include/netmem/*.h

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
