"""Real Airflow, no containers: DagBag imports, platform policy on every task, pods rendered offline."""

from __future__ import annotations

import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import (
    FAKE_ID,
    assert_valid_pod,
    dagbag,
    make_datakit,
    reset_settings,
    write_lock,
)

PASSWORD_URI = "postgres://bob:s3cr3t-pw@db.example:5432/sales"
DIGEST = "127.0.0.1:5000/tinyrun/postgres-runner@sha256:" + "cd" * 32


@pytest.fixture
def datakit(tmp_path: Path, fake_lock: Path, airflow_db: Path) -> Path:
    return make_datakit(tmp_path, fake_lock, name="Import Kit")


def _add_pipeline(datakit: Path, name: str, text: str) -> Path:
    path = datakit / "pipelines" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_example_pipelines_import_with_zero_errors(datakit: Path) -> None:
    bag = dagbag(datakit / "dags")
    assert bag.import_errors == {}
    assert bag.dag_ids == ["import_kit_orders_daily"]
    dag = bag.dags["import_kit_orders_daily"]
    assert {t.task_id for t in dag.tasks} == {
        "preflight",
        "create_tables",
        "load_orders",
        "publish.daily_total",
        "publish.report",
    }
    assert dag.owner == "data-team"
    assert set(dag.tags) == {"import_kit", "example", "tinyrun"}
    assert dag.task_dict["publish.daily_total"].upstream_task_ids == {"load_orders"}


def test_broken_file_is_an_import_error_named_after_it(datakit: Path) -> None:
    broken = _add_pipeline(
        datakit,
        "team/broken.yaml",
        """\
        pipeline: broken
        tasks:
          - id: a
            runner: postgres
            sql: select 1
            depends_on: [ghost]
        """,
    )
    _add_pipeline(
        datakit,
        "team/other.yaml",
        """\
        pipeline: other
        tags: [x]
        tasks:
          - {id: a, runner: postgres, sql: select 1}
        """,
    )
    bag = dagbag(datakit / "dags")
    assert sorted(bag.dag_ids) == ["import_kit_orders_daily", "other"]
    assert list(bag.import_errors) == [str(broken)]
    assert bag.import_errors[str(broken)] == f"{broken}:6: broken/a: depends_on: unknown task or group 'ghost'"


def test_worker_parse_builds_only_the_dag_it_runs(datakit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's parsing context (a worker starting a task of one DAG): only that pipeline is built."""
    _add_pipeline(datakit, "other.yaml", "pipeline: other\ntags: [x]\ntasks:\n  - {id: a, runner: postgres, sql: x}\n")
    assert sorted(dagbag(datakit / "dags").dag_ids) == ["import_kit_orders_daily", "other"]
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "other")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "a")
    assert dagbag(datakit / "dags").dag_ids == ["other"]


def test_every_task_gets_the_platform_policy(datakit: Path) -> None:
    from airflow.providers.docker.operators.docker import DockerOperator
    from tinyrun_dagfactory import compat

    bag = dagbag(datakit / "dags")
    for task in bag.dags["import_kit_orders_daily"].tasks:
        assert isinstance(task, DockerOperator)
        assert task.image == "tinyrun/postgres-runner:0.1.0" and task.tinyrun_image_id == FAKE_ID
        assert task.retries == 2 and task.retry_delay.total_seconds() == 60
        assert task.retry_exponential_backoff == compat.backoff_multiplier()
        assert task.execution_timeout.total_seconds() == 1800
        assert task.skip_on_exit_code == [99]
        assert task.user == "65532:65532"
        assert task.auto_remove == "success"
        assert task.do_xcom_push and not task.xcom_all
        assert task.owner == "data-team"
        assert task.tinyrun_connections == ["warehouse"]
        assert task.command[:3] in (
            ["check", "--conn", "warehouse"],
            ["run", "--conn", "warehouse"],
            ["query", "--conn", "warehouse"],
        )
        env = task.environment
        assert env["TINYRUN_DAG_ID"] == "{{ ti.dag_id }}" and env["TINYRUN_RUN_ID"] == "{{ run_id }}"
        assert {"TINYRUN_TASK_ID", "TINYRUN_TRY_NUMBER", "TINYRUN_MAP_INDEX"} <= set(env)
        assert not any(k.startswith("AIRFLOW_CONN_") for k in env)
        assert task._private_environment == {}  # filled from the connection store only at run time
    load = bag.dags["import_kit_orders_daily"].task_dict["load_orders"]
    assert load.command == ["run", "--conn", "warehouse", "-v", "day={{ ds }}", "/sql/example/load_orders.sql"]
    (mount,) = load.mounts
    assert (mount["Target"], mount["Source"], mount["ReadOnly"]) == ("/sql", str(datakit / "sql"), True)


