"""PipelineSpec -> Airflow DAG: the platform policy applied to every task, one operator per task.

The same image and argv go to both executors; only the plumbing differs (see docker_kwargs and
kubernetes_kwargs, which are also what `python -m tinyrun_dagfactory render` shows).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import commands, compat, images, policy, resources
from .images import ImageRef, ImageTable
from .spec import GroupSpec, PipelineSpec, TaskSpec


def policy_kwargs(task: TaskSpec) -> dict[str, Any]:
    """BaseOperator arguments every tinyrun task gets (retries with backoff, timeout, ...).

    Arguments equal to Airflow's defaults are left out (XCom on, trigger rule all_success): each
    argument costs Airflow's operator construction time, thousands of times per parse (profiled).
    """
    kw: dict[str, Any] = {
        "task_id": task.id,
        "retries": task.retries,
        "retry_delay": timedelta(seconds=task.retry_delay_s),
        "retry_exponential_backoff": compat.backoff_multiplier(),
        "max_retry_delay": timedelta(seconds=task.max_retry_delay_s),
        "execution_timeout": timedelta(seconds=task.timeout_s),
    }
    if task.trigger_rule != "all_success":
        kw["trigger_rule"] = task.trigger_rule
    if task.pool:
        kw["pool"] = task.pool
    if task.description:
        kw["doc_md"] = task.description
    return kw


def _labels(spec: PipelineSpec, task: TaskSpec, ref: ImageRef) -> dict[str, str]:
    return {"tinyrun.pipeline": spec.id, "tinyrun.task": task.airflow_id, "tinyrun.image-id": ref.id or ref.image}


@lru_cache(maxsize=64)
def _host_dir(path: Path) -> str:
    return str(path.resolve())


@lru_cache(maxsize=256)
def _mount(target: str, source: str, kind: str, read_only: bool) -> Any:
    # one Mount per distinct mount (operators only read it; rendering builds new ones)
    from docker.types import Mount

    return Mount(target=target, source=source, type=kind, read_only=read_only)


def docker_kwargs(spec: PipelineSpec, task: TaskSpec, ref: ImageRef) -> dict[str, Any]:
    """DockerOperator arguments; ``tinyrun_*`` ones are set on the operator after construction.

    The provider's defaults stand where they are the policy: not privileged, no forced pull,
    XCom = the last line only (the runner's result JSON), the engine's default (bridge) network.
    """
    s = policy.settings()
    mounts = []
    if commands.sql_files(task):
        host_sql = s.docker_sql_host_dir or _host_dir(spec.sql_dir)
        mounts.append(_mount(policy.SQL_MOUNT, host_sql, "bind", True))
    if commands.uses_data(task):
        host_data = s.docker_data_host_dir or _host_dir(spec.root / "data")
        mounts.append(_mount(policy.DATA_MOUNT, host_data, "bind", False))
    models = commands.models_dir(task)
    if models:
        host_root = s.docker_models_host_dir or _host_dir(spec.root)
        mounts.append(_mount(policy.MODELS_MOUNT, f"{host_root.rstrip('/')}/{models}", "bind", True))
    if task.kerberos:
        mounts.append(_mount(policy.KERBEROS_MOUNT, s.docker_kerberos_volume, "volume", True))
        if s.docker_krb5_conf:
            mounts.append(_mount(policy.KRB5_CONF_MOUNT, s.docker_krb5_conf, "bind", True))
    limits = resources.docker_limits(task.resources)
    kw: dict[str, Any] = {
        "image": ref.image,
        "tinyrun_image_id": ref.id or None,  # a registry digest pins itself
        "command": commands.argv(task),
        "environment": commands.environment(task),
        "tinyrun_connections": commands.connection_ids(task),
        "user": f"{policy.RUN_AS_UID}:{policy.RUN_AS_GID}",
        "auto_remove": s.docker_auto_remove,
        "mount_tmp_dir": False,  # the runner writes only to its own /tmp (a tmpfs: the root is read-only)
        "skip_on_exit_code": list(policy.SKIP_EXIT_CODES),
        "labels": _labels(spec, task, ref),
        "mem_limit": limits.get("mem_limit"),
        "tinyrun_nano_cpus": limits.get("nano_cpus"),
    }
    if mounts:
        kw["mounts"] = mounts
    if s.docker_network_mode != "bridge":
        kw["network_mode"] = s.docker_network_mode
    if s.docker_url:
        kw["docker_url"] = s.docker_url
    return kw


def _pod_name(spec: PipelineSpec, task: TaskSpec) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", f"{spec.id}-{task.airflow_id}".lower()).strip("-")
    return name[:50].rstrip("-") or "tinyrun"


def _sql_items(task: TaskSpec) -> list[dict[str, str]]:
    # ConfigMap keys cannot hold "/": a file sql/a/b.sql is key "a__b.sql", mounted back at /sql/a/b.sql
    return [{"key": f.replace("/", "__"), "path": f} for f in commands.sql_files(task)]


def _container_security_context() -> Any:
    from kubernetes.client import models as k8s

    return k8s.V1SecurityContext(
        run_as_non_root=True,
        run_as_user=policy.RUN_AS_UID,
        run_as_group=policy.RUN_AS_GID,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        capabilities=k8s.V1Capabilities(drop=["ALL"]),
    )


def _fetch_container(task: TaskSpec, launcher: ImageRef, resources: Any) -> Any:
    """The init container of a python task with remote code: python-launcher fetch into the emptyDir.
    Its image is FROM scratch, so the CA bundle for https comes from a ConfigMap."""
    from kubernetes.client import models as k8s

    return k8s.V1Container(
        name="fetch-code",
        image=launcher.digest or launcher.image,
        image_pull_policy="IfNotPresent",
        args=commands.fetch_argv(task),
        volume_mounts=[
            k8s.V1VolumeMount(name="snapshots", mount_path=policy.SNAPSHOT_MOUNT),
            k8s.V1VolumeMount(name="tmp", mount_path="/tmp"),
            k8s.V1VolumeMount(name="ca-bundle", mount_path=policy.CA_BUNDLE_DIR, read_only=True),
        ],
        security_context=_container_security_context(),
        resources=resources,
    )


def kubernetes_kwargs(
    spec: PipelineSpec, task: TaskSpec, ref: ImageRef, launcher: ImageRef | None = None
) -> dict[str, Any]:
    """KubernetesPodOperator arguments. ``launcher``: the python-launcher image, for the init
    container that fetches a python task's remote code snapshot."""
    from airflow.providers.cncf.kubernetes.secret import Secret
    from kubernetes.client import models as k8s

    s = policy.settings()
    volumes = [k8s.V1Volume(name="tmp", empty_dir=k8s.V1EmptyDirVolumeSource(size_limit=policy.TMP_SIZE))]
    mounts = [k8s.V1VolumeMount(name="tmp", mount_path="/tmp")]
    if commands.sql_files(task):
        volumes.append(
            k8s.V1Volume(
                name="sql",
                config_map=k8s.V1ConfigMapVolumeSource(
                    name=s.k8s_sql_configmap, items=[k8s.V1KeyToPath(**i) for i in _sql_items(task)]
                ),
            )
        )
        mounts.append(k8s.V1VolumeMount(name="sql", mount_path=policy.SQL_MOUNT, read_only=True))
    if commands.models_dir(task):
        models_cm = k8s.V1ConfigMapVolumeSource(name=s.k8s_models_configmap)
        volumes.append(k8s.V1Volume(name="models", config_map=models_cm))
        mounts.append(k8s.V1VolumeMount(name="models", mount_path=policy.MODELS_MOUNT, read_only=True))
    if task.kerberos:
        volumes.append(
            k8s.V1Volume(
                name="krb5-cache",
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(
                    claim_name=s.k8s_kerberos_claim, read_only=True
                ),
            )
        )
        mounts.append(k8s.V1VolumeMount(name="krb5-cache", mount_path=policy.KERBEROS_MOUNT, read_only=True))
    if commands.uses_data(task):
        volumes.append(
            k8s.V1Volume(
                name="data",
                persistent_volume_claim=k8s.V1PersistentVolumeClaimVolumeSource(claim_name=s.k8s_data_claim),
            )
        )
        mounts.append(k8s.V1VolumeMount(name="data", mount_path=policy.DATA_MOUNT))
    quantities = {k: v for k, v in task.resources.items() if v}
    container_resources = k8s.V1ResourceRequirements(requests=quantities, limits=quantities)
    init_containers = []
    if launcher is not None and commands.is_remote_code(task):
        volumes.append(k8s.V1Volume(name="snapshots", empty_dir=k8s.V1EmptyDirVolumeSource()))
        ca_items = [k8s.V1KeyToPath(key=policy.CA_BUNDLE_KEY, path=policy.CA_BUNDLE_KEY)]
        ca = k8s.V1ConfigMapVolumeSource(name=s.k8s_ca_configmap, items=ca_items)
        volumes.append(k8s.V1Volume(name="ca-bundle", config_map=ca))
        mounts.append(k8s.V1VolumeMount(name="snapshots", mount_path=policy.SNAPSHOT_MOUNT, read_only=True))
        init_containers.append(_fetch_container(task, launcher, container_resources))
    kw: dict[str, Any] = {
        "image": ref.digest or ref.image,  # Kubernetes can pin only a registry digest, never an image ID
        "image_pull_policy": "IfNotPresent",
        "cmds": None,  # the image's ENTRYPOINT is the runner
        "arguments": commands.pod_argv(task) if init_containers else commands.argv(task),
        "name": _pod_name(spec, task),
        "random_name_suffix": True,
        "env_vars": [k8s.V1EnvVar(name=k, value=v) for k, v in commands.environment(task).items()],
        "secrets": [
            Secret("env", policy.conn_env_name(c), s.k8s_secret_prefix + c.lower().replace("_", "-"), "uri")
            for c in commands.connection_ids(task)
        ],
        "volumes": volumes,
        "volume_mounts": mounts,
        "security_context": k8s.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=policy.RUN_AS_UID,
            run_as_group=policy.RUN_AS_GID,
            fs_group=policy.RUN_AS_GID,
            seccomp_profile=k8s.V1SeccompProfile(type="RuntimeDefault"),
        ),
        "container_security_context": _container_security_context(),
        "xcom_sidecar_container_security_context": _container_security_context(),
        "container_resources": container_resources,
        "termination_grace_period": policy.TERMINATION_GRACE_S,
        "on_finish_action": s.k8s_on_finish_action,
        "skip_on_exit_code": list(policy.SKIP_EXIT_CODES),
        "automount_service_account_token": False,
        "labels": {"tinyrun-pipeline": _pod_name(spec, task)[:63], "app.kubernetes.io/managed-by": "tinyrun"},
        "annotations": {
            "tinyrun.dev/image-id": ref.id or ref.image,
            "tinyrun.dev/task": f"{spec.id}.{task.airflow_id}",
        },
        "get_logs": True,
        "do_xcom_push": True,  # the provider's own default is off
    }
    if init_containers:
        kw["init_containers"] = init_containers
    if s.k8s_namespace:
        kw["namespace"] = s.k8s_namespace
    if s.k8s_config_file:
        kw["config_file"] = s.k8s_config_file
    if s.k8s_in_cluster is not None:
        kw["in_cluster"] = s.k8s_in_cluster
    return kw


