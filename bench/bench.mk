# make bench: tinyrun side by side with what users would use instead (DESIGN.md "Benchmarks",
# issue 2 section 6). Reports, never asserts: prints a table and writes build/bench.json; it
# fails only when a measured command itself fails.
#
# Which Python runs what:
#   bench/run.py (the driver), bench/dagfactory_bench.py, bench/ticket_sharer_bench.py,
#   bench/python_launcher_bench.py (vs tini and dumb-init, and vs curl | sha256sum + tar),
#   bench/sqlserver_bench.py (vs freebcp and tsql, against the TDS test server of tests/tds)
#   bench/spark_bench.py (spark-submit-runner's overhead over spark-submit itself)
#   bench/dbt_bench.py (dbt-runner vs the same dbt command run directly; dbt from build/venv-dbt)
#   bench/model_deployer_bench.py (plan of 200 tables on 3 targets; migra runs in its own venv,
#   build/bench-migra-venv, from bench/migra-requirements.txt: it needs SQLAlchemy 1.x)
#       build/venv's Python 3.11 (dag-factory and Airflow live there);
#   bench/pg_client.py (the psycopg2 contestant)
#       Debian's /usr/bin/python3 with python3-psycopg2, the stack a user would install.
# BENCH_ARGS passes options to the driver, e.g. BENCH_ARGS='--copy-rows 200000 --repeat 1'
# for a quick run; see `build/venv/bin/python bench/run.py --help`.

BENCH_JSON  := $(BUILD)/bench.json
BENCH_PY_JSON := $(BUILD)/bench-python-launcher.json
BENCH_SQLSERVER_JSON := $(BUILD)/bench-sqlserver.json
BENCH_SPARK_JSON := $(BUILD)/bench-spark-submit.json
BENCH_DBT_JSON := $(BUILD)/bench-dbt-runner.json
BENCH_MD_JSON := $(BUILD)/bench-model-deployer.json
BENCH_HELLO := $(BUILD)/bench/hello
BENCH_ARGS  ?=

# The start-up baseline: a static musl hello-world, built like the runners.
$(BENCH_HELLO): bench/hello.c | $(HOST_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) -static -Os -s -o $@ $<

.PHONY: bench
bench: all images $(VENV_STAMP) $(VENV_DBT_STAMP) $(BENCH_HELLO)
	$(VENV)/bin/python bench/run.py --bin $(BIN) --hello $(BENCH_HELLO) \
		--version $(VERSION) --json $(BENCH_JSON) $(BENCH_ARGS)
	$(VENV)/bin/python bench/python_launcher_bench.py --bin $(BIN) --hello $(BENCH_HELLO) > $(BENCH_PY_JSON).tmp
	mv $(BENCH_PY_JSON).tmp $(BENCH_PY_JSON) && cat $(BENCH_PY_JSON)
	$(VENV)/bin/python bench/sqlserver_bench.py --bin $(BIN) --version $(VERSION) > $(BENCH_SQLSERVER_JSON).tmp
	mv $(BENCH_SQLSERVER_JSON).tmp $(BENCH_SQLSERVER_JSON) && cat $(BENCH_SQLSERVER_JSON)
	$(VENV)/bin/python bench/spark_bench.py --bin $(BIN) --hello $(BENCH_HELLO) > $(BENCH_SPARK_JSON).tmp
	mv $(BENCH_SPARK_JSON).tmp $(BENCH_SPARK_JSON) && cat $(BENCH_SPARK_JSON)
	$(VENV)/bin/python bench/dbt_bench.py --bin $(BIN) --hello $(BENCH_HELLO) --dbt $(VENV_DBT)/bin/dbt > $(BENCH_DBT_JSON).tmp
	mv $(BENCH_DBT_JSON).tmp $(BENCH_DBT_JSON) && cat $(BENCH_DBT_JSON)
	$(VENV)/bin/python bench/model_deployer_bench.py --bin $(BIN) > $(BENCH_MD_JSON).tmp
	mv $(BENCH_MD_JSON).tmp $(BENCH_MD_JSON) && cat $(BENCH_MD_JSON)
