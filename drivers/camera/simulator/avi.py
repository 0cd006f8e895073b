"""A minimal MJPG .avi writer: JPEG frames (cv2.imencode) in a RIFF AVI 1.0 file with an idx1 index.

Why not cv2.VideoWriter: its FFmpeg MJPEG path costs ~2 ms a 640×360 frame against ~0.7 ms for libjpeg-turbo
through imencode, and the encode was two thirds of rendering a simulated camera's video. The file is what
OpenCV's FFmpeg backend reads (fourcc MJPG, the frame count and fps in the headers, an index to seek back
to frame 0 when a video loops). AVI 1.0 holds up to 1 GiB: far more than a day script at 640×360 (~50 MB).
"""
from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

QUALITY = 75            # about the size and error of FFmpeg's default MJPEG: ~15 kB a 640×360 frame
LIMIT = 1 << 30         # AVI 1.0: a RIFF of at most 1 GiB
KEYFRAME = 0x10         # AVIIF_KEYFRAME: every JPEG frame stands alone
HAS_INDEX = 0x10        # AVIF_HASINDEX


class MjpgAviWriter:
    """`with MjpgAviWriter(path, fps, (width, height)) as w: w.write(bgr)`; the headers are filled in at close."""

    def __init__(self, path: Path | str, fps: float, size: tuple[int, int], quality: int = QUALITY):
        self.path, self.size, self.quality = Path(path), size, quality
        rate = Fraction(fps).limit_denominator(1000)
        self.scale, self.rate = rate.denominator, rate.numerator
        self._index: list[tuple[int, int]] = []      # (offset from the 'movi' fourcc, size) per frame
        self._largest = 0
        self._file = open(self.path, "wb")
        self._file.write(self._headers(0))
        self._movi = self._file.tell() - 4           # where the 'movi' fourcc is

    def write(self, image: np.ndarray) -> None:
        if (image.shape[1], image.shape[0]) != self.size:
            raise ValueError(f"a {image.shape[1]}×{image.shape[0]} frame for a {self.size[0]}×{self.size[1]} video")
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError("the frame cannot be encoded as JPEG")
        data = jpeg.tobytes()
        at = self._file.tell()
        if at + len(data) + 16 * (len(self._index) + 2) > LIMIT:
            raise ValueError(f"the video would exceed the 1 GiB of an AVI file after {len(self._index)} frames: "
                             "use a smaller width/height or a shorter script")
        self._file.write(b"00dc" + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1))
        self._index.append((at - self._movi, len(data)))
        self._largest = max(self._largest, len(data))

    def close(self) -> None:
        """Write the index and fill in the sizes and the frame count."""
        if self._file.closed:
            return
        f = self._file
        try:
            movi_end = f.tell()
            f.write(b"idx1" + struct.pack("<I", 16 * len(self._index)))
            f.write(b"".join(struct.pack("<4sIII", b"00dc", KEYFRAME, at, n) for at, n in self._index))
            end = f.tell()
            f.seek(0)
            f.write(self._headers(len(self._index), riff=end - 8, movi=movi_end - self._movi))
        finally:
            f.close()

    def __enter__(self) -> MjpgAviWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self, frames: int, riff: int = 0, movi: int = 4) -> bytes:
        w, h = self.size
        usec = round(1_000_000 * self.scale / self.rate)
        avih = struct.pack("<10I16x", usec, self._largest * self.rate // self.scale, 0, HAS_INDEX, frames, 0, 1,
                           self._largest, w, h)
        strh = struct.pack("<4s4sIHHIIIIIIiI4h", b"vids", b"MJPG", 0, 0, 0, 0, self.scale, self.rate, 0, frames,
                           self._largest, -1, 0, 0, 0, w, h)
        strf = struct.pack("<IiiHH4sIiiII", 40, w, h, 1, 24, b"MJPG", w * h * 3, 0, 0, 0, 0)
        strl = _list(b"strl", _chunk(b"strh", strh) + _chunk(b"strf", strf))
        hdrl = _list(b"hdrl", _chunk(b"avih", avih) + strl)
        return b"RIFF" + struct.pack("<I", riff) + b"AVI " + hdrl + b"LIST" + struct.pack("<I", movi) + b"movi"


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data


def _list(kind: bytes, data: bytes) -> bytes:
    return b"LIST" + struct.pack("<I", len(data) + 4) + kind + data
