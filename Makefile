# sparkctl: plain GNU make + pkg-config.
#   make            build sparkctl and libsparkctl (static and shared)
#   make check      unit, CLI and fuzz-corpus tests (SANITIZE=1: ASan + UBSan)
#   make demo       install what is missing, build, scan the bundled sample tree
#   make bench      benchmarks (never part of check)
#   make fuzz       libFuzzer targets (clang)
#   make deps       install the Debian packages the build and tests need
#   make install    PREFIX=/usr/local DESTDIR=
#   make uninstall  the same, removed
#   make clean      remove build/
#   make help       this list
#   DEVELOPER=1     warnings are errors (CI)

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
LIBDIR := $(PREFIX)/lib
MANDIR := $(PREFIX)/share/man
DOCDIR := $(PREFIX)/share/doc/sparkctl
# systemd's user units of a prefix (systemd.unit(5): /usr/lib/systemd/user, /usr/local/lib/systemd/user)
SYSTEMD_USERDIR := $(PREFIX)/lib/systemd/user

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := jansson libcurl libarchive openssl libevent
DEB_PKGS := build-essential pkg-config libjansson-dev libcurl4-openssl-dev libarchive-dev libssl-dev libcmocka-dev libevent-dev libhttp-parser-dev openssh-client openssh-server iproute2 perl python3 curl zsh fish mandoc tmux strace libgomp1 systemd

ifeq ($(SANITIZE),1)
B := build/san
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
B := build/std
SAN :=
endif

# Stop with the exact install line when a library is missing, except for the
# targets that install or need no library.
NODEPS_GOALS := deps demo clean uninstall help
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
# http-parser ships no .pc file: its header is looked for where the compiler does
ifneq ($(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && printf '\043include <http_parser.h>\n' | $(CC) -E -o /dev/null - 2>/dev/null && echo ok),ok)
$(error missing build dependencies; install them with: apt-get install $(DEB_PKGS)   (or run: make deps))
endif
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS))
# libarchive and libcurl are loaded with dlopen when first needed
# (lib/pickle.c, lib/curl_api.c): linked, they cost every start 1 to 7 ms.
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(filter-out libarchive libcurl openssl libevent,$(PKGS)))
endif

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
# DEVELOPER=1 (CI sets it): warnings are errors, as git's config.mak.dev
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DSPARKCTL_VERSION='"$(VERSION)"' $(WARN) -fPIC $(SAN) $(CFLAGS) $(DEP_CFLAGS)
ALL_LDFLAGS := $(SAN) $(LDFLAGS)

