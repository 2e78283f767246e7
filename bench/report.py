"""Bench report: turn the figures into table rows, each with its target and whether it was met."""
from __future__ import annotations


def _row(figure: str, metric: str, value, target: str = "", ok: bool | None = None) -> dict:
    return {"figure": figure, "metric": metric, "value": value, "target": target, "ok": ok}


def _pct(p: dict) -> str:
    return f"{p['p50']} / {p['p90']} / {p['p99']} / {p['max']} (n={p['n']})" if p.get("n") else "no samples"


def send_rows(f: dict) -> list[dict]:
    runs = len(f["runs"])
    return [_row("send", f"no-op GET /healthz, 8 procs (req/s, median of {runs})", f["noop_per_s"]),
            _row("send", "HTTP send, 8 procs (msg/s)", f["http_msgs_per_s"], ">= 1000", f["http_msgs_per_s"] >= 1000),
            _row("send", "HTTP send / no-op", f["ratio"], ">= 0.50", f["ratio"] >= 0.5),
            _row("send", "WebSocket send, 8 procs (msg/s)", f["ws_msgs_per_s"]),
            _row("send", "server CPU ms per request: no-op / HTTP send / WS send",
                 f"{f['noop_server_cpu_ms']} / {f['http_server_cpu_ms']} / {f['ws_server_cpu_ms']}"),
            _row("send", "server cores busy: no-op / HTTP send / WS send",
                 f"{f['noop_server_cores']} / {f['http_server_cores']} / {f['ws_server_cores']}"),
            _row("send", "errors", f["errors"], "0", f["errors"] == 0)]


def loop_rows(f: dict) -> list[dict]:
    runs = len(f["runs"])
    return [_row("loop", f"1:1 loop over WebSocket, {f['pairs']} pairs (msg/s, median of {runs})", f["rate"],
                 "ejabberd 1,444"),
            _row("loop", "server CPU ms a delivered message / cores busy", f"{f['cpu_ms']} / {f['cores']}",
                 "<= 1.5 (ejabberd 0.74)", f["cpu_ms"] <= 1.5),
            _row("loop", "round trip ms p50 / p99 (send to sent + delivered)",
                 f"{f['rtt_p50_ms']} / {f['rtt_p99_ms']}"),
            _row("loop", "messages / held by B: missing, not sent by A; repeats; errors",
                 f"{f['messages']}: {f['missing']}, {f['unexpected']}; {f['repeats']}; {f['errors']}", "0, 0; 0; 0",
                 f["missing"] + f["unexpected"] + f["repeats"] + f["errors"] == 0 and f["messages"] > 0),
            _row("loop", "server CPU ms a delivered message, each run / a receiver's timeline at the end (rows)",
                 " / ".join(str(x["cpu_ms"]) for x in f["runs"]) + f" / {f['receiver_timeline']}"),
            _row("loop", "load average before each run", " / ".join(str(x["load_average"]) for x in f["runs"]))]


def latency_rows(f: dict) -> list[dict]:
    half = f["poll_interval"] * 1000 / 2
    checks = {"websocket_idle": ("p50 <= 3, p99 <= 15", lambda p: p["p50"] <= 3 and p["p99"] <= 15),
              "websocket_load": ("p99 <= 50", lambda p: p["p99"] <= 50),
              "long_poll_idle": ("p50 <= 10", lambda p: p["p50"] <= 10),
              "long_poll_load": ("p50 <= 10", lambda p: p["p50"] <= 10),
              "short_poll_idle": (f"p50 ~ {half:.0f} (+-30%)", lambda p: abs(p["p50"] - half) <= 0.3 * half),
              "short_poll_load": (f"p50 ~ {half:.0f} (+-30%)", lambda p: abs(p["p50"] - half) <= 0.3 * half)}
    rows = []
    for key in ("short_poll_idle", "short_poll_load", "long_poll_idle", "long_poll_load", "websocket_idle",
                "websocket_load"):
        p = f[key]
        target, check = checks[key]
        rows.append(_row("latency", f"{key.replace('_', ' ')} ms p50/p90/p99/max", _pct(p), target,
                         check(p) if p.get("n") else False))
    posts = [f.get(f"websocket_{c}_send_request_ms", {}).get("p50") for c in ("idle", "load")]
    rows.append(_row("latency", "of which the send request, p50 idle / load", f"{posts[0]} / {posts[1]}"))
    rows.append(_row("latency", "background load achieved (msg/s)", f.get("load_achieved_msgs_per_s"), "160"))
    rows.append(_row("latency", "server under load: cores / CPU ms per message",
                     f"{f.get('load_server_cores')} / {f.get('load_server_cpu_ms_per_msg')}"))
    return rows


