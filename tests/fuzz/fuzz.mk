# tests/fuzz/fuzz.mk: libFuzzer targets for the parsers of outside input, included by tests/tests.mk.
# Every tests/fuzz/fuzz_<name>.c is one target, built with the host's clang
# (-fsanitize=fuzzer,address,undefined) over the pure modules of tests/unit/unit.mk; its seed corpus
# is tests/fuzz/corpus/<name>/ (kept in the repository, small).
#
#   make fuzz-smoke                 (part of make test) each target for FUZZ_TIME seconds (default 20)
#                                   over a scratch copy of its corpus, with a fixed seed so that a test
#                                   run is repeatable (exploring is make fuzz's job); fails on a crash
#   make fuzz FUZZ_SECONDS=N        each target for N seconds (default 60), growing a corpus kept in
#                                   build/test/fuzz/corpus/<name>/ (new inputs never land in the
#                                   repository); fails on a crash. Targets run in parallel under -j.
#
# A crashing input is kept as build/test/fuzz/artifacts/<name>-crash-*; reproduce it with
# build/test/fuzz/fuzz_<name> FILE.

FUZZ_DIR     := $(UNIT_TEST_DIR)/fuzz
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_FLAGS   := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
FUZZ_OBJS    := $(UNIT_PURE_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/cJSON.o $(call UNIT_YAML_OBJS,$(FUZZ_DIR))
FUZZ_TIME    ?= 20

$(FUZZ_DIR)/obj/%.o: %.c $(UNIT_HEADERS) $(BUILD_INFO_H) $(DEPS_CJSON_SRC_STAMP) $(DEPS_YAML_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(HOST_CC) $(CSTD) $(WARN) $(HOST_DEBUG) $(FUZZ_FLAGS) $(HOST_CPPFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/cJSON.o: $(DEPS_CJSON_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(HOST_CC) $(HOST_DEBUG) $(FUZZ_FLAGS) -w -c -o $@ $(DEPS_CJSON_SRCDIR)/cJSON.c

$(FUZZ_DIR)/obj/yaml/%.o: $(DEPS_YAML_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(HOST_CC) $(HOST_DEBUG) $(FUZZ_FLAGS) -w $(DEPS_YAML_HOST_FLAGS) -c -o $@ $(DEPS_YAML_SRCDIR)/src/$*.c

$(FUZZ_DIR)/libfuzzunit.a: $(FUZZ_OBJS)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/tests/fuzz/%.o $(FUZZ_DIR)/libfuzzunit.a
	$(call quiet,LD,$@)$(HOST_CC) -fsanitize=fuzzer,address,undefined -o $@ $^

# fuzz_run NAME SECONDS CORPUS [FLAGS]: run NAME's fuzzer for SECONDS over CORPUS (a folder, seeded
# from tests/fuzz/corpus/NAME; "" for a scratch copy removed afterwards) with libFuzzer FLAGS; print
# one summary line, keep the log.
define fuzz_run
	@work=$(3); if [ -z "$$work" ]; then work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; fi; \
	mkdir -p $(FUZZ_DIR)/artifacts "$$work"; [ ! -d tests/fuzz/corpus/$(1) ] || cp -r tests/fuzz/corpus/$(1)/. "$$work"/; \
	log=$(FUZZ_DIR)/$(1).log; before=$$(ls "$$work" | wc -l); \
	if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_DIR)/fuzz_$(1) \
	     -max_total_time=$(2) -timeout=10 -rss_limit_mb=2048 -max_len=4096 -close_fd_mask=3 \
	     -print_final_stats=1 $(4) -artifact_prefix=$(FUZZ_DIR)/artifacts/$(1)- "$$work" > "$$log" 2>&1; then \
	  runs=$$(sed -n 's/^stat::number_of_executed_units: *//p' "$$log"); \
	  rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' "$$log"); \
	  echo "fuzz $(1): $$runs runs in $(2) s ($$rate/s), corpus $$before -> $$(ls "$$work" | wc -l) inputs, 0 crashes"; \
	else \
	  tail -n 60 "$$log"; echo "fuzz $(1): CRASH (log: $$log, input: $(FUZZ_DIR)/artifacts/$(1)-*)" >&2; exit 1; \
	fi
endef

FUZZ_SECONDS ?= 60

.PHONY: fuzz fuzz-build fuzz-smoke $(FUZZ_NAMES:%=fuzz-smoke-%) $(FUZZ_NAMES:%=fuzz-%)
fuzz-build: $(FUZZ_BINS)

$(FUZZ_NAMES:%=fuzz-smoke-%): fuzz-smoke-%: $(FUZZ_DIR)/fuzz_%
	$(call fuzz_run,$*,$(FUZZ_TIME),,-seed=1)

fuzz-smoke: $(FUZZ_NAMES:%=fuzz-smoke-%)

# make fuzz: the corpus each run grows stays in build/test/fuzz/corpus/<name>/ for the next run.
$(FUZZ_NAMES:%=fuzz-%): fuzz-%: $(FUZZ_DIR)/fuzz_%
	$(call fuzz_run,$*,$(FUZZ_SECONDS),$(FUZZ_DIR)/corpus/$*)

fuzz: $(FUZZ_NAMES:%=fuzz-%)