# lib/ in layers, each including only from those below it (see doc/ARCHITECTURE.md):
# base <- format <- net, engine <- ops <- proxy; base <- net <- probe
LIB_SRC := $(sort $(wildcard lib/*/*.c))
CMD_SRC := $(sort $(wildcard cmd/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ := $(CMD_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz-*.c))
REPLAY_BIN := $(FUZZ_SRC:fuzz/%.c=$(B)/replay/%)

.PHONY: all check demo bench bench-deps fuzz deps install uninstall clean help FORCE
all: sparkctl

help:
	@sed -n 's/^#   //p' Makefile

sparkctl: $(B)/sparkctl
	@ln -sf $(B)/sparkctl $@

$(B)/sparkctl: $(CMD_OBJ) $(B)/libsparkctl.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(CMD_OBJ) $(B)/libsparkctl.a $(DEP_LIBS) -lpthread -lm

$(B)/libsparkctl.a: $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(B)/libsparkctl.so: $(LIB_OBJ) lib/libsparkctl.vers
	$(CC) -shared $(ALL_LDFLAGS) -Wl,-soname,libsparkctl.so.0 -Wl,--version-script=lib/libsparkctl.vers -o $@ $(LIB_OBJ) $(DEP_LIBS) -lpthread -lm -ldl

# The installed headers: lib/sparkctl.h and what it includes, no more (util.h
# with its unprefixed helpers, and the headers that pull in curl's and
# libarchive's, stay inside).
PUBLIC_HEADERS := lib/sparkctl.h lib/base/err.h lib/base/registry.h lib/base/strset.h lib/engine/state.h \
	lib/engine/plan.h lib/engine/engine.h lib/format/estimate.h \
	lib/format/classify.h lib/format/dtype.h lib/format/gguf.h lib/format/hfconfig.h lib/format/model.h \
	lib/format/quantcfg.h lib/format/tstats.h lib/format/vocab.h lib/net/fetch.h lib/net/hub.h lib/net/openai.h \
	lib/net/unpack.h lib/probe/history.h lib/probe/summary.h lib/probe/runner.h lib/probe/judge.h \
	lib/probe/promptset.h lib/probe/stats.h lib/ops/download.h lib/ops/inspect.h lib/ops/model_json.h lib/ops/scan.h lib/ops/serve.h


# A change of the flags rebuilds everything (git's GIT-CFLAGS); -MMD -MP
# track the headers each object includes.
$(B)/CFLAGS: FORCE
	@mkdir -p $(B)
	@echo '$(CC) $(ALL_CFLAGS)' | cmp -s - $@ || echo '$(CC) $(ALL_CFLAGS)' >$@

$(B)/%.o: %.c $(B)/CFLAGS
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d)

# the prompts are in the binary (.incbin), which -MMD does not see
$(B)/lib/probe/xstest_data.o: data/xstest/xstest_prompts.csv

$(B)/tests/%: tests/unit/%.c $(B)/libsparkctl.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -Itests/unit -o $@ $< $(B)/libsparkctl.a $(DEP_LIBS) -lcmocka -lpthread -lm

$(B)/replay/%: fuzz/%.c fuzz/replay.c $(B)/libsparkctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< fuzz/replay.c $(B)/libsparkctl.a $(DEP_LIBS) -lpthread -lm

# The tests speak TAP; prove runs them and closes with its summary.
check: all $(B)/libsparkctl.so $(UNIT_BIN) $(REPLAY_BIN)
	@SPARKCTL_BUILD=$(CURDIR)/$(B) SPARKCTL=$(CURDIR)/$(B)/sparkctl SPARKCTL_NODE=$(CURDIR)/build/node \
		CMOCKA_MESSAGE_OUTPUT=TAP \
		prove --exec '' --timer $(UNIT_BIN) $(sort $(wildcard tests/cli/t[0-9]*.sh))

demo: deps
	@$(MAKE) --no-print-directory all
	@rm -rf build/demo-models && python3 tests/gen-fixtures.py build/demo-models
	@echo '$$ sparkctl --config tests/fixtures/demo.ini scan'
	@./sparkctl --config tests/fixtures/demo.ini scan --no-fail
	@echo
	@echo 'Try next (the demo registry needs its --config):'
	@echo '  ./sparkctl --config tests/fixtures/demo.ini inspect qwen3-32b-nvfp4'
	@echo '  ./sparkctl --config tests/fixtures/demo.ini list'
	@echo '  ./sparkctl --config tests/fixtures/demo.ini serve --dry-run qwen3-32b-nvfp4'
	@echo 'Your own registry: cp models.ini ~/.config/sparkctl/models.ini, then edit it (man 5 models.ini).'

# the download benchmark compares with nginx, curl and aria2c
BENCH_PKGS := nginx-light aria2 curl wrk

bench: all $(B)/bench/bench-parse $(B)/bench/sse-peer bench-deps
	@python3 bench/bench-scan.py --sparkctl $(CURDIR)/$(B)/sparkctl
	@python3 bench/bench-commands.py --sparkctl $(CURDIR)/$(B)/sparkctl
	@python3 bench/bench-switch.py --sparkctl $(CURDIR)/$(B)/sparkctl
	@python3 bench/bench-test.py --sparkctl $(CURDIR)/$(B)/sparkctl
	@python3 bench/bench-probe.py --sparkctl $(CURDIR)/$(B)/sparkctl
	@python3 bench/bench-proxy.py --sparkctl $(CURDIR)/$(B)/sparkctl
	@python3 bench/bench-download.py --sparkctl $(CURDIR)/$(B)/sparkctl

$(B)/bench/%: bench/%.c $(B)/libsparkctl.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Wno-missing-prototypes -o $@ $< $(B)/libsparkctl.a $(DEP_LIBS) -lpthread -lm

fuzz:
	@mkdir -p build/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
		echo "clang -fsanitize=fuzzer $$f"; \
		clang -g -O1 -std=gnu11 -D_GNU_SOURCE -DSPARKCTL_VERSION='"$(VERSION)"' -fsanitize=fuzzer,address,undefined $(DEP_CFLAGS) \
			-o build/fuzz/$$n $$f $(LIB_SRC) $(DEP_LIBS) -lpthread -lm || exit 1; done
	@echo "run: build/fuzz/fuzz-safetensors fuzz/corpus/safetensors (likewise gguf, quantcfg, sse, ini, hublisting, archivepath, proxybody, proxyhttp)"

# The official clients the stand-ins are checked against once (npm; the
# tests skip that check where Node is absent).
NODE_CLIENTS := openai@4.95.0 @huggingface/hub@2.17.5

bench-deps:
	@$(MAKE) --no-print-directory deps DEB_PKGS="$(BENCH_PKGS)" NODE_CLIENTS=

deps:
	@if command -v npm >/dev/null && { [ ! -d build/node/node_modules/openai ] || [ ! -d build/node/node_modules/@huggingface/hub ]; }; then \
		echo "installing the npm clients the tests check the stand-ins with: $(NODE_CLIENTS)"; \
		npm install --silent --no-audit --no-fund --no-save --prefix build/node $(NODE_CLIENTS) || \
		echo "npm install failed: the real-client checks will be skipped" >&2; \
	fi
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if ! command -v apt-get >/dev/null; then echo "install:$$missing" >&2; exit 1; fi; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		echo "installing:$$missing"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

install: all $(B)/libsparkctl.so
	install -Dm755 $(B)/sparkctl $(DESTDIR)$(BINDIR)/sparkctl
	install -Dm644 $(B)/libsparkctl.a $(DESTDIR)$(LIBDIR)/libsparkctl.a
	install -Dm755 $(B)/libsparkctl.so $(DESTDIR)$(LIBDIR)/libsparkctl.so.0
	ln -sf libsparkctl.so.0 $(DESTDIR)$(LIBDIR)/libsparkctl.so
	for m in man/*.1; do install -Dm644 $$m $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	for m in man/*.5; do install -Dm644 $$m $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done
	install -Dm644 completions/sparkctl.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/sparkctl
	install -Dm644 completions/_sparkctl $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sparkctl
	install -Dm644 completions/sparkctl.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sparkctl.fish
	install -Dm644 models.ini $(DESTDIR)$(DOCDIR)/models.ini.example
	mkdir -p $(DESTDIR)$(SYSTEMD_USERDIR) $(DESTDIR)$(DOCDIR)/examples
	sed 's|/usr/local/bin/sparkctl|$(BINDIR)/sparkctl|' contrib/systemd/sparkctl-proxy.service \
		>$(DESTDIR)$(SYSTEMD_USERDIR)/sparkctl-proxy.service
	sed 's|/usr/local/bin/sparkctl|$(BINDIR)/sparkctl|' contrib/systemd/system/sparkctl-proxy.service \
		>$(DESTDIR)$(DOCDIR)/examples/sparkctl-proxy.service
	for f in LICENSE SOURCES.md; do install -Dm644 data/xstest/$$f $(DESTDIR)$(DOCDIR)/xstest/$$f; done
	for h in $(PUBLIC_HEADERS); do install -Dm644 $$h $(DESTDIR)$(PREFIX)/include/sparkctl/$${h#lib/}; done
	mkdir -p $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(PREFIX)/include|' \
		-e 's|@VERSION@|$(VERSION)|' lib/sparkctl.pc.in >$(DESTDIR)$(LIBDIR)/pkgconfig/sparkctl.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sparkctl $(DESTDIR)$(LIBDIR)/libsparkctl.a $(DESTDIR)$(LIBDIR)/libsparkctl.so \
		$(DESTDIR)$(LIBDIR)/libsparkctl.so.0 $(DESTDIR)$(DOCDIR)/models.ini.example $(DESTDIR)$(LIBDIR)/pkgconfig/sparkctl.pc \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/sparkctl \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions/_sparkctl \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/sparkctl.fish \
		$(DESTDIR)$(SYSTEMD_USERDIR)/sparkctl-proxy.service $(DESTDIR)$(DOCDIR)/examples/sparkctl-proxy.service
	for m in man/*.1; do rm -f $(DESTDIR)$(MANDIR)/man1/$$(basename $$m); done
	for m in man/*.5; do rm -f $(DESTDIR)$(MANDIR)/man5/$$(basename $$m); done
	rm -rf $(DESTDIR)$(PREFIX)/include/sparkctl

clean:
	rm -rf build sparkctl
