"""Runner command lines: a task's YAML arguments -> the image's argv (exec form, ENTRYPOINT = runner).

Only non-secret values ever appear here: connections are passed by id (``--conn ID``), their values
reach the container through the environment (DockerOperator private_environment / Kubernetes Secrets).
Every command line follows its runner's CLI. python, dbt and spark tasks run in the team's own image,
whose ENTRYPOINT is python-launcher, dbt-runner or spark-submit-runner.
"""

from __future__ import annotations

import json
from typing import Any

from . import policy, sparkjobs
from .spec import TaskSpec


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def sql_files(task: TaskSpec) -> list[str]:
    """SQL files (relative to sql/) the task's container must see."""
    if task.runner in ("postgres", "sqlserver"):
        return _list(task.args.get("run"))
    return []


def uses_data(task: TaskSpec) -> bool:
    """The task reads or writes a data file (copy with `file`, query with `output`): mount /data."""
    if task.runner not in ("postgres", "sqlserver"):
        return False
    copy, query = task.args.get("copy"), task.args.get("query")
    return bool((isinstance(copy, dict) and copy.get("file")) or (isinstance(query, dict) and query.get("output")))


def data_path(path: str) -> str:
    """A data file as the container sees it: relative paths are under the data folder (/data)."""
    return path if path.startswith("/") else f"{policy.DATA_MOUNT}/{path}"


def _sql_runner(task: TaskSpec) -> list[str]:
    a, conn = task.args, ["--conn", task.conn or ""]
    if "check" in a:
        return ["check", *conn]
    if "query" in a:
        q = a["query"]
        argv = ["query", *conn]
        if "format" in q:
            argv += ["--format", q["format"]]
        if "output" in q:
            argv += ["--output", data_path(q["output"])]
        if q.get("header"):
            argv.append("--header")
        return [*argv, q["sql"]]
    if "copy" in a:
        c = a["copy"]
        argv = ["copy", c["direction"], *conn, "--table", c["table"]]
        if "format" in c:
            argv += ["--format", c["format"]]
        if "columns" in c:
            argv += ["--columns", ",".join(c["columns"])]
        if c.get("header"):
            argv.append("--header")
        if "file" in c:
            argv += ["--file", data_path(c["file"])]
        return argv
    argv = ["run", *conn]
    for name, value in a.get("vars", {}).items():
        argv += ["-v", f"{name}={_scalar(value)}"]
    if a.get("no_transaction"):
        argv.append("--no-transaction")
    if "skip_unless" in a:
        argv += ["--skip-unless", a["skip_unless"]]
    if "sql" in a:
        return [*argv, "-c", a["sql"]]
    return [*argv, *(f"{policy.SQL_MOUNT}/{f}" for f in _list(a.get("run")))]


def _sqlserver(task: TaskSpec) -> list[str]:
    """sqlserver-runner: sqlcmd-style `vars` (-v name=value for $(name)), bcp hints for copy in."""
    a, conn = task.args, ["--conn", task.conn or ""]
    if "check" in a:
        return ["check", *conn]
    if "query" in a:
        q = a["query"]
        argv = ["query", *conn]
        for key in ("format", "null"):
            if key in q:
                argv += [f"--{key}", q[key]]
        if "output" in q:
            argv += ["--output", data_path(q["output"])]
        if q.get("header"):
            argv.append("--header")
        return [*argv, q["sql"]]
    if "copy" in a:
        c = a["copy"]
        argv = ["copy", c["direction"], *conn, "--table", c["table"]]
        for key in ("format", "null", "batch_size"):
            if key in c:
                argv += [f"--{key.replace('_', '-')}", _scalar(c[key])]
        for flag in ("header", "tablock", "check_constraints", "fire_triggers"):
            if c.get(flag):
                argv.append(f"--{flag.replace('_', '-')}")
        if "file" in c:
            argv += ["--file", data_path(c["file"])]
        return argv
    argv = ["run", *conn]
    for name, value in a.get("vars", {}).items():
        argv += ["-v", f"{name}={_scalar(value)}"]
    if a.get("no_transaction"):
        argv.append("--no-transaction")
    if "sql" in a:
        return [*argv, "-c", a["sql"]]
    return [*argv, *(f"{policy.SQL_MOUNT}/{f}" for f in _list(a.get("run")))]


