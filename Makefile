# qsearch build.
#   make            library build/libqsearch.a and binary build/qsearch
#   make test       installs missing packages (scripts/deps.sh --test), builds and runs
#                   every test (tests/run.sh); last line "N passed, N failed"
#   make check      the same without the package check
#   make asan       the tests under AddressSanitizer + UndefinedBehaviorSanitizer (build/asan/)
#   make demo       installs missing packages, fetches letter, trains, evaluates (scripts/demo.sh)
#   make bench      benchmarks against peers (bench/run.sh)
#   make install PREFIX=/usr/local   library, headers, binary and qsearch.pc
# Every src/<module>/*.c is part of the library, except src/cli/ (the binary).
# Each tests/test_*.c is one test program linked against the library.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
VERSION := 0.1.0

HDF5_CFLAGS := $(shell pkg-config --cflags hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)
HDF5_LIBS   := $(shell pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)

WARN     := -std=c11 -Wall -Wextra -Wpedantic -Werror
CPPFLAGS := -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L -DQS_VERSION=\"$(VERSION)\" $(HDF5_CFLAGS)
# SIMD kernels use per-function target attributes and run-time dispatch, so the
# build targets the baseline x86-64 and runs on any machine.
OPT      ?= -O2 -g
CFLAGS   := $(WARN) $(OPT) $(EXTRA_CFLAGS)
LDLIBS   := -ljansson -lsqlite3 $(HDF5_LIBS) -lz -lpthread -ldl -lm
LDFLAGS  += $(EXTRA_LDFLAGS)

LIB_SRC  := $(wildcard src/core/*.c src/data/*.c src/nn/*.c src/quant/*.c src/kernels/*.c \
                       src/metrics/*.c src/search/*.c src/io/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/libqsearch.a
BIN      := $(BUILD)/qsearch

.PHONY: all test check asan demo bench install clean deps deps-test deps-bench

all: $(LIB) $(BIN)

# Packages: build needs for make/demo, test peers for make test, oneDNN for bench.
deps:
	@sh scripts/deps.sh
deps-test:
	@sh scripts/deps.sh --test
deps-bench:
	@sh scripts/deps.sh --bench

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $(CLI_OBJ) $(LIB) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c $(LIB) tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

test: deps-test
	@$(MAKE) --no-print-directory check

# The tests without the package check (what make test runs after it).
check: all $(TEST_BIN)
	@sh tests/run.sh $(BUILD)

asan: deps-test
	$(MAKE) BUILD=build/asan OPT="-O1 -g" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" check

demo: deps all
	@sh scripts/demo.sh $(BUILD)

bench: deps-bench all
	@sh bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/qsearch \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/qsearch/*.h $(DESTDIR)$(PREFIX)/include/qsearch/
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	    -e 's|@LIBS@|$(LDLIBS)|' qsearch.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/qsearch.pc

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d)
