"""A large group's fan-out (api/ws_fanout.py): a connection caught up in the group takes a commit's events
directly, in one write for all such connections; any connection with something else to write first (its own
timeline, hints, a gap in the group, a write under way), a full window or a full socket buffer takes the usual
way, so nothing overtakes what it was owed before. On a live server, members on both ways hold every message of
concurrent senders once, in gseq order."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from types import SimpleNamespace

import pytest
from websockets.protocol import State

from imdemo.api import ws_fanout
from imdemo.api.ws_fanout import HIGH_WATER, GroupFanout
from imdemo.api.ws_session import WINDOW, Session
from imdemo.services.feed import Feed
from imdemo.store.read_diffusion import NEVER

from .helpers import WsClient, wait_for

GID = 7


class Socket:
    """What the fan-out asks of a connection: its state and its socket buffer's size."""

    def __init__(self, name: str):
        self.name, self.state, self.buffered = name, State.OPEN, 0
        self.transport = SimpleNamespace(get_write_buffer_size=lambda: self.buffered)


def session(name: str, gseq: int = 10, array_frames: bool = True) -> Session:
    """A connection following group GID at gseq, caught up (nothing behind, nothing waiting)."""
    feed = Feed(uid=1, position=5, window=WINDOW)
    feed.mine.unsure = False
    feed.join(GID, gseq, (0, NEVER))  # a member since the group began, still
    feed.groups[GID].unsure = False
    return Session(Socket(name), SimpleNamespace(note=None), uid=1, token="t", feed=feed, array_frames=array_frames)


def event(gseq: int) -> dict:
    return {"type": "message", "group": GID, "gseq": gseq, "message": {"mid": 100 + gseq, "content": f"m{gseq}"}}


@pytest.fixture
def written(monkeypatch) -> list:
    """Record each broadcast: (the names of the connections written to, the frame's text)."""
    made = []
    monkeypatch.setattr(ws_fanout, "broadcast", lambda sockets, text: made.append(([s.name for s in sockets], text)))
    return made


def deliver(fanout: GroupFanout, *notices) -> None:
    """Hand the fan-out notices as the notices thread does (on the event loop), then let the loop turn once."""
    async def handed() -> None:
        for notice in notices:
            fanout.deliver(GID, notice)
        await asyncio.sleep(0)
    asyncio.run(handed())


def fanout_of(*sessions) -> GroupFanout:
    fanout = GroupFanout(lambda gid: (lambda: None))
    for s in sessions:
        fanout.follow(GID, s)
    return fanout


def test_caught_up_connections_take_a_commit_directly_in_one_write(written):
    a, b = session("a"), session("b")
    deliver(fanout_of(a, b), {"group_events": [event(11)]})
    assert len(written) == 1 and sorted(written[0][0]) == ["a", "b"]
    assert json.loads(written[0][1]) == event(11)
    for s in (a, b):
        assert s.feed.groups[GID].position == 11 and not s.wake.is_set()
        assert [p["gseq"] for p in s.pending.describe(time.monotonic())] == [11]  # awaits its ACK


def test_several_events_are_one_array_frame_or_a_frame_each_as_the_client_asked(written):
    a, b = session("array"), session("single", array_frames=False)
    deliver(fanout_of(a, b), {"group_events": [event(11), event(12)]})
    frames = {text: names for names, text in written}
    assert [json.loads(t) for t, names in frames.items() if names == ["array"]] == [[event(11), event(12)]]
    assert [json.loads(t) for names, t in written if names == ["single"]] == [event(11), event(12)]  # in order


def test_commits_queued_on_a_busy_loop_are_written_together_and_an_idle_loop_writes_each_at_once(written):
    """Notices that piled up while the loop was busy share one write (one frame for a batch client), as each
    connection's push task would take them; on an idle loop each commit is written in the next turn."""
    a, b = session("array"), session("single", array_frames=False)
    fanout = fanout_of(a, b)
    deliver(fanout, {"group_events": [event(11)]}, {"group_events": [event(12)]})
    assert [(names, json.loads(t)) for names, t in written] == [
        (["array"], [event(11), event(12)]), (["single"], event(11)), (["single"], event(12))]
    written.clear()
    deliver(fanout, {"group_events": [event(13)]})
    assert [(sorted(names), json.loads(t)) for names, t in written] == [(["array", "single"], event(13))]
    assert [p["gseq"] for p in a.pending.describe(time.monotonic())] == [11, 12, 13]


def _behind_in_own_timeline(s):
    s.feed.mine.announced = s.feed.mine.position + 1  # a removal, say, not written yet


