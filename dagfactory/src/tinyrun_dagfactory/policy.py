"""Platform policy, in one place: what every tinyrun task gets whatever its YAML says.

Pipelines may override the task defaults below only within the limits below. Deployment-specific
settings (docker network, Kubernetes namespace, ...) come from ``TINYRUN_*`` environment variables
of the Airflow processes, read once by :func:`settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

# --- exit codes of the task contract (DESIGN.md) -------------------------------------------------
EXIT_OK = 0
EXIT_TASK_FAILED = 1  # fail, retry
EXIT_USAGE = 2  # fail at once: retrying cannot fix a configuration error
EXIT_AUTH = 3  # fail at once: retrying cannot fix missing/expired credentials
EXIT_TEMPFAIL = 75  # retry
EXIT_SKIPPED = 99  # task is marked skipped (skip_on_exit_code)
SKIP_EXIT_CODES = (EXIT_SKIPPED,)
NO_RETRY_EXIT_CODES = frozenset({EXIT_USAGE, EXIT_AUTH})


def fails_without_retry(exit_code: int | None) -> bool:
    """True when a container exit code must fail the task at once, ignoring remaining retries."""
    return exit_code in NO_RETRY_EXIT_CODES


# --- task defaults and the limits pipelines may set ----------------------------------------------
DEFAULT_RETRIES = 2
MAX_RETRIES = 10
DEFAULT_RETRY_DELAY_S = 60
MIN_RETRY_DELAY_S = 0
DEFAULT_MAX_RETRY_DELAY_S = 3600
RETRY_BACKOFF_MULTIPLIER = 2.0  # exponential backoff: delay, 2*delay, 4*delay, ... up to max
DEFAULT_TIMEOUT_S = 3600
MAX_TIMEOUT_S = 24 * 3600
DEFAULT_RESOURCES = {"cpu": "500m", "memory": "512Mi"}
MAX_CPU_MILLI = 8000
MAX_MEMORY_MI = 32 * 1024
DEFAULT_START_DATE = "2024-01-01"
PLATFORM_TAG = "tinyrun"

# --- container identity and hardening ------------------------------------------------------------
RUN_AS_UID = 65532
RUN_AS_GID = 65532
TERMINATION_GRACE_S = 30  # runners exit within 5 s of SIGTERM (DESIGN.md); leave margin
KERBEROS_VOLUME = "platform_kerberos_cache"
KERBEROS_MOUNT = "/krb5/cache"
KERBEROS_CCNAME = "FILE:/krb5/cache/krb5cc"
KRB5_CONF_MOUNT = "/etc/krb5.conf"  # where a realm's krb5.conf replaces the image's default (DNS SRV lookup)
SQL_MOUNT = "/sql"  # the datakit's sql/ folder, read-only, inside the container
DATA_MOUNT = "/data"  # the data folder of copy/query files (relative `file`/`output` paths land here)
MODELS_MOUNT = "/models"  # a deploy-model task's models folder, read-only, inside the container
TMP_SIZE = "1Gi"  # the writable /tmp of a runner (the root filesystem is read-only)
XCOM_DIR = "/airflow/xcom"
SNAPSHOT_MOUNT = "/snapshots"  # Kubernetes: the emptyDir the init container fetches code snapshots into
CA_BUNDLE_DIR = "/etc/ssl/certs"  # where python-launcher (FROM scratch: no bundle of its own) finds CAs
CA_BUNDLE_KEY = "ca-certificates.crt"

# Run identity: every container learns which Airflow task instance it is (templated at run time).
RUN_IDENTITY_ENV = {
    "TINYRUN_DAG_ID": "{{ ti.dag_id }}",
    "TINYRUN_TASK_ID": "{{ ti.task_id }}",
    "TINYRUN_RUN_ID": "{{ run_id }}",
    "TINYRUN_TRY_NUMBER": "{{ ti.try_number }}",
    "TINYRUN_MAP_INDEX": "{{ ti.map_index }}",
}

# Fields that must never hold a literal value in YAML (they name secrets).
SECRET_KEY_PATTERN = r"(?i)(passw(or)?d|passwd|pwd|secret|token|api[_-]?key|private[_-]?key|credentials?)"


def conn_env_name(conn_id: str) -> str:
    """Airflow's environment variable for a connection id."""
    return f"AIRFLOW_CONN_{conn_id.upper()}"


