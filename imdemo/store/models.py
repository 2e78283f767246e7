"""Store layer: the course's tables (im_user, im_msg_content, im_msg_relation, im_msg_contact), groups
(im_group, im_group_member), each user's conversation settings and sessions; media (im_blob, im_blob_chunk,
im_upload, im_file: media_models.py).

The models are declared once per database by `declare_models`, not bound globally, so two apps in one
process (a test that restarts the server, say) never share a connection by accident.
"""
from __future__ import annotations

from types import SimpleNamespace

import peewee as pw

from .media_models import declare_media_models


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
        """The message body, stored once, whatever the number of recipients."""

        mid = pw.BigAutoField()
        content = pw.TextField()
        sender_id = pw.IntegerField()
        recipient_id = pw.IntegerField()  # a uid, or minus the gid for a group's message
        msg_type = pw.SmallIntegerField(default=0)  # 0 text, 1 system, 2 image, 3 file, 10 recall, 11 edit (message.py)
        client_msg_id = pw.CharField(max_length=64, null=True)
        create_time = pw.BigIntegerField()
        gseq = pw.BigIntegerField(null=True)  # a group message's place in the group's one order
        event = pw.TextField(null=True)  # a system message's structured event, as JSON
        fid = pw.BigIntegerField(null=True, index=True)  # the file an image or file message carries: who may read it
        attachment = pw.TextField(null=True)  # that file as the message shows it, as JSON (files never change)
        target_mid = pw.BigIntegerField(null=True)  # a recall's or an edit's target (message.py: signals)
        recalled_by = pw.IntegerField(null=True)  # who recalled it; its content is erased, who and when stay
        edited_at = pw.BigIntegerField(null=True)  # when its content was last edited
        mentions = pw.TextField(null=True)  # whom a group message mentions, as JSON: [uid, ...] or "all"

        class Meta:
            table_name = "im_msg_content"
            indexes = ((("sender_id", "client_msg_id"), True),)

    # A recall finds its target's edits by this (to erase their text too). Partial: only signals have a target,
    # so an ordinary message adds nothing to it.
    MsgContent.add_index(MsgContent.index(MsgContent.target_mid, where=MsgContent.target_mid.is_null(False)))

    class MsgRelation(Base):
        """The per-user index: one row per message in each timeline it reaches: two for a 1:1 message, one
        per member for a group's (write diffusion)."""

        owner_uid = pw.IntegerField()
        other_uid = pw.IntegerField()  # the conversation: the other party's uid, or minus the gid of a group
        mid = pw.BigIntegerField()
        # 0 sent by the owner, 1 received, 2 a notice: a system message or a signal (never unread), 3 received
        # and since recalled (never unread: every count of type 1 leaves it out)
        type = pw.SmallIntegerField()
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

    class Group(Base):
        """A group conversation. Its members' recent-contacts entries derive from it and their membership
        rows (no contact row per member per message)."""

        gid = pw.AutoField()
        name = pw.CharField(max_length=64)
        owner_uid = pw.IntegerField()
        gseq = pw.BigIntegerField(default=0)  # the last of the group's sequence: one order for every member
        last_mid = pw.BigIntegerField(default=0)  # the group's newest message
        member_count = pw.IntegerField(default=0)  # 0 once the last member has left: the group is gone
        created_at = pw.BigIntegerField()
        # How its messages are stored: 0 write diffusion (a relation row per member), 1 read diffusion (one row
        # in im_group_timeline, lecture 20's 万人群). DEFAULT in the table too: rows are inserted by plain SQL.
        storage = pw.SmallIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
        counted = pw.BigIntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])  # messages counted as unread
        switched_mid = pw.BigIntegerField(null=True)  # the system message at which it switched to read diffusion

        class Meta:
            table_name = "im_group"

    class GroupTimeline(Base):
        """A read-diffusion group's own timeline: one row per message, whatever the number of members (a member
        reads it within their join bounds and keeps only a read mark)."""

        gid = pw.IntegerField()
        gseq = pw.BigIntegerField()
        mid = pw.BigIntegerField()
        sender_id = pw.IntegerField()
        msg_type = pw.SmallIntegerField()
        counted = pw.BigIntegerField()  # the group's counted messages up to and including this one

        class Meta:
            table_name = "im_group_timeline"
            primary_key = pw.CompositeKey("gid", "gseq")
            indexes = ((("gid", "mid"), True),)

    class GroupMember(Base):
        """One user's membership of a group, current or past. A re-join reuses the row."""

        gid = pw.IntegerField()
        uid = pw.IntegerField()
        role = pw.SmallIntegerField(default=0)  # 1 owner, 0 member
        joined_mid = pw.BigIntegerField()  # the join point: the system message that added them
        left_mid = pw.BigIntegerField(null=True)  # the system message that removed them; null while a member
        read_mid = pw.BigIntegerField(default=0)  # the newest message of the group they have read
        joined_at = pw.BigIntegerField()

        class Meta:
            table_name = "im_group_member"
            primary_key = pw.CompositeKey("gid", "uid")
            indexes = ((("uid", "gid"), False),)

    class Mention(Base):
        """Who a group message mentions (uid 0: everyone, the owner's @all): read with the member's read mark,
        the contact entry's "mentioned" until they read past it."""

        gid = pw.IntegerField()
        uid = pw.IntegerField()
        mid = pw.BigIntegerField()

        class Meta:
            table_name = "im_mention"
            primary_key = pw.CompositeKey("gid", "uid", "mid")

    class ConversationSetting(Base):
        """One user's settings of one conversation (muted), by its peer as im_msg_relation names it."""

        owner_uid = pw.IntegerField()
        other_uid = pw.IntegerField()
        muted = pw.BooleanField(default=False)
        update_time = pw.BigIntegerField()

        class Meta:
            table_name = "im_conversation_setting"
            primary_key = pw.CompositeKey("owner_uid", "other_uid")

    class Session(Base):
        token_hash = pw.CharField(max_length=64, primary_key=True)
        uid = pw.IntegerField(index=True)
        created_at = pw.BigIntegerField()
        expires_at = pw.BigIntegerField()

        class Meta:
            table_name = "im_session"

    media = declare_media_models(Base)
    every = [User, MsgContent, MsgRelation, MsgContact, Group, GroupTimeline, GroupMember, Mention,
             ConversationSetting, Session, *media.values()]
    return SimpleNamespace(**{model.__name__: model for model in every}, all=every)
