"""media_upload: MB/s of uploads through publishing's API into the object store, against raw PUTs
of the same bytes to the same store in the same run; and publishing's RSS while 4 large videos
upload at once.

Measured: `POST /v1/media` (multipart, as a client sends it) to the publishing service running
as its own process against the local s3proxy: the service spools the upload, reads it once for
size, sha256, type and duration, and streams it into the store inside the row's transaction.
FILES distinct MP4 files of FILE_MB each, one after the other; MB/s = bytes / wall time.
Baseline: `put_object` of the same files' bytes, from this process, to the same bucket.
Memory: CONCURRENT uploads of BIG_MB each at once; the service's peak RSS, sampled every 50 ms,
must stay under 250 MB (the files never sit in its memory whole).
Sizes come from ALIGNED_BENCH_MEDIA_FILE_MB / _BIG_MB (defaults 20 and 200).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from aiobotocore.session import get_session
from botocore.config import Config

from aligned_common.identity import Identity, bind_request, signed_headers
from aligned_testing.infra import REPO_ROOT, Infra
from aligned_testing.media import mp4
from aligned_testing.system import start_system
from bench.report import BenchResult

LOG_DIR = REPO_ROOT / ".local" / "bench-logs" / "media_upload"
FILES = 5
FILE_MB = int(os.environ.get("ALIGNED_BENCH_MEDIA_FILE_MB", "20"))
BIG_MB = int(os.environ.get("ALIGNED_BENCH_MEDIA_BIG_MB", "200"))
CONCURRENT = 4
RSS_LIMIT_MB = 250
TARGET_RATIO = 0.7


def _write_files(directory: Path, count: int, megabytes: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = directory / f"video-{i}.mp4"
        path.write_bytes(mp4(megabytes * 1024 * 1024, duration_s=30))
        paths.append(path)
    return paths


async def _api_upload(client: httpx.AsyncClient, url: str, sign, path: Path, secret: bytes) -> None:
    headers = sign()  # signed identity headers carry a timestamp: fresh for each request
    with path.open("rb") as file:
        request = client.build_request(
            "POST", f"{url}/v1/media", headers=headers, files={"file": (path.name, file, "video/mp4")}
        )
        # The identity is bound to this request's body, as the gateway binds it (reads the body
        # here, in the benchmark's process; the service still streams it).
        await asyncio.to_thread(bind_request, request, "publishing", secret)
        answer = await client.send(request)
    if answer.status_code != 201:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text[:300]}")


async def run(database_url: str, bootstrap: str) -> BenchResult:
    infra = Infra(database_url=database_url, kafka_bootstrap=bootstrap, kind="local")
    settings = {"ALIGNED_PUBLISHING_MAX_UPLOAD_BYTES": str((BIG_MB + 1) * 1024 * 1024)}
    system = await asyncio.to_thread(start_system, infra, LOG_DIR, ["publishing"], settings)
    store = infra.object_store
    config = Config(
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )
    brand = Identity(uuid.uuid4(), uuid.uuid4(), "bench", "owner")
    secret = system.env["ALIGNED_INTERNAL_SECRET"].encode()

    def headers() -> dict[str, str]:
        return signed_headers(brand, secret=secret)

    url = system.url("publishing")
    try:
        with tempfile.TemporaryDirectory(dir=REPO_ROOT / ".local") as scratch:
            files = _write_files(Path(scratch), FILES, FILE_MB)
            total = sum(p.stat().st_size for p in files)
            async with get_session().create_client(
                "s3",
                endpoint_url=store.endpoint_url,
                aws_access_key_id=store.access_key_id,
                aws_secret_access_key=store.secret_access_key,
                region_name="us-east-1",
                config=config,
            ) as s3:
                started = time.perf_counter()
                for path in files:
                    with path.open("rb") as body:
                        await s3.put_object(Bucket=store.bucket, Key=f"bench/{uuid.uuid4()}", Body=body)
                raw_mb_s = total / 1e6 / (time.perf_counter() - started)
                listed = await s3.list_objects_v2(Bucket=store.bucket, Prefix="bench/")
                for item in listed.get("Contents", []):
                    await s3.delete_object(Bucket=store.bucket, Key=item["Key"])

            async with httpx.AsyncClient(timeout=httpx.Timeout(600)) as client:
                started = time.perf_counter()
                for path in files:
                    await _api_upload(client, url, headers, path, secret)
                api_mb_s = total / 1e6 / (time.perf_counter() - started)

                for path in files:
                    path.unlink()
                big = _write_files(Path(scratch), CONCURRENT, BIG_MB)
                process = system.processes["publishing"][0]
                peak = process.rss_bytes()
                uploads = asyncio.gather(*(_api_upload(client, url, headers, p, secret) for p in big))
                while not uploads.done():
                    peak = max(peak, process.rss_bytes())
                    await asyncio.sleep(0.05)
                await uploads
    finally:
        await asyncio.to_thread(system.stop)
    ratio = api_mb_s / raw_mb_s
    peak_mb = peak / 1024 / 1024
    return BenchResult(
        name="media_upload",
        unit="MB/s",
        measured={"api_mb_s": round(api_mb_s, 1), "peak_rss_mb": round(peak_mb, 1)},
        baseline={"raw_put_mb_s": round(raw_mb_s, 1)},
        ratio=round(ratio, 2),
        target=f"ratio >= {TARGET_RATIO}, RSS < {RSS_LIMIT_MB} MB",
        passed=ratio >= TARGET_RATIO and peak_mb < RSS_LIMIT_MB,
        notes={
            "files": f"{FILES} x {FILE_MB} MB sequential; {CONCURRENT} x {BIG_MB} MB at once for RSS",
            "path": "POST /v1/media on publishing (no gateway) into s3proxy on this machine",
        },
    )
