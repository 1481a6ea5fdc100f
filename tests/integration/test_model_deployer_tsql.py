"""model-deployer's SQL Server side, checked by parsing: every statement `render --engine mssql`
writes (and the plan's T-SQL for an additive change) parses with sqlglot's tsql dialect, and the
parts that make SQL Server differ are there: temporal tables for the reference mixin (no history
table of ours), named default constraints, MS_Description comments, the AFTER UPDATE trigger.
Nothing here runs on a SQL Server: no part of this file connects to one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlglot
from harness.result import RunResult
from sqlglot import exp

MODELS = Path(__file__).parent / "model_deployer"
REPO = Path(__file__).resolve().parents[2]
KIT_MODELS = REPO / "cookiecutter" / "{{cookiecutter.datakit_slug}}" / "models"


def render(run_runner: Callable[..., RunResult], models: Path) -> list[str]:
    result = run_runner(
        "model-deployer", ["render", "--models", str(models), "--engine", "mssql"]
    )
    assert result.exit_code == 0, result
    assert result.result["engine"] == "mssql"
    script = result.stdout.rsplit("\n", 2)[0]
    batches = [
        b.strip()
        for b in script.split("\nGO")
        if b.strip() and not b.strip().startswith("--")
    ]
    assert batches
    return [b.split("\n", 1)[1] if b.startswith("-- ") else b for b in batches]


def parse(stmt: str) -> exp.Expression:
    return sqlglot.parse_one(stmt, read="tsql", error_level=sqlglot.ErrorLevel.RAISE)


@pytest.mark.parametrize(
    "models", [MODELS / "v2.yml", KIT_MODELS], ids=["v2", "cookiecutter"]
)
def test_every_rendered_statement_parses_as_tsql(
    run_runner: Callable[..., RunResult], models: Path
) -> None:
    kinds: dict[str, int] = {}
    for stmt in render(run_runner, models):
        if stmt.startswith("CREATE TRIGGER"):
            # sqlglot keeps a trigger as a command: parse its body's statement on its own
            body = stmt.split("\nBEGIN\n", 1)[1].rsplit("\nEND", 1)[0]
            update = next(s for s in body.split(";") if "UPDATE" in s)
            tree = parse(update)
            assert isinstance(tree, exp.Update) and tree.find(exp.Join), update
            kinds["trigger"] = kinds.get("trigger", 0) + 1
            continue
        tree = parse(stmt)
        assert not isinstance(tree, exp.Command), f"not really parsed: {stmt}"
        kinds[type(tree).__name__] = kinds.get(type(tree).__name__, 0) + 1
    assert kinds.get("Create", 0) >= 3 and kinds.get("trigger", 0) >= 1, kinds


def test_reference_mixin_is_a_temporal_table(
    run_runner: Callable[..., RunResult],
) -> None:
    stmts = render(run_runner, MODELS / "v2.yml")
    (country,) = [s for s in stmts if s.startswith("CREATE TABLE [silver].[country]")]
    assert "[valid_from] datetime2(7) GENERATED ALWAYS AS ROW START NOT NULL" in country
    assert "PERIOD FOR SYSTEM_TIME ([valid_from], [valid_to])" in country
    assert country.endswith(
        "WITH (SYSTEM_VERSIONING = ON (HISTORY_TABLE = [silver].[country_history]))"
    )
    assert not any("CREATE TABLE [silver].[country_history]" in s for s in stmts)
    tree = parse(country)
    assert {c.name for c in tree.find_all(exp.ColumnDef)} >= {
        "code",
        "name",
        "valid_from",
        "valid_to",
    }
    (customer,) = [s for s in stmts if s.startswith("CREATE TABLE [silver].[customer]")]
    assert "[active] bit NULL CONSTRAINT [df_customer_active] DEFAULT 1" in customer
    assert (
        "[created_at] datetimeoffset(6) NOT NULL CONSTRAINT [df_customer_created_at] DEFAULT SYSDATETIMEOFFSET()"
        in customer
    )
    assert any(
        s.startswith(
            "EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'ISO countries'"
        )
        for s in stmts
    )
    fk = [s for s in stmts if "FOREIGN KEY" in s]
    assert fk == [
        (
            "ALTER TABLE [silver].[customer] ADD CONSTRAINT [customer_country_code_fkey] FOREIGN KEY "
            "([country_code]) REFERENCES [silver].[country] ([code])"
        )
    ]
    assert isinstance(parse(fk[0]), exp.Alter)
