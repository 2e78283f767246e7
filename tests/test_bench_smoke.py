"""bench/run.py: a quick idle run starts the server, writes its figures as JSON, and idle waits cost no SQL.

Only the shape and the SQL counts are checked; timings depend on the machine, so nothing here is timed.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_idle_bench_exits_0_and_reports_no_sql_for_idle_polls(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMDEMO_")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--only", "idle",
                           "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text())
    assert set(report) >= {"meta", "figures", "table"}
    assert report["meta"]["quick"] is True
    idle = report["figures"]["idle"]
    assert {"short_poll_sql", "short_poll_sql_per_poll", "long_poll_sql", "ws_idle_sql", "sql_per_send"} <= set(idle)
    assert idle["sql_per_send"] > 0  # the trace sees statements, so the zeros below are real
    assert idle["long_poll_sql"] == 0
    assert idle["short_poll_sql"] == 0
    assert idle["ws_idle_sql"] == 0
    assert any(row["figure"] == "idle" for row in report["table"])
    assert "SQL" in done.stdout  # the printed table
