"""Figure 10: the large storm (issue 22, lecture 20's 万人群 and lecture 10's arithmetic): a group of 10,000
members stored by read diffusion, 10 senders at 50 messages a second in all.

- 50 members online for 60 s (`--quick`: 6 s, 500 members): the anchor's load. ejabberd 23.01 on this machine
  (a persistent MUC room on SQLite, 50 occupants online, 10 senders, 50 msg/s): 4.9 ms of server CPU a message
  and delivery p99 6.5 ms at 10,000 members. Goals: 0 missed or doubled, <= 5 ms, p99 <= 50 ms, counters exact
  after a SIGKILL.
- 500 members online (the course's lecture-10 load, 25,000 pushes a second): 0 missed, p99 <= 250 ms, RSS.

Each is bench/storm.py's storm (`python bench/storm.py --members 10000 --online 50 --large`): the counters of
every online member and of SAMPLE offline ones are checked against the database, before and after the SIGKILL.
"""
from __future__ import annotations

from imdemo.config import Config

from .common import Context
from .storm import SENDERS, Load, storms

MEMBERS, ONLINE, RATE, SAMPLE = 10_000, (50, 500), 50.0, 500


def run(ctx: Context) -> dict:
    if not ctx.embedded_sqlite:
        return {"skipped": "the storm's database is read with sqlite3: run without --database"}
    members, seconds = ctx.scale(MEMBERS, 500), ctx.scale(60.0, 6.0)
    online = ctx.scale(ONLINE, (50,))
    # run.py's default merge window: it merges small groups' unread changes only, a large group has none to merge
    loads = [Load(members, n, large=True, merge_ms=Config.unread_merge, seconds=seconds, rate=RATE,
                  sample=ctx.scale(SAMPLE, 50)) for n in online]
    return {"members": members, "connected": list(online), "senders": SENDERS, "rate": RATE, "seconds": seconds,
            "storms": storms(ctx, loads)}
