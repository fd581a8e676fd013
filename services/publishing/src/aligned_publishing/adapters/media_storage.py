"""Where media bytes live. An interface, so an object store can replace the local default."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Protocol


class MediaStorage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...
    def url_of(self, key: str) -> str: ...


def storage_key(brand_id: uuid.UUID, sha256: str) -> str:
    # Content-addressed inside a brand: the same bytes are stored once per brand (dedupe).
    return f"{brand_id}/{sha256}"


class LocalFileStorage:
    """Files under one directory; writes go to a temp name and are renamed, so a reader never
    sees half a file."""

    def __init__(self, root: Path, public_base_url: str = "media://") -> None:
        self.root = Path(root)
        self.public_base_url = public_base_url

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad storage key {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        temp.write_bytes(data)
        os.replace(temp, path)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)

    def url_of(self, key: str) -> str:
        return f"{self.public_base_url}{key}"
