"""Where photos and voice notes are kept: files under MEDIA_DIR with random names."""

from __future__ import annotations

import secrets
from pathlib import Path

# Magic numbers of the image formats a browser or phone sends.
_IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG\r\n\x1a\n": ".png",
    b"GIF87a": ".gif",
    b"GIF89a": ".gif",
}


def image_extension(data: bytes) -> str | None:
    """The file extension of an image by its first bytes, or None if it is not one."""
    for signature, extension in _IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


class MediaStore:
    """Stores media files; a `ref` is the file name, never a path a client can choose."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def save(self, data: bytes, extension: str) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        ref = secrets.token_hex(16) + extension
        (self.directory / ref).write_bytes(data)
        return ref

    def path(self, ref: str) -> Path | None:
        path = self.directory / Path(ref).name
        return path if path.is_file() else None

    def delete(self, refs: list[str]) -> None:
        for ref in refs:
            (self.directory / Path(ref).name).unlink(missing_ok=True)
