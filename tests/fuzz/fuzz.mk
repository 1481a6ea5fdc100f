# tests/fuzz/fuzz.mk: libFuzzer targets for the parsers of outside input, included by tests/tests.mk.
# Every tests/fuzz/fuzz_<name>.c is one target, built with the host's clang
# (-fsanitize=fuzzer,address,undefined) over the pure modules of tests/unit/unit.mk; its seed corpus
# is tests/fuzz/corpus/<name>/ (kept in the repository, small).
#
#   make fuzz-smoke                 each target for FUZZ_TIME seconds (default 20) over a copy of its
#                                   corpus (new inputs never land in the repository); fails on a crash
#   make fuzz-smoke FUZZ_TIME=600   a longer run
#
# A crashing input is kept as build/test/fuzz/artifacts/<name>-crash-*; reproduce it with
# build/test/fuzz/fuzz_<name> FILE.

FUZZ_DIR     := $(UNIT_TEST_DIR)/fuzz
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJS    := $(UNIT_PURE_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/cJSON.o
FUZZ_TIME    ?= 20

$(FUZZ_DIR)/obj/%.o: %.c $(UNIT_HEADERS) $(BUILD_INFO_H) $(DEPS_CJSON_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(CSTD) $(WARN) $(HOST_DEBUG) $(FUZZ_FLAGS) $(HOST_CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/cJSON.o: $(DEPS_CJSON_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_DEBUG) $(FUZZ_FLAGS) -w -c -o $@ $(DEPS_CJSON_SRCDIR)/cJSON.c

$(FUZZ_DIR)/libfuzzunit.a: $(FUZZ_OBJS)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o $(FUZZ_DIR)/libfuzzunit.a
	$(HOST_CC) -fsanitize=fuzzer,address,undefined -o $@ $^

# One target: run it on a scratch copy of its corpus, print one summary line, keep the log.
define fuzz_run
	@work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	mkdir -p $(FUZZ_DIR)/artifacts; [ ! -d tests/fuzz/corpus/$(1) ] || cp -r tests/fuzz/corpus/$(1)/. "$$work"/; \
	log=$(FUZZ_DIR)/$(1).log; \
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz_$(1) \
	     -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 -max_len=4096 -close_fd_mask=3 \
	     -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)- "$$work" > "$$log" 2>&1; then \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' "$$log"); \
	  seeds=0; [ ! -d tests/fuzz/corpus/$(1) ] || seeds=$$(ls tests/fuzz/corpus/$(1) | wc -l); grown=$$(ls "$$work" | wc -l); \
	  echo "fuzz $(1): $$runs runs in $(FUZZ_TIME) s, corpus $$seeds -> $$grown inputs, no crash"; \
	else \
	  tail -n 60 "$$log"; echo "fuzz $(1): FAILED (log: $$log, input: $(FUZZ_DIR)/artifacts/$(1)-*)" >&2; exit 1; \
	fi
endef

.PHONY: fuzz-build fuzz-smoke $(FUZZ_NAMES:%=fuzz-smoke-%)
fuzz-build: $(FUZZ_BINS)

$(FUZZ_NAMES:%=fuzz-smoke-%): fuzz-smoke-%: $(FUZZ_DIR)/fuzz_%
	$(call fuzz_run,$*)

fuzz-smoke: $(FUZZ_NAMES:%=fuzz-smoke-%)
