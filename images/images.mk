# make images: tinyrun/<runner>:<version> for every runner, FROM scratch, and build/images.lock.json
# (runner -> image, tag, image ID), which the DAG factory and the cookiecutter template consume.

IMAGES_LOCK := $(BUILD)/images.lock.json
IMAGE_IDS   := $(RUNNERS:%=$(BUILD)/images/%.id)

$(BUILD)/images/%.id: $(BIN)/% images/build-image.sh images/Dockerfile.in images/sbom.py $(wildcard images/rootfs/etc/*) deps/pins
	@mkdir -p $(@D)
	@echo "images: tinyrun/$*:$(VERSION)"
	images/build-image.sh $* $(BIN)/$* $(VERSION) $(GIT_REV) $(BUILD)/images/$*.ctx $($*_LIBS) > $@.tmp
	mv $@.tmp $@

$(IMAGES_LOCK): $(IMAGE_IDS) images/write-lock.py
	python3 images/write-lock.py $(VERSION) $(GIT_REV) $(IMAGE_IDS) > $@.tmp
	mv $@.tmp $@
	@$(DAGFACTORY_REGEN)

.PHONY: images
images: $(IMAGES_LOCK)
