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

# The product: static musl binaries.
MUSL_CC   := musl-gcc
CSTD      := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARN      := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS    := $(CSTD) $(WARN) -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
LDFLAGS   := -static -s -Wl,--gc-sections

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
	@echo "make images     build tinyrun/<runner>:$(VERSION) images and build/images.lock.json"
	@echo "make test       install what is missing, then run unit, fuzz, integration and Airflow tests"
	@echo "make demo       run a small SQL pipeline through the postgres-runner image"
	@echo "make bench      benchmarks side by side with psql / psycopg2 (build/bench.json)"
	@echo "make format     apply .clang-format;  make lint: clang-tidy + ruff"
	@echo "make clean      remove build output but keep the sysroot and venv; make distclean: everything"

demo: images
	python3 tools/demo.py

format:
	clang-format -i $(C_SOURCES)

format-check: | $(HOST_STAMP)
	clang-format --dry-run -Werror $(C_SOURCES)

# clang-tidy over each runner's sources and common/, with the product's include paths.
lint: format-check $(BUILD_INFO_H) $(SYSROOT_STAMP) $(VENV_STAMP)
	clang-tidy --quiet $(wildcard common/*.c) $(foreach r,$(RUNNERS),$(wildcard runners/$(r)/*.c)) -- \
		$(CSTD) -Icommon -I$(GEN) $(DEPS_CPPFLAGS) $(RUNNERS:%=-Irunners/%)
	$(VENV)/bin/ruff check $(PY_DIRS)

clean:
	rm -rf $(OBJ) $(BIN) $(GEN) $(BUILD)/lib $(BUILD)/test $(BUILD)/images.lock.json

distclean:
	rm -rf $(BUILD)
