# aerun: build, dependencies, data, tests and benchmarks.
#   make          build build/aerun and build/aerun.so
#   make demo     deps + build + data, then the demo experiment
#   make test     deps + build + data, then every test
#   make bench    training speed of the tutorials' models, side by side with PyTorch
#   make deps     install the Debian packages that are missing (sudo when not root)
#   make data     fill data/ with MNIST and Fashion-MNIST
#   make install PREFIX=/usr/local
#   luarocks --lua-version=5.4 make --tree=DIR   the same files into a LuaRocks tree (aerun-*.rockspec)

PREFIX ?= /usr/local
CC ?= gcc
LUA ?= lua5.4
BUILD ?= build

# The runtime's layers, each a folder (docs/architecture.md):
#   runtime/core  tensors, storage, autograd, GEMM, threads, RNG, errors
#   runtime/ops   every op's forward and backward, over core
#   runtime/io    file formats (IDX, HDF5, PNG, JPEG), over core
#   runtime/lua   the Lua binding and the executable, over all of them
# Each layer is compiled with only the include paths it may use: Lua's for
# runtime/lua alone, HDF5's, libpng's and libjpeg's for the files that use them, so a
# core or ops file that includes lua.h does not compile.  tools/layers.sh
# checks the includes between the layers before anything is compiled.
LUA_CFLAGS = $(shell pkg-config --cflags lua5.4 2>/dev/null)
HDF5_CFLAGS = $(shell pkg-config --cflags hdf5 2>/dev/null)
PNG_CFLAGS = $(shell pkg-config --cflags libpng 2>/dev/null)
JPEG_CFLAGS = $(shell pkg-config --cflags libjpeg 2>/dev/null)
# plots (io/plot.c) are drawn with cairo
CAIRO_CFLAGS = $(shell pkg-config --cflags cairo 2>/dev/null)
CAIRO_LIBS = $(shell pkg-config --libs cairo 2>/dev/null)
BLAS_CFLAGS = -I/usr/include/x86_64-linux-gnu/openblas-pthread
PKG_LIBS = $(shell pkg-config --libs hdf5 libpng libjpeg zlib libzip 2>/dev/null) $(CAIRO_LIBS) -lopenblas -lm

OPT ?= -O3 -march=x86-64-v3
CFLAGS ?= $(OPT)
# no errno and no FP traps, so that sqrtf and selects vectorise; FMA
# contraction as GNU C does by default (ISO C mode turns it off)
ALL_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror=implicit-function-declaration -fPIC \
             -fno-math-errno -fno-trapping-math -ffp-contract=fast $(CFLAGS) -Iruntime
LDFLAGS ?=