def test_exit_codes_2_and_3_fail_without_retry() -> None:
    from tinyrun_dagfactory import policy

    assert [c for c in (0, 1, 2, 3, 75, 99, 137, 143) if policy.fails_without_retry(c)] == [2, 3]


@pytest.mark.parametrize(("code", "outcome"), [(2, "fail"), (3, "fail"), (1, "retry"), (75, "retry")])
def test_pod_exit_code_decides_retry(code: int, outcome: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """KubernetesPodOperator: the base container's exit code (from the pod status) maps like Docker's."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from kubernetes.client import models as k8s
    from tinyrun_dagfactory import compat
    from tinyrun_dagfactory.operators_k8s import TinyrunPodOperator

    class ProviderFailure(Exception):
        pass

    def provider_cleanup(self, pod, remote_pod, *args, **kwargs):
        raise ProviderFailure("Pod returned a failure")

    monkeypatch.setattr(KubernetesPodOperator, "cleanup", provider_cleanup)
    op = TinyrunPodOperator(task_id="t", image="tinyrun/postgres-runner:0.1.0")
    terminated = k8s.V1ContainerState(terminated=k8s.V1ContainerStateTerminated(exit_code=code))
    remote = k8s.V1Pod(
        status=k8s.V1PodStatus(
            container_statuses=[
                k8s.V1ContainerStatus(
                    name="base", state=terminated, image="x", image_id="x", ready=False, restart_count=0
                )
            ]
        )
    )
    expected = compat.fail_exception() if outcome == "fail" else ProviderFailure
    with pytest.raises(expected):
        op.cleanup(k8s.V1Pod(), remote)


def _stub_kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: Config
        clusters: [{name: stub, cluster: {server: "https://127.0.0.1:1"}}]
        users: [{name: stub, user: {token: not-a-real-token}}]
        contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: pipelines}}]
        current-context: stub
        """)
    )
    return path