def connections_rows(f: dict) -> list[dict]:
    held = min(f["opened"], f["still_open_after_hold"])
    return [_row("connections", f"held with 1 s pings for {f['hold_seconds']:.0f}s", held, f">= {f['target']}",
                 held >= f["target"] and f["missed_pongs"] == 0),
            _row("connections", "missed pongs / dropped", f"{f['missed_pongs']} / {f['dropped']}", "0 / 0",
                 f["missed_pongs"] == 0 and f["dropped"] == 0),
            _row("connections", "pong RTT ms p50/p90/p99/max", _pct(f["pong_rtt_ms"])),
            _row("connections", "server cores busy while held", f["server_cores_held"]),
            _row("connections", "server RSS held (MB)", f["rss_held_mb"], "<= 300", f["rss_held_mb"] <= 300),
            _row("connections", "RSS per connection (kB)", f["rss_per_connection_kb"]),
            _row("connections", "RSS base -> after they leave (MB)", f"{f['rss_base_mb']} -> {f['rss_after_mb']}"),
            _row("connections", "threads base / held / after", f"{f['threads_base']} / {f['threads_held']} / "
                 f"{f['threads_after']}")]


def coldstart_rows(f: dict) -> list[dict]:
    rows = []
    for kind in ("empty", "existing"):
        if kind in f:
            s = f[kind]
            rows.append(_row("coldstart", f"{kind} db: launch -> 200 (s, median of {f['runs']})", s["ready_seconds"],
                             "<= 1.0", s["ready_seconds"] <= 1.0))
            rows.append(_row("coldstart", f"{kind} db: of which create_app (s)", s["create_app_seconds"]))
    return rows


def history_rows(f: dict) -> list[dict]:
    if "skipped" in f:
        return [_row("history", "skipped", f["skipped"])]
    small, big = f["small"], f["big"]
    label = f"{big['messages'] // 1000:,}k" if big["messages"] < 1_000_000 else f"{big['messages'] // 10**6}M"
    rows = []
    for name in ("history_newest", "history_middle", "contacts"):
        ratio = f[f"{name}_ratio"]
        rows.append(_row("history", f"{name} p50 ms: 10k / {label} (ratio)", f"{small[name]['p50']} / "
                         f"{big[name]['p50']} ({ratio}x)", "<= 2x", ratio <= 2))
    for part in (small, big):
        rows.append(_row("history", f"{part['messages']:,} msgs: build / ready / counter rebuild (s)",
                         f"{part['build_seconds']} / {part['ready_seconds']} / {part['counter_rebuild_seconds']}"))
    return rows


def idle_rows(f: dict) -> list[dict]:
    return [_row("idle", f"SQL per short poll, nothing new ({f['short_polls']} polls)", f["short_poll_sql_per_poll"],
                 "0", f["short_poll_sql"] == 0),
            _row("idle", f"SQL during a long poll waiting {f['long_poll_seconds']}s", f["long_poll_sql"], "0",
                 f["long_poll_sql"] == 0),
            _row("idle", f"SQL during an idle WebSocket, {f['ws_idle_seconds']:.0f}s of pings", f["ws_idle_sql"], "0",
                 f["ws_idle_sql"] == 0),
            _row("idle", "SQL per send (for scale)", f["sql_per_send"])]


def warmth_rows(f: dict) -> list[dict]:
    pause = f"after {f['pause_ms']:.0f} ms idle"
    return [_row("warmth", f"{label}: busy loop / {pause}", f"{f[key]['busy']} / {f[key]['after_pause']}")
            for key, label in (("redis_get_us", "store GET (us)"), ("unread_lua_us", "unread Lua call (us)"),
                               ("send_ms", "send, in process (ms)"),
                               ("ack_us", "an ACK that moves a delivered mark (us)"))
            if key in f]


