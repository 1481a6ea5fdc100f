"""The goals of issue 2 and the table ``make bench`` prints (from the results dictionary).

Goals are reported beside the numbers, never asserted. Sizes are in decimal megabytes
(1 MB = 1,000,000 bytes), as ``docker images`` shows them; peak RSS is Linux's ``ru_maxrss``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MB = 1_000_000

LABELS = {
    "startup.version": {
        "hello_static": "static hello-world (musl-gcc -static)",
        "runner": "postgres-runner --version",
        "psql": "psql --version",
        "psql_wrapper": "/usr/bin/psql --version (Debian's Perl pg_wrapper)",
        "psycopg2": "python3 + import psycopg2",
    },
    "startup.select1": {
        "runner": "postgres-runner run -c 'SELECT 1'",
        "psql": "psql -c 'SELECT 1'",
        "psql_wrapper": "/usr/bin/psql -c 'SELECT 1' (pg_wrapper)",
        "psycopg2": "python3 + psycopg2",
    },
    "copy.in": {
        "runner": "postgres-runner copy in",
        "psql": "psql -c '\\copy ... FROM'",
        "psycopg2": "psycopg2 copy_expert",
    },
    "copy.out": {
        "runner": "postgres-runner copy out",
        "psql": "psql -c '\\copy ... TO'",
        "psycopg2": "psycopg2 copy_expert",
    },
    "stream": {
        "runner_csv": "postgres-runner query --format csv",
        "runner_ndjson": "postgres-runner query --format ndjson",
        "psql": "psql --csv",
        "psql_fetch_count": "psql -v FETCH_COUNT=1000 --csv",
        "psycopg2": "psycopg2 named cursor + csv.writer",
    },
}


def dig(data: Any, *keys: str) -> Any:
    """data[k1][k2]... or None when any level is missing."""
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def evaluate_goals(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal with what was measured and whether it is met (both None: not measured)."""
    goals: list[dict[str, Any]] = []

    def add(
        where: str,
        goal: str,
        value: float | None,
        shown: Callable[[float], str],
        met: Callable[[float], bool],
    ) -> None:
        measured = value is not None
        goals.append(
            {
                "where": where,
                "goal": goal,
                "measured": shown(value) if measured else None,
                "met": met(value) if measured else None,
            }
        )

    size = dig(results, "image", "bytes")
    add("image", "image < 8 MB", size, lambda v: f"{v / MB:.2f} MB", lambda v: v < 8 * MB)

    runner = dig(results, "startup", "version", "runner", "median_ms")
    hello = dig(results, "startup", "version", "hello_static", "median_ms")
    add(
        "startup.version.runner",
        "--version within 1 ms of a static hello-world (medians)",
        None if runner is None or hello is None else runner - hello,
        lambda v: f"{v:+.2f} ms",
        lambda v: v <= 1.0,
    )

    ours = dig(results, "copy", "in", "runner", "rows_per_second")
    psql = dig(results, "copy", "in", "psql", "rows_per_second")
    add(
        "copy.in.runner",
        "COPY in >= psql's rows/s",
        ours / psql if ours and psql else None,
        lambda v: f"{v:.2f}x psql",
        lambda v: v >= 1.0,
    )

    rows = dig(results, "stream", "rows") or 0
    for fmt in ("csv", "ndjson"):
        kib = dig(results, "stream", "clients", f"runner_{fmt}", "max_rss_kib")
        add(
            f"stream.runner_{fmt}",
            f"peak RSS streaming {rows:,} rows <= 10 MB",
            None if kib is None else kib * 1024,
            lambda v: f"{v / MB:.1f} MB",
            lambda v: v <= 10 * MB,
        )
    ndjson = dig(results, "stream", "clients", "runner_ndjson", "rows_per_second")
    csv = dig(results, "stream", "clients", "runner_csv", "rows_per_second")
    add(
        "stream.runner_ndjson",
        "NDJSON >= 0.8x CSV's rows/s",
        ndjson / csv if ndjson and csv else None,
        lambda v: f"{v:.2f}x CSV",
        lambda v: v >= 0.8,
    )
    return goals


def _ms(s: dict[str, Any]) -> str:
    spread = f"(median {s['median_ms']:.2f}, {s['runs']} runs)"
    return f"{s['mean_ms']:.2f} ms ± {s['stddev_ms']:.2f} {spread}"


def _copy(s: dict[str, Any]) -> str:
    cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
    return (
        f"{s['rows_per_second'] / 1e6:.2f} M rows/s  ({s['seconds']:.2f} s, client CPU {cpu:.2f} s)"
    )


def _stream(s: dict[str, Any]) -> str:
    rss = s["max_rss_kib"] * 1024 / MB
    cpu = s["cpu_user_seconds"] + s["cpu_system_seconds"]
    speed = f"{s['rows_per_second'] / 1e6:.2f} M rows/s"
    return f"peak RSS {rss:7.1f} MB  ({s['seconds']:.1f} s, {speed}, client CPU {cpu:.1f} s)"


