"""spark-submit-runner in Kubernetes cluster mode, end to end through the real binary, with a
stand-in for spark-submit: no cluster runs here, so a script plays the submission client. It
records the command line and environment it got and writes the client's final report in Spark's
own format (LoggingPodStatusWatcherImpl / KubernetesUtils.containersDescription, Spark 4.3.0;
plain log4j text or structured JSON logging) to stderr, then exits as spark-submit does in
cluster mode: 0, whatever the driver did. The runner must exit with the driver's code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.result import RunResult

RUNNER = "spark-submit-runner"
IMAGE = "registry.example/team/spark@sha256:" + "0f" * 32
PASSWORD = "s3cret-pw-k8s"
P = "26/12/01 06:20:11 INFO LoggingPodStatusWatcherImpl: "

FAKE = f"""#!{sys.executable}
import json, os, sys
here = os.path.dirname(os.path.abspath(__file__))
json.dump({{"argv": sys.argv[1:], "env": sorted(os.environ)}}, open(os.path.join(here, "seen.json"), "w"))
sys.stderr.write(open(os.path.join(here, "report.log")).read())
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


def plain_report(phase: str, code: str, reason: str) -> str:
    return (
        f"{P}Waiting for application agg}} with application ID spark-4c1b2f0e and submission ID "
        "data-team:agg-3f2a-driver to finish...\n"
        f"{P}Application status for spark-4c1b2f0e (phase: Running)\n"
        f"{P}State changed, new state:\n\t pod name: agg-3f2a-driver\n\t namespace: data-team\n"
        f"\t phase: {phase}\n\t container status: \n\t\t container name: spark-kubernetes-driver\n"
        f"\t\t container state: terminated\n\t\t exit code: {code}\n"
        f"{P}Container final statuses:\n\n\n\t container name: spark-kubernetes-driver\n"
        f"\t container image: {IMAGE}\n\t container state: terminated\n"
        "\t container started at: 2026-12-01T06:19:42Z\n\t container finished at: 2026-12-01T06:20:10Z\n"
        f"\t exit code: {code}\n\t termination reason: {reason}\n"
        f"{P}Application agg with application ID spark-4c1b2f0e and submission ID data-team:agg-3f2a-driver finished\n"
    )


def json_report(code: int, reason: str) -> str:
    msg = (
        "Container final statuses:\n\n\n\t container name: spark-kubernetes-driver\n\t container image: img\n"
        f"\t container state: terminated\n\t exit code: {code}\n\t termination reason: {reason}"
    )
    lines = [
        {"level": "INFO", "msg": "Waiting for application agg} with application ID spark-77 and submission ID "
         "ns:agg-driver to finish...", "logger": "LoggingPodStatusWatcherImpl"},
        {"level": "INFO", "msg": msg, "logger": "LoggingPodStatusWatcherImpl"},
    ]  # fmt: skip
    return "".join(json.dumps({"ts": "2026-12-01T06:20:12.001Z", **r}) + "\n" for r in lines)


@pytest.fixture
def cluster(run_runner: Callable[..., RunResult], tmp_path: Path) -> Callable[..., RunResult]:
    fake = tmp_path / "spark-submit"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    job = {
        "application": "local:///opt/jobs/agg.py",
        "master": "k8s://https://api.example:6443",
        "deploy_mode": "cluster",
        "connections": ["warehouse"],
        "env": {"TZ": "UTC"},
    }

    def run(report: str, fake_exit: int = 0) -> RunResult:
        (tmp_path / "report.log").write_text(report)
        env = {
            "AIRFLOW_CONN_WAREHOUSE": f"postgres://etl:{PASSWORD}@db.example:5432/dwh",
            "FAKE_EXIT": str(fake_exit),
            "TINYRUN_K8S_NAMESPACE": "data-team",
            "TINYRUN_K8S_SERVICE_ACCOUNT": "spark-jobs",
            "TINYRUN_K8S_IMAGE": IMAGE,
        }
        # the DAG factory passes the task's connections as --conn too: each is used once
        args = ["submit", "--job-json", json.dumps(job), "--conn", "warehouse", "--spark-submit", str(fake)]
        return run_runner(RUNNER, args, env=env, cwd=tmp_path)

    return run


def seen(res: RunResult) -> dict:
    return json.loads((Path(res.argv[-1]).parent / "seen.json").read_text())


