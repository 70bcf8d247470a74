# hopper: a terminal load tester.  `make` builds, `make test` runs the suite,
# `make demo` runs a short load test against the bundled hopper-target.

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man/man1
MAN5DIR := $(PREFIX)/share/man/man5

PKGS    := libcurl libuv ncursesw jansson yajl libssl libcrypto libnghttp2
# Debian packages, in two sets. Building and running hopper (and so `make
# demo`, which runs the dashboard in your own terminal) needs only the first;
# Debian's http-parser ships no pkg-config file, so libhttp-parser-dev is
# checked here as a package. The second is what the suite, its sanitizer and
# valgrind runs, the fuzz targets and the benchmark use besides: tmux drives
# the dashboard, chromium renders the HTML report, clang with
# libclang-rt-14-dev builds libFuzzer targets, wrk is the benchmark's
# reference (h2load, from nghttp2-client, for HTTP/2), openssl makes the TLS
# tests' certificates and times plain OpenSSL handshakes, nginx is the TLS and
# HTTP/2 server that is not ours, prometheus scrapes --metrics-listen
# (tests/e2e/metrics.sh runs its own instance; the package's service, if
# any, is not used), python3-locust is the bench's distributed reference
# (rows locust-dist; its --quick run is part of the suite). Open MPI, for
# --ranks and --mpi, is in the first set: hopper links it when present.
BUILD_DEB_PKGS := build-essential pkg-config libcurl4-openssl-dev libuv1-dev libncurses-dev \
                  libjansson-dev libyajl-dev libhttp-parser-dev libssl-dev libnghttp2-dev \
                  libopenmpi-dev openmpi-bin
TEST_DEB_PKGS  := curl jq tmux wrk chromium clang libclang-rt-14-dev valgrind openssl \
                  nghttp2-client nginx-light prometheus python3-locust

CC      ?= cc
OPT     ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  += -std=c11 -D_GNU_SOURCE $(OPT) $(WARN) -Iinclude \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser -lm
# hopper-target needs the event loop, the parser, TLS and HTTP/2.
TARGET_LDLIBS := $(shell pkg-config --libs libuv libssl libcrypto libnghttp2 2>/dev/null) \
                 -lhttp_parser -lm

# MPI (--mpi, --ranks: src/cluster) when pkg-config finds Open MPI; without
# it hopper builds as before and those options say how to get it.
MPI_PKG := $(shell pkg-config --exists ompi-c 2>/dev/null && echo ompi-c)
ifneq ($(MPI_PKG),)
CFLAGS  += $(shell pkg-config --cflags ompi-c)
LDLIBS  += $(shell pkg-config --libs ompi-c)
MPI_OFF := src/cluster/mpilink_none.c
else
MPI_OFF := src/cluster/mpilink.c
endif
LDLIBS  += -lpthread

# BUILD selects an output folder so sanitizer builds never mix with the normal one.
BUILD   ?= build
OBJ     := $(BUILD)/obj

# One folder per layer (README, "Where things are"). src/util and src/net
# (TLS on a libuv stream) are what hopper-target shares with hopper, so each
# is an archive of its own.
HOPPER_MAIN := src/main.c
HEADERS     := $(wildcard include/*.h include/*/*.h src/*/*.h)
UTIL_SRC    := $(wildcard src/util/*.c)
NET_SRC     := $(wildcard src/net/*.c)
TARGET_SRC  := $(wildcard src/target/*.c)
LIB_SRC     := $(filter-out $(UTIL_SRC) $(NET_SRC) $(TARGET_SRC) $(MPI_OFF),$(wildcard src/*/*.c))
LIB_OBJ     := $(LIB_SRC:src/%.c=$(OBJ)/%.o)
UTIL_OBJ    := $(UTIL_SRC:src/%.c=$(OBJ)/%.o)
NET_OBJ     := $(NET_SRC:src/%.c=$(OBJ)/%.o)
TARGET_OBJ  := $(TARGET_SRC:src/%.c=$(OBJ)/%.o)
LIBS        := $(BUILD)/libhopper.a $(BUILD)/libnet.a $(BUILD)/libutil.a
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

HOPPER  := $(BUILD)/hopper
TARGET  := $(BUILD)/hopper-target

Q := @
ifeq ($(V),1)
Q :=
endif

.PHONY: all clean test test-run test-unit test-e2e test-asan test-asan-run test-valgrind \
        test-valgrind-run deps test-deps demo install uninstall bench certs

# Top-level links so `./hopper` works from the checkout; only for the default
# build, so that a sanitizer or benchmark build never re-points them.
ifeq ($(BUILD),build)
LINKS := hopper hopper-target
endif

