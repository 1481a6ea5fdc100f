"""``make bench``: postgres-runner side by side with Debian's psql and a python3-psycopg2 script.

One run measures, against a throwaway local PostgreSQL (see ``pgserver.py``):

* start-up: ``--version`` start-to-exit (vs a static musl hello-world, psql, python3+psycopg2)
  and connect + ``SELECT 1`` + exit, with hyperfine;
* COPY in and out of ``--copy-rows`` rows (rows/s; the median of ``--repeat`` interleaved runs);
* peak RSS (and time) while streaming ``--stream-rows`` rows to a CSV or NDJSON file;
* the size of the ``tinyrun/postgres-runner:<version>`` image;
* bench/dagfactory_bench.py and bench/ticket_sharer_bench.py when present (their JSON is merged).

It prints a table with the goals beside the numbers and writes ``--json``. Goals are reported,
never asserted; the exit status is non-zero only when a measured command itself failed.

psql is Debian's psql 15 binary (/usr/lib/postgresql/15/bin/psql); /usr/bin/psql, Debian's Perl
pg_wrapper around it, is timed separately for start-up only. This driver runs with build/venv's
Python; the psycopg2 contestant (``pg_client.py``) runs with Debian's ``/usr/bin/python3``, which
has python3-psycopg2.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import functools
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measure import Run, check, count_lines, hyperfine, run_measured
from pgserver import PSQL, ROLE, SETTINGS, PgServer
from report import evaluate_goals, render

HERE = Path(__file__).resolve().parent
TOP = HERE.parent
CLIENT = HERE / "pg_client.py"
SYSTEM_PYTHON = "/usr/bin/python3"
#: Debian's /usr/bin/psql is pg_wrapper, a Perl script that execs PSQL; it is timed separately.
PSQL_WRAPPER = "/usr/bin/psql"
CONN_ID = "bench"
EXTRAS = ("dagfactory", "ticket_sharer")
EXTRA_TIMEOUT = 600  # seconds; a hung script fails the bench instead of hanging it
SECTIONS = ("startup", "copy", "stream", "image", "extras")

COLUMNS = (
    "id bigint, name text, amount numeric(12,2), created_at timestamptz, active boolean, note text"
)
#: Rows of a typical fact table: integers, text, numeric, timestamps, booleans and some NULLs.
ROWS_SQL = (
    "SELECT g, md5(g::text), round((g % 100000) * 1.37, 2),"
    " timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',"
    " g % 3 = 0, CASE WHEN g % 10 <> 0 THEN 'note ' || g END"
    " FROM generate_series(1, {rows}) AS g"
)
STREAM_SQL = "SELECT * FROM bench_stream"


@dataclass
class Bench:
    """What the sections share: options, tools, the server and the results so far."""

    args: argparse.Namespace
    tmp: Path
    server: PgServer | None = None
    env: dict[str, str] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)

    @property
    def runner(self) -> str:
        """The runner binary."""
        return str(self.args.bin / "postgres-runner")

    def contestants(self, commands: dict[str, Any]) -> dict[str, Any]:
        """COMMANDS without the runner's (``runner*`` names) when ``--skip runner``."""
        skip = "runner" in self.args.skip
        return {name: c for name, c in commands.items() if not (skip and name.startswith("runner"))}

    @property
    def copy_csv(self) -> Path:
        """The CSV file that every ``copy in`` loads (written by the server)."""
        assert self.server is not None
        return self.server.folder / "copy_in.csv"


STARTED = time.monotonic()


def say(message: str) -> None:
    """Progress on stderr, with the seconds since the start; the table goes to stdout at the end."""
    print(f"bench [{time.monotonic() - STARTED:5.0f}s]: {message}", file=sys.stderr, flush=True)


# -- sections ------------------------------------------------------------------------------


def prepare(b: Bench) -> None:
    """Create the tables, fill bench_stream and write the CSV file for ``copy in``."""
    assert b.server is not None
    say(f"preparing {b.args.stream_rows:,} + {b.args.copy_rows:,} rows")
    b.server.psql(
        f"SET ROLE {ROLE};"
        f"CREATE TABLE bench_copy ({COLUMNS});"
        f"CREATE TABLE bench_stream ({COLUMNS});"
        f"INSERT INTO bench_stream {ROWS_SQL.format(rows=b.args.stream_rows)};"
        "RESET ROLE;"
        f"COPY ({ROWS_SQL.format(rows=b.args.copy_rows)}) TO '{b.copy_csv}' WITH (FORMAT csv);"
        "VACUUM (FREEZE, ANALYZE) bench_stream;"
        "CHECKPOINT;"
    )