def groups_rows(f: dict) -> list[dict]:
    published = f["published"].get("sizes", {})
    rows = []
    for kind, by_size in f["embedded"].items():
        for n, e in by_size.items():
            r, p = e["rows"], e["latency_ms"]  # rows: embedded only
            bytes_ = published.get(kind, {}).get(n, {}).get("bytes", "n/a")
            stored = "relation" if kind == "write" else "timeline"
            rows.append(_row("groups", f"{kind} diffusion, {n} members: CPU ms / rows (content + {stored} + others)"
                             " / bytes published / delivery p50, p99 ms", f"{e['cpu_ms']} / {r['total']} ("
                             f"{r['content']} + {r['relation'] + r['timeline']} + {r['others']}) / {bytes_} / "
                             f"{p['p50']}, {p['p99']} (n={p['n']})", "0 missed", e["missed"] == 0))
    if "skipped" in f["published"]:
        rows.append(_row("groups", "bytes published", f["published"]["skipped"]))
    else:
        every = [p for by_size in published.values() for p in by_size.values()]
        rows.append(_row("groups", "PUBLISH a message (every group)", " / ".join(str(p.get("publishes"))
                                                                              for p in every),
                         "1", all(p.get("publishes") == 1 for p in every)))
        for kind, by_size in published.items():
            cpu = [f"{n}: {p['cpu_ms']} + {p.get('redis_server_cpu_ms', '?')}" for n, p in by_size.items()]
            rows.append(_row("groups", f"{kind} diffusion on a real Redis: CPU ms imdemo + redis-server",
                             ", ".join(cpu)))
    cross = f.get("crossover", {})
    for name, c in cross.items():
        rows.append(_row("groups", f"read diffusion cheaper than write from (members; crossing): {name}",
                         f"{c['read_cheaper_from']}; {c['crossing']}"))
    r = f.get("reader_side")
    if r:
        rows.append(_row("groups", f"an idle short poll, a member in {r['groups']} groups of {r['members_a_group']}:"
                         " SQL / server CPU ms (in none; write; read diffusion)", "; ".join(
                             f"{r[k]['sql_per_poll']} / {r[k]['cpu_ms_per_poll']}" for k in ("none", "write", "read"))
                         + f" ({r['read_cpu_ms_per_group_per_poll']} ms a large group a poll)"))
    loads = f.get("load_average", {})
    rows.append(_row("groups", "load average before: the sizes / the bytes pass / the reader's side / the 1:1 "
                     "send; at the end", " / ".join(str(loads.get(k)) for k in ("embedded", "published",
                                                                                 "reader_side", "one_to_one", "end"))))
    o = f["one_to_one"]
    if "skipped" in o:
        return rows + [_row("groups", "1:1 send against the version before groups", o["skipped"])]
    return rows + [
        _row("groups", f"1:1 HTTP send msg/s: this tree / {o['commit']} (median of {len(o['runs'])}, in turns)",
             f"{o['now_msgs_per_s']} / {o['before_msgs_per_s']} (ratio {o['ratio']}; median of the runs' ratios "
             f"{o['paired_ratio']})", ">= 0.90", o["ratio"] >= 0.9),
        _row("groups", f"1:1 server CPU ms a send: this tree / {o['commit']}",
             f"{o['now_cpu_ms']} / {o['before_cpu_ms']} (ratio {o['cpu_ratio']})", "<= 1.10", o["cpu_ratio"] <= 1.1),
        _row("groups", "1:1 send errors", o["errors"], "0", o["errors"] == 0)]


def storm_rows(f: dict, figure: str = "storm") -> list[dict]:
    """One row per figure, the storms side by side (merging off, on, ...; 50 online, 500 ...)."""
    if "skipped" in f:
        return [_row(figure, "skipped", f["skipped"])]
    storms = f["storms"]

    def label(s: dict) -> str:
        shape = f"{s.get('members', 500)}{' read' if s.get('large') else ''}, {s.get('online', 50)} online, "
        return (shape + f"merge {s['merge_ms']:g} ms" + ("" if s["batch"] else ", unbatched")
                + ("" if s["revision"] == "this tree" else f", {s['revision']}")
                + (f", levers {s['levers']}" if s.get("levers") else "")
                + (f", ACK every {s['ack_every']:g} ms" if s.get("ack_every") else ""))

    def each(fmt) -> str:
        return " | ".join(fmt(s) for s in storms)
    p99_goal = {"storm": 250}.get(figure)  # storm-large: 50 ms at 50 online, 250 at 500 (lecture 10)

    def p99_ok(s: dict) -> bool:
        goal = p99_goal or (50 if s.get("online", 50) <= 50 else 250)
        return s["latency_ms"]["p99"] is not None and s["latency_ms"]["p99"] <= goal
    return [
        _row(figure, f"{f.get('senders', 10)} senders: storms (members, online, merge)", each(label)),
        _row(figure, "messages (achieved msg/s)", each(lambda s: f"{s['messages']} ({s['rate']})"), "50 msg/s",
             all(s["rate"] >= 0.95 * f.get("rate", 50) for s in storms)),
        _row(figure, "misses: not held, held twice, out of gseq order", each(lambda s: str(s["misses"])), "0",
             all(s["misses"] == 0 for s in storms)),
        _row(figure, "delivery ms p50 / p99 (deliveries)", each(
            lambda s: f"{s['latency_ms']['p50']} / {s['latency_ms']['p99']} (n={s['latency_ms']['n']})"),
            "p99 <= 250" if p99_goal else "p99 <= 50 (50 online), 250 (500)", all(p99_ok(s) for s in storms)),
        _row(figure, "server CPU ms a message / cores busy", each(lambda s: f"{s['cpu_ms']} / {s['cores']}"),
             "" if p99_goal else "<= 5 (ejabberd 4.9)", None if p99_goal else all(
                 s["cpu_ms"] <= 5 for s in storms if s.get("online", 50) <= 50)),
        _row(figure, "server RSS at the end (MB)", each(lambda s: str(s["rss_mb"]))),
        _row(figure, "the connected members' processes: count / cores / CPU us a delivery", each(
            lambda s: "/".join(str(s.get("clients", {}).get(k)) for k in ("processes", "cores", "cpu_us_a_delivery")))),
        _row(figure, "send request ms p50 / p99 (HTTP)", each(
            lambda s: f"{s['http_request_ms']['p50']} / {s['http_request_ms']['p99']}")),
        _row(figure, "send errors (HTTP + WebSocket); pushes resent and dropped; reconnects; gaps", each(
            lambda s: f"{s['sent']['http_errors'] + s['sent']['ws_errors']}; {s['resent_dropped']}; "
                      f"{s['reconnects']}; {s.get('gaps', 0)}"), "0; 0; 0; 0",
            all(s["sent"]["http_errors"] + s["sent"]["ws_errors"] + s["reconnects"] == 0 for s in storms)),
        _row(figure, "counters /api/unread != database (of those checked; offline)", each(
            lambda s: f"{s['counters']['wrong']} of {s['counters']['checked']}; {s['counters']['wrong_offline']} "
                      f"of {s['counters']['offline']}"), "0", all(s["counters"]["wrong"] == 0 for s in storms)),
        _row(figure, "after SIGKILL + restart: counters wrong / acknowledged messages missing / ready (s)", each(
            lambda s: f"{s['restart']['wrong']} / {s['restart'].get('acknowledged_missing')} of "
                      f"{s['restart'].get('acknowledged')} / {s['restart']['ready_seconds']}"), "0 / 0",
            all(s["restart"]["wrong"] == 0 and not s["restart"].get("acknowledged_missing") for s in storms)),
        _row(figure, "load average before / after each storm", each(
            lambda s: f"{s['load_average']} / {s['load_average_end']}"))]