all: $(HOPPER) $(TARGET) $(LINKS)

hopper: $(HOPPER)
	$(Q)ln -sf $(HOPPER) $@
hopper-target: $(TARGET)
	$(Q)ln -sf $(TARGET) $@

$(BUILD)/libhopper.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libutil.a: $(UTIL_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libnet.a: $(NET_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(HOPPER): $(OBJ)/main.o $(LIBS)
	@echo "  LINK  $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The demo server is another program: it links src/net and src/util and
# nothing else of hopper.
$(TARGET): $(TARGET_OBJ) $(BUILD)/libnet.a $(BUILD)/libutil.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(TARGET_LDLIBS)

$(OBJ)/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBS) | $(BUILD)/tests
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIBS) $(LDLIBS)

$(BUILD)/tests:
	$(Q)mkdir -p $@

# The hostile server of tests/e2e/faults.sh and tls.sh: plain sockets, and
# OpenSSL (blocking, on the socket) for its TLS modes.
$(BUILD)/faultserver: tests/tools/faultserver.c | $(BUILD)/tests
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(shell pkg-config --libs libssl libcrypto 2>/dev/null)

# The suite: unit programs, then end-to-end scripts against a real
# hopper-target. tests/run prints "N passed, N failed, N skipped" and fails on
# any failure. The packages come first (installed when root), then the build:
# a sub-make, so that `make -j` never compiles while apt-get is installing.
test: test-deps
	$(Q)$(MAKE) --no-print-directory test-run

test-run: all $(UNIT_BIN) $(BUILD)/faultserver
	$(Q)BUILD=$(BUILD) tests/run

test-unit: all $(UNIT_BIN)
	$(Q)BUILD=$(BUILD) tests/run unit

test-e2e: all $(UNIT_BIN) $(BUILD)/faultserver
	$(Q)BUILD=$(BUILD) tests/run e2e

# The same suite built with AddressSanitizer (leak detection on) and UBSan.
test-asan: test-deps
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
	  OPT="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" $(BUILD_ASAN_TARGETS) test-asan-run

test-asan-run: all $(UNIT_BIN) $(BUILD)/faultserver
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  BUILD=$(BUILD) HOPPER_SANITIZED=1 tests/run

# The headless end-to-end tests with hopper under valgrind (memcheck): any
# memory error or definite leak fails the run (valgrind's status 99).
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            --show-leak-kinds=definite --trace-children=no
test-valgrind: test-deps
	$(Q)$(MAKE) --no-print-directory test-valgrind-run

test-valgrind-run: all $(UNIT_BIN)
	$(Q)HOPPER_WRAP="$(VALGRIND)" BUILD=$(BUILD) tests/run e2e counts

# $(call deb_install,WHAT,PACKAGES): installs the missing Debian packages when
# root, else names them with the apt-get line that installs them and fails
# (exit 2) before anything is built. Without dpkg (not Debian) it lists the
# packages to install by other means and goes on.
define deb_install
	$(Q)missing=""; \
	if ! command -v dpkg-query >/dev/null; then \
	  echo "$(1): not a Debian system, cannot check; needed: $(2)"; exit 0; fi; \
	for p in $(2); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "$(1): all installed"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "$(1): installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "$(1): missing$$missing"; echo "  as root, 'make $@' installs them, or: apt-get install -y$$missing"; \
	  exit 2; fi
endef

# What building and running hopper needs (`make demo` uses it).
deps:
	$(call deb_install,build dependencies,$(BUILD_DEB_PKGS))

# What the tests need besides (make test, test-asan, test-valgrind, fuzz, bench).
test-deps: deps
	$(call deb_install,test dependencies,$(TEST_DEB_PKGS))

# A throw-away test CA and certificates (server, client, and the bad ones the
# TLS tests need) in build/certs: `hopper-target --tls build/certs/server.crt
# build/certs/server.key` and `hopper --cacert build/certs/ca.crt`.
certs:
	$(Q)tests/tls/make-certs $(BUILD)/certs

# SCENARIO=login-flow (or a hopperfile's path) runs another plan: tests/demo.sh.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SCENARIO="$(SCENARIO)" tests/demo.sh

bench: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)bench/run

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(MAN5DIR)
	install -m 0755 $(HOPPER) $(DESTDIR)$(BINDIR)/hopper
	install -m 0755 $(TARGET) $(DESTDIR)$(BINDIR)/hopper-target
	install -m 0644 man/hopper.1 $(DESTDIR)$(MANDIR)/hopper.1
	install -m 0644 man/hopper-target.1 $(DESTDIR)$(MANDIR)/hopper-target.1
	install -m 0644 man/hopperfile.5 $(DESTDIR)$(MAN5DIR)/hopperfile.5

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/hopper $(DESTDIR)$(BINDIR)/hopper-target \
	  $(DESTDIR)$(MANDIR)/hopper.1 $(DESTDIR)$(MANDIR)/hopper-target.1 \
	  $(DESTDIR)$(MAN5DIR)/hopperfile.5