def startup(b: Bench) -> dict[str, Any]:
    """``--version`` and connect + SELECT 1 + exit, start to exit, with hyperfine."""
    say("start-up: --version")
    version = {
        "hello_static": [str(b.args.hello)],
        "runner": [b.runner, "--version"],
        "psql": [PSQL, "--version"],
        "psql_wrapper": [PSQL_WRAPPER, "--version"],
        "psycopg2": [SYSTEM_PYTHON, str(CLIENT), "version"],
    }
    select1 = {
        "runner": [b.runner, "run", "--conn", CONN_ID, "-c", "SELECT 1"],
        "psql": [PSQL, "-X", "-q", "-c", "SELECT 1"],
        "psql_wrapper": [PSQL_WRAPPER, "-X", "-q", "-c", "SELECT 1"],
        "psycopg2": [SYSTEM_PYTHON, str(CLIENT), "select1"],
    }
    results = {"version": hyperfine(b.contestants(version), b.env)}
    say("start-up: connect + SELECT 1 + exit")
    results["select1"] = hyperfine(b.contestants(select1), b.env)
    return results


def summarize(runs: list[Run], argv: list[str], rows: int) -> dict[str, Any]:
    """The median run of RUNS (by wall time) with its rows/s, plus every run's time."""
    median = sorted(runs, key=lambda r: r.seconds)[len(runs) // 2]
    return {
        "rows_per_second": round(rows / median.seconds),
        **median.as_json(),
        "seconds_all": [round(r.seconds, 3) for r in runs],
        "command": shlex.join(argv),
    }


def copy_commands(b: Bench, direction: str, path: Path) -> dict[str, list[str]]:
    """COPY bench_copy in from / out to PATH (CSV), per contestant."""
    verb = "FROM" if direction == "in" else "TO"
    runner = [b.runner, "copy", direction, "--conn", CONN_ID, "--table", "bench_copy"]
    psql = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    return b.contestants(
        {
            "runner": [*runner, "--format", "csv", "--file", str(path)],
            "psql": [*psql, "-c", f"\\copy bench_copy {verb} '{path}' WITH (FORMAT csv)"],
            "psycopg2": [SYSTEM_PYTHON, str(CLIENT), f"copy-{direction}", "bench_copy", str(path)],
        }
    )


def copy(b: Bench) -> dict[str, Any]:
    """COPY in and out of ``--copy-rows`` rows; runs interleaved across contestants."""
    assert b.server is not None
    rows, repeat, out = b.args.copy_rows, b.args.repeat, b.tmp / "copy_out.csv"
    copy_in, copy_out = copy_commands(b, "in", b.copy_csv), copy_commands(b, "out", out)
    ins: dict[str, list[Run]] = {name: [] for name in copy_in}
    outs: dict[str, list[Run]] = {name: [] for name in copy_out}
    for i in range(repeat):
        for name, argv in copy_in.items():
            say(f"copy in {rows:,} rows: {name} ({i + 1}/{repeat})")
            b.server.psql("TRUNCATE bench_copy; CHECKPOINT")
            ins[name].append(run_measured(argv, b.env))
            loaded = int(b.server.psql("SELECT count(*) FROM bench_copy"))
            if loaded != rows:
                raise RuntimeError(f"{name} copy in loaded {loaded} rows, not {rows}")
    b.server.psql("VACUUM (FREEZE, ANALYZE) bench_copy; CHECKPOINT")
    for i in range(repeat):
        for name, argv in copy_out.items():
            say(f"copy out {rows:,} rows: {name} ({i + 1}/{repeat})")
            outs[name].append(run_measured(argv, b.env))
            written = count_lines(out)
            out.unlink()
            if written != rows:
                raise RuntimeError(f"{name} copy out wrote {written} lines, not {rows}")
    return {
        "rows": rows,
        "repeat": repeat,
        "in": {name: summarize(runs, copy_in[name], rows) for name, runs in ins.items()},
        "out": {name: summarize(runs, copy_out[name], rows) for name, runs in outs.items()},
    }


def stream(b: Bench) -> dict[str, Any]:
    """Peak RSS and time of streaming ``--stream-rows`` rows to a file per contestant.

    ``--stream-repeat`` runs are interleaved across contestants (so a noisy neighbour slows them
    alike) and the median run is kept, as for COPY.
    """
    rows, repeat, out = b.args.stream_rows, b.args.stream_repeat, b.tmp / "stream.out"
    query = [b.runner, "query", "--conn", CONN_ID, "--output", str(out)]
    psql = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--csv", "-o", str(out), "-c", STREAM_SQL]
    # name -> (argv, lines expected in the file); psql --csv starts with a header line.
    commands = {
        "runner_csv": ([*query, "--format", "csv", STREAM_SQL], rows),
        "runner_ndjson": ([*query, "--format", "ndjson", STREAM_SQL], rows),
        "psql": (psql, rows + 1),
        "psql_fetch_count": ([*psql[:2], "-v", "FETCH_COUNT=1000", *psql[2:]], rows + 1),
        "psycopg2": ([SYSTEM_PYTHON, str(CLIENT), "stream-csv", STREAM_SQL, str(out)], rows),
    }
    commands = b.contestants(commands)
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    sizes: dict[str, int] = {}
    for i in range(repeat):
        for name, (argv, expected) in commands.items():
            say(f"stream {rows:,} rows: {name} ({i + 1}/{repeat})")
            runs[name].append(run_measured(argv, b.env))
            sizes[name], written = out.stat().st_size, count_lines(out)
            out.unlink()
            if written != expected:
                raise RuntimeError(f"{name} wrote {written} lines, not {expected}")
    clients = {
        name: {
            **summarize(runs[name], argv, rows),
            "max_rss_kib": max(r.max_rss_kib for r in runs[name]),
            "output_bytes": sizes[name],
        }
        for name, (argv, _) in commands.items()
    }
    floor = run_measured([str(b.args.hello)], b.env).max_rss_kib  # what GNU time can resolve
    return {
        "rows": rows,
        "repeat": repeat,
        "query": STREAM_SQL,
        "rss_floor_kib": floor,
        "clients": clients,
    }


def image(b: Bench) -> dict[str, Any]:
    """Size of the runner's image (docker image inspect) and of the binary."""
    tag = f"tinyrun/postgres-runner:{b.args.version}"
    say(f"image size: {tag}")
    out = check(
        ["docker", "image", "inspect", "--format", "{{.Size}} {{.Id}}", tag], dict(os.environ)
    )
    size, image_id = out.split()
    return {
        "tag": tag,
        "id": image_id,
        "bytes": int(size),
        "binary_bytes": Path(b.runner).stat().st_size,
    }


def extra(b: Bench, name: str) -> dict[str, Any] | None:
    """Run bench/<NAME>_bench.py (if present) with this Python; return the JSON it prints."""
    script = HERE / f"{name}_bench.py"
    if not script.exists():
        say(f"{name}: {script.name} not present, skipped")
        return None
    say(f"{name}: {script.name}")
    env = {**os.environ, "TINYRUN_BIN": str(b.args.bin), "TINYRUN_VERSION": b.args.version}
    argv = [sys.executable, str(script)]
    # In its own process group, stopped as a whole when the script is done (or times out), so
    # that nothing it leaves running holds on to our output; stdout goes to a file for the same
    # reason.
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(argv, cwd=TOP, env=env, stdout=out, start_new_session=True)
        try:
            code = proc.wait(timeout=EXTRA_TIMEOUT)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
        out.seek(0)
        stdout = out.read()
    if code != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {code}")
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:  # progress lines before the object: take the last line
        data = json.loads(stdout.strip().splitlines()[-1])
    if isinstance(data, dict) and list(data) == [name]:  # {"NAME": {...}}: merge the inside
        data = data[name]
    return data


def guarded(b: Bench, name: str, fn: Callable[[Bench], Any]) -> None:
    """Run one section; a failure is recorded (and fails the bench) but the others still run."""
    start = time.monotonic()
    try:
        result = fn(b)
    except (RuntimeError, OSError, ValueError, LookupError, subprocess.SubprocessError) as exc:
        say(f"{name} FAILED: {exc}")
        b.errors.append(f"{name}: {exc}")
        result = {"error": str(exc)}
    if result is not None:
        b.results[name] = result
        b.durations[name] = round(time.monotonic() - start, 1)


# -- the run ------------------------------------------------------------------------------


def metadata(b: Bench) -> dict[str, Any]:
    """Versions and the machine, so that numbers can be compared across runs."""
    env = b.env or dict(os.environ)
    skip_runner = "runner" in b.args.skip
    git = subprocess.run(
        ["git", "-C", str(TOP), "rev-parse", "--short=12", "HEAD"],
        check=False,
        capture_output=True,
        text=True,
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    return {
        "tinyrun_version": b.args.version,
        "git_rev": git.stdout.strip() or "unknown",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release()},
        "server": {
            "version": b.server.version if b.server else None,
            "settings": SETTINGS,
            "note": "throwaway bench server on 127.0.0.1, scram-sha-256 over TCP; "
            "fsync/synchronous_commit/full_page_writes/autovacuum off: bench only",
        },
        "runner": None if skip_runner else check([b.runner, "--version"], env).splitlines()[0],
        "psql": check([PSQL, "--version"], env).strip(),
        "psycopg2": json.loads(check([SYSTEM_PYTHON, str(CLIENT), "version"], env)),
        "hyperfine": check(["hyperfine", "--version"], env).strip(),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options (the Makefile passes the paths; the rest have bench defaults)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--bin", type=Path, default=TOP / "build/bin", help="folder of the runner binaries"
    )
    p.add_argument(
        "--hello", type=Path, default=TOP / "build/bench/hello", help="static hello-world"
    )
    p.add_argument("--version", default=(TOP / "VERSION").read_text().strip(), help="image tag")
    p.add_argument(
        "--json", type=Path, default=TOP / "build/bench.json", help="where to write results"
    )
    p.add_argument("--copy-rows", type=int, default=2_000_000)
    p.add_argument("--stream-rows", type=int, default=5_000_000)
    p.add_argument("--repeat", type=int, default=3, help="COPY runs per contestant (median kept)")
    p.add_argument(
        "--stream-repeat", type=int, default=1, help="stream runs per contestant (median kept)"
    )
    p.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("runner", *SECTIONS),
        help="leave out a section, or the runner contestant (development aid; repeatable)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every section, print the table, write the JSON; 1 if a measured command failed."""
    args = parse_args(argv)
    if "runner" not in args.skip and not (args.bin / "postgres-runner").exists():
        say(f"{args.bin}/postgres-runner is missing: run make first (or --skip runner)")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="tinyrun-bench-") as tmp:
        b = Bench(args, Path(tmp))
        b.tmp.chmod(0o755)  # the server's user must reach its folder inside
        b.server = PgServer(b.tmp / "pg")
        try:
            settings = ", ".join(f"{k}={v}" for k, v in SETTINGS.items())
            say(f"starting PostgreSQL on 127.0.0.1 (bench only: {settings})")
            b.server.start()
            b.env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LANG": "C",
                **b.server.client_env(CONN_ID),
            }
            b.results["meta"] = metadata(b)
            if {"startup", "copy", "stream"} - set(args.skip):
                start = time.monotonic()
                prepare(b)
                b.durations["prepare"] = round(time.monotonic() - start, 1)
            for name, fn in (("startup", startup), ("copy", copy), ("stream", stream)):
                if name not in args.skip:
                    guarded(b, name, fn)
        finally:
            b.server.stop()
    if "image" not in args.skip and "runner" not in args.skip:
        guarded(b, "image", image)
    if "extras" not in args.skip:
        for name in EXTRAS:
            guarded(b, name, functools.partial(extra, name=name))
    b.results["meta"]["section_seconds"] = b.durations
    b.results["meta"]["total_seconds"] = round(time.monotonic() - STARTED, 1)
    b.results["goals"] = evaluate_goals(b.results)
    b.results["errors"] = b.errors
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(b.results, indent=2) + "\n")
    print(render(b.results))
    print(f"\nwritten: {args.json}")
    for error in b.errors:
        print(f"FAILED {error}", file=sys.stderr)
    return 1 if b.errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