def test_failed_driver_exit_code_passes_through(cluster: Callable[..., RunResult]) -> None:
    res = cluster(plain_report("Failed", "3", "Error"))
    assert res.exit_code == 3, res
    r = res.result or {}
    assert r["final_state"] == "FAILED" and r["driver_exit_code"] == 3
    assert r["spark_submit_exit_code"] == 0  # what Airflow's SparkSubmitHook would have trusted
    assert r["application_id"] == "spark-4c1b2f0e"
    assert r["submission_id"] == "data-team:agg-3f2a-driver"
    assert (r["driver_phase"], r["termination_reason"]) == ("Failed", "Error")


def test_policy_and_secrets_on_the_command_line(cluster: Callable[..., RunResult]) -> None:
    res = cluster(plain_report("Succeeded", "0", "Completed"))
    assert res.exit_code == 0, res
    assert (res.result or {})["final_state"] == "SUCCEEDED"
    got = seen(res)
    argv = got["argv"]
    confs = {argv[i + 1] for i, a in enumerate(argv) if a == "--conf"}
    assert {
        "spark.kubernetes.namespace=data-team",
        "spark.kubernetes.authenticate.driver.serviceAccountName=spark-jobs",
        f"spark.kubernetes.container.image={IMAGE}",
        "spark.kubernetes.submission.waitAppCompletion=true",
        "spark.kubernetes.driver.secretKeyRef.AIRFLOW_CONN_WAREHOUSE=airflow-conn-warehouse:uri",
        "spark.kubernetes.executor.secretKeyRef.AIRFLOW_CONN_WAREHOUSE=airflow-conn-warehouse:uri",
        "spark.kubernetes.driverEnv.TZ=UTC",
        "spark.kubernetes.driverEnv.TINYRUN_JDBC_WAREHOUSE_URL=jdbc:postgresql://db.example:5432/dwh",
    } <= confs
    refs = [a for a in argv if "secretKeyRef.AIRFLOW_CONN_WAREHOUSE" in a]
    assert len(refs) == 2  # driver and executors, once each
    assert argv[:4] == ["--master", "k8s://https://api.example:6443", "--deploy-mode", "cluster"]
    assert argv[-1] == "local:///opt/jobs/agg.py"
    assert not any(PASSWORD in a for a in argv)
    assert "TINYRUN_JDBC_WAREHOUSE_PASSWORD" not in got["env"]  # the client needs no password
    assert PASSWORD not in res.stderr and PASSWORD not in res.stdout


def test_structured_logging_and_oom_kill(cluster: Callable[..., RunResult]) -> None:
    res = cluster(json_report(137, "OOMKilled"))
    assert res.exit_code == 137, res
    assert (res.result or {})["termination_reason"] == "OOMKilled"
    assert (res.result or {})["application_id"] == "spark-77"


def test_no_final_report_is_never_success(cluster: Callable[..., RunResult]) -> None:
    res = cluster(f"{P}Application status for spark-1 (phase: Running)\n")
    assert res.exit_code == 1, res
    assert (res.result or {})["final_state"] == "UNKNOWN"
    assert len(res.errors) == 1 and "no final status" in res.errors[0]["msg"]


def test_exit_0_in_a_failed_pod_is_1(cluster: Callable[..., RunResult]) -> None:
    res = cluster(plain_report("Failed", "0", "Completed"))
    assert res.exit_code == 1, res


def test_submission_failure_is_spark_submits_code(cluster: Callable[..., RunResult]) -> None:
    res = cluster(f"{P}Please check \"kubectl auth can-i create pod\" first. It should be yes.\n", fake_exit=1)
    assert res.exit_code == 1, res
    assert (res.result or {})["final_state"] == "FAILED"


def test_unpinned_image_is_refused_before_submitting(
    run_runner: Callable[..., RunResult], tmp_path: Path
) -> None:
    job = {"application": "local:///a.py", "master": "k8s://https://api", "deploy_mode": "cluster"}
    env = {"TINYRUN_K8S_NAMESPACE": "ns", "TINYRUN_K8S_SERVICE_ACCOUNT": "sa", "TINYRUN_K8S_IMAGE": "spark:latest"}
    res = run_runner(RUNNER, ["submit", "--job-json", json.dumps(job), "--spark-submit", "/nonexistent"], env=env)
    assert res.exit_code == 2, res
    assert len(res.errors) == 1 and "pinned by digest" in res.errors[0]["msg"]