def _failed(section: dict[str, Any]) -> str:
    first = str(section["error"]).splitlines()[0]
    return "FAILED: " + (first if len(first) <= 80 else first[:77] + "...")


def _scalar(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested JSON as (dotted.key, value) pairs; long lists are left to the JSON file."""
    if isinstance(data, dict):
        return [
            item for k, v in data.items() for item in _flatten(v, f"{prefix}.{k}" if prefix else k)
        ]
    if isinstance(data, list):
        return [] if len(data) > 4 else [(prefix, ", ".join(map(_scalar, data)))]
    return [(prefix, _scalar(data))]


def _rows(results: dict[str, Any], goals: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(benchmark, contestant, result, goal) rows of the table."""
    out: list[tuple[str, str, str, str]] = []

    def group(title: str, where: str, stats: dict[str, Any] | None, fmt: Any) -> None:
        if stats is None:
            return
        if "error" in stats:
            out.append((title, "", _failed(stats), ""))
            return
        for name, label in LABELS[where].items():
            if name in stats:
                out.append((title, label, fmt(stats[name]), goals.get(f"{where}.{name}", "")))
                title = ""

    startup = results.get("startup")
    if startup and "error" in startup:
        group("start-up", "startup.version", startup, _ms)
    elif startup:
        group("start-up: --version", "startup.version", startup.get("version"), _ms)
        group("start-up: connect+SELECT 1", "startup.select1", startup.get("select1"), _ms)
    copy = results.get("copy")
    if copy and "error" in copy:
        group("COPY", "copy.in", copy, _copy)
    elif copy:
        group(f"COPY in {copy['rows']:,} rows", "copy.in", copy["in"], _copy)
        group(f"COPY out {copy['rows']:,} rows", "copy.out", copy["out"], _copy)
    stream = results.get("stream")
    if stream and "error" in stream:
        group("stream", "stream", stream, _stream)
    elif stream:
        group(f"stream {stream['rows']:,} rows", "stream", stream["clients"], _stream)
    image = results.get("image")
    if image and "error" in image:
        out.append(("image", "", _failed(image), ""))
    elif image:
        out.append(
            ("image size", image["tag"], f"{image['bytes'] / MB:.2f} MB", goals.get("image", ""))
        )
        out.append(("", "build/bin/postgres-runner", f"{image['binary_bytes'] / MB:.2f} MB", ""))
    for name in ("dagfactory", "ticket_sharer"):
        if name in results and "error" in results[name]:
            out.append((name, "", _failed(results[name]), ""))
        elif name in results:
            pairs = _flatten(results[name])
            for i, (key, value) in enumerate(pairs):
                out.append((name if i == 0 else "", key, value, ""))
    return out


def render(results: dict[str, Any]) -> str:
    """The table: one line per contestant, goals beside the runner's numbers."""
    goals: dict[str, str] = {}
    for g in results.get("goals", []):
        verdict = (
            "not measured"
            if g["met"] is None
            else f"{'met' if g['met'] else 'MISSED'} ({g['measured']})"
        )
        shown = f"goal {g['goal']}: {verdict}"
        goals[g["where"]] = f"{goals[g['where']]}; {shown}" if g["where"] in goals else shown
    rows = _rows(results, goals)
    header = ("benchmark", "contestant", "result", "goal (reported, not asserted)")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = []
    meta = results.get("meta", {})
    if meta:
        machine, server, pg = meta["machine"], meta["server"], meta["psycopg2"]
        lines += [
            f"tinyrun {meta['tinyrun_version']} ({meta['git_rev']}) bench, {meta['date']}",
            f"machine: {machine['cpus']} CPUs, {machine['cpu']}, Linux {machine['kernel']}",
            f"server: PostgreSQL {server['version']}, {server['note']}",
            f"runner: {meta['runner'] or '(skipped)'}",
            f"others: {meta['psql']}; psycopg2 {pg['psycopg2']} (libpq {pg['libpq']}); "
            + meta["hyperfine"],
            "",
        ]
    for i, row in enumerate([header, *rows]):
        if row[0] and i > 1:
            lines.append("")
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True))
            + "  "
            + row[3]
        )
    floor = dig(results, "stream", "rss_floor_kib")
    if floor is not None:
        hello = f"a static hello-world measures {floor * 1024 / MB:.1f} MB"
        lines += ["", f"peak RSS: ru_maxrss of the command under /usr/bin/time -f %M ({hello})"]
    unmet = [g for g in results.get("goals", []) if g["met"] is False]
    measured = [g for g in results.get("goals", []) if g["met"] is not None]
    lines += ["", f"goals met: {len(measured) - len(unmet)} of {len(measured)} measured"]
    return "\n".join(line.rstrip() for line in lines)
