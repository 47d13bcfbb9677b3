"""near-duplicate signatures: one-permutation MinHash (scheme oph1)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 18:10:00.000000

Data only, no schema change. ``articles.minhash`` and ``article_bands`` hold MinHash
signatures and LSH band hashes; tracker.text now computes them with one-permutation hashing
(scheme ``oph1``) instead of datasketch's k-permutation MinHash. Values of the two schemes
never match, so an archive keeping the old ones would never group a new article with a stored
one. The upgrade recomputes both from the stored (already normalized) bodies; the downgrade
recomputes the previous scheme, whose code is frozen below so it does not depend on what
tracker.text becomes.

The signature length (``dedupe.minhash_permutations``) is read from each stored signature and
the band width (``dedupe.minhash_band_rows``) from the stored bands, so an archive built with
a non-default configuration keeps it. Stories (``articles.story_id``) are not touched.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import zlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import sqlalchemy as sa
from alembic import op

from tracker.text import band_hashes, minhash_signature

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

_CHUNK = 500
_DEFAULT_BAND_ROWS = 6

_articles = sa.table(
    "articles",
    sa.column("id", sa.Integer),
    sa.column("body", sa.Text),
    sa.column("minhash", sa.LargeBinary),
)
_bands = sa.table(
    "article_bands",
    sa.column("article_id", sa.Integer),
    sa.column("band", sa.SmallInteger),
    sa.column("hash", sa.BigInteger),
)


# A NamedTuple, not a dataclass: Alembic loads this file without registering it as a module,
# which dataclasses need to resolve postponed annotations.
class Scheme(NamedTuple):
    """How one scheme turns a normalized body into a signature and a signature into bands."""

    signature: Callable[[str, int], np.ndarray]
    bands: Callable[[np.ndarray, int], list[int]]


# -- the scheme before this revision (tracker.text up to 0003), frozen -------------------------

_LEGACY_WORD_RE = re.compile(r"\w+", re.UNICODE)
_LEGACY_MULTIPLIERS = (np.uint64(0x9E3779B1), np.uint64(0x85EBCA77), np.uint64(1))


def _legacy_shingle_hashes(text: str, size: int = 3) -> np.ndarray:
    words = _LEGACY_WORD_RE.findall(text.casefold())
    if not words:
        return np.empty(0, dtype=np.uint64)
    hashes = np.fromiter(
        (zlib.crc32(word.encode("utf-8")) for word in words), dtype=np.uint64, count=len(words)
    )
    if len(words) < size:
        combined = np.uint64(0)
        with np.errstate(over="ignore"):
            for value in hashes:
                combined = combined * _LEGACY_MULTIPLIERS[0] + value
        return np.array([combined & np.uint64(0xFFFFFFFF)], dtype=np.uint64)
    count = len(words) - size + 1
    combined_all = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        multiplier = _LEGACY_MULTIPLIERS[offset] if offset < len(_LEGACY_MULTIPLIERS) else 1
        combined_all = combined_all * np.uint64(31) + hashes[offset : offset + count] * multiplier
    return np.unique(combined_all & np.uint64(0xFFFFFFFF))


def legacy_signature(text: str, num_perm: int) -> np.ndarray:
    """Return the datasketch k-permutation MinHash signature stored before this revision."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=num_perm, hashfunc=int)
    hashes = _legacy_shingle_hashes(text)
    if len(hashes):
        minhash.update_batch(hashes.tolist())
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def legacy_bands(signature: np.ndarray, rows: int) -> list[int]:
    """Return the blake2b band hashes stored before this revision."""
    result = []
    for band in range(len(signature) // rows):
        chunk = np.asarray(signature[band * rows : (band + 1) * rows], dtype="<u8").tobytes()
        digest = hashlib.blake2b(chunk, digest_size=8, person=struct.pack("<Q", band)).digest()
        result.append(struct.unpack("<q", digest)[0])
    return result


LEGACY = Scheme(legacy_signature, legacy_bands)
CURRENT = Scheme(minhash_signature, band_hashes)


# -- recomputation -----------------------------------------------------------------------------


def _band_rows(connection: sa.Connection, stored: Scheme) -> int:
    """Return the band width the archive was built with, read back from its stored bands.

    ``bands = permutations // rows`` leaves the width ambiguous for wide bands, so every
    width that gives the stored band count is tried against a stored band hash.
    """
    sample = connection.execute(
        sa.select(_bands.c.article_id, _articles.c.minhash)
        .join(_articles, _articles.c.id == _bands.c.article_id)
        .where(_articles.c.minhash.is_not(None))
        .limit(1)
    ).first()
    if sample is None:
        return _DEFAULT_BAND_ROWS
    rows_of_article = connection.execute(
        sa.select(_bands.c.band, _bands.c.hash).where(_bands.c.article_id == sample.article_id)
    ).all()
    stored_bands = dict(rows_of_article)
    signature = np.frombuffer(sample.minhash, dtype="<u8")
    for rows in range(1, len(signature) + 1):
        if len(signature) // rows == len(stored_bands) and stored.bands(signature, rows) == [
            stored_bands[band] for band in range(len(stored_bands))
        ]:
            return rows
    logger.warning("stored LSH bands match no band width; using %d rows", _DEFAULT_BAND_ROWS)
    return _DEFAULT_BAND_ROWS


def _recompute(stored: Scheme, target: Scheme) -> None:
    connection = op.get_bind()
    rows = _band_rows(connection, stored)
    last_id, done = 0, 0
    while True:
        chunk = connection.execute(
            sa.select(_articles.c.id, _articles.c.body, _articles.c.minhash)
            .where(_articles.c.minhash.is_not(None), _articles.c.id > last_id)
            .order_by(_articles.c.id)
            .limit(_CHUNK)
        ).all()
        if not chunk:
            break
        updates, band_rows = [], []
        for article_id, body, blob in chunk:
            # Articles stored without a signature were never grouped; they stay that way.
            signature = target.signature(body, len(blob) // 8)
            updates.append(
                {"article_id": article_id, "signature": np.asarray(signature, "<u8").tobytes()}
            )
            band_rows.extend(
                {"article_id": article_id, "band": band, "hash": value}
                for band, value in enumerate(target.bands(signature, rows))
            )
        ids = [article_id for article_id, _, _ in chunk]
        connection.execute(
            _articles.update()
            .where(_articles.c.id == sa.bindparam("article_id"))
            .values(minhash=sa.bindparam("signature")),
            updates,
        )
        connection.execute(_bands.delete().where(_bands.c.article_id.in_(ids)))
        if band_rows:
            connection.execute(_bands.insert(), band_rows)
        last_id = ids[-1]
        done += len(chunk)
        if done % 10_000 < _CHUNK:
            logger.info("recomputed near-duplicate signatures of %d articles", done)


def upgrade() -> None:
    _recompute(stored=LEGACY, target=CURRENT)


def downgrade() -> None:
    _recompute(stored=CURRENT, target=LEGACY)