def _hint_waiting(s):
    s.feed.hints.append({"type": "unread", "conversation": {"uid": 2, "unread": 1}})


def _writing(s):
    s.writing = True


def _woken(s):
    s.wake.set()


def _window_full(s):
    s.pending.hold([{"seq": n} for n in range(1, WINDOW + 1)], time.monotonic())


def _buffer_full(s):
    s.websocket.buffered = HIGH_WATER


def _closing(s):
    s.websocket.state = State.CLOSING


def _gap(s):
    s.feed.groups[GID].position = 9  # gseq 10 was never pushed here


@pytest.mark.parametrize("reason", [_behind_in_own_timeline, _hint_waiting, _writing, _woken, _window_full,
                                    _buffer_full, _closing, _gap], ids=lambda f: f.__name__.strip("_"))
def test_a_connection_with_something_before_the_commit_takes_it_the_usual_way(written, reason):
    ready, other = session("ready"), session("other")
    reason(other)
    before = other.feed.groups[GID].position
    deliver(fanout_of(ready, other), {"group_events": [event(11)]})
    assert [names for names, _ in written] == [["ready"]]
    assert other.wake.is_set() and other.feed.groups[GID].position == before  # its push task writes it, in order
    assert list(other.feed.groups[GID].arrived) == [event(11)]


def test_an_unfollowed_connection_gets_nothing_and_the_group_is_unheard_with_its_last_one(written):
    stopped = []
    a = session("a")
    fanout = GroupFanout(lambda gid: (lambda: stopped.append(gid)))
    fanout.follow(GID, a)
    fanout.unfollow(GID, a)
    deliver(fanout, {"group_events": [event(11)]})
    assert written == [] and stopped == [GID] and a.feed.groups[GID].position == 10


class Reader(threading.Thread):
    """A member's connection that acknowledges each frame as the page does and keeps the group's messages."""

    def __init__(self, client: WsClient, gid: int, expected: int):
        super().__init__(daemon=True)
        self.client, self.gid, self.expected = client, gid, expected
        self.held: list[tuple[int, str]] = []  # (gseq, content) in the order pushed, repeats dropped
        self.gseq, self.failure = None, None

    def run(self) -> None:
        deadline = time.monotonic() + 30
        try:
            while len(self.held) < self.expected and time.monotonic() < deadline:
                frame = self.client.recv(deadline - time.monotonic())
                frames = frame if isinstance(frame, list) else [frame]
                for f in frames:
                    if f and f.get("group") == self.gid and f.get("type") == "message":
                        if self.gseq is None or f["gseq"] > self.gseq:
                            self.gseq = f["gseq"]
                            self.held.append((f["gseq"], f["message"]["content"]))
                if any(f and f.get("group") == self.gid for f in frames):
                    self.client.send({"type": "ack", "group": self.gid, "gseq": self.gseq})
        except Exception as e:  # reported by the test
            self.failure = e


