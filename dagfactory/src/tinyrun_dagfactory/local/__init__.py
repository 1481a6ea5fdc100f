"""A local Airflow 3 for one datakit (`make airflow`, `make run`, `make down`, `make demo-db`).

    python -m tinyrun_dagfactory.local up|down|run PIPELINE|demo-db [--kit DIR]

Modules, one concern each:
  layout     where things live in a datakit and the configuration every Airflow process gets
  preflight  the checks that run before anything starts (connections file, docker, runner images)
  processes  starting, finding and stopping the Airflow components (pid file, /proc)
  api        the REST API v2 client (token, health, DAGs, runs, task instances, XCom, logs)
  runs       trigger one pipeline and follow it to the end
  demodb     a throwaway PostgreSQL on loopback for the example pipeline
"""
