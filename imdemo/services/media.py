"""Services layer: what an upload is, by the server's own finding, never the client's word. An image (JPEG, PNG,
GIF, WebP) is decoded and re-encoded by Pillow: only its pixels (and colour profile, transparency, frame timing)
travel, so EXIF with its GPS position, XMP and comments are gone; a phone photo is turned upright first, since the
EXIF that said how goes. It gets a thumbnail. Bytes that start like an image but do not decode are refused; any
other bytes are a file, served only as a download (an SVG or HTML page is one of those, never shown inline)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# Decoded pixels (all frames of an animation together) an image may have. Pillow's own guard
# (Image.MAX_IMAGE_PIXELS) refuses a decompression bomb above twice its limit before decoding; this one is lower
# and counts frames: a 4,000 x 3,000 photo is 12 M, a 48 MP phone's full-size photo fits.
MAX_PIXELS = 50_000_000
THUMB_BOX = (360, 360)  # a thumbnail fits in it (about twice the size it is shown at in the chat)
KEEP = ("icc_profile", "transparency")  # what travels from the original besides pixels (colours stay right)
# Types other files are recognised by (for the card the chat shows; a file is always served as a download)
MAGIC = [(b"%PDF-", "application/pdf"), (b"PK\x03\x04", "application/zip"), (b"\x1f\x8b", "application/gzip"),
         (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"), (b"ID3", "audio/mpeg"), (b"OggS", "audio/ogg")]


class CorruptImage(Exception):
    """The bytes start as an image of a known format but do not decode."""


class ImageTooLarge(Exception):
    """The image has more pixels than MAX_PIXELS (a decompression bomb, or a photo too big to decode here)."""


@dataclass(frozen=True)
class Finding:
    kind: str  # "image" or "file"
    mime: str
    format: str | None = None  # Pillow's name of an image's format
    width: int | None = None
    height: int | None = None


class Media:
    """Examine uploads, re-encode images and make thumbnails, one image at a time per process (decoded pixels
    are the one thing held whole in memory: a 50 MP image is about 150 MB)."""

    def __init__(self):
        self.decoding = threading.Semaphore(1)

    def examine(self, stream) -> Finding:
        """What the bytes are: an image by its header (refused later if it does not decode), else a file."""
        try:
            with Image.open(stream, formats=list(FORMATS)) as image:
                return Finding("image", FORMATS[image.format], image.format, *image.size)
        except UnidentifiedImageError:
            pass
        except Image.DecompressionBombError as e:
            raise ImageTooLarge(str(e)) from None
        except (OSError, SyntaxError, ValueError, EOFError) as e:  # a known format's header, broken
            raise CorruptImage(str(e)) from None
        stream.seek(0)
        return Finding("file", sniff(stream.read(1024)))

    def reencode(self, stream, found: Finding, out, thumb_out) -> tuple[int, int]:
        """Decode the image, write it again in its own format to out and a thumbnail (WebP) to thumb_out; return
        its (width, height) as written (upright). CorruptImage, ImageTooLarge."""
        with self.decoding:
            try:
                with Image.open(stream, formats=[found.format]) as image:
                    frames = getattr(image, "n_frames", 1)
                    if image.width * image.height * frames > MAX_PIXELS:
                        raise ImageTooLarge(f"{image.width} x {image.height} x {frames} frames")
                    return self._write(image, frames, found.format, out, thumb_out)
            except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
                if isinstance(e, Image.DecompressionBombError):
                    raise ImageTooLarge(str(e)) from None
                raise CorruptImage(str(e)) from None

    def _write(self, image: Image.Image, frames: int, fmt: str, out, thumb_out) -> tuple[int, int]:
        kept = {k: image.info[k] for k in KEEP if k in image.info}
        if frames > 1:  # an animation: each frame's pixels and timing, nothing else
            pictures, durations = [], []
            for frame in ImageSequence.Iterator(image):
                durations.append(frame.info.get("duration", 100))
                pictures.append(_bare(frame.copy()))
            first = pictures[0]
            first.save(out, format=fmt, save_all=True, append_images=pictures[1:], duration=durations,
                       loop=image.info.get("loop", 0), **kept)
        else:
            image.load()  # a truncated or damaged image fails here
            first = _bare(ImageOps.exif_transpose(image))
            first.save(out, format=fmt, **kept, **({"quality": 90} if fmt in ("JPEG", "WEBP") else {}))
        thumbnail(first, thumb_out)
        return first.size


def _bare(image: Image.Image) -> Image.Image:
    """The image with no metadata left to save (EXIF, XMP, comments, text chunks)."""
    image.info = {}
    image.getexif().clear()
    return image


def thumbnail(image: Image.Image, out) -> None:
    """A thumbnail that fits THUMB_BOX, as WebP (small, and keeps transparency). Made smaller first, then
    converted: converting a 12 MP photo first costs more than the rest (a palette image is converted first,
    since Pillow resizes a palette by its nearest pixel only)."""
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info else "RGB"
    if image.mode in ("P", "PA", "1"):
        image = image.convert(mode)
    scale = min(1.0, THUMB_BOX[0] / image.width, THUMB_BOX[1] / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    small = image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0) if scale < 1 else image  # as thumbnail()
    small.convert(mode).save(out, format="WEBP", quality=80)


def sniff(head: bytes) -> str:
    """A file's type from its first bytes, for the card the chat shows (it is served as a download anyway)."""
    if not head:
        return "application/octet-stream"
    for magic, mime in MAGIC:
        if head.startswith(magic):
            return mime
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "text/html"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "image/svg+xml"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return "application/octet-stream"
    return "text/plain" if b"\x00" not in head else "application/octet-stream"
