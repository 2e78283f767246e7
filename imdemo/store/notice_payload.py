"""Store layer: the shape of one PUBLISH on the notices channel (notices.py), written and read back.

    [[uid, notice], ...]                                   hints, a logout: small, nothing shared
    {"bodies": {key: body}, "notices": [[uid, notice], ...],   messages: each body once, however many
     "fanout": [[key, [uid, ...], [seq, ...]], ...],       timelines it reaches; an event in a notice is
     "groups": [[key, gid, gseq], ...],                    [seq, key], handed to listeners as
     "at": ms, "trace": id}                                {"type": "message", "seq": seq, "message": body}
                                                           (a signal's as what it did: message.py event_of)

"at" (the commit's time) and "trace" (an inspector's trace id), both optional, are the commit's stamp: every
notice and group event delivered from the payload carries them (the send-to-push latency, one message's trace
across processes: services/delivery_watch.py).

A small group's message reaches hundreds of timelines with nothing else to say to them, so it goes in "fanout":
its members and their seqs as two plain lists, not a notice each; each local member's events are made from
them on arrival. A large group's message reaches no user's timeline: "groups" names it by its group and gseq,
and each process hands it to the connections it holds of that group's members.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .message import event_of, group_event


@dataclass
class Payload:
    notices: list[tuple[int, dict]]
    bodies: dict[str, dict] | None = None
    fanout: list[tuple[str, list[int], list[int]]] = field(default_factory=list)
    groups: list[tuple[str, int, int]] = field(default_factory=list)
    stamp: dict = field(default_factory=dict)  # {"at", "trace"}, either optional, with bodies only

    def encode(self) -> str:
        shaped = self.notices if self.bodies is None else {"bodies": self.bodies, "notices": self.notices}
        if self.fanout:
            shaped["fanout"] = self.fanout
        if self.groups:
            shaped["groups"] = self.groups
        if self.stamp and self.bodies is not None:
            shaped.update(self.stamp)
        return json.dumps(shaped, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, data: str) -> Payload:
        """Read one PUBLISH back; ValueError (TypeError, KeyError...) when it is not one."""
        payload = json.loads(data)
        if not isinstance(payload, dict):
            return cls([(int(uid), notice) for uid, notice in payload])
        return cls([(int(uid), notice) for uid, notice in payload["notices"]], payload["bodies"],
                   [(key, uids, seqs) for key, uids, seqs in payload.get("fanout", ())],
                   [(key, int(gid), int(gseq)) for key, gid, gseq in payload.get("groups", ())],
                   {key: payload[key] for key in ("at", "trace") if key in payload})

    def for_users(self, held) -> dict[int, dict]:
        """{uid: notice} for the users in held (those this process has listeners of): their notices, with the
        fan-out's events of each added, every event made whole (message.py event_of) in seq order."""
        mine = {uid: notice for uid, notice in self.notices if uid in held}
        for key, uids, seqs in self.fanout:
            here = held & set(uids)
            at = dict(zip(uids, seqs, strict=False)) if here else {}
            for uid in here:
                notice = mine.setdefault(uid, {"seq": 0})
                notice.setdefault("events", []).append([at[uid], key])
                notice["seq"] = max(notice.get("seq", 0), at[uid])
        for uid, notice in mine.items():
            notice.update(self.stamp)
            if self.bodies is not None and "events" in notice:  # in seq order, whichever part named them
                notice["events"] = [event_of(seq, self.bodies[key], uid) for seq, key in sorted(notice["events"])]
        return mine

    def for_groups(self, held) -> dict[int, list[dict]]:
        """{gid: its events in gseq order} for the large groups in held."""
        events: dict[int, list[dict]] = {}
        for key, gid, gseq in self.groups:
            if gid in held:
                events.setdefault(gid, []).append(group_event(gid, gseq, self.bodies[key]))
        return events
