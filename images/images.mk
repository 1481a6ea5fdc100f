# make images: tinyrun/<runner>:<version> for every runner, FROM scratch, and build/images.lock.json
# (runner -> image, tag, image ID), which the DAG factory and the cookiecutter template consume.
# images/build-image.py writes each image itself (no Dockerfile), reproducibly: the same commit gives
# the same image ID anywhere, any time. Its only timestamp is SOURCE_DATE_EPOCH, the commit time.
#
# make push REGISTRY=host:port[/prefix]: push every image to REGISTRY/tinyrun/<runner>:<version> and
# add "digest" (REGISTRY/tinyrun/<runner>@sha256:...) to its entry in build/images.lock.json.

# IMAGES_DIR (the archives and ID files) and IMAGES_REPO (tags IMAGES_REPO/<runner>:<version>) can be
# overridden to build a second copy elsewhere (tests/integration/test_images_reproducible.py).
IMAGES_DIR  ?= $(BUILD)/images
IMAGES_REPO ?= tinyrun
IMAGES_LOCK := $(BUILD)/images.lock.json
IMAGE_IDS   := $(RUNNERS:%=$(IMAGES_DIR)/%.id)
SOURCE_DATE_EPOCH ?= $(shell git -C $(TOP) log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

# A runner's binary is $(<runner>_BIN) (common/common.mk): found by a second expansion.
.SECONDEXPANSION:
$(IMAGES_DIR)/%.id: $$($$*_BIN) images/build-image.py images/sbom.py $(wildcard images/rootfs/etc/*) deps/pins $(SYSROOT_STAMP)
	@mkdir -p $(@D)
	$(call quiet,IMAGE,$(IMAGES_REPO)/$*:$(VERSION))images/build-image.py --tag $(IMAGES_REPO)/$*:$(VERSION) \
	  $* $($*_BIN) $(VERSION) $(GIT_REV) $(DEPS_CA_BUNDLE) $(IMAGES_DIR)/$* $($*_LIBS) > $@.tmp
	@mv $@.tmp $@

$(IMAGES_LOCK): $(IMAGE_IDS) images/write-lock.py
	$(call quiet,GEN,$@)python3 images/write-lock.py $(VERSION) $(GIT_REV) $(IMAGE_IDS) > $@.tmp
	@mv $@.tmp $@
	@$(DAGFACTORY_REGEN)

.PHONY: images push
images: $(IMAGES_LOCK)

push: $(IMAGES_LOCK)
	@[ -n "$(REGISTRY)" ] || { echo "make push: set REGISTRY=host:port[/prefix]" >&2; exit 2; }
	python3 images/push.py $(REGISTRY) $(IMAGES_LOCK)
	@$(DAGFACTORY_REGEN)
