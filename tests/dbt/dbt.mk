# tests/dbt/dbt.mk: dbt for the dbt-runner tests, included by tests/tests.mk.
#
#   build/venv-dbt/      dbt-core + dbt-postgres pinned in tests/requirements-dbt.txt, in a venv of
#                        their own (their pins conflict with Airflow's in build/venv); the
#                        integration tests and the bench run build/venv-dbt/bin/dbt
#   build/dbt-wheels/    the same pins as wheels, for the dbt runtime image of the image test
#                        (installed into the image with --no-index: nothing is fetched there)

VENV_DBT         := $(BUILD)/venv-dbt
VENV_DBT_STAMP   := $(VENV_DBT)/.stamp
DBT_WHEELS       := $(BUILD)/dbt-wheels
DBT_WHEELS_STAMP := $(DBT_WHEELS)/.stamp

$(VENV_DBT_STAMP): tests/requirements-dbt.txt | $(HOST_STAMP)
	rm -rf $(VENV_DBT)
	python3 -m venv $(VENV_DBT)
	$(VENV_DBT)/bin/pip install -q --disable-pip-version-check --upgrade pip==24.3.1
	$(VENV_DBT)/bin/pip install -q --disable-pip-version-check -r tests/requirements-dbt.txt
	touch $@

$(DBT_WHEELS_STAMP): tests/requirements-dbt.txt $(VENV_DBT_STAMP)
	rm -rf $(DBT_WHEELS)
	$(VENV_DBT)/bin/pip wheel -q --disable-pip-version-check -w $(DBT_WHEELS) -r tests/requirements-dbt.txt
	cp tests/requirements-dbt.txt $(DBT_WHEELS)/requirements.txt
	touch $@

.PHONY: venv-dbt
venv-dbt: $(VENV_DBT_STAMP) $(DBT_WHEELS_STAMP)
