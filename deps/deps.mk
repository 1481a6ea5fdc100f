# deps/deps.mk: the static musl sysroot of the pinned third-party libraries (deps/pins), included by
# the root Makefile. Sources come from Debian's archive through a private apt configuration
# (deps/apt-setup.sh, deps/fetch.sh); deps/build.sh builds each library. Everything is cached under a
# hash of the pins, this file, the scripts and the patches: an unchanged `make` skips it all.
#
# Build folder: build/deps/{apt,dl,src,log} (apt lists, downloads, source trees, build logs),
# build/deps/state-<hash>/ (per-library stamps), build/sysroot/{include,lib} (the libraries),
# build/sysroot/musl/ (musl and its musl-gcc wrapper), build/sysroot/etc/ssl/certs/ (the CA bundle).

DEPS_DIR   := $(TOP)/deps
DEPS_PINS  := $(DEPS_DIR)/pins
DEPS_WORK  := $(BUILD)/deps
DEPS_HASH  := $(shell cat $(DEPS_PINS) $(DEPS_DIR)/deps.mk $(DEPS_DIR)/*.sh $(DEPS_DIR)/patches/*.patch | sha256sum | cut -c1-16)
DEPS_STATE := $(DEPS_WORK)/state-$(DEPS_HASH)
DEPS_APT   := $(DEPS_WORK)/apt

SYSROOT       := $(BUILD)/sysroot
SYSROOT_STAMP := $(SYSROOT)/.stamp-$(DEPS_HASH)

# What the runners compile and link with. Any two link lines may be combined (repeated archives
# are harmless); each lists its transitive libraries after the ones that need them.
DEPS_CPPFLAGS   := -I$(SYSROOT)/include -I$(SYSROOT)/include/cjson
deps_krb5       := -lgssapi_krb5 -lkrb5 -lk5crypto -lcom_err -lkrb5support
DEPS_LIBS_cjson := -L$(SYSROOT)/lib -lcjson
DEPS_LIBS_krb5  := -L$(SYSROOT)/lib $(deps_krb5)
DEPS_LIBS_pq    := -L$(SYSROOT)/lib -lpq -lpgcommon_shlib -lpgport_shlib -lssl -lcrypto $(deps_krb5)
DEPS_LIBS_curl  := -L$(SYSROOT)/lib -lcurl -lmbedtls -lmbedx509 -lmbedcrypto -lz
DEPS_LIBS_tds   := -L$(SYSROOT)/lib -lsybdb -lssl -lcrypto $(deps_krb5)
DEPS_LIBS_yaml  := -L$(SYSROOT)/lib -lyaml

# The cJSON source alone, for the host's sanitizer builds (tests/tests.mk).
DEPS_CJSON_SRCDIR    := $(DEPS_WORK)/src/cjson
DEPS_CJSON_SRC_STAMP := $(DEPS_STATE)/cjson.src
# The libyaml sources likewise (model-deployer's model parser is unit-tested and fuzzed on the host),
# with the version macros deps/build.sh defines for the product's build.
DEPS_YAML_SRCDIR     := $(DEPS_WORK)/src/libyaml
DEPS_YAML_SRC_STAMP  := $(DEPS_STATE)/libyaml.src
DEPS_YAML_SRCS       := $(addprefix $(DEPS_YAML_SRCDIR)/src/,api.c dumper.c emitter.c loader.c parser.c reader.c scanner.c writer.c)
deps_yaml_version    := $(shell awk '$$1 == "libyaml" && $$2 == "pin" { print $$5 }' $(DEPS_PINS))
deps_yaml_parts      := $(subst ., ,$(deps_yaml_version))
DEPS_YAML_HOST_FLAGS := -I$(DEPS_YAML_SRCDIR)/include -DYAML_VERSION_MAJOR=$(word 1,$(deps_yaml_parts)) \
                        -DYAML_VERSION_MINOR=$(word 2,$(deps_yaml_parts)) -DYAML_VERSION_PATCH=$(word 3,$(deps_yaml_parts)) \
                        -DYAML_VERSION_STRING='"$(deps_yaml_version)"'

# "name upstream-version (debian-version)" per pinned library, compiled into every --version.
DEPS_VERSIONS_FILE := $(GEN)/deps-versions.txt
$(DEPS_VERSIONS_FILE): $(DEPS_PINS) $(DEPS_DIR)/deps.mk
	@mkdir -p $(@D)
	$(call quiet,GEN,$@)awk '!/^#/ && $$2 == "pin" { print $$1, $$5, "(" $$4 ")" }' $< > $@

# The musl toolchain built from the pinned source: the CC of every library and runner.
MUSL_CC := $(SYSROOT)/musl/bin/musl-gcc

# The images' CA bundle, from the pinned ca-certificates (deps/build.sh).
DEPS_CA_BUNDLE := $(SYSROOT)/etc/ssl/certs/ca-certificates.crt

# Libraries and the ones each needs at build time (all of them musl); the rest build in parallel.
DEPS_LIBS  := openssl krb5 zlib mbedtls cjson curl libpq freetds libyaml
DEPS_NAMES := musl ca-certificates $(DEPS_LIBS)
deps_needs_curl    := zlib mbedtls
deps_needs_libpq   := openssl krb5
deps_needs_freetds := openssl krb5
DEPS_SRC_STAMPS   := $(DEPS_NAMES:%=$(DEPS_STATE)/%.src)
DEPS_BUILT_STAMPS := $(DEPS_NAMES:%=$(DEPS_STATE)/%.built)

.PHONY: sysroot
sysroot: $(SYSROOT_STAMP)

$(SYSROOT_STAMP): $(DEPS_BUILT_STAMPS) | $(HOST_STAMP)
	@touch $@

# A new hash starts over: earlier sources, stamps and sysroot go (apt lists and downloads stay).
$(DEPS_STATE)/fresh: | $(HOST_STAMP)
	$(call quiet,CLEAN,sysroot of other pins)rm -rf $(SYSROOT) $(DEPS_WORK)/src $(DEPS_WORK)/log $(filter-out $(DEPS_STATE),$(wildcard $(DEPS_WORK)/state-*))
	@mkdir -p $(@D) && touch $@

$(DEPS_STATE)/apt: $(DEPS_STATE)/fresh
	$(call quiet,APT,deb-src indexes)$(DEPS_DIR)/apt-setup.sh $(DEPS_APT)
	@touch $@

$(DEPS_SRC_STAMPS): $(DEPS_STATE)/%.src: $(DEPS_STATE)/apt
	$(call quiet,FETCH,$*)$(DEPS_DIR)/fetch.sh $(DEPS_PINS) $* $(DEPS_APT) $(DEPS_WORK)/dl $(DEPS_WORK)/src/$* \
	  $(wildcard $(DEPS_DIR)/patches/$*-*.patch)
	@touch $@

$(DEPS_BUILT_STAMPS): $(DEPS_STATE)/%.built: $(DEPS_STATE)/%.src
	@mkdir -p $(DEPS_WORK)/log
	@echo "deps: building $* (log: $(DEPS_WORK)/log/$*.log)"
	@$(DEPS_DIR)/build.sh $* $(DEPS_WORK)/src/$* $(SYSROOT) $(JOBS) $(MUSL_CC) > $(DEPS_WORK)/log/$*.log 2>&1 || \
	  { tail -n 40 $(DEPS_WORK)/log/$*.log; echo "deps: building $* failed (log: $(DEPS_WORK)/log/$*.log)" >&2; exit 1; }
	@touch $@

$(foreach n,$(DEPS_LIBS),$(eval $(DEPS_STATE)/$(n).built: $(DEPS_STATE)/musl.built $(deps_needs_$(n):%=$(DEPS_STATE)/%.built)))
