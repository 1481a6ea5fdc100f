# make test: everything, on a bare machine. The last line printed is pytest's summary.

VENV_STAMP := $(VENV)/.stamp
PY_REQS    := tests/requirements.txt dagfactory/requirements.txt
$(VENV_STAMP): $(PY_REQS) | $(HOST_STAMP)
	rm -rf $(VENV)
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check --upgrade pip==24.3.1
	$(VENV)/bin/pip install -q --disable-pip-version-check $(addprefix -r ,$(PY_REQS))
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e dagfactory
	touch $@

include tests/unit/unit.mk tests/fuzz/fuzz.mk tests/dbt/dbt.mk

.PHONY: test venv
venv: $(VENV_STAMP)

test: lint all images $(VENV_STAMP) venv-dbt unit-tests fuzz-smoke
	$(VENV)/bin/python -m pytest -p no:cacheprovider -q -rfEs tests