def test_kubernetes_pods_rendered_offline(
    tmp_path: Path, fake_lock: Path, airflow_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each task's pod, built by the provider's own code with a stub kubeconfig and no cluster."""
    kubeconfig = _stub_kubeconfig(tmp_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("TINYRUN_K8S_CONFIG_FILE", str(kubeconfig))
    monkeypatch.setenv("TINYRUN_K8S_NAMESPACE", "pipelines")
    reset_settings()
    # after `make push` the lock holds the registry digest: pods pull exactly that image
    lock = write_lock(tmp_path / "pushed.lock.json", digests={"postgres-runner": DIGEST})
    kit = make_datakit(tmp_path, lock, name="Kube Kit", executor="kubernetes")
    assert '"digest": "' + DIGEST in (kit / "runners.lock").read_text()
    _add_pipeline(
        kit,
        "files.yaml",
        """\
        pipeline: files
        tags: [k8s]
        defaults: {conn: warehouse}
        tasks:
          - id: load
            runner: postgres
            copy: {direction: in, table: sales, file: in/sales.csv, format: csv, header: true}
          - id: report
            runner: postgres
            query: {sql: SELECT 1, output: out/report.csv}
        """,
    )
    _add_pipeline(
        kit,
        "secure.yaml",
        """\
        pipeline: secure
        tags: [k8s]
        tasks:
          - id: from_mssql
            runner: postgres
            kerberos: true
            connections: [mssql_src]
            resources: {cpu: "2", memory: 1Gi}
            run: example/create_tables.sql
        """,
    )
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from tinyrun_dagfactory.render import pod_manifest

    bag = dagbag(kit / "dags")
    assert bag.import_errors == {}
    pods = {}
    for dag in bag.dags.values():
        for task in dag.tasks:
            assert isinstance(task, KubernetesPodOperator)
            ti = SimpleNamespace(dag_id=dag.dag_id, task_id=task.task_id, try_number=1, map_index=-1)
            context = {
                "ti": ti,
                "task_instance": ti,
                "run_id": "manual__1",
                "dag": dag,
                "task": task,
                "ds": "2024-05-06",
                "params": {},
            }
            task.render_template_fields(context)
            pods[f"{dag.dag_id}.{task.task_id}"] = pod_manifest(task, context)

    load = pods["kube_kit_orders_daily.load_orders"]
    spec = load["spec"]
    base = next(c for c in spec["containers"] if c["name"] == "base")
    assert base["image"] == DIGEST
    assert load["metadata"]["annotations"]["tinyrun.dev/image-id"] == FAKE_ID
    assert load["metadata"]["namespace"] == "pipelines"
    assert "command" not in base or not base["command"]
    assert base["args"] == ["run", "--conn", "warehouse", "-v", "day=2024-05-06", "/sql/example/load_orders.sql"]
    env = {e["name"]: e for e in base["env"]}
    assert env["AIRFLOW_CONN_WAREHOUSE"] == {
        "name": "AIRFLOW_CONN_WAREHOUSE",
        "valueFrom": {"secretKeyRef": {"name": "airflow-conn-warehouse", "key": "uri"}},
    }
    assert env["TINYRUN_DAG_ID"]["value"] == "kube_kit_orders_daily"
    assert env["TINYRUN_TASK_ID"]["value"] == "load_orders"
    assert env["TINYRUN_RUN_ID"]["value"] == "manual__1"
    assert env["TINYRUN_TRY_NUMBER"]["value"] == "1" and env["TINYRUN_MAP_INDEX"]["value"] == "-1"
    assert all("value" not in e for n, e in env.items() if n.startswith("AIRFLOW_CONN_"))
    assert base["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsGroup": 65532,
        "runAsNonRoot": True,
        "runAsUser": 65532,
    }
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 65532
    assert spec["terminationGracePeriodSeconds"] == 30
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    sidecar = next(c for c in spec["containers"] if c["name"] == "airflow-xcom-sidecar")
    assert sidecar["securityContext"]["runAsNonRoot"] is True
    mounts = {m["mountPath"]: m for m in base["volumeMounts"]}
    assert set(mounts) == {"/airflow/xcom", "/tmp", "/sql"}
    assert mounts["/sql"]["readOnly"] is True
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["sql"]["configMap"] == {
        "name": "tinyrun-sql",
        "items": [{"key": "example__load_orders.sql", "path": "example/load_orders.sql"}],
    }

    secure = pods["secure.from_mssql"]
    sbase = next(c for c in secure["spec"]["containers"] if c["name"] == "base")
    senv = {e["name"]: e for e in sbase["env"]}
    assert senv["AIRFLOW_CONN_MSSQL_SRC"]["valueFrom"]["secretKeyRef"] == {
        "name": "airflow-conn-mssql-src",
        "key": "uri",
    }
    assert senv["KRB5CCNAME"]["value"] == "FILE:/krb5/cache/krb5cc"
    smounts = {m["mountPath"]: m for m in sbase["volumeMounts"]}
    assert smounts["/krb5/cache"]["readOnly"] is True
    svol = {v["name"]: v for v in secure["spec"]["volumes"]}
    assert svol["krb5-cache"]["persistentVolumeClaim"] == {"claimName": "platform-kerberos-cache", "readOnly": True}
    assert sbase["resources"] == {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "2", "memory": "1Gi"}}

    # copy/query files: the data PVC at /data, relative paths under it
    for task_id, flag, path in (("load", "--file", "/data/in/sales.csv"), ("report", "--output", "/data/out/report.csv")):
        fbase = next(c for c in pods[f"files.{task_id}"]["spec"]["containers"] if c["name"] == "base")
        assert fbase["args"][fbase["args"].index(flag) + 1] == path
        fmounts = {m["mountPath"]: m for m in fbase["volumeMounts"]}
        assert fmounts["/data"] == {"mountPath": "/data", "name": "data"}
        fvol = {v["name"]: v for v in pods[f"files.{task_id}"]["spec"]["volumes"]}
        assert fvol["data"]["persistentVolumeClaim"] == {"claimName": "tinyrun-data"}
    assert "/data" not in {m["mountPath"] for m in base["volumeMounts"]}

    assert len(pods) == 8
    for name, pod in pods.items():
        text = repr(pod)
        assert "s3cr3t" not in text, name
        assert pod["spec"]["containers"][0]["image"] == DIGEST, name
        assert_valid_pod(pod)
    op = bag.dags["secure"].task_dict["from_mssql"]
    assert op.on_finish_action.value == "delete_pod"
    assert op.do_xcom_push is True and op.skip_on_exit_code == [99]


def test_no_literal_connection_in_yaml_reaches_airflow(tmp_path: Path, fake_lock: Path, airflow_db: Path) -> None:
    kit = make_datakit(tmp_path, fake_lock, name="Leak Kit")
    path = _add_pipeline(
        kit,
        "leak.yaml",
        f"""\
        pipeline: leak
        tags: [x]
        tasks:
          - id: a
            runner: postgres
            sql: select 1
            env: {{TARGET: "{PASSWORD_URI}"}}
        """,
    )
    bag = dagbag(kit / "dags")
    assert "leak" not in bag.dag_ids
    assert "literal password in a connection URI" in bag.import_errors[str(path)]


def test_cli_render_both_executors(tmp_path: Path, fake_lock: Path) -> None:
    import json
    import subprocess
    import sys

    kit = make_datakit(tmp_path, fake_lock, name="Render Kit")
    pipelines = str(kit / "pipelines")
    run = [sys.executable, "-m", "tinyrun_dagfactory", "render", pipelines, "--lock", str(fake_lock)]
    docker = subprocess.run([*run, "--format", "json"], capture_output=True, text=True, timeout=120, check=False)
    assert docker.returncode == 0, docker.stderr
    tasks = json.loads(docker.stdout)["render_kit_orders_daily"]["tasks"]
    load = tasks["load_orders"]
    assert load["operator"] == "TinyrunDockerOperator"
    assert load["arguments"]["command"][-1] == "/sql/example/load_orders.sql"
    assert load["arguments"]["tinyrun_connections"] == ["warehouse"]
    assert load["arguments"]["retry_delay"] == "60s"
    kube = subprocess.run([*run, "--executor", "kubernetes"], capture_output=True, text=True, timeout=120, check=False)
    assert kube.returncode == 0, kube.stderr
    import yaml

    pods = yaml.safe_load(kube.stdout)["render_kit_orders_daily"]["pods"]
    assert set(pods) == {"preflight", "create_tables", "load_orders", "publish.daily_total", "publish.report"}
    assert pods["preflight"]["spec"]["containers"][0]["args"] == ["check", "--conn", "warehouse"]
    for pod in pods.values():  # no digest in this lock: the tag (the image ID is an annotation)
        assert pod["spec"]["containers"][0]["image"] == "tinyrun/postgres-runner:0.1.0"
        assert_valid_pod(pod)


LIMITS = """\
pipeline: limits
owner: o
tags: [x]
defaults: {conn: warehouse}
tasks:
  - {id: default, runner: postgres, check: true}
  - {id: milli, runner: postgres, check: true, resources: {cpu: 1500m, memory: 1536Mi}}
  - {id: fraction, runner: postgres, check: true, resources: {cpu: 0.25, memory: 2G}}
  - {id: integers, runner: postgres, check: true, resources: {cpu: 2, memory: 1073741824}}
  - {id: exponent, runner: postgres, check: true, resources: {cpu: "0.1", memory: 5e8}}
"""


def test_docker_and_kubernetes_get_the_same_limits(tmp_path: Path, fake_lock: Path, airflow_db: Path) -> None:
    """Docker's bytes and nano-CPUs equal the pod's quantities as Kubernetes' own client parses them."""
    from decimal import Decimal

    from docker import APIClient
    from kubernetes.utils import parse_quantity
    from tinyrun_dagfactory.build import build_dag
    from tinyrun_dagfactory.images import load_table
    from tinyrun_dagfactory.operators_docker import _TinyrunClient
    from tinyrun_dagfactory.pipelines import parse_file
    from tinyrun_dagfactory.render import pod_manifest

    path = tmp_path / "pipelines" / "limits.yaml"
    path.parent.mkdir()
    path.write_text(LIMITS)
    spec = parse_file(path, root=tmp_path)
    table = load_table(fake_lock)
    docker_dag, kube_dag = build_dag(spec, table, "docker"), build_dag(spec, table, "kubernetes")
    api = APIClient(base_url="unix:///nonexistent.sock", version="1.41")  # host configs are built locally
    seen = {}
    for task in docker_dag.tasks:
        pod = pod_manifest(kube_dag.task_dict[task.task_id])
        assert_valid_pod(pod)
        limits = pod["spec"]["containers"][0]["resources"]["limits"]
        assert pod["spec"]["containers"][0]["resources"]["requests"] == limits
        assert task.mem_limit == parse_quantity(limits["memory"]), task.task_id
        assert Decimal(task.tinyrun_nano_cpus) == parse_quantity(limits["cpu"]) * 10**9, task.task_id
        # what the engine is asked for: a hard CPU quota, never the provider's relative cpu_shares
        host = _TinyrunClient(api, task).create_host_config(
            mem_limit=task.mem_limit, cpu_shares=round(task.cpus * 1024), auto_remove=False
        )
        assert (host["Memory"], host["NanoCpus"]) == (task.mem_limit, task.tinyrun_nano_cpus)
        assert "CpuShares" not in host
        assert host["ReadonlyRootfs"] is True and host["CapDrop"] == ["ALL"]
        assert host["SecurityOpt"] == ["no-new-privileges"]
        assert host["Tmpfs"] == {"/tmp": "rw,nosuid,nodev,noexec,mode=1777,size=1073741824"}
        seen[task.task_id] = (task.mem_limit, task.tinyrun_nano_cpus)
    assert seen == {
        "default": (512 * 2**20, 500_000_000),
        "milli": (1536 * 2**20, 1_500_000_000),
        "fraction": (2 * 10**9, 250_000_000),
        "integers": (2**30, 2_000_000_000),
        "exponent": (5 * 10**8, 100_000_000),
    }


@pytest.mark.parametrize(
    ("cpu", "millis"), [("500m", 500), ("2", 2000), (0.25, 250), ("1.5", 1500), (3, 3000), ("1e-3", 1)]
)
def test_cpu_quantities(cpu: str | float, millis: int) -> None:
    from tinyrun_dagfactory.resources import cpu_millis

    assert cpu_millis(cpu) == millis


@pytest.mark.parametrize(
    ("memory", "size"),
    [("512Mi", 512 * 2**20), ("1G", 10**9), ("1.5Ki", 1536), ("1e3", 1000), (4096, 4096), ("2Ti", 2**41)],
)
def test_memory_quantities(memory: str | int, size: int) -> None:
    from tinyrun_dagfactory.resources import memory_bytes

    assert memory_bytes(memory) == size


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        ("512m", "memory '512m' is ambiguous"),
        ("0.5", "not a whole number of bytes"),
        ("0", "must be more than 0"),
        ("512MB", "is not a Kubernetes quantity"),
        ("1g", "is not a Kubernetes quantity"),
    ],
)
def test_memory_quantities_refused(memory: str, message: str) -> None:
    from tinyrun_dagfactory.resources import memory_bytes

    with pytest.raises(ValueError, match=message):
        memory_bytes(memory)
