# mk/reliability.mk: sanitizers, fuzzing, valgrind and the long tests
# (included by the Makefile).
#   make test-asan    everything built with AddressSanitizer and UBSan into
#                     build-asan/, then the whole test suite on it, then a
#                     short training run with leak detection
#   make fuzz         each libFuzzer target (fuzz/drivers/*.lua) for
#                     FUZZ_SECONDS (60), two at a time; a crash fails and
#                     leaves its input in build-fuzz/crashes/<target>/
#   make fuzz-ci      the same with at least 60 s per target (for .ci/run)
#   make fuzz-hdf5    corrupt HDF5 metadata (exploratory: finds libhdf5 bugs)
#   make valgrind     memcheck on a short training run: any error or leak fails
#   make test-long    the tests too slow for make test (tests/long/)
# The fuzz targets need clang and libFuzzer (Debian: clang, libclang-rt-14-dev),
# valgrind needs valgrind; each target installs what it needs, as make deps.

ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# hdf5_raw is exploratory (it finds libhdf5's bugs): make fuzz-hdf5
FUZZ_ALL := $(basename $(notdir $(filter-out fuzz/drivers/common.lua, $(wildcard fuzz/drivers/*.lua))))
FUZZ_TARGETS := $(filter-out hdf5_raw, $(FUZZ_ALL))
FUZZ_CC ?= clang
FUZZ_DEBS := clang libclang-rt-14-dev

SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# lua5.4 itself is not instrumented: libasan has to come first in it, and
# the leaks of an uninstrumented interpreter are not ours to report
# allocator_may_return_null: a corrupt HDF5 file makes libhdf5 ask malloc
# for absurd sizes, which glibc refuses and HDF5 handles; ASan aborts instead
ASAN_ENV = LD_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
           ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_odr_violation=0:allocator_may_return_null=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-asan fuzz fuzz-ci fuzz-hdf5 fuzz-build fuzz-bins fuzz-deps valgrind test-long

# The leak check runs the GEMMs through OpenBLAS: with oneDNN dlopen'ed,
# GCC 12's LeakSanitizer sometimes reads a garbage dynamic-TLS entry while
# it stops the threads and dies in its own tracer ("Tracer caught signal
# 11", "DTLS 11 at 0x...cd-0x...11cf"), before it has looked for leaks;
# the suite above covers the oneDNN path under ASan.
test-asan: test-deps
	@$(MAKE) --no-print-directory data
	@$(MAKE) --no-print-directory -j2 BUILD=$(ASAN_BUILD) CC=gcc \
	    CFLAGS="-O1 -g $(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" all
	@start=$$(date +%s); \
	$(ASAN_ENV) BUILD=$(ASAN_BUILD) sh tools/run_tests.sh; rc=$$?; \
	echo "test-asan: the suite took $$(( $$(date +%s) - start )) s under ASan+UBSan"; \
	[ $$rc -eq 0 ] || exit $$rc
	@echo "test-asan: leak check of a short training run (LeakSanitizer)"
	@out=$$(mktemp -d) && \
	AERUN_GEMM=openblas OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/mk/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(ASAN_BUILD)/aerun experiments/vae_mnist.lua --epochs=1 --limit=500 --quiet --out=$$out/run \
	    > $$out/log 2>&1; rc=$$?; tail -n 30 $$out/log | grep -v '^result' ; rm -rf $$out; \
	[ $$rc -eq 0 ] && echo "test-asan: no leaks" || exit $$rc

fuzz-deps:
	@sh tools/deps.sh $(FUZZ_DEBS)

# the core compiled for libFuzzer's coverage, plus one harness per driver
fuzz-build: deps fuzz-deps
	@$(MAKE) --no-print-directory -j2 BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    fuzz-bins

fuzz-bins: $(FUZZ_ALL:%=$(BUILD)/fuzz_%)

$(BUILD)/fuzz_%: fuzz/harness.c fuzz/drivers/%.lua $(CORE_OBJ)
	$(CC) $(ALL_CFLAGS) $(LUA_CFLAGS) -fsanitize=fuzzer -DFUZZ_DRIVER='"$(CURDIR)/fuzz/drivers/$*.lua"' \
	    fuzz/harness.c $(CORE_OBJ) -o $@ $(PKG_LIBS) -llua5.4

# one target: the seeds and what earlier runs kept, mutated for
# FUZZ_SECONDS; prints executions and coverage; a crash fails
FUZZ_RUN = mkdir -p $(FUZZ_BUILD)/corpus/$* $(FUZZ_BUILD)/crashes/$* && \
	cp -n fuzz/corpus/$*/* $(FUZZ_BUILD)/corpus/$*/ 2>/dev/null; \
	TMPDIR=$$( [ -d /dev/shm ] && echo /dev/shm || echo /tmp ) OPENBLAS_NUM_THREADS=1 \
	ASAN_OPTIONS=abort_on_error=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
	$(FUZZ_BUILD)/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	    -malloc_limit_mb=32768 -max_len=65536 -close_fd_mask=1 -print_final_stats=1 -detect_leaks=0 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$*/ $(FUZZ_BUILD)/corpus/$* \
	    > $(FUZZ_BUILD)/$*.log 2>&1; rc=$$?; \
	execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/$*.log); \
	cov=$$(grep -o 'cov: [0-9]*' $(FUZZ_BUILD)/$*.log | tail -n 1); \
	echo "fuzz $*: $${execs:-?} executions in $(FUZZ_SECONDS) s, $$cov, corpus $$(ls $(FUZZ_BUILD)/corpus/$* | wc -l) inputs, exit $$rc"; \
	if [ $$rc -ne 0 ]; then tail -n 40 $(FUZZ_BUILD)/$*.log; \
	    echo "fuzz $*: crash input in $(FUZZ_BUILD)/crashes/$*/; copy it to fuzz/regressions/$*/ once fixed"; fi; \
	exit $$rc

fuzz-run-%:
	@$(FUZZ_RUN)

fuzz: fuzz-build
	@$(MAKE) --no-print-directory -k -j2 $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-hdf5: fuzz-build
	@$(MAKE) --no-print-directory fuzz-run-hdf5_raw

fuzz-ci:
	@s=$(FUZZ_SECONDS); [ $$s -ge 60 ] || s=60; $(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$$s

# memcheck on a short training run of the VAE (784-64-20, 300 images, 2
# epochs: the code paths of the real run on smaller buffers, ~20 s under
# valgrind): any invalid access, use of uninitialised memory, or definite or
# indirect leak fails.  One suppression (mk/valgrind.supp): the block
# fontconfig loses parsing its configuration when cairo first draws text.  The GEMMs go through
# OpenBLAS: oneDNN's JIT kernels run on a stack they place in heap memory,
# which memcheck reports as thousands of invalid reads ("client switching
# stacks"), and they are ~10x slower under valgrind.
VALGRIND_DEBS := valgrind
valgrind: deps
	@sh tools/deps.sh $(VALGRIND_DEBS)
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	@out=$$(mktemp -d) && \
	AERUN_GEMM=openblas OPENBLAS_NUM_THREADS=1 valgrind --tool=memcheck --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	    --error-exitcode=99 --num-callers=30 --suppressions=mk/valgrind.supp \
	    $(BUILD)/aerun experiments/vae_mnist.lua --epochs=2 --limit=300 --hidden=64 --quiet --out=$$out/run \
	    > $$out/log 2>&1; rc=$$?; grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|heap usage' $$out/log; \
	[ $$rc -eq 0 ] || tail -n 80 $$out/log; rm -rf $$out; \
	[ $$rc -eq 0 ] && echo "valgrind: clean" || { echo "valgrind: errors (exit $$rc)"; exit 1; }

test-long: deps
	@$(MAKE) --no-print-directory -j2 all && $(MAKE) --no-print-directory data
	@BUILD=$(BUILD) LUA_CPATH="$(BUILD)/?.so;;" AERUN_BIN=$(BUILD)/aerun \
	    lua5.4 /usr/bin/busted --output=tests/summary_output.lua --pattern=_long_test tests/long
