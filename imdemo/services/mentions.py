"""Services layer: mentions in a group's messages (@): `mentions: [uid, ...]` names members (anyone else: 400
mention_not_member), `"all"` everyone (the group's owner only: 403 not_owner). Whether a kind of conversation
takes mentions is its rules' to say (a 1:1 chat does not: 400). Who is a member and who owns the group are
checked inside the message's commit, on the group it holds locked (store/signals.py)."""
from __future__ import annotations

import json
from functools import partial

from ..store.conversation import Conversation
from ..store.signals import Check
from . import checks
from .errors import BadInput, Forbidden

EVERYONE = "all"
MOST = 100  # uids one message may name


def mentioned(rules, conversation: Conversation, mentions) -> dict:
    """The Draft fields of a send's mentions: none for none; else whom, as stored, and the rule to check."""
    if mentions is None or mentions == []:
        return {}
    rules.may_mention(conversation)
    if mentions == EVERYONE:
        named = EVERYONE
    elif isinstance(mentions, list) and len(mentions) <= MOST:
        named = list(dict.fromkeys(checks.integer(uid, "mentions", 1) for uid in mentions))
    else:
        raise BadInput(f'mentions must be "all" or a list of at most {MOST} uids', "invalid_mentions")
    return {"mentions": json.dumps(named, separators=(",", ":")), "rule": partial(may_mention, named)}


def may_mention(named, check: Check) -> None:
    """@all: the owner only; uids: each one a member (someone the message reaches)."""
    if named == EVERYONE:
        if check.actor != check.owner:
            raise Forbidden("only the group's owner can mention everyone", "not_owner")
        return
    missing = [uid for uid in named if uid not in check.reach]
    if missing:
        raise BadInput(f"{missing[0]} is not a member of this group", "mention_not_member")
