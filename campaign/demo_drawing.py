"""Drawn signatures for the demo's fictional signatories: handwritten-looking, distinct, PNG."""

import hashlib
import multiprocessing
import os
import random
import zlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise

from PIL import Image, ImageDraw

from campaign.signatures.images import encode_png
from campaign.upstream_warnings import silence_upstream_warnings

IMAGE_WIDTH, IMAGE_HEIGHT = 300, 100
MARGIN = 3  # keeps the widest pen inside the canvas
# From this many signatories on, other processes draw the signatures (starting them costs
# more than drawing a few hundred here).
PROCESS_AT_LEAST = 2000
INKS = ((20, 24, 60), (15, 15, 15), (25, 45, 120))  # fmt: skip


def _curve(anchors: list[tuple[float, float]], samples: int) -> list[tuple[float, float]]:
    """Sample a smooth curve through the anchors: quadratic Béziers joined at midpoints."""
    pieces = len(anchors) - 2
    joins = [anchors[0]]
    joins += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in pairwise(anchors[1:-1])]
    joins.append(anchors[-1])
    points = []
    for k in range(samples):
        t = k * pieces / (samples - 1)
        i = min(int(t), pieces - 1)
        u = t - i
        (x0, y0), (cx, cy), (x1, y1) = joins[i], anchors[i + 1], joins[i + 1]
        a, b, c = (1 - u) ** 2, 2 * (1 - u) * u, u * u
        points.append((a * x0 + b * cx + c * x1, a * y0 + b * cy + c * y1))
    return points


def draw_signature(seed: int) -> bytes:
    """Draw a handwritten-looking signature, the same for the same seed, as a PNG.

    The ink is on white, as signing stores a drawn signature (signatures.images.clean_png).
    """
    rng = random.Random(seed)  # noqa: S311 - a reproducible drawing, not a secret
    image = Image.new("RGB", (IMAGE_WIDTH, IMAGE_HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    ink, width = rng.choice(INKS), rng.choice((2, 3))
    right, bottom = IMAGE_WIDTH - MARGIN, IMAGE_HEIGHT - MARGIN
    x, baseline = rng.uniform(10, 40), IMAGE_HEIGHT / 2 + rng.uniform(-8, 8)
    strokes = rng.randint(3, 6)
    # Words share the width left, so that the last ones are not crowded against the edge.
    share = (IMAGE_WIDTH - 15 - x) / strokes
    for stroke in range(strokes):
        span = share * rng.uniform(0.9, 1.3)
        n = rng.randint(4, 8)
        if stroke == strokes - 1 and rng.random() < 0.4:
            # An underline flourish under what came before.
            start, span, height = rng.uniform(5, 40), rng.uniform(120, 240), rng.uniform(2, 8)
            y0 = baseline + rng.uniform(18, 30)
        else:
            # A word: humps going up and down along a drifting baseline, a tall first letter.
            start, height = x, rng.uniform(30, 42) if stroke == 0 else rng.uniform(12, 30)
            y0 = baseline
            x += share * rng.uniform(0.9, 1.1)
            baseline += rng.uniform(-6, 6)
        # The curve stays within its anchors' hull, so keeping the anchors on the canvas
        # keeps the whole stroke on it.
        anchors = [
            (
                min(max(start + span * j / (n - 1) + rng.uniform(-6, 6), MARGIN), right),
                min(max(y0 + (-1) ** j * height * rng.uniform(0.3, 1), MARGIN), bottom),
            )
            for j in range(n)
        ]
        draw.line(_curve(anchors, rng.randint(10, 30)), fill=ink, width=width, joint="curve")
    # Run-length matching only: 0.3 ms a signature where level 4's full matching took 0.7 ms
    # (100,000 drawn at each load, the most of its CPU); 1.7 KB where that gave 1.3 KB.
    return encode_png(image, level=4, strategy=zlib.Z_RLE)


def distinct_images(seeds: list[int]) -> Iterator[bytes]:
    """Yield a signature per seed, in order; a repeated drawing is drawn again from seed + 1.

    Many are drawn in other processes (drawing holds the GIL, and this one meanwhile writes
    the rows), started afresh ("spawn"): a fork of this process, which may have threads, could
    inherit a lock held by one of them, and the fork server is the dossier's (pdf.py preloads
    its modules into it).
    """
    seen: set[bytes] = set()
    pool = None
    if len(seeds) >= PROCESS_AT_LEAST:
        workers = os.cpu_count() or 1
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=silence_upstream_warnings,  # as the app does: they import its modules
        )
        pngs = pool.map(draw_signature, seeds, chunksize=max(1, min(500, len(seeds) // workers)))
    else:
        pngs = map(draw_signature, seeds)
    try:
        for seed, png in zip(seeds, pngs, strict=True):
            while (digest := hashlib.sha256(png).digest()) in seen:
                seed += 1
                png = draw_signature(seed)
            seen.add(digest)
            yield png
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)  # on an error, draw nothing more
