"""Concurrent senders: counters stay exact, seqs stay unique and gapless, SQLite never reports locked."""
import threading

from imdemo.store.models import declare_models


def test_many_threads_sending_to_one_recipient_keep_every_invariant(app, chat):
    recipient = chat.register("target")
    senders = [chat.register(f"sender{i}") for i in range(4)]
    per_thread, threads, errors = 25, 8, []

    def send_many(sender, n):
        try:
            for i in range(per_thread):
                chat.send(sender, recipient.uid, f"{sender.username} #{n}.{i}")
                if i % 5 == 0:  # the recipient also writes: both users' rows are locked in uid order
                    chat.send(recipient, sender.uid, f"reply {n}.{i}")
        except Exception as e:  # collected, then asserted in the main thread
            errors.append(repr(e))
    workers = [threading.Thread(target=send_many, args=(senders[n % 4], n)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert errors == []

    m = declare_models(app.db)
    unread = chat.get(recipient, "/api/unread")
    assert unread["total"] == sum(unread["conversations"].values()) == per_thread * threads
    for sender in senders:
        in_db = (m.MsgRelation.select().where(
            (m.MsgRelation.owner_uid == recipient.uid) & (m.MsgRelation.other_uid == sender.uid)
            & (m.MsgRelation.type == 1)).count())
        assert unread["conversations"][str(sender.uid)] == in_db
    for user in [recipient, *senders]:
        seqs = [r.seq for r in m.MsgRelation.select(m.MsgRelation.seq)
                .where(m.MsgRelation.owner_uid == user.uid).order_by(m.MsgRelation.seq)]
        assert seqs == list(range(1, len(seqs) + 1))
        assert m.User.get_by_id(user.uid).seq == len(seqs)
    assert m.MsgContent.select().count() * 2 == m.MsgRelation.select().count()


def test_seq_order_is_mid_order_within_each_timeline(app, chat):
    a, b, c = chat.register("aaa"), chat.register("bbb"), chat.register("ccc")

    def burst(sender, to):
        for i in range(20):
            chat.send(sender, to.uid, str(i))
    workers = [threading.Thread(target=burst, args=pair) for pair in [(a, b), (b, a), (c, a), (a, c)]]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    events = chat.get(a, "/api/sync", since=0, limit=1000)["events"]
    mids = [e["message"]["mid"] for e in events]
    assert len(events) == 80 and mids == sorted(mids)
