"""model-deployer against three databases of the harness PostgreSQL, standing for three business
units: deploy, change, plan/apply/drift, destructive changes, history, a target that is down,
render == deployed (pg_dump), bad models, SIGTERM. The models are model_deployer/v1.yml and v2.yml.
"""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.checks import wait_until
from harness.pgcluster import PgCluster
from harness.result import RunResult
from harness.runner import start_runner

MODELS = Path(__file__).parent / "model_deployer"
UNITS = ("bu1", "bu2", "bu3")

Run = Callable[..., RunResult]

# What v2.yml adds to v1.yml, as a plan lists it (either engine).
V2_CHANGES = [
    ("create_schema", "gold"),
    ("create_table", "gold.daily_sales"),
    ("add_column", "bronze.orders.channel"),
    ("add_index", "bronze.orders.orders_customer_id_idx"),
    ("add_foreign_key", "silver.customer.customer_country_code_fkey"),
]


@pytest.fixture
def units(pg: PgCluster) -> Iterator[dict[str, str]]:
    """Three fresh databases, one per business unit: {conn id: database}."""
    dbs = {u: pg.create_db(f"md_{u}_{secrets.token_hex(4)}") for u in UNITS}
    yield dbs
    for db in dbs.values():
        pg.drop_db(db)


def env_for(pg: PgCluster, units: dict[str, str], **extra: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for conn_id, db in units.items():
        env |= pg.conn_env(conn_id, dbname=db)
    return env | extra


@pytest.fixture
def deployer(
    run_runner: Run, pg: PgCluster, units: dict[str, str], tmp_path: Path
) -> Run:
    """``deployer(mode, models, *flags, targets=all units, env=None)``."""

    def run(
        mode: str,
        models: Path | str,
        *flags: str,
        targets: str = ",".join(UNITS),
        env: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> RunResult:
        args = [mode, "--models", str(models)]
        if mode != "render":
            args += ["--targets", targets, "--connect-timeout", "3s", "--retries", "0"]
        return run_runner(
            "model-deployer",
            [*args, *flags],
            env=env_for(pg, units) | (env or {}),
            timeout=timeout,
        )

    return run


def changes(result: RunResult, target: str) -> list[tuple[str, str]]:
    entry = next(t for t in result.result["targets"] if t["target"] == target)
    return [(c["kind"], c["object"]) for c in entry.get("changes", [])]


def target(result: RunResult, name: str) -> dict[str, Any]:
    return next(t for t in result.result["targets"] if t["target"] == name)


def columns(pg: PgCluster, db: str, schema: str, table: str) -> list[str]:
    rows = pg.sql(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = %s ORDER BY ordinal_position",
        dbname=db,
        params=(schema, table),
    )
    return [r[0] for r in rows]


def test_deploy_then_additive_change_then_nothing_to_do(
    deployer: Run, pg: PgCluster, units: dict[str, str]
) -> None:
    first = deployer("apply", MODELS / "v1.yml")
    assert first.exit_code == 0, first
    for db in units.values():
        assert columns(pg, db, "silver", "customer")[:4] == [
            "customer_id",
            "email",
            "country_code",
            "active",
        ]
        assert "channel" not in columns(pg, db, "bronze", "orders")

    plan = deployer("plan", MODELS / "v2.yml")
    assert plan.exit_code == 0, plan
    for unit in UNITS:
        assert changes(plan, unit) == V2_CHANGES, plan
        sql = [s for c in target(plan, unit)["changes"] for s in c["sql"]]
        assert (
            'ALTER TABLE "bronze"."orders" ADD COLUMN "channel" character varying(20)'
            in sql
        )
        assert (
            'CREATE INDEX "orders_customer_id_idx" ON "bronze"."orders" ("customer_id")'
            in sql
        )
        assert (
            'ALTER TABLE "silver"."customer" ADD CONSTRAINT "customer_country_code_fkey" FOREIGN KEY '
            '("country_code") REFERENCES "silver"."country" ("code")'
        ) in sql
        assert not any(c["destructive"] for c in target(plan, unit)["changes"])
    assert "-- target bu2 (postgres): success, 5 changes" in plan.stdout
    for db in units.values():  # plan changed nothing
        assert "channel" not in columns(pg, db, "bronze", "orders")

    drift = deployer("drift", MODELS / "v2.yml")
    assert drift.exit_code == 1, drift

    applied = deployer("apply", MODELS / "v2.yml")
    assert applied.exit_code == 0, applied
    for db in units.values():
        assert "channel" in columns(pg, db, "bronze", "orders")
        fk = pg.sql("SELECT conname FROM pg_constraint WHERE contype = 'f'", dbname=db)
        assert fk == [("customer_country_code_fkey",)]

    again = deployer("plan", MODELS / "v2.yml")
    assert again.exit_code == 0, again
    assert all(changes(again, u) == [] for u in UNITS), again
    assert deployer("apply", MODELS / "v2.yml").result["targets_with_changes"] == 0
    assert deployer("drift", MODELS / "v2.yml").exit_code == 0


def without_column(text: str, column: str) -> str:
    return (
        "\n".join(line for line in text.splitlines() if f"name: {column}," not in line)
        + "\n"
    )


def test_destructive_changes_are_refused_unless_allowed(
    deployer: Run, pg: PgCluster, units: dict[str, str], tmp_path: Path
) -> None:
    assert deployer("apply", MODELS / "v1.yml").exit_code == 0
    dropped = tmp_path / "dropped.yml"
    dropped.write_text(without_column((MODELS / "v1.yml").read_text(), "payload"))

    refused = deployer("apply", dropped)
    assert refused.exit_code == 1, refused
    for unit, db in units.items():
        entry = target(refused, unit)
        assert entry["status"] == "failed"
        assert (
            "refused 1 destructive change, nothing was applied: drop_column bronze.orders.payload"
            in entry["error"]
        )
        assert "--allow-destructive" in entry["error"]
        assert "payload" in columns(pg, db, "bronze", "orders")

    allowed = deployer("apply", dropped, "--allow-destructive")
    assert allowed.exit_code == 0, allowed
    for db in units.values():
        assert "payload" not in columns(pg, db, "bronze", "orders")


def test_not_null_over_null_rows_is_destructive(
    deployer: Run, pg: PgCluster, units: dict[str, str], tmp_path: Path
) -> None:
    assert deployer("apply", MODELS / "v1.yml").exit_code == 0
    pg.sql("INSERT INTO bronze.orders (order_id) VALUES (1)", dbname=units["bu1"])
    strict = tmp_path / "strict.yml"
    strict.write_text(
        (MODELS / "v1.yml")
        .read_text()
        .replace(
            "{name: customer_id, type: bigint}\n      - {name: amount",
            "{name: customer_id, type: bigint, nullable: false}\n      - {name: amount",
        )
    )
    result = deployer("apply", strict)
    assert result.exit_code == 1, result
    assert target(result, "bu1")["status"] == "failed"
    assert (
        "set_not_null bronze.orders.customer_id (the column holds NULLs"
        in target(result, "bu1")["error"]
    )
    assert target(result, "bu2")["status"] == "success"  # no NULLs there: applied
    nullable = (
        "SELECT is_nullable FROM information_schema.columns WHERE table_name = 'orders' "
        "AND column_name = 'customer_id'"
    )
    assert pg.sql(nullable, dbname=units["bu1"]) == [("YES",)]
    assert pg.sql(nullable, dbname=units["bu2"]) == [("NO",)]


def test_reference_table_keeps_history(
    deployer: Run, pg: PgCluster, units: dict[str, str]
) -> None:
    assert deployer("apply", MODELS / "v1.yml", targets="bu1").exit_code == 0
    db = units["bu1"]
    pg.sql(
        "INSERT INTO silver.country (code, name) VALUES ('NL', 'Holland')", dbname=db
    )
    (before,) = pg.sql("SELECT valid_from, updated_at FROM silver.country", dbname=db)
    time.sleep(0.05)
    pg.sql(
        "UPDATE silver.country SET name = 'Netherlands' WHERE code = 'NL'", dbname=db
    )
    row = pg.sql(
        "SELECT name, valid_from, updated_at, valid_to = 'infinity' FROM silver.country",
        dbname=db,
    )[0]
    hist = pg.sql(
        "SELECT code, name, valid_from, valid_to FROM silver.country_history", dbname=db
    )
    assert len(hist) == 1
    code, old_name, hist_from, hist_to = hist[0]
    assert (code, old_name) == ("NL", "Holland")
    assert hist_from == before[0]  # the old version's validity: from its start...
    assert hist_to == row[1]  # ...until the new version began
    assert row[0] == "Netherlands" and row[2] > before[1]
    assert row[3] is True  # the current version is valid until further notice
    pg.sql("DELETE FROM silver.country", dbname=db)
    assert pg.sql("SELECT count(*) FROM silver.country_history", dbname=db) == [(2,)]


def test_one_target_down_others_applied(
    deployer: Run, pg: PgCluster, units: dict[str, str]
) -> None:
    down = {"AIRFLOW_CONN_DOWN": pg.airflow_uri(dbname="x", port=1)}
    result = deployer("apply", MODELS / "v1.yml", targets="bu1,down,bu3", env=down)
    assert result.exit_code == 75, result  # the only failure is temporary
    assert target(result, "down")["status"] == "temporary_error"
    assert target(result, "down")["exit_code"] == 75
    assert (
        target(result, "bu1")["status"] == target(result, "bu3")["status"] == "success"
    )
    assert columns(pg, units["bu3"], "silver", "country")
    assert not columns(pg, units["bu2"], "silver", "country")  # not a target

    missing = {"AIRFLOW_CONN_NODB": pg.airflow_uri(dbname="no_such_database")}
    result = deployer(
        "apply", MODELS / "v1.yml", targets="nodb,down,bu2", env=down | missing
    )
    assert result.exit_code == 1, result  # one failure is not temporary
    assert target(result, "bu2")["status"] == "success"
    assert target(result, "nodb")["exit_code"] not in (0, 75)


def pg_dump(pg: PgCluster, db: str) -> str:
    out = subprocess.run(
        [
            shutil.which("pg_dump") or "pg_dump",
            "--schema-only",
            "--no-owner",
            "-h",
            str(pg.socket_dir),
            "-p",
            str(pg.port),
            "-U",
            pg.superuser,
            db,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(
        line for line in out.splitlines() if not re.match(r"\\(un)?restrict ", line)
    )


def test_deployed_schema_equals_render(
    deployer: Run, pg: PgCluster, units: dict[str, str]
) -> None:
    rendered = deployer("render", MODELS / "v2.yml", "--engine", "postgres")
    assert rendered.exit_code == 0, rendered
    script = rendered.stdout.rsplit("\n", 2)[0]  # without the result line
    subprocess.run(
        [
            "psql",
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-h",
            str(pg.socket_dir),
            "-p",
            str(pg.port),
            "-U",
            pg.superuser,
            "-d",
            units["bu2"],
        ],
        input=script,
        text=True,
        check=True,
        capture_output=True,
    )
    assert deployer("apply", MODELS / "v2.yml", targets="bu1").exit_code == 0
    assert pg_dump(pg, units["bu1"]) == pg_dump(pg, units["bu2"])
    assert deployer("drift", MODELS / "v2.yml", targets="bu1,bu2").exit_code == 0


BAD_MODELS = {
    "unknown_type": (
        "schema: s\ntable: t\ncolumns:\n  - {name: a, type: integer}\n",
        ":4: s.t: columns[0].type: unknown type 'integer'",
    ),
    "duplicate_column": (
        "schema: s\ntable: t\ncolumns:\n  - {name: a, type: int}\n  - {name: a, type: text}\n",
        ":5: s.t: columns: duplicate column 'a' (first at line 4)",
    ),
    "unknown_mixin": (
        "schema: s\ntable: t\nmixins: [gold]\ncolumns:\n  - {name: a, type: int}\n",
        ":3: s.t: mixins: unknown mixin 'gold'",
    ),
    "fk_to_missing_table": (
        (
            "schema: s\ntable: t\ncolumns:\n  - {name: a, type: int}\nforeign_keys:\n"
            "  - {columns: [a], references: {table: nope, columns: [id]}}\n"
        ),
        ":6: s.t: foreign_keys: references s.nope, which no model defines",
    ),
    "malformed_yaml": (
        "schema: s\ntable: t\ncolumns:\n  - {name: a, type: int\n",
        ":5: -: -: malformed YAML",
    ),
    "empty_file": ("", ":1: -: -: the file is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_bad_model_exits_2_before_any_target(
    case: str, deployer: Run, pg: PgCluster, units: dict[str, str], tmp_path: Path
) -> None:
    text, message = BAD_MODELS[case]
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "good.yml").write_text(
        "schema: ok\ntable: fine\ncolumns: [{name: id, type: int}]\n"
    )
    (folder / "bad.yml").write_text(text)
    for mode in ("render", "plan", "apply", "drift"):
        result = deployer(mode, folder)
        assert result.exit_code == 2, result
        assert f"{folder}/bad.yml{message}" in result.result["error"], result
        assert any(message in e for e in result.result["errors"])
        assert not any(log["event"] == "connected" for log in result.logs), result
    for db in units.values():
        assert pg.sql(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'ok'", dbname=db
        ) == [(0,)]


def test_missing_models_folder_and_no_targets(deployer: Run, tmp_path: Path) -> None:
    result = deployer("plan", tmp_path / "nope")
    assert result.exit_code == 2, result
    assert "no such model file or folder" in result.result["error"]
    (tmp_path / "empty").mkdir()
    result = deployer("apply", tmp_path / "empty")
    assert result.exit_code == 2 and "holds no model files" in result.result["error"], (
        result
    )
    result = deployer("plan", MODELS / "v1.yml", targets="")
    assert result.exit_code == 2 and "no targets" in result.result["error"], result


def ours(pg: PgCluster, marker: str) -> list[tuple]:
    return pg.activity("application_name LIKE %s", (f"%{marker}%",))


def waiting_on_lock(pg: PgCluster, marker: str) -> bool:
    return bool(
        pg.activity(
            "application_name LIKE %s AND wait_event_type = 'Lock'", (f"%{marker}%",)
        )
    )


@pytest.mark.parametrize("mode", ["plan", "apply", "drift"])
def test_sigterm_while_blocked_leaves_target_unchanged(
    mode: str, deployer: Run, pg: PgCluster, units: dict[str, str], bin_dir: Path
) -> None:
    assert deployer("apply", MODELS / "v1.yml").exit_code == 0
    marker = f"md{secrets.token_hex(4)}"
    holder = pg.connect(units["bu2"])
    holder.autocommit = False
    with (
        holder.cursor() as cur
    ):  # apply waits for this table; plan and drift for the deploy lock
        cur.execute(
            "LOCK TABLE bronze.orders IN ACCESS EXCLUSIVE MODE"
            if mode == "apply"
            else "SELECT pg_advisory_xact_lock(hashtext('tinyrun.model-deployer'))"
        )
    args = [
        mode,
        "--models",
        str(MODELS / "v2.yml"),
        "--targets",
        "bu1,bu2,bu3",
        "--lock-timeout",
        "60s",
    ]
    proc = start_runner(
        "model-deployer",
        args,
        env=env_for(pg, units, TINYRUN_DAG_ID=marker),
        bin_dir=bin_dir,
    )
    try:
        wait_until(lambda: waiting_on_lock(pg, marker), timeout=20)
        if mode == "apply":  # the other units finished
            wait_until(
                lambda: "channel" in columns(pg, units["bu3"], "bronze", "orders"),
                timeout=20,
            )
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        result = proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 143, result
    assert took < 5, result
    assert target(result, "bu2")["exit_code"] == 143, result
    wait_until(lambda: not ours(pg, marker), timeout=5)
    assert "channel" not in columns(pg, units["bu2"], "bronze", "orders")  # unchanged
    assert not pg.sql(
        "SELECT 1 FROM pg_namespace WHERE nspname = 'gold'", dbname=units["bu2"]
    )


def test_lock_timeout_is_a_temporary_failure(
    deployer: Run, pg: PgCluster, units: dict[str, str]
) -> None:
    assert deployer("apply", MODELS / "v1.yml", targets="bu1").exit_code == 0
    holder = pg.connect(units["bu1"])
    holder.autocommit = False
    with holder.cursor() as cur:
        cur.execute("LOCK TABLE bronze.orders IN ACCESS EXCLUSIVE MODE")
    try:
        result = deployer(
            "apply", MODELS / "v2.yml", "--lock-timeout", "1s", targets="bu1"
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 75, result
    assert target(result, "bu1")["sqlstate"] == "55P03"
    assert "channel" not in columns(pg, units["bu1"], "bronze", "orders")