def operator_class(executor: str) -> type:
    if executor == "kubernetes":
        from .operators_k8s import TinyrunPodOperator

        return TinyrunPodOperator
    from .operators_docker import TinyrunDockerOperator

    return TinyrunDockerOperator


def operator_kwargs(spec: PipelineSpec, task: TaskSpec, table: ImageTable, executor: str) -> dict[str, Any]:
    if task.runner in images.TEAM_IMAGE_RUNNERS:  # the team's own image, the shim its ENTRYPOINT
        ref = images.team_image(task.args["image"])
        remote = executor == "kubernetes" and commands.is_remote_code(task)
        launcher = table.for_runner(task.runner) if remote else None  # python's init container only
    else:
        ref, launcher = table.for_runner(task.runner), None
    kube = executor == "kubernetes"
    extra = kubernetes_kwargs(spec, task, ref, launcher) if kube else docker_kwargs(spec, task, ref)
    return {**policy_kwargs(task), **extra}


def make_operator(op_cls: type, kwargs: dict[str, Any], dag: Any, group: Any) -> Any:
    """One operator; ``tinyrun_*`` arguments become attributes (the operators take no extra __init__)."""
    ours = {k: kwargs.pop(k) for k in [k for k in kwargs if k.startswith("tinyrun_")]}
    op = op_cls(dag=dag, task_group=group, **kwargs)
    for name, value in ours.items():
        setattr(op, name, value)
    return op