def test_members_on_both_ways_hold_every_message_of_concurrent_senders_once_in_gseq_order(large):
    m = large
    m.http.ok("POST", "/api/register", {"username": "erin", "password": "pw1234"})
    m.users["erin"] = m.http.login("erin")
    m.http.ok("POST", f"/api/groups/{m.gid}/members", {"uids": [m.uid("dave"), m.uid("erin")]},
              token=m.token("alice"))
    senders, each = ("alice", "bob", "carol", "dave"), 25
    readers = []
    for name, batch in (("bob", True), ("carol", False), ("erin", True)):
        since, cursors = m.cursors(name)
        client = WsClient(m.url)
        client.hello(m.token(name), since, groups=cursors, batch=batch)
        m.clients.append(client)
        readers.append(Reader(client, m.gid, len(senders) * each))
    for reader in readers:
        reader.start()

    def send_all(name: str) -> None:
        for i in range(each):
            m.send(name, f"{name} {i}")
    threads = [threading.Thread(target=send_all, args=(name,)) for name in senders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wait_for(lambda: all(not r.is_alive() for r in readers), timeout=30, message="the members to hold them all")
    for reader in readers:
        assert reader.failure is None, reader.failure
        gseqs = [g for g, _ in reader.held]
        assert gseqs == list(range(gseqs[0], gseqs[0] + len(senders) * each))  # every one, once, in order
        assert sorted(c for _, c in reader.held) == sorted(f"{n} {i}" for n in senders for i in range(each))


def test_the_live_fan_out_writes_a_caught_up_members_message_with_the_others_at_once(large, monkeypatch):
    written = []
    real = ws_fanout.broadcast
    monkeypatch.setattr(ws_fanout, "broadcast",
                        lambda sockets, text: (written.append((len(sockets), json.loads(text))), real(sockets, text)))
    m = large
    bob, carol = m.connect("bob"), m.connect("carol")
    first = m.send("alice", "first")
    for client in (bob, carol):
        client.recv_until(lambda f: f.get("gseq") == first["gseq"])
        client.send({"type": "ack", "group": m.gid, "gseq": first["gseq"]})
    sessions = m.app.servers.ws.sessions
    wait_for(lambda: len(sessions) == 2 and all(s.caught_up(m.gid, first["gseq"] + 1, 1, HIGH_WATER) for s in sessions),
             message="both connections idle and caught up in the group")
    second = m.send("alice", "second")
    for client in (bob, carol):
        assert client.recv_until(lambda f: f.get("gseq") == second["gseq"])[-1]["message"] == second
    assert [n for n, f in written if f["message"] == second] == [2]  # one write to both


def removal(uid: int, seq: int) -> dict:
    """The system message of uid's own timeline saying they were removed from group GID."""
    return {"type": "message", "seq": seq, "message": {"mid": 500, "kind": "system", "group": GID,
                                                       "event": {"type": "removed", "by": 2, "uids": [uid]}}}


def test_a_removal_and_a_later_message_of_the_group_taken_together_leave_the_later_one_out(written):
    """The removal's notice and the next commit's may both wait for the push task (the member is not caught up
    once its own timeline is behind): the group's events after the removal never reach the removed member. The
    group's place ends at the removal: closed there, read from the database, then gone."""
    s = session("removed")
    fanout = fanout_of(s)
    s.on_notice({"events": [removal(1, 6)], "seq": 6})
    deliver(fanout, {"group_events": [event(11)]})  # the own timeline is behind: the usual way
    assert written == [] and list(s.feed.groups[GID].arrived) == [event(11)]
    taken = s.feed.arrived_events(WINDOW)
    place = s.feed.groups[GID]
    assert taken == [removal(1, 6)] and place.ending and place.bounds == (0, 499) and list(place.arrived) == []
    assert GID not in s.feed.live_groups() and s.feed.groups_behind() == [place]  # not heard, read
    s.on_notice({"group_events": [event(12)]})  # a later commit's notice is not taken either
    assert list(place.arrived) == [] and s.feed.arrived_events(WINDOW) == []
    since, limit, _ = place.page(WINDOW)
    assert s.feed.read_group(place, [], limit) == [] and GID not in s.feed.groups  # nothing left: it ends


def test_a_group_event_waits_while_the_own_timeline_is_read_from_the_database(written):
    """A notice may announce the own timeline's seq without its event (read from the database instead): until
    it is read, the group's events wait, since it may be the removal that ends the group."""
    s = session("behind")
    fanout = fanout_of(s)
    s.on_notice({"seq": 6})
    deliver(fanout, {"group_events": [event(11)]})
    assert written == [] and s.feed.arrived_events(WINDOW) == []
    assert s.feed.groups[GID].position == 10 and list(s.feed.groups[GID].arrived) == [event(11)]


def test_a_pass_that_reads_the_removal_from_the_database_follows_it_before_reading_the_group():
    """A new connection's first pass (or one after a lost notice) reads its own timeline from the database: the
    removal there closes the group's bounds before the group is read, so the group's next message is never read
    for the member, and what came before the removal still is."""
    s = session("first pass")
    s.feed.mine.unsure = s.feed.groups[GID].unsure = True  # as a new connection's places are
    timeline = [dict(event(11), message={"mid": 480, "content": "before"}),
                dict(event(12), message={"mid": 520, "content": "after"})]
    frames, read_groups = [], []

    def group_after(gid, since, bounds, limit, newer):
        read_groups.append((gid, since, bounds))
        return [e for e in timeline if e["gseq"] > since and bounds[0] <= e["message"]["mid"] <= bounds[1]][:limit]

    async def run_blocking(fn, *args):
        return fn(*args)
    sync = SimpleNamespace(
        events_after=lambda uid, since, limit, newer: [removal(1, 6)],
        large=SimpleNamespace(change_of=lambda uid, message: ("leave", GID, 500), events_after=group_after))
    s.gateway = SimpleNamespace(note=None, services=SimpleNamespace(sync=sync), run_blocking=run_blocking,
                                fanout=GroupFanout(lambda gid: (lambda: None)))

    async def send(text: str) -> None:
        frames.append(json.loads(text))
    s.websocket.send = send
    asyncio.run(s._push_once())
    assert read_groups == [(GID, 10, (0, 499))] and GID not in s.feed.groups
    assert frames == [removal(1, 6), timeline[0]]  # the removal, then what came before it: never "after"