@dataclass(frozen=True)
class Settings:
    """Deployment settings (environment of the Airflow processes)."""

    executor: str  # TINYRUN_EXECUTOR: default executor for pipelines that do not set one
    docker_url: str | None  # TINYRUN_DOCKER_URL (else DOCKER_HOST, else the local socket)
    docker_network_mode: str  # TINYRUN_DOCKER_NETWORK_MODE (bridge, host, a network name)
    docker_auto_remove: str  # TINYRUN_DOCKER_AUTO_REMOVE: success (default) | force | never
    docker_sql_host_dir: str | None  # TINYRUN_DOCKER_SQL_HOST_DIR: sql/ as the docker engine sees it
    docker_data_host_dir: str | None  # TINYRUN_DOCKER_DATA_HOST_DIR: the data folder mounted at /data
    docker_krb5_conf: str | None  # TINYRUN_DOCKER_KRB5_CONF: the realm's krb5.conf for kerberos tasks
    docker_kerberos_volume: str  # TINYRUN_DOCKER_KERBEROS_VOLUME: the ticket sharer's volume
    docker_models_host_dir: str | None  # TINYRUN_DOCKER_MODELS_HOST_DIR: the datakit root as the engine sees it
    docker_secrets: str  # TINYRUN_DOCKER_SECRETS: files (default, local engine) | env
    docker_secrets_dir: str  # TINYRUN_DOCKER_SECRETS_DIR: tmpfs folder for the per-try secret folders
    k8s_namespace: str | None  # TINYRUN_K8S_NAMESPACE
    k8s_config_file: str | None  # TINYRUN_K8S_CONFIG_FILE (else in-cluster / default kubeconfig)
    k8s_in_cluster: bool | None  # TINYRUN_K8S_IN_CLUSTER
    k8s_sql_configmap: str  # TINYRUN_K8S_SQL_CONFIGMAP: ConfigMap holding the sql/ files
    k8s_secret_prefix: str  # TINYRUN_K8S_SECRET_PREFIX: Secret "<prefix><conn-id>" key "uri"
    k8s_kerberos_claim: str  # TINYRUN_K8S_KERBEROS_CLAIM: PVC holding the ticket cache
    k8s_data_claim: str  # TINYRUN_K8S_DATA_CLAIM: PVC mounted at /data for copy/query files
    k8s_models_configmap: str  # TINYRUN_K8S_MODELS_CONFIGMAP: ConfigMap holding a models folder's files
    k8s_ca_configmap: str  # TINYRUN_K8S_CA_CONFIGMAP: CA bundle (key ca-certificates.crt) for code downloads
    k8s_on_finish_action: str  # TINYRUN_K8S_ON_FINISH_ACTION: delete_pod | delete_succeeded_pod | keep_pod


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


@lru_cache(maxsize=1)
def settings() -> Settings:
    in_cluster = _env("TINYRUN_K8S_IN_CLUSTER")
    return Settings(
        executor=_env("TINYRUN_EXECUTOR", "docker") or "docker",
        docker_url=_env("TINYRUN_DOCKER_URL"),
        docker_network_mode=_env("TINYRUN_DOCKER_NETWORK_MODE", "bridge") or "bridge",
        docker_auto_remove=_env("TINYRUN_DOCKER_AUTO_REMOVE", "success") or "success",
        docker_sql_host_dir=_env("TINYRUN_DOCKER_SQL_HOST_DIR"),
        docker_data_host_dir=_env("TINYRUN_DOCKER_DATA_HOST_DIR"),
        docker_krb5_conf=_env("TINYRUN_DOCKER_KRB5_CONF"),
        docker_kerberos_volume=_env("TINYRUN_DOCKER_KERBEROS_VOLUME", KERBEROS_VOLUME) or KERBEROS_VOLUME,
        docker_models_host_dir=_env("TINYRUN_DOCKER_MODELS_HOST_DIR"),
        docker_secrets=_env("TINYRUN_DOCKER_SECRETS", "files") or "files",
        docker_secrets_dir=_env("TINYRUN_DOCKER_SECRETS_DIR", "/dev/shm/tinyrun-secrets") or "/dev/shm/tinyrun-secrets",
        k8s_namespace=_env("TINYRUN_K8S_NAMESPACE"),
        k8s_config_file=_env("TINYRUN_K8S_CONFIG_FILE"),
        k8s_in_cluster=None if in_cluster is None else in_cluster.lower() in ("1", "true", "yes"),
        k8s_sql_configmap=_env("TINYRUN_K8S_SQL_CONFIGMAP", "tinyrun-sql") or "tinyrun-sql",
        k8s_secret_prefix=_env("TINYRUN_K8S_SECRET_PREFIX", "airflow-conn-") or "airflow-conn-",
        k8s_kerberos_claim=_env("TINYRUN_K8S_KERBEROS_CLAIM", "platform-kerberos-cache") or "platform-kerberos-cache",
        k8s_data_claim=_env("TINYRUN_K8S_DATA_CLAIM", "tinyrun-data") or "tinyrun-data",
        k8s_models_configmap=_env("TINYRUN_K8S_MODELS_CONFIGMAP", "tinyrun-models") or "tinyrun-models",
        k8s_ca_configmap=_env("TINYRUN_K8S_CA_CONFIGMAP", "tinyrun-ca-bundle") or "tinyrun-ca-bundle",
        k8s_on_finish_action=_env("TINYRUN_K8S_ON_FINISH_ACTION", "delete_pod") or "delete_pod",
    )