LAYERS := core ops io lua
# every runtime source is part of the library except the executable's main
LIB_SRC := $(filter-out runtime/lua/aerun.c, $(foreach l,$(LAYERS),$(wildcard runtime/$(l)/*.c)))
CORE_OBJ := $(LIB_SRC:runtime/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/embedded_lua.o
HEADERS := $(foreach l,$(LAYERS),$(wildcard runtime/$(l)/*.h))
LUA_SRC := $(wildcard lua/aerun/*.lua)

# the include paths each layer (or file) may use
$(BUILD)/obj/core/gemm.o: LAYER_CFLAGS = $(BLAS_CFLAGS)
$(BUILD)/obj/io/h5.o $(BUILD)/obj/io/h5_file.o $(BUILD)/obj/io/h5_source.o: LAYER_CFLAGS = $(HDF5_CFLAGS)
$(BUILD)/obj/io/png.o: LAYER_CFLAGS = $(PNG_CFLAGS)
$(BUILD)/obj/io/jpeg.o: LAYER_CFLAGS = $(JPEG_CFLAGS)
$(BUILD)/obj/io/plot.o: LAYER_CFLAGS = $(CAIRO_CFLAGS)
$(BUILD)/obj/lua/%.o: LAYER_CFLAGS = $(LUA_CFLAGS)

DEBS := pkg-config lua5.4 liblua5.4-dev libopenblas-dev libhdf5-dev hdf5-tools zlib1g-dev \
        libpng-dev libjpeg-dev libjpeg-turbo-progs libzip-dev lua-cjson lua-busted dataset-fashion-mnist parallel \
        luarocks lua-ldoc lua-discount libcairo2-dev fonts-dejavu-core libdnnl2
# what only the tests use: a one-node Slurm cluster, a headless browser
TEST_DEBS := slurm-wlm munge chromium

.PHONY: all deps test-deps data demo test bench install clean layers format format-check docs
all: $(BUILD)/aerun $(BUILD)/aerun.so

$(BUILD)/layers.ok: tools/layers.sh $(LIB_SRC) runtime/lua/aerun.c $(HEADERS)
	@mkdir -p $(BUILD)
	@sh tools/layers.sh && touch $@

layers:
	@sh tools/layers.sh

$(BUILD)/obj/%.o: runtime/%.c $(HEADERS) Makefile $(BUILD)/layers.ok
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LAYER_CFLAGS) -c $< -o $@

# the Lua library is compiled into the module and the executable, so both
# are self-contained wherever they are installed
$(BUILD)/embedded_lua.c: tools/embed.lua $(LUA_SRC)
	@mkdir -p $(BUILD)/obj
	$(LUA) tools/embed.lua $(LUA_SRC) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/embedded_lua.o: $(BUILD)/embedded_lua.c
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) -Iruntime/lua -c $< -o $@

$(BUILD)/aerun.so: $(CORE_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/aerun: $(BUILD)/obj/lua/aerun.o $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -llua5.4 -Wl,-E

deps:
	@sh tools/deps.sh $(DEBS)

test-deps: deps
	@sh tools/deps.sh $(TEST_DEBS)

data:
	@sh tools/fetch_data.sh data

demo: deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	$(BUILD)/aerun experiments/vae_mnist.lua

test: test-deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	@sh tools/run_tests.sh

# speed against PyTorch (where python3-torch is installed), never in make test
bench: deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	$(BUILD)/aerun bench/run.lua

# the directories are named as in Lua's own Makefile; the rockspec
# (aerun-*.rockspec) sets them to the rock's, so both install these files
INSTALL_BIN = $(PREFIX)/bin
INSTALL_CMOD = $(PREFIX)/lib/lua/5.4
INSTALL_LMOD = $(PREFIX)/share/lua/5.4
install: all
	install -d $(DESTDIR)$(INSTALL_BIN) $(DESTDIR)$(INSTALL_CMOD) $(DESTDIR)$(INSTALL_LMOD)/aerun
	install -m 755 $(BUILD)/aerun $(DESTDIR)$(INSTALL_BIN)/aerun
	install -m 644 $(BUILD)/aerun.so $(DESTDIR)$(INSTALL_CMOD)/aerun.so
	install -m 644 $(LUA_SRC) $(DESTDIR)$(INSTALL_LMOD)/aerun/

clean:
	rm -rf $(BUILD)

# the API reference, from the doc comments (config.ld lists the files):
# HTML in docs/api/ (generated, not committed) and the same entries as one
# Markdown page, docs/api.md (committed: readable without a browser or a
# build; tests/apidoc_spec.lua checks that it is up to date)
DOC_SRC = config.ld docs/api_core.lua tools/ldoc_markdown.lua $(LUA_SRC)
docs: docs/api/index.html docs/api.md

docs/api/index.html: $(DOC_SRC)
	@sh tools/deps.sh lua-ldoc lua-discount
	ldoc -c config.ld . >/dev/null

docs/api.md: $(DOC_SRC)
	@sh tools/deps.sh lua-ldoc lua-discount
	LDOC_MARKDOWN=$@.tmp ldoc -c config.ld --filter tools.ldoc_markdown.render . >/dev/null && mv $@.tmp $@

# further targets (sanitizers, fuzzing, ...) live in mk/, one file each
-include mk/*.mk

# the house style of the C sources is .clang-format's; CI fails on a file
# that differs from it (make format rewrites them)
FORMAT_SRC = $(wildcard runtime/*/*.[ch]) fuzz/harness.c tests/h5_leaks.c
format:
	@sh tools/deps.sh clang-format
	clang-format -i $(FORMAT_SRC)

format-check:
	@sh tools/deps.sh clang-format
	@bad=$$(for f in $(FORMAT_SRC); do clang-format --dry-run -Werror "$$f" >/dev/null 2>&1 || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format-check: not in the house style (run make format):"; echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "format-check: $(words $(FORMAT_SRC)) files in the house style"