clean:
	rm -rf build build-asan hopper hopper-target

# ---- fuzzing -----------------------------------------------------------------
# libFuzzer targets for the parsers that read text from people and servers
# (tests/fuzz/README.md), built by clang - libFuzzer is clang's, so never
# $(CC) - with ASan and UBSan into build-fuzz/. `make fuzz` runs each target
# for FUZZ_SECONDS on a scratch corpus seeded from tests/fuzz/corpus and
# fails on any crash, leak, hang or broken invariant; `make fuzz-smoke` is the
# few-second run the suite makes (tests/e2e/fuzz_smoke.sh).
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 3
FUZZ_BUILD         := build-fuzz
FUZZ_CFLAGS        := -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer $(WARN) -Iinclude \
                      -fsanitize=address,undefined -fno-sanitize-recover=undefined
# The modules under test and what they call; each target links only what it
# uses from the archive. fuzz_response includes src/http/h1_conn.c (its parser
# callbacks are static), which needs libuv and http-parser.
FUZZ_LIB_SRC := $(addprefix src/,plan/checks.c util/text.c http/cookies.c util/duration.c \
                  plan/hopperfile.c plan/plan.c snapshot/snapshot.c http/srcaddr.c util/url.c \
                  util/xalloc.c http/errors.c http/h1_request.c http/h1_origin.c http/method.c \
                  plan/template.c plan/extract.c plan/data.c plan/stages.c net/tls.c \
                  http/h2_request.c control/proto.c control/snapwire.c util/frame.c util/log.c \
                  cluster/hello.c cluster/hosts.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:src/%.c=$(FUZZ_BUILD)/obj/%.o)
# plan/extract.c reads bodies with yajl and expect-json values with jansson,
# and the hopperfile parser calls it.
# net/tls.c (fuzz_tls, and h1_conn.c's TLS path in fuzz_response) needs OpenSSL.
FUZZ_LDLIBS  := $(shell pkg-config --libs jansson yajl libssl libcrypto 2>/dev/null)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-check fuzz-clean

fuzz: fuzz-build
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	$(Q)FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_FRESH=1 tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

fuzz-build: fuzz-check $(FUZZ_BINS)

# clang alone is not enough: the fuzzer runtime is in libclang-rt-14-dev.
fuzz-check:
	$(Q)printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' | \
	  $(FUZZ_CC) -x c - -fsanitize=fuzzer,address,undefined -o /dev/null >/dev/null 2>&1 || \
	  { echo "fuzzing needs clang with libFuzzer: run 'make test-deps' (clang, libclang-rt-14-dev)"; exit 2; }

$(FUZZ_BUILD)/obj/%.o: src/%.c $(HEADERS) | fuzz-check
	@mkdir -p $(dir $@)
	@echo "  CC    $< (fuzz)"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libhopper-fuzz.a: $(FUZZ_LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_response: src/http/h1_conn.c src/http/h1_internal.h src/http/client_impl.h
$(FUZZ_BUILD)/fuzz_response: FUZZ_EXTRA_LIBS = $(shell pkg-config --libs libuv 2>/dev/null) -lhttp_parser
$(FUZZ_BUILD)/fuzz_h2_response: src/http/h2_conn.c src/http/h2_internal.h src/http/h1_internal.h \
                                 src/http/client_impl.h
$(FUZZ_BUILD)/fuzz_h2_response: FUZZ_EXTRA_LIBS = $(shell pkg-config --libs libuv libnghttp2 2>/dev/null)
$(FUZZ_BUILD)/fuzz_tls: FUZZ_EXTRA_LIBS = $(shell pkg-config --libs libuv 2>/dev/null)
# fuzz_control: util/frame.c has the libuv connection beside the decoders.
$(FUZZ_BUILD)/fuzz_control: FUZZ_EXTRA_LIBS = $(shell pkg-config --libs libuv 2>/dev/null)
$(FUZZ_BUILD)/fuzz_cluster: FUZZ_EXTRA_LIBS = $(shell pkg-config --libs libuv 2>/dev/null)

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_BUILD)/libhopper-fuzz.a \
                      $(HEADERS) | fuzz-check
	@echo "  LINK  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_BUILD)/libhopper-fuzz.a \
	  $(FUZZ_EXTRA_LIBS) $(FUZZ_LDLIBS) -lm


fuzz-clean:
	rm -rf $(FUZZ_BUILD)
