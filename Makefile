# tinyrun: one entry point. `make help` lists the targets.
#
# Layout of the build folder:
#   build/host.stamp   Debian packages this project needs are installed (tools/bootstrap-host)
#   build/sysroot/     static musl sysroot of the pinned third-party libraries (deps/)
#   build/obj/         object files, build/lib/libtinyrun.a, build/bin/<runner>
#   build/venv/        pinned Python venv (tests, dagfactory, bench)
#   build/gen/         generated headers and tables

.DEFAULT_GOAL := all
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:

TOP       := $(abspath .)
BUILD     := $(TOP)/build
BIN       := $(BUILD)/bin
OBJ       := $(BUILD)/obj
GEN       := $(BUILD)/gen
VENV      := $(BUILD)/venv
VERSION   := $(shell cat $(TOP)/VERSION)
GIT_REV   := $(shell git -C $(TOP) rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
JOBS      ?= $(shell nproc)

# `make` uses every core unless told how many jobs (-j/--jobs on its command line or in MAKEFLAGS).
# make 4.3 hides -j from MAKEFLAGS while it reads the makefiles, hence the look at its command line.
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j% --jobs%,$(shell tr '\0' ' ' < /proc/$$PPID/cmdline 2>/dev/null) $(shell printenv MAKEFLAGS)),)
MAKEFLAGS += -j$(JOBS)
endif
endif

# Quiet build output by default (`CC common/conn.o`); `make V=1` prints the full command lines.
# Use: $(call quiet,WHAT,TARGET)command...  at the start of a recipe line.
V ?= 0
ifeq ($(V),1)
quiet =
else
quiet = @printf '  %-5s %s\n' '$(1)' '$(patsubst $(TOP)/%,%,$(patsubst $(OBJ)/%,%,$(2)))';
endif

# The product: static musl binaries (MUSL_CC, the pinned musl's wrapper, comes from deps/deps.mk).
CSTD      := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
# Hardening a static binary allows: stack canaries, a read-only GOT after start-up (RELRO, now) and a
# position-independent executable the kernel loads at a random address (static-pie, musl's rcrt1.o,
# with packed relative relocations: the binary grows 0.2%, not 12%). Self-relocating at start costs
# postgres-runner about 0.5 ms per start; `make STATIC_PIE=0` builds plain static binaries instead.
STATIC_PIE ?= 1
HARDEN    := -fstack-protector-strong -fPIE
CFLAGS    := $(CSTD) $(WARN) -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables $(HARDEN)
LDFLAGS   := $(if $(filter 0,$(STATIC_PIE)),-static,-static-pie -Wl,-z,pack-relative-relocs) \
             -s -Wl,--gc-sections -Wl,-z,relro,-z,now

# Host build (clang + sanitizers) for unit tests and fuzzers of the pure parsing modules.
HOST_CC   := clang

HOST_STAMP := $(BUILD)/host.stamp
$(HOST_STAMP): tools/bootstrap-host tools/host-packages.txt
	tools/bootstrap-host tools/host-packages.txt
	@mkdir -p $(@D) && touch $@

include deps/deps.mk
include common/common.mk
include $(wildcard runners/*/runner.mk)
include images/images.mk
include tests/tests.mk
include bench/bench.mk
-include dagfactory/dagfactory.mk

C_SOURCES := $(wildcard common/*.[ch] runners/*/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c)
PY_DIRS   := dagfactory tests bench tools images

.PHONY: all help clean distclean demo format lint format-check
all: $(RUNNER_BINS) $(DAGFACTORY_GENERATED)

help:
	@echo "make            build the sysroot (cached), libtinyrun and every runner into build/bin/"
	@echo "make images     build tinyrun/<runner>:$(VERSION) images (reproducible) and build/images.lock.json"
	@echo "make push REGISTRY=host:port[/prefix]   push the images, record their digests in images.lock.json"
	@echo "make test       install what is missing, then run unit, fuzz, integration and Airflow tests"
	@echo "make demo       run a small SQL pipeline through the postgres-runner image"
	@echo "make bench      benchmarks side by side with psql / psycopg2 (build/bench.json)"
	@echo "make fuzz       run every fuzzer for FUZZ_SECONDS (default 60) each, keeping a corpus in build/"
	@echo "make format     apply .clang-format;  make lint: clang-tidy + ruff + mypy (part of make test)"
	@echo "                V=1 prints full command lines; -jN sets the jobs (default: all cores)"
	@echo "make clean      remove build output but keep the sysroot and venv; make distclean: everything"
	@echo "make platform-start [MOCKS=1]   the ticket sharer (+ a local KDC and a GSSAPI PostgreSQL); platform-stop"
	@echo "make airflow-standin   a stand-in Airflow base image (AIRFLOW_IMAGE of a datakit's compose stack)"

demo: images
	python3 tools/demo.py

format:
	clang-format -i $(C_SOURCES)

format-check: | $(HOST_STAMP)
	clang-format --dry-run -Werror $(C_SOURCES)

# clang-tidy over each runner's sources and common/, with the product's include paths; ruff over
# all Python; mypy over the DAG factory (it ships py.typed). `make test` runs it first.
lint: format-check $(BUILD_INFO_H) $(SYSROOT_STAMP) $(VENV_STAMP)
	clang-tidy --quiet $(wildcard common/*.c) $(foreach r,$(RUNNERS),$(wildcard runners/$(r)/*.c)) -- \
		$(CSTD) -Icommon -I$(GEN) $(DEPS_CPPFLAGS) $(RUNNERS:%=-Irunners/%)
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/mypy --config-file dagfactory/pyproject.toml dagfactory/src

clean:
	rm -rf $(OBJ) $(BIN) $(GEN) $(BUILD)/lib $(BUILD)/test $(BUILD)/images $(BUILD)/images.lock.json

distclean:
	rm -rf $(BUILD)

# Platform services for local development (tools/platform_services.py): the ticket sharer of
# compose/docker-compose.yml and, with MOCKS=1, a local MIT KDC (realm TINYRUN.MOCK, user dev) and a
# PostgreSQL that accepts GSSAPI (compose/mocks.yml), built here from Debian packages.
.PHONY: platform-start platform-stop airflow-standin
platform-start:
	@python3 tools/platform_services.py start $(if $(filter 1 yes true,$(MOCKS)),--mocks)

platform-stop:
	@python3 tools/platform_services.py stop

# A stand-in for an organisation's Airflow image, from a debootstrap'd Debian and the pinned wheels.
airflow-standin: $(VENV_STAMP)
	@python3 tools/airflow_standin.py
