"""bench/run.py: a quick idle run starts the server, writes its figures as JSON, and idle waits cost no SQL;
a quick 1:1 loop completes messages that every receiver holds once, without errors;
a quick groups run counts one row per member by write diffusion and one timeline row by read diffusion, one PUBLISH
a group message, and measures a baseline; a quick storm delivers every message to every connected member once, in
order, and its counters are exact, merging off and on, before and after a SIGKILL; so does a quick large storm (read
diffusion, by group and gseq), and every message the server acknowledged is in the database after the kill.

Only the shape and the SQL counts are checked; timings depend on the machine, so nothing here is timed.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks start their own embedded servers whatever the test run is on: the real-backend pass of
# .ci/run would only run them a second time, unchanged.
pytestmark = pytest.mark.skipif(bool(os.environ.get("IMDEMO_TEST_REDIS_URL")),
                                reason="the benchmarks run on their own embedded servers: the first pass ran them")


def quick_bench(tmp_path: Path, *args: str, timeout: float = 300) -> tuple[dict, str]:
    """Run `bench/run.py --quick` with args; return its JSON report and its printed output."""
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMDEMO_")}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", *args, "--json", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text()), done.stdout


def test_quick_idle_bench_exits_0_and_reports_no_sql_for_idle_polls(tmp_path):
    report, printed = quick_bench(tmp_path, "--only", "idle")
    assert set(report) >= {"meta", "figures", "table"}
    assert report["meta"]["quick"] is True
    idle = report["figures"]["idle"]
    assert {"short_poll_sql", "short_poll_sql_per_poll", "long_poll_sql", "ws_idle_sql", "sql_per_send"} <= set(idle)
    assert idle["sql_per_send"] > 0  # the trace sees statements, so the zeros below are real
    assert idle["long_poll_sql"] == 0
    assert idle["short_poll_sql"] == 0
    assert idle["ws_idle_sql"] == 0
    assert any(row["figure"] == "idle" for row in report["table"])
    assert "SQL" in printed  # the printed table


def test_quick_loop_bench_completes_messages_every_receiver_holds_once(tmp_path):
    report, printed = quick_bench(tmp_path, "--only", "loop", timeout=180)
    loop = report["figures"]["loop"]
    assert loop["messages"] > 0 and loop["rate"] > 0 and loop["cpu_ms"] > 0
    assert (loop["missing"], loop["unexpected"], loop["repeats"], loop["errors"]) == (0, 0, 0, 0)
    assert loop["rtt_p50_ms"] is not None
    assert "1:1 loop" in printed


def test_quick_groups_bench_counts_rows_by_write_and_by_read_diffusion_and_one_publish_per_message(tmp_path):
    # HEAD stands in for the revision before groups: any clone has it, even a shallow one
    report, printed = quick_bench(tmp_path, "--only", "groups", "--baseline", "HEAD", timeout=900)
    groups = report["figures"]["groups"]
    for kind, sizes in (("write", (2, 50, 500)), ("read", (50, 500))):
        for n in sizes:
            embedded = groups["embedded"][kind][str(n)]
            assert embedded["missed"] == 0 and embedded["latency_ms"]["n"] == embedded["messages"] > 0
            assert embedded["cpu_ms"] >= 0  # /proc counts in 10 ms ticks: a few small messages may read 0
            rows = embedded["rows"]
            if kind == "write":  # the content once, a relation row and a seq per member
                assert (rows["content"], rows["relation"], rows["timeline"]) == (1, n, 0)
                assert rows["others_by_table"] == {"im_user": n, "im_group": 1}  # no contact row per member
            else:  # the content once, one row in the group's own timeline, the group's row and the sender's mark
                assert (rows["content"], rows["relation"], rows["timeline"]) == (1, 0, 1)
                assert rows["others_by_table"] == {"im_group": 1, "im_group_member": 1}
    assert groups["embedded"]["write"]["500"]["cpu_ms"] > 0  # tens of ms a message: the figure is measured
    assert groups["crossover"]["rows"]["read_cheaper_from"] == 50  # 4 rows against 102 and 1,002
    if shutil.which("redis-server"):
        published = groups["published"]["sizes"]
        assert all(p["publishes"] == 1 for kind in published.values() for p in kind.values())  # one a commit
        write, read = published["write"], published["read"]
        assert write["2"]["bytes"] < write["50"]["bytes"] < write["500"]["bytes"]
        # the group and gseq only, not a member: the same at any size, but for the digits of an id or a stamp
        assert abs(read["500"]["bytes"] - read["50"]["bytes"]) <= 8 < write["50"]["bytes"] - read["50"]["bytes"]
    one_to_one = groups["one_to_one"]
    assert one_to_one["errors"] == 0 and one_to_one["now_msgs_per_s"] > 0 and one_to_one["before_msgs_per_s"] > 0
    assert "1:1 HTTP send" in printed and "read diffusion" in printed


def test_quick_storm_bench_delivers_every_message_once_in_order_and_counts_exactly_before_and_after_a_kill(tmp_path):
    report, printed = quick_bench(tmp_path, "--only", "storm", timeout=600)
    storm = report["figures"]["storm"]
    assert len(storm["storms"]) >= 2 and {s["merge_ms"] for s in storm["storms"]} >= {0}  # merging off and on
    assert any(s["merge_ms"] > 0 for s in storm["storms"])
    for s in storm["storms"]:
        assert s["messages"] > 0 and s["misses"] == 0  # every connected member held every message once, in order
        assert s["latency_ms"]["n"] == s["messages"] * storm["connected"]
        assert s["sent"]["http"] > 0 and s["sent"]["ws"] > 0  # both ways of sending took part
        assert s["counters"]["checked"] == storm["members"] and s["counters"]["wrong"] == 0
        assert s["restart"]["wrong"] == 0  # after SIGKILL and a restart on the same database
    assert "misses" in printed


def test_quick_large_storm_delivers_by_gseq_once_in_order_and_counts_exactly_before_and_after_a_kill(tmp_path):
    report, printed = quick_bench(tmp_path, "--only", "storm-large", timeout=600)
    large = report["figures"]["storm-large"]
    assert [s["large"] for s in large["storms"]] == [True]
    for s in large["storms"]:
        assert s["messages"] > 0 and s["misses"] == 0  # every connected member held every message once, in order
        assert s["latency_ms"]["n"] == s["messages"] * s["online"]
        assert s["sent"]["http"] > 0 and s["sent"]["ws"] > 0
        assert s["counters"]["checked"] == s["online"] + s["sample"] and s["counters"]["wrong"] == 0
        assert s["counters"]["offline_group_unread"] > 0  # the offline members' badges were really counted
        assert s["restart"]["wrong"] == 0 and s["restart"]["acknowledged_missing"] == 0
        assert s["restart"]["acknowledged"] >= s["messages"]  # every message sent was acknowledged, then the burst
    assert "storm-large" in printed


def test_quick_media_bench_uploads_through_the_api_and_reports_memory_and_image_costs(tmp_path):
    report, printed = quick_bench(tmp_path, "--only", "media", timeout=300)
    media = report["figures"]["media"]
    assert media["api_mb_per_s"] > 0 and media["direct_mb_per_s"] > 0
    assert [image["pixels"] for image in media["images"]] == ["800 x 600", "1920 x 1080", "4000 x 3000"]
    memory = media["memory"]
    assert memory["clients"] == 4 and memory["rss_peak_mb"] >= memory["rss_before_mb"] > 0
    assert "through the API" in printed