def is_remote_code(task: TaskSpec) -> bool:
    """A python task whose snapshot is downloaded (on Kubernetes, by an init container)."""
    return task.runner == "python" and str(task.args.get("code", "")).startswith("https://")


def fetch_argv(task: TaskSpec) -> list[str]:
    """The init container's command: fetch, verify and unpack the snapshot into the shared emptyDir."""
    a = task.args
    return ["fetch", "--cache", policy.SNAPSHOT_MOUNT, "--code", a["code"], "--code-sha256", a["code_sha256"]]


def _python_run(code: str, sha256: str | None, task: TaskSpec) -> list[str]:
    argv = ["run", "--code", code]
    if sha256:
        argv += ["--code-sha256", sha256]
    return [*argv, "--", task.args["program"], *(_scalar(x) for x in task.args.get("args", []))]


def _python(task: TaskSpec) -> list[str]:
    return _python_run(task.args["code"], task.args.get("code_sha256"), task)


def pod_argv(task: TaskSpec) -> list[str]:
    """A pod's command: remote code was unpacked by the init container into the emptyDir, so the
    main container runs the unpacked folder (file://, downloads nothing)."""
    if is_remote_code(task):
        return _python_run(f"file://{policy.SNAPSHOT_MOUNT}/{task.args['code_sha256']}", None, task)
    return argv(task)


def _dbt(task: TaskSpec) -> list[str]:
    """dbt-runner's command line (the team's dbt image has it as ENTRYPOINT); --vars is one JSON object."""
    a = task.args
    argv = [*a["command"].split(), "--conn", task.conn or ""]
    for flag in ("select", "exclude"):
        for value in _list(a.get(flag)):
            argv += [f"--{flag}", value]
    if "project_dir" in a:
        argv += ["--project-dir", a["project_dir"]]
    if "target" in a:
        argv += ["--target", a["target"]]
    if a.get("vars"):
        argv += ["--vars", json.dumps(a["vars"], sort_keys=True, separators=(",", ":"))]
    if a.get("full_refresh"):
        argv.append("--full-refresh")
    if "threads" in a:
        argv += ["--threads", str(a["threads"])]
    return argv


def _spark(task: TaskSpec) -> list[str]:
    """spark-submit-runner in the team's Spark image: the job as JSON (read from the datakit at
    parse time, sparkjobs), the task's connections, and for k8s:// masters the platform's policy:
    the task's own pinned image for the driver and executors, and the connections' Secrets."""
    a = task.args
    argv = ["submit", "--job-json", json.dumps(a["job"], sort_keys=True, separators=(",", ":"))]
    for conn in task.connections:
        argv += ["--conn", conn]
    if sparkjobs.is_k8s_master(task):
        s = policy.settings()
        argv += ["--k8s-image", a["image"], "--k8s-conn-secret-prefix", s.k8s_secret_prefix]
        if s.k8s_namespace:
            argv += ["--k8s-namespace", s.k8s_namespace]
    return [*argv, "--", *(_scalar(x) for x in a.get("args", []))]


def models_dir(task: TaskSpec) -> str | None:
    """The models folder (relative to the datakit) a deploy-model task's container must see."""
    return str(task.args["models"]).strip("/") if task.runner == "deploy-model" else None


def _deploy_model(task: TaskSpec) -> list[str]:
    a = task.args
    return [a.get("mode", "plan"), "--models", policy.MODELS_MOUNT, "--targets", ",".join(a["targets"])]


_BUILDERS = {
    "postgres": _sql_runner,
    "sqlserver": _sqlserver,
    "python": _python,
    "dbt": _dbt,
    "spark": _spark,
    "deploy-model": _deploy_model,
}


def argv(task: TaskSpec) -> list[str]:
    return _BUILDERS[task.runner](task)


def connection_ids(task: TaskSpec) -> list[str]:
    """Every connection whose value the container receives (deploy-model targets included)."""
    ids = list(task.connections)
    if task.runner == "deploy-model":
        ids += [t for t in task.args.get("targets", []) if t not in ids]
    return ids


def environment(task: TaskSpec) -> dict[str, str]:
    """Non-secret environment: the task's env, Kerberos location, then the platform's run identity."""
    env = dict(task.env)
    if task.kerberos:
        env["KRB5CCNAME"] = policy.KERBEROS_CCNAME
    env.update(policy.RUN_IDENTITY_ENV)
    return env