def _start_date(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def build_dag(spec: PipelineSpec, table: ImageTable, executor: str | None = None) -> Any:
    """The DAG for one pipeline (raises ImageTableError when a runner's image was not built)."""
    dag_cls, group_cls = compat.dag_classes()
    executor = executor or spec.executor
    op_cls = operator_class(executor)
    dag = dag_cls(
        dag_id=spec.id,
        description=spec.description or None,
        schedule=spec.schedule,
        start_date=_start_date(spec.start_date),
        catchup=spec.catchup,
        max_active_runs=spec.max_active_runs,
        tags=spec.tags,
        default_args={"owner": spec.owner},
        doc_md=f"Pipeline `{spec.id}` from `{spec.file.name}` (tinyrun, executor {executor}).",
        render_template_as_native_obj=False,
    )
    nodes: dict[str, Any] = {}

    def add(items: list[TaskSpec | GroupSpec], parent: Any) -> None:
        for item in items:
            if isinstance(item, GroupSpec):
                group = group_cls(group_id=item.id, tooltip=item.description or "", dag=dag, parent_group=parent)
                nodes[item.id] = group
                add(item.children, group)
            else:
                nodes[item.id] = make_operator(op_cls, operator_kwargs(spec, item, table, executor), dag, parent)

    add(spec.items, None)
    items: list[TaskSpec | GroupSpec] = [*spec.groups.values(), *spec.tasks.values()]
    for item in items:
        for dep in item.depends_on:
            nodes[dep] >> nodes[item.id]
    return dag
