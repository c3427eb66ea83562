# aerun: build, dependencies, data, tests and benchmarks.
#   make          build build/aerun and build/aerun.so
#   make demo     deps + build + data, then the demo experiment
#   make test     deps + build + data, then every test
#   make bench    training speed of the tutorials' models, side by side with PyTorch
#   make deps     install the Debian packages that are missing (sudo when not root)
#   make data     fill data/ with MNIST and Fashion-MNIST
#   make install PREFIX=/usr/local

PREFIX ?= /usr/local
CC ?= gcc
LUA ?= lua5.4
BUILD ?= build

PKGS := lua5.4 hdf5 libpng zlib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/x86_64-linux-gnu/openblas-pthread
PKG_LIBS = $(shell pkg-config --libs hdf5 libpng zlib 2>/dev/null) -lopenblas -lm

OPT ?= -O3 -march=x86-64-v3
CFLAGS ?= $(OPT)
# no errno and no FP traps, so that sqrtf and selects vectorise; FMA
# contraction as GNU C does by default (ISO C mode turns it off)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -fPIC -fno-math-errno \
             -fno-trapping-math -ffp-contract=fast $(CFLAGS) $(PKG_CFLAGS)
LDFLAGS ?=

# every runtime/*.c is part of the library except the executable's main
CORE_SRC := $(filter-out runtime/aerun.c, $(wildcard runtime/*.c))
CORE_OBJ := $(CORE_SRC:runtime/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/embedded_lua.o
LUA_SRC := $(wildcard lua/aerun/*.lua)

DEBS := pkg-config lua5.4 liblua5.4-dev libopenblas-dev libhdf5-dev hdf5-tools zlib1g-dev \
        libpng-dev lua-cjson lua-busted dataset-fashion-mnist parallel

.PHONY: all deps data demo test bench install clean
all: $(BUILD)/aerun $(BUILD)/aerun.so

$(BUILD)/obj/%.o: runtime/%.c runtime/*.h Makefile | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# the Lua library is compiled into the module and the executable, so both
# are self-contained wherever they are installed
$(BUILD)/embedded_lua.c: tools/embed.lua $(LUA_SRC) | $(BUILD)/obj
	$(LUA) tools/embed.lua $(LUA_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/embedded_lua.o: $(BUILD)/embedded_lua.c
	$(CC) $(ALL_CFLAGS) -Iruntime -c $< -o $@

$(BUILD)/aerun.so: $(CORE_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/aerun: $(BUILD)/obj/aerun.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -llua5.4 -Wl,-E

$(BUILD)/obj:
	mkdir -p $@

deps:
	@sh tools/deps.sh $(DEBS)

data:
	@sh tools/fetch_data.sh data

demo: deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	$(BUILD)/aerun experiments/vae_mnist.lua

test: deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	@sh tools/run_tests.sh

# speed against PyTorch (where python3-torch is installed), never in make test
bench: deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	$(BUILD)/aerun bench/run.lua

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4 $(DESTDIR)$(PREFIX)/share/lua/5.4/aerun
	install -m 755 $(BUILD)/aerun $(DESTDIR)$(PREFIX)/bin/aerun
	install -m 644 $(BUILD)/aerun.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/aerun.so
	install -m 644 $(LUA_SRC) $(DESTDIR)$(PREFIX)/share/lua/5.4/aerun/

clean:
	rm -rf $(BUILD)

# further targets (sanitizers, fuzzing, ...) live in mk/, one file each
-include mk/*.mk