def search_rows(f: dict) -> list[dict]:
    if "skipped" in f:
        return [_row("search", "skipped", f["skipped"])]
    n = f"{f['messages'] // 1000:,}k" if f["messages"] < 1_000_000 else f"{f['messages'] // 10**6}M"
    rows = [_row("search", f"{n} messages: {name} p50 / p99 ms (n)", f"{p['p50']} / {p['p99']} (n={p['n']})")
            for name, p in f["latency_ms"].items()]
    return rows + [
        _row("search", "index MB / messages' text MB / their table MB (index over text)",
             f"{f['index_mb']} / {f['text_mb']} / {f['content_table_mb']} ({f['index_over_text']}x)"),
        _row("search", "built / indexed at upgrade (s)", f"{f['build_seconds']} / {f['index_seconds']}")]


def media_rows(f: dict) -> list[dict]:
    m = f["memory"]
    rows = [_row("media", f"upload of {f['file_mb']} MB through the API (tus, 1 MiB chunks) / written directly "
                          f"(MB/s, median of {f['runs']})", f"{f['api_mb_per_s']} / {f['direct_mb_per_s']} "
                                                            f"(ratio {f['ratio']})"),
            _row("media", "CPU ms a MB: the server's through the API / written directly",
                 f"{f['api_cpu_ms_per_mb']} / {f['direct_cpu_ms_per_mb']}"),
            _row("media", f"server RSS, {m['clients']} clients uploading {m['mb_each']} MB each at once: before / peak"
                          " / after (MB)", f"{m['rss_before_mb']} / {m['rss_peak_mb']} / {m['rss_after_mb']}",
                 f"growth < {m['mb_each']} MB", m["rss_growth_mb"] < m["mb_each"])]
    for image in f["images"]:
        rows.append(_row("media", f"image {image['pixels']} JPEG ({image['jpeg_kb']} kB): taken in / thumbnail "
                                  "(CPU ms)", f"{image['whole_ms']} / {image['thumbnail_ms']}"))
    return rows


ROWS = {"media": media_rows, "send": send_rows,
        "loop": loop_rows, "latency": latency_rows, "connections": connections_rows,
        "coldstart": coldstart_rows, "history": history_rows, "idle": idle_rows, "warmth": warmth_rows,
        "groups": groups_rows, "storm": storm_rows, "storm-large": lambda f: storm_rows(f, "storm-large"),
        "search": search_rows}


def rows_of(figures: dict) -> list[dict]:
    rows = []
    for name, figure in figures.items():
        if "error" in figure:
            rows.append(_row(name, "FAILED", figure["error"], "", False))
        else:
            rows += ROWS[name](figure)
    return rows


def table(rows: list[dict]) -> str:
    """Format rows as a plain-text table."""
    marks = {True: "ok", False: "MISS", None: ""}
    cells = [("figure", "metric", "value", "target", "")] + [
        (r["figure"], r["metric"], str(r["value"]), r["target"], marks[r["ok"]]) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(5)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(5)).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
