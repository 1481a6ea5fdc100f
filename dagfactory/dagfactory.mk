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

# build/dist/: what a datakit installs its local Airflow from (the cookiecutter copies both into the
# datakit and pins the wheel by its sha256): the tinyrun-dagfactory wheel, reproducible (same sources,
# same bytes: dagfactory/build_wheel.py, stdlib only), and the Airflow pins (dagfactory/requirements.txt).
DAGFACTORY_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' $(TOP)/dagfactory/pyproject.toml)
DAGFACTORY_DIST    := $(BUILD)/dist
DAGFACTORY_WHEEL   := $(DAGFACTORY_DIST)/tinyrun_dagfactory-$(DAGFACTORY_VERSION)-py3-none-any.whl
DAGFACTORY_SOURCES := $(shell find $(DAGFACTORY_PKG) -type f \( -name '*.py' -o -name '*.json' -o -name py.typed \) \
                        -not -path '*/__pycache__/*' -not -name image_table.json)

$(DAGFACTORY_WHEEL): $(DAGFACTORY_SOURCES) $(TOP)/dagfactory/pyproject.toml $(TOP)/dagfactory/build_wheel.py
	$(call quiet,WHEEL,$@)python3 $(TOP)/dagfactory/build_wheel.py $(TOP)/dagfactory $(@D) >/dev/null

$(DAGFACTORY_DIST)/airflow-requirements.txt: $(TOP)/dagfactory/requirements.txt
	@mkdir -p $(@D) && cp $< $@

.PHONY: dagfactory-wheel
dagfactory-wheel: $(DAGFACTORY_WHEEL) $(DAGFACTORY_DIST)/airflow-requirements.txt
all images: dagfactory-wheel
