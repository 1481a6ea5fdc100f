"""Airflow DAG loader: one DAG per file under ../pipelines (tinyrun DAG factory).

Images come from ../runners.lock; a broken pipeline file shows up as an import error named after
that file and never hides the other pipelines.
"""

from tinyrun_dagfactory import load_dags

load_dags(globals())
