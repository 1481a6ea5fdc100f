# libtinyrun: the shared task contract, linked into every runner.
#
# COMMON_PURE are the modules that use no libpq/krb5/curl: they also build with the host's
# clang under ASan/UBSan for unit tests and libFuzzer (tests/tests.mk).

COMMON_PURE := buf child cli clock conn exitcode fsutil log redact result runid secret signals sink sqlresult strlist progenv
COMMON_DEPS := krb sqlconn http tdsconn pgconn
COMMON_SRCS := $(addprefix common/,$(addsuffix .c,$(COMMON_PURE) $(COMMON_DEPS)))
COMMON_OBJS := $(patsubst common/%.c,$(OBJ)/common/%.o,$(COMMON_SRCS))
LIBTINYRUN  := $(BUILD)/lib/libtinyrun.a

BUILD_INFO_H := $(GEN)/build_info.h
$(BUILD_INFO_H): VERSION $(DEPS_VERSIONS_FILE) FORCE
	@mkdir -p $(@D)
	@{ echo '#define TR_VERSION "$(VERSION)"'; \
	   echo '#define TR_GIT_REV "$(GIT_REV)"'; \
	   printf '#define TR_DEPS_VERSIONS "%s"\n' "$$(tr '\n' ';' < $(DEPS_VERSIONS_FILE) | sed 's/;$$//; s/;/; /g')"; \
	 } > $@.tmp
	@cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@
FORCE:

MUSL_CPPFLAGS := -Icommon -I$(GEN) $(DEPS_CPPFLAGS)

$(OBJ)/common/%.o: common/%.c $(wildcard common/*.h) $(SYSROOT_STAMP) $(BUILD_INFO_H) | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(call quiet,CC,$@)$(MUSL_CC) $(CFLAGS) $(MUSL_CPPFLAGS) -c -o $@ $<

$(LIBTINYRUN): $(COMMON_OBJS)
	@mkdir -p $(@D)
	$(call quiet,AR,$@)rm -f $@ && ar rcs $@ $^

# runner NAME, LIBS[, BINARY]: build/bin/BINARY (default NAME) from runners/NAME/*.c, libtinyrun and
# the given static libraries. $(NAME_BIN) is the binary, which the image tinyrun/NAME holds. A shim
# copied into a team's image may need another name than its image (spark-submit-runner must not
# shadow the image's own spark-submit).
define runner
$(1)_SRCS := $$(wildcard runners/$(1)/*.c)
$(1)_OBJS := $$(patsubst runners/%.c,$(OBJ)/runners/%.o,$$($(1)_SRCS))
$(1)_BIN  := $(BIN)/$(or $(3),$(1))
$(OBJ)/runners/$(1)/%.o: runners/$(1)/%.c $$(wildcard runners/$(1)/*.h) $(wildcard common/*.h) $(SYSROOT_STAMP) $(BUILD_INFO_H)
	@mkdir -p $$(@D)
	$$(call quiet,CC,$$@)$(MUSL_CC) $(CFLAGS) $(MUSL_CPPFLAGS) -Irunners/$(1) -c -o $$@ $$<
$$($(1)_BIN): $$($(1)_OBJS) $(LIBTINYRUN)
	@mkdir -p $$(@D)
	$$(call quiet,LD,$$@)$(MUSL_CC) $(LDFLAGS) -o $$@ $$($(1)_OBJS) $(LIBTINYRUN) $(2)
$(1)_LIBS := $(2)
RUNNER_BINS += $$($(1)_BIN)
RUNNERS += $(1)
endef
