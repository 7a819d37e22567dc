"""Evidence check benchmark: how long ``portfolio.evidence.check_file`` takes on files near the
10 MB limit (the time an upload request spends judging the bytes). Usage:

    .venv/bin/python bench/evidence_bench.py [--runs 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from PIL import Image  # noqa: E402
from pypdf import PdfWriter  # noqa: E402

from academy.portfolio.evidence import EvidenceRefused, check_file  # noqa: E402


def noise_png(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def photo_jpeg(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        buffer, "JPEG", quality=95
    )
    return buffer.getvalue()


def many_page_pdf(pages: int) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_pdf(side: int) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PDF")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = Flask("bench")
    app.config["EVIDENCE_MAX_BYTES"] = 10 * 1024 * 1024
    files = {
        "PNG, random pixels": noise_png(1800),
        "JPEG, random pixels": photo_jpeg(1700),
        "PDF, 3,000 blank pages": many_page_pdf(3000),
        "PDF, 20,000 blank pages": many_page_pdf(20000),
        "PDF, 75,000 blank pages": many_page_pdf(75000),
        "PDF, one large image": image_pdf(1700),
    }
    # CPU time of this process as well as wall time: on a shared machine the wall time mostly
    # measures the neighbours
    print(f"{'file':26} {'size':>9} {'wall p50':>10} {'cpu p50':>10} {'cpu max':>10}  outcome")
    with app.app_context():
        for name, data in files.items():
            walls, cpus = [], []
            outcome = "accepted"
            for _ in range(args.runs):
                wall, cpu = time.perf_counter(), time.process_time()
                try:
                    check_file(data)
                except EvidenceRefused as refused:
                    outcome = "refused: " + refused.message[:40]
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            print(
                f"{name:26} {len(data) / 1048576:7.2f}MB"
                f" {statistics.median(walls) * 1000:8.1f}ms {statistics.median(cpus) * 1000:8.1f}ms"
                f" {max(cpus) * 1000:8.1f}ms  {outcome}"
            )


if __name__ == "__main__":
    main()
