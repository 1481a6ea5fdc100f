# tests/unit/unit.mk: C unit tests of the pure modules (common/ without libpq/krb5/curl, and
# postgres-runner's SQL splitter), included by tests/tests.mk. Every tests/unit/test_*.c is one
# test binary (framework: tests/unit/tt.h), built twice:
#
#   build/test/asan/test_*   host clang with ASan+UBSan, over the sources compiled the same way
#                            and cJSON.c from the fetched source (never a Debian -dev package);
#   build/test/musl/test_*   musl-gcc -static against the product's own objects: libtinyrun.a,
#                            the runners' pure objects and the sysroot's cJSON: the real toolchain.
#
# A runner's pure module joins by being listed in UNIT_RUNNER_SRCS (its folder is added to -I).
#
# build/test/asan/conn_dump is the oracle helper of tests/test_conn_oracle.py; exitcode_dump prints
# the exit-code table for tests/test_exit_codes.py.
# `make unit-tests` builds and runs all of them; tests/test_unit.py reports each case in pytest.

UNIT_TEST_DIR  := $(BUILD)/test
UNIT_ASAN_DIR  := $(UNIT_TEST_DIR)/asan
UNIT_MUSL_DIR  := $(UNIT_TEST_DIR)/musl
UNIT_NAMES     := $(basename $(notdir $(wildcard tests/unit/test_*.c)))
# The runners' pure modules (no libpq/krb5/curl) that have unit tests or fuzzers.
UNIT_RUNNER_SRCS := $(addprefix runners/postgres-runner/,sqlsplit.c psqlmeta.c script.c) \
                    $(wildcard runners/ticket-sharer/ccfile.c) $(wildcard runners/python-launcher/tar*.c) \
                    $(wildcard $(addprefix runners/sqlserver-runner/,tsqlscript.c tdsvalue.c rowtext.c)) \
                    $(addprefix runners/spark-submit/,jobspec.c k8sstatus.c sparkcmd.c sparkconn.c) \
                    $(addprefix runners/dbt-runner/,runresults.c dbtprofile.c)
# model-deployer's models, diff and DDL (libyaml: its sources on the host, the sysroot's for musl).
UNIT_RUNNER_SRCS += $(addprefix runners/model-deployer/,model.c ptype.c mixins.c modelload.c modelcheck.c \
                    diff.c ddl.c ddl_pg.c ddl_tsql.c catalog.c catalog_pg.c catalog_tsql.c)
UNIT_RUNNER_DIRS := $(sort $(dir $(UNIT_RUNNER_SRCS)))
UNIT_HEADERS     := $(wildcard common/*.h) $(wildcard $(UNIT_RUNNER_DIRS:%=%*.h)) tests/unit/tt.h
UNIT_PURE_SRCS   := $(COMMON_PURE:%=common/%.c) $(UNIT_RUNNER_SRCS)

# Host (clang) builds of the pure modules, shared by the unit tests and the fuzzers.
HOST_CPPFLAGS  := -Icommon $(UNIT_RUNNER_DIRS:%/=-I%) -Itests/unit -I$(GEN) -I$(DEPS_CJSON_SRCDIR) \
                  -I$(DEPS_YAML_SRCDIR)/include
HOST_DEBUG     := -g -O1 -fno-omit-frame-pointer
ASAN_FLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_YAML_OBJS  = $(patsubst $(DEPS_YAML_SRCDIR)/src/%.c,$(1)/obj/yaml/%.o,$(DEPS_YAML_SRCS))
UNIT_ASAN_OBJS := $(UNIT_PURE_SRCS:%.c=$(UNIT_ASAN_DIR)/obj/%.o) $(UNIT_ASAN_DIR)/obj/cJSON.o \
                  $(call UNIT_YAML_OBJS,$(UNIT_ASAN_DIR))
UNIT_ASAN_BINS := $(UNIT_NAMES:%=$(UNIT_ASAN_DIR)/%) $(UNIT_ASAN_DIR)/conn_dump $(UNIT_ASAN_DIR)/exitcode_dump
UNIT_MUSL_BINS := $(UNIT_NAMES:%=$(UNIT_MUSL_DIR)/%)
UNIT_ENV       := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

$(UNIT_ASAN_DIR)/obj/%.o: %.c $(UNIT_HEADERS) $(BUILD_INFO_H) $(DEPS_CJSON_SRC_STAMP) $(DEPS_YAML_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(HOST_CC) $(CSTD) $(WARN) $(HOST_DEBUG) $(ASAN_FLAGS) $(HOST_CPPFLAGS) -c -o $@ $<

# Third-party code: sanitized, but not held to our warning flags.
$(UNIT_ASAN_DIR)/obj/cJSON.o: $(DEPS_CJSON_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(HOST_CC) $(HOST_DEBUG) $(ASAN_FLAGS) -w -c -o $@ $(DEPS_CJSON_SRCDIR)/cJSON.c

$(UNIT_ASAN_DIR)/obj/yaml/%.o: $(DEPS_YAML_SRC_STAMP) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(HOST_CC) $(HOST_DEBUG) $(ASAN_FLAGS) -w $(DEPS_YAML_HOST_FLAGS) -c -o $@ $(DEPS_YAML_SRCDIR)/src/$*.c

$(UNIT_ASAN_DIR)/libunit.a: $(UNIT_ASAN_OBJS)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

$(UNIT_ASAN_BINS): $(UNIT_ASAN_DIR)/%: $(UNIT_ASAN_DIR)/obj/tests/unit/%.o $(UNIT_ASAN_DIR)/libunit.a
	$(call quiet,LD,$@)$(HOST_CC) $(ASAN_FLAGS) -o $@ $^

# musl: the test sources with the product's flags, linked against the product's objects.
UNIT_MUSL_CPPFLAGS := $(MUSL_CPPFLAGS) $(UNIT_RUNNER_DIRS:%/=-I%) -Itests/unit
UNIT_RUNNER_OBJS   := $(UNIT_RUNNER_SRCS:runners/%.c=$(OBJ)/runners/%.o)

$(UNIT_MUSL_DIR)/obj/%.o: tests/unit/%.c $(UNIT_HEADERS) $(SYSROOT_STAMP) $(BUILD_INFO_H) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(MUSL_CC) $(CSTD) $(WARN) -Os -g $(UNIT_MUSL_CPPFLAGS) -c -o $@ $<

$(UNIT_MUSL_BINS): $(UNIT_MUSL_DIR)/%: $(UNIT_MUSL_DIR)/obj/%.o $(UNIT_RUNNER_OBJS) $(LIBTINYRUN)
	$(call quiet,LD,$@)$(MUSL_CC) -static -o $@ $< $(UNIT_RUNNER_OBJS) $(LIBTINYRUN) $(DEPS_LIBS_yaml) $(DEPS_LIBS_cjson)

# Run every binary, all of them even when one fails; each ends with "N passed, N failed".
define unit_run
	@rc=0; for t in $(1); do echo "== $${t#$(UNIT_TEST_DIR)/}"; $(UNIT_ENV) $$t || rc=1; done; exit $$rc
endef

.PHONY: unit-tests unit-asan unit-musl unit-build
unit-build: $(UNIT_ASAN_BINS) $(UNIT_MUSL_BINS)

unit-asan: $(UNIT_ASAN_BINS)
	$(call unit_run,$(UNIT_NAMES:%=$(UNIT_ASAN_DIR)/%))

unit-musl: $(UNIT_MUSL_BINS)
	$(call unit_run,$(UNIT_MUSL_BINS))

unit-tests: unit-asan unit-musl
