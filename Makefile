# elang build. `make` builds build/libelang.a and build/elang; `make test`
# runs the test suite, then the same suite built with ASan + UBSan.
#
# BUILD selects the output folder and flavour: build (optimised, default)
# or build-san (sanitizers). Every .c under src/ except src/cli goes into
# the library, and so does every .cc (the C++ shims around C++-only
# libraries); the CLI links against it like any other user.

BUILD    ?= build
CC       ?= cc
CXX      ?= g++
PKGS     := jansson libzip libutf8proc sentencepiece libmicrohttpd libcurl
# Matrix products through oneDNN (libdnnl, no pkg-config file in Debian),
# built on OpenMP like elang's own loops: one thread pool. It picks its
# kernels at run time, and so does src/core/kernels.c: the build targets
# any x86-64, never -march=native.
CPPFLAGS += -Iinclude -Isrc $(shell pkg-config --cflags $(PKGS)) -D_GNU_SOURCE
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -fopenmp -fPIC
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -Werror -fPIC
# sentencepiece's .pc also lists its trainer library, which elang never calls.
LDLIBS   += $(filter-out -lsentencepiece_train,$(shell pkg-config --libs $(PKGS))) -ldnnl -lstdc++ -lm -fopenmp

ifeq ($(BUILD),build-san)
SANITIZE := -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS   := -O1 -g $(SANITIZE) $(filter-out -O2 -g,$(CFLAGS))
CXXFLAGS := -O1 -g $(SANITIZE) $(filter-out -O2 -g,$(CXXFLAGS))
LDFLAGS  += -fsanitize=address,undefined
endif

LIB_SRC  := $(shell find src \( -name '*.c' -o -name '*.cc' \) -not -path 'src/cli/*' | sort)
CLI_SRC  := $(shell find src/cli -name '*.c' | sort)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_SUPPORT := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))

LIB_OBJ  := $(patsubst %.cc,$(BUILD)/obj/%.o,$(LIB_SRC:%.c=$(BUILD)/obj/%.o))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
SUPPORT_OBJ := $(TEST_SUPPORT:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all test test-fast mutants clean fuzz bench bench-bin tests-built
all: $(BUILD)/elang

# Rebuilt from scratch: `ar r` would keep the objects of deleted sources.
$(BUILD)/libelang.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/elang: $(CLI_OBJ) $(BUILD)/libelang.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/obj/%.o: %.cc
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(SUPPORT_OBJ) $(BUILD)/libelang.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

tests-built: $(TEST_BIN) $(BUILD)/elang

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libelang.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-bin: $(BENCH_BIN) $(BUILD)/elang

# Speed against a peer (PyTorch) on the same machine: see bench/README.md.
bench: bench-bin
	bench/run.sh

# The mutation check (tests/mutants.sh: every planted bug must be caught),
# then the optimised suite and the sanitizer suite; each prints its own tally
# and the last line is the combined `N passed, N failed`.
test:
	$(MAKE) --no-print-directory BUILD=build tests-built
	$(MAKE) --no-print-directory BUILD=build-san tests-built
	tests/layers.sh
	tests/mutants.sh build
	tests/run.sh build build-san

mutants:
	$(MAKE) --no-print-directory BUILD=build tests-built
	tests/mutants.sh build

test-fast:
	$(MAKE) --no-print-directory BUILD=build tests-built
	tests/run.sh build

clean:
	rm -rf build build-san build-fuzz

# libFuzzer targets (clang): see fuzz/README.md.
fuzz:
	$(MAKE) -C fuzz

.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
