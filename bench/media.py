"""Figure: media (SPEC section 16). Upload MB/s through the API (tus: POST, then PATCH chunks of 1 MiB on one
keep-alive connection, until the file is complete and checked) against writing the same bytes to the database
directly (the store's own chunk writer, in this process, on a SQLite file of its own), and the CPU a MB of
each (the server's from /proc, this process's own: the figure the machine's other work moves least); the
milliseconds an image costs by its size (decode, re-encode without metadata, thumbnail; the thumbnail alone);
the server's RSS while 4 clients upload 25 MB each at once, against before (no file is held whole in memory)."""
from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import threading
import time

from .common import Context, Server, median

MB = 1024 * 1024
CHUNK = MB
IMAGE_SIZES = [(800, 600), (1920, 1080), (4000, 3000)]


def _login(server: Server) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    for path in ("/api/register", "/api/login"):
        conn.request("POST", path, json.dumps({"username": "uploader", "password": "pw1234"}))
        answer = json.loads(conn.getresponse().read() or b"{}")
    conn.close()
    return answer["token"]


def upload(port: int, token: str, data: bytes, name: str = "bench.bin") -> float:
    """Upload data by tus on one connection; return the seconds from creation to the file's answer."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                    {"filename": name, "sha256": hashlib.sha256(data).hexdigest()}.items())
    started = time.perf_counter()
    conn.request("POST", "/api/uploads/", headers={**auth, "Upload-Length": str(len(data)), "Upload-Metadata": meta})
    response = conn.getresponse()
    response.read()
    location = response.getheader("Location")
    view = memoryview(data)
    for offset in range(0, len(data), CHUNK):
        conn.request("PATCH", location, body=view[offset:offset + CHUNK], headers={
            **auth, "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        response = conn.getresponse()
        response.read()
        if response.status != 204:
            raise RuntimeError(f"PATCH at {offset}: {response.status}")
    conn.request("GET", location, headers=auth)
    file = json.loads(conn.getresponse().read())["file"]
    conn.close()
    if file is None or file["size"] != len(data):
        raise RuntimeError(f"the upload did not become the file: {file}")
    return time.perf_counter() - started


def direct_write(ctx: Context, data: bytes) -> tuple[float, float]:
    """Write data as chunk rows with the store's own writer (a chunk a transaction), as the upload does; return
    the seconds it took and the CPU seconds this process spent."""
    from imdemo.store.blobs import Blobs
    from imdemo.store.database import open_database

    db = open_database(f"sqlite:///{ctx.tmp / f'direct{time.monotonic_ns()}.db'}")
    blobs = Blobs(db)
    started, cpu = time.perf_counter(), time.process_time()
    writer = blobs.writer(blobs.new())
    for offset in range(0, len(data), CHUNK):
        writer.write(data[offset:offset + CHUNK])
    writer.finish()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    db.close_all()
    return seconds, cpu


def photo(size: tuple[int, int]) -> bytes:
    """A photo-like JPEG (smooth colours with grain: it compresses as a photo does, not as noise or one colour)."""
    from PIL import Image

    gradient = Image.linear_gradient("L").resize(size)
    grain = Image.effect_noise(size, 24)
    image = Image.merge("RGB", (gradient, grain, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def image_costs(runs: int) -> list[dict]:
    """CPU ms to take an image in (decode, re-encode without metadata, thumbnail) and the thumbnail alone, by
    size."""
    from PIL import Image

    from imdemo.services.media import Media, thumbnail

    media, costs = Media(), []
    for size in IMAGE_SIZES:
        data = photo(size)
        whole, thumb = [], []
        for _ in range(runs):  # CPU time of this thread: the machine's other work moves it least
            started = time.thread_time()
            found = media.examine(io.BytesIO(data))
            media.reencode(io.BytesIO(data), found, io.BytesIO(), io.BytesIO())
            whole.append((time.thread_time() - started) * 1000)
            decoded = Image.open(io.BytesIO(data))
            decoded.load()
            started = time.thread_time()
            thumbnail(decoded, io.BytesIO())
            thumb.append((time.thread_time() - started) * 1000)
        costs.append({"pixels": f"{size[0]} x {size[1]}", "megapixels": round(size[0] * size[1] / 1e6, 1),
                      "jpeg_kb": len(data) // 1024, "whole_ms": median(whole), "thumbnail_ms": median(thumb)})
    return costs


def memory(server: Server, token: str, clients: int, size: int) -> dict:
    """The server's RSS before, at its highest while clients upload size bytes each at once, and after."""
    before = server.status()["VmRSS"]
    peak, done = before, threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, server.status()["VmRSS"])
            time.sleep(0.02)
    sampler = threading.Thread(target=sample)
    sampler.start()
    files = [os.urandom(size) for _ in range(clients)]
    threads = [threading.Thread(target=upload, args=(server.port, token, data, f"c{i}.bin"))
               for i, data in enumerate(files)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return {"clients": clients, "mb_each": size // MB, "rss_before_mb": round(before / 1024, 1),
            "rss_peak_mb": round(peak / 1024, 1), "rss_after_mb": round(server.status()["VmRSS"] / 1024, 1),
            "rss_growth_mb": round((peak - before) / 1024, 1), "seconds": round(seconds, 2),
            "mb_per_s": round(clients * size / MB / seconds, 1)}


def run(ctx: Context) -> dict:
    runs, size = ctx.scale(3, 1), ctx.scale(25, 8) * MB
    data = os.urandom(size)
    with Server(ctx) as server:
        token = _login(server)
        upload(server.port, token, os.urandom(MB))  # warm: imports, the first transactions
        api, api_cpu = [], []
        for i in range(runs):
            cpu = server.cpu_seconds()
            api.append(upload(server.port, token, data, f"run{i}.bin"))
            api_cpu.append(server.cpu_seconds() - cpu)
        mem = memory(server, token, 4, size)
    direct = [direct_write(ctx, data) for _ in range(runs)]
    api_rate, direct_rate = size / MB / median(api), size / MB / median([s for s, _ in direct])
    result = {"file_mb": size // MB, "runs": runs, "api_mb_per_s": round(api_rate, 1),
              "direct_mb_per_s": round(direct_rate, 1), "ratio": round(api_rate / direct_rate, 2),
              "api_cpu_ms_per_mb": round(median(api_cpu) * 1000 / (size / MB), 1),
              "direct_cpu_ms_per_mb": round(median([c for _, c in direct]) * 1000 / (size / MB), 1),
              "api_seconds": [round(s, 2) for s in api], "direct_seconds": [round(s, 2) for s, _ in direct],
              "images": image_costs(runs), "memory": mem}
    ctx.say(f"upload {result['api_mb_per_s']} MB/s through the API, {result['direct_mb_per_s']} MB/s written "
            f"directly (ratio {result['ratio']}); CPU ms a MB {result['api_cpu_ms_per_mb']} (the server) against "
            f"{result['direct_cpu_ms_per_mb']}; 4 x {size // MB} MB at once: RSS {mem['rss_before_mb']} -> peak "
            f"{mem['rss_peak_mb']} MB")
    for image in result["images"]:
        ctx.say(f"image {image['pixels']} ({image['jpeg_kb']} kB): {image['whole_ms']} ms of CPU in all, thumbnail "
                f"{image['thumbnail_ms']} ms")
    return result
