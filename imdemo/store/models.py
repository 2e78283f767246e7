"""Store layer: the course's tables (im_user, im_msg_content, im_msg_relation, im_msg_contact) and sessions.

The models are declared once per database by `declare_models`, not bound globally, so two apps in one
process (a test that restarts the server, say) never share a connection by accident.
"""
from __future__ import annotations

from types import SimpleNamespace

import peewee as pw


def declare_models(db: pw.Database) -> SimpleNamespace:
    """Return the model classes bound to db."""

    class Base(pw.Model):
        class Meta:
            database = db
            legacy_table_names = False

    class User(Base):
        uid = pw.IntegerField(primary_key=True)
        username = pw.CharField(max_length=32, unique=True)
        nickname = pw.CharField(max_length=64)
        password_hash = pw.CharField(max_length=256)
        avatar = pw.CharField(max_length=256, default="")
        seq = pw.BigIntegerField(default=0)  # the last sequence number of this user's timeline
        created_at = pw.BigIntegerField()  # epoch milliseconds, as every time here

        class Meta:
            table_name = "im_user"

    class MsgContent(Base):
        """The message body, stored once."""

        mid = pw.BigAutoField()
        content = pw.TextField()
        sender_id = pw.IntegerField()
        recipient_id = pw.IntegerField()
        msg_type = pw.SmallIntegerField(default=0)
        client_msg_id = pw.CharField(max_length=64, null=True)
        create_time = pw.BigIntegerField()

        class Meta:
            table_name = "im_msg_content"
            indexes = ((("sender_id", "client_msg_id"), True),)

    class MsgRelation(Base):
        """The per-user index: two rows per message, one in each party's timeline."""

        owner_uid = pw.IntegerField()
        other_uid = pw.IntegerField()
        mid = pw.BigIntegerField()
        type = pw.SmallIntegerField()  # 0 sent by the owner, 1 received
        seq = pw.BigIntegerField()
        create_time = pw.BigIntegerField()

        class Meta:
            table_name = "im_msg_relation"
            primary_key = pw.CompositeKey("owner_uid", "mid")
            indexes = ((("owner_uid", "other_uid", "mid"), False), (("owner_uid", "seq"), True))

    class MsgContact(Base):
        """Recent contacts: one row per conversation and owner, pointing at its newest message."""

        owner_uid = pw.IntegerField()
        other_uid = pw.IntegerField()
        mid = pw.BigIntegerField()
        type = pw.SmallIntegerField()
        read_mid = pw.BigIntegerField(default=0)
        # The newest message here that the owner's client has acknowledged. DEFAULT 0 in the table too: the
        # send path inserts contact rows with plain SQL (message_rows.py) and need not name it.
        delivered_mid = pw.BigIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
        create_time = pw.BigIntegerField()
        update_time = pw.BigIntegerField()

        class Meta:
            table_name = "im_msg_contact"
            primary_key = pw.CompositeKey("owner_uid", "other_uid")
            indexes = ((("owner_uid", "mid"), False),)

    class Session(Base):
        token_hash = pw.CharField(max_length=64, primary_key=True)
        uid = pw.IntegerField(index=True)
        created_at = pw.BigIntegerField()
        expires_at = pw.BigIntegerField()

        class Meta:
            table_name = "im_session"

    return SimpleNamespace(User=User, MsgContent=MsgContent, MsgRelation=MsgRelation,
                           MsgContact=MsgContact, Session=Session,
                           all=[User, MsgContent, MsgRelation, MsgContact, Session])

