"""The demo data of a first start: the course's three users and a few messages between 1000 and 1001,
seeded as people would have written them: whoever replies has read what came before."""
import webtest

from imdemo.app import create_app
from imdemo.services.demo import DEMO_MESSAGES, DEMO_PASSWORD

from .conftest import Chat


def unread_in_database(app, uid: int) -> dict[str, int]:
    """The database's own count of uid's unread 1:1 messages, by the other uid: received after the read mark."""
    rows = app.db.execute_sql(
        "SELECT r.other_uid, COUNT(*) FROM im_msg_relation r JOIN im_msg_contact c ON c.owner_uid = r.owner_uid"
        f" AND c.other_uid = r.other_uid WHERE r.owner_uid = {app.db.param} AND r.type = 1 AND r.mid > c.read_mid"
        " GROUP BY r.other_uid", (uid,)).fetchall()
    return {str(other): n for other, n in rows}


def test_the_first_login_shows_unread_only_what_its_user_has_not_seen(make_config):
    app = create_app(make_config(demo=True))
    try:
        chat = Chat(webtest.TestApp(app.wsgi))
        zhangsan, lisi = chat.login("zhangsan", DEMO_PASSWORD), chat.login("lisi", DEMO_PASSWORD)
        assert DEMO_MESSAGES[-1][:2] == (zhangsan.uid, lisi.uid)  # zhangsan wrote last: he has read lisi's reply
        assert chat.get(zhangsan, "/api/unread") == {"total": 0, "conversations": {}, "groups": {}}
        assert chat.get(zhangsan, "/api/contacts")["contacts"][0]["unread"] == 0
        lisi_unread = chat.get(lisi, "/api/unread")
        assert lisi_unread["conversations"] == unread_in_database(app, lisi.uid) == {str(zhangsan.uid): 1}
        assert lisi_unread["total"] == 1
        history = chat.get(zhangsan, f"/api/conversations/{lisi.uid}/messages")
        assert history["peer_read_mid"] == history["messages"][0]["mid"]  # lisi read the first before replying
    finally:
        app.close()
