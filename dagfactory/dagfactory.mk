# dagfactory/: the package's image table is generated from build/images.lock.json.
#
# DAGFACTORY_GENERATED is rebuilt on every `make` (cheap; the file is rewritten only when its content
# changes): with no images.lock.json yet it says "no images built" ("built": false, no images) and the
# factory refuses to build runner tasks with "run `make images`". `make images` should run
# $(DAGFACTORY_REGEN) after writing images.lock.json so the table follows the images in the same make run.
# Uses the system python3 (stdlib only): no venv needed to build.

DAGFACTORY_PKG       := $(TOP)/dagfactory/src/tinyrun_dagfactory
DAGFACTORY_GENERATED := $(DAGFACTORY_PKG)/image_table.json
DAGFACTORY_REGEN      = python3 $(DAGFACTORY_PKG)/imagegen.py $(BUILD)/images.lock.json $(DAGFACTORY_GENERATED)

.PHONY: dagfactory-table FORCE_DAGFACTORY
FORCE_DAGFACTORY:

$(DAGFACTORY_GENERATED): $(DAGFACTORY_PKG)/imagegen.py FORCE_DAGFACTORY
	@$(DAGFACTORY_REGEN)

dagfactory-table: $(DAGFACTORY_GENERATED)
