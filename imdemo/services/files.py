"""Services layer: who may read a file, and the ways to read one: by the caller's token, by a short-lived
signed link (an <img> sends no header), and 秒传 (lecture 14: a file already stored is sent again without its
bytes). A file may be read by its uploader and by whoever may see a message carrying it, join bounds applied;
that one rule (FileAccess.why) decides every read, every link, every 秒传 and every attachment, so a hash alone
never grants a file (the 2011 Dropbox "dropship" leak)."""
from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator

from ..store.attachment import attachment_json
from ..store.blobs import Blobs
from ..store.conversation import Conversation
from ..store.files import FileRow, Files
from ..store.message import FILE, IMAGE
from . import checks
from .errors import BadInput, Forbidden, NotFound
from .uploads import SHA256

LINK_TTL = 600  # seconds a signed link lasts at least
LINK_STEP = 300  # ... and at most this much longer: links made within one step are the same URL (browser cache)
VARIANTS = ("file", "thumb")
# A check of one way messages are kept: (uid, fid) -> (mid, cid) of a message uid may see that carries fid
Sees = Callable[[int, int], "tuple[int, str] | None"]


class FileAccess:
    """May uid read a file: they uploaded it, or they may see a message that carries it. Each way of keeping
    messages says which of its messages a user may see: write diffusion (1:1 chats, small groups) by the user's
    own timeline; a kind of conversation kept otherwise (read diffusion) adds its check with extend()."""

    def __init__(self, files: Files):
        self.files = files
        self.checks: list[Sees] = [self._in_timeline]

    def extend(self, sees: Sees) -> None:
        self.checks.append(sees)

    def why(self, uid: int, file: FileRow) -> str | None:
        """Why uid may read the file, in words, or None when they may not."""
        if file.uploader == uid:
            return f"{uid} uploaded file {file.fid}"
        for sees in self.checks:
            if found := sees(uid, file.fid):
                return f"{uid} may see message {found[0]} in {found[1]}, which carries file {file.fid}"
        return None

    def _in_timeline(self, uid: int, fid: int) -> tuple[int, str] | None:
        found = self.files.in_timeline(uid, fid)
        return (found[0], Conversation.of_peer(found[1]).cid) if found else None


class FileService:
    """Read files, link to them, find them by content, attach them."""

    def __init__(self, files: Files, blobs: Blobs, access: FileAccess, secret: bytes, *,
                 release: Callable[[], None] = lambda: None, note: Callable[..., None] = lambda **info: None,
                 clock: Callable[[], float] = time.time):
        self.files, self.blobs, self.access, self.secret = files, blobs, access, secret
        self.release, self.note, self.clock = release, note, clock

    def readable(self, uid: int, fid, name: str = "fid") -> FileRow:
        """The file, if uid may read it; 404 otherwise, the same as for a file that does not exist."""
        fid = checks.integer(fid, name, 1)
        file = self.files.get(fid)
        why = self.access.why(uid, file) if file is not None else None
        if why is None:
            raise NotFound(f"no file {fid}", "no_such_file")
        self.note(access=why)
        return file

    def check(self, uid: int, sha256, size) -> dict:
        """秒传: the file with these bytes, if the caller may already read one; else {"file": null}: the bytes must
        be sent. The answer is the same whether such bytes exist or not, unless the caller may read them."""
        if not isinstance(sha256, str) or not SHA256.fullmatch(sha256):
            raise BadInput("sha256 must be 64 lowercase hex digits", "invalid_hash")
        size = checks.integer(size, "size", 0)
        same = self.files.same_content(sha256, size)
        for file in same:
            if why := self.access.why(uid, file):
                self.note(instant=f"given at once: {why}")
                return {"file": file.view()}
        self.note(instant=f"no shortcut: {len(same)} file(s) have these bytes and {uid} may read none of them: "
                          "the bytes must be sent" if same else "no shortcut: no file has these bytes")
        return {"file": None}

    def links(self, uid: int, fids) -> dict:
        """Signed links to files the caller may read (404 if any is not one): {"<fid>": {url, thumb_url?,
        expires_at}}."""
        if not isinstance(fids, list) or not 1 <= len(fids) <= 100:
            raise BadInput("fids must be a list of 1 to 100 file ids", "invalid_fids")
        now = self.clock()
        links = {}
        for fid in dict.fromkeys(checks.integer(fid, "fids", 1) for fid in fids):
            file = self.readable(uid, fid)
            expires = (int(now) // LINK_STEP + 1) * LINK_STEP + LINK_TTL
            link = {"url": self._signed(file.fid, "file", expires), "expires_at": expires}
            if file.is_image:
                link["thumb_url"] = self._signed(file.fid, "thumb", expires)
            links[str(file.fid)] = link
        return {"links": links}

    def signed(self, fid, variant: str, expires, signature) -> FileRow:
        """The file a signed link names; 403 for a link that is tampered with or expired."""
        fid = checks.integer(fid, "fid", 1)
        if expires is None or signature is None:
            raise Forbidden("a signed link has both expires and sig", "invalid_link")
        expires = checks.integer(expires, "expires", 0)
        expected = self._signature(fid, variant, expires)
        if not isinstance(signature, str) or not hmac.compare_digest(signature, expected):
            raise Forbidden("this link is not valid", "invalid_link")
        if expires < self.clock():
            raise Forbidden("this link has expired: ask for a new one", "link_expired")
        file = self.files.get(fid)
        if file is None:
            raise NotFound(f"no file {fid}", "no_such_file")
        return file

    def length(self, file: FileRow, variant: str) -> int:
        """How many bytes a file or its thumbnail has; 404 for a thumbnail of a non-image."""
        return file.size if variant == "file" else self.blobs.length(self._blob(file, variant))

    def content(self, file: FileRow, variant: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes of a file or its thumbnail from start (to end, exclusive), a chunk at a time."""
        return self._stream(self._blob(file, variant), start, end)

    def _blob(self, file: FileRow, variant: str) -> int:
        blob_id = file.blob_id if variant == "file" else file.thumb_blob_id
        if blob_id is None:
            raise NotFound(f"file {file.fid} has no thumbnail (it is not an image)", "no_thumbnail")
        return blob_id

    def _stream(self, blob_id: int, start: int, end: int | None) -> Iterator[bytes]:
        try:
            yield from self.blobs.chunks(blob_id, start, end)
        finally:
            self.release()  # the response is written after the request's own release: give the connection back

    def _signed(self, fid: int, variant: str, expires: int) -> str:
        path = f"/api/files/{fid}" + ("" if variant == "file" else f"/{variant}")
        return f"{path}?expires={expires}&sig={self._signature(fid, variant, expires)}"

    def _signature(self, fid: int, variant: str, expires: int) -> str:
        message = f"{fid}:{variant}:{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]


def attached(file: FileRow) -> dict:
    """A draft's fields for a message carrying file: its kind (image or file), the file id, the file as shown."""
    return {"kind": IMAGE if file.is_image else FILE, "fid": file.fid, "attachment": attachment_json(file.view())}
