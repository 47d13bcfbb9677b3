"""Migrations and models cannot drift: upgrade head on an empty database, then autogenerate
must find nothing to do (the `alembic check` guarantee), on SQLite and PostgreSQL. Data
migrations (0004: near-duplicate signatures) are checked on stored rows, both ways."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tracker.archive import store_article
from tracker.article import ParsedArticle
from tracker.articles import prepare_article
from tracker.db import current_revision, head_revision, make_engine, upgrade
from tracker.models import Article, ArticleBand, Base, Source
from tracker.text import band_hashes, content_hash, minhash_signature, signature_to_bytes


def test_upgrade_head_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    from alembic import command

    from tracker.db import alembic_config

    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


# -- 0004: near-duplicate signatures recomputed in the new scheme -----------------------------

ORIGINAL = (
    "과학기술정보통신부는 독자 AI 파운데이션 모델 1차 단계평가 결과를 공개했다. 다섯 개 정예팀 "
    "가운데 네 팀이 다음 단계로 올라갔고 한 팀은 기준을 넘지 못했다. 정부는 추가 공모로 빈자리를 "
    "채울 계획이다. 평가는 벤치마크 점수와 전문가 평가, 사용자 평가를 합산하는 방식으로 진행됐다."
)
REWRITE = ORIGINAL.replace("공개했다", "발표했다").replace("계획이다", "방침이다")
UNRELATED = "통신사 한 곳이 새 요금제를 내놨다. 데이터 제공량을 늘리고 가격은 그대로 뒀다. " * 4


def _migration(revision: str) -> Any:
    from alembic.script import ScriptDirectory

    from tracker.db import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision).module


def _stored(engine: Engine) -> dict[int, tuple[bytes | None, dict[int, int]]]:
    """Return each article's stored signature and {band: hash}."""
    with engine.connect() as connection:
        signatures = dict(connection.execute(select(Article.id, Article.minhash)).all())
        bands: dict[int, dict[int, int]] = {i: {} for i in signatures}
        for article_id, band, value in connection.execute(
            select(ArticleBand.article_id, ArticleBand.band, ArticleBand.hash)
        ):
            bands[article_id][band] = value
    return {i: (signatures[i], bands[i]) for i in signatures}


def _legacy_archive(engine: Engine, permutations: int, rows: int) -> dict[int, str]:
    """Store three articles the way the archive did before 0004; return {id: body}."""
    legacy = _migration("0004").LEGACY
    bodies = {}
    with Session(engine) as session, session.begin():
        for index, body in enumerate((ORIGINAL, UNRELATED, "서명 없이 저장된 옛 기사 본문.")):
            signature = legacy.signature(body, permutations)
            article = Article(
                canonical_url=f"https://old.example/{index}",
                content_hash=content_hash(body),
                title=f"기사 {index}",
                body=body,
                minhash=signature_to_bytes(signature) if index < 2 else None,
            )
            session.add(article)
            session.flush()
            article.story_id = article.id
            bodies[article.id] = body
            if index < 2:
                session.add_all(
                    ArticleBand(article_id=article.id, band=band, hash=value)
                    for band, value in enumerate(legacy.bands(signature, rows))
                )
    return bodies


@pytest.mark.parametrize(("permutations", "rows"), [(128, 6), (64, 4)])
def test_0004_recomputes_signatures_and_bands_both_ways(
    database_url: str, permutations: int, rows: int
) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0003")
    bodies = _legacy_archive(engine, permutations, rows)
    before = _stored(engine)
    unsigned = max(bodies)

    upgrade(engine)
    after = _stored(engine)
    for article_id, body in bodies.items():
        if article_id == unsigned:
            assert after[article_id] == (None, {})  # never grouped before, still not
            continue
        signature = minhash_signature(body, permutations)
        assert after[article_id][0] == signature_to_bytes(signature)
        assert after[article_id][1] == dict(enumerate(band_hashes(signature, rows)))
        assert after[article_id] != before[article_id]

    from alembic import command

    from tracker.db import alembic_config

    command.downgrade(alembic_config(engine), "0003")
    assert _stored(engine) == before  # the previous scheme, value for value
    engine.dispose()


def test_0004_lets_new_articles_join_stories_stored_before_it(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "0003")
    bodies = _legacy_archive(engine, 128, 6)
    original = next(i for i, body in bodies.items() if body == ORIGINAL)
    upgrade(engine)
    rewrite = ParsedArticle(url="https://new.example/rewrite", title="재작성", body=REWRITE)
    with Session(engine) as session, session.begin():
        source = Source(name="feed", type="rss", official=False)
        session.add(source)
        session.flush()
        outcome = store_article(session, prepare_article(rewrite, (), permutations=128), source.id)
    assert outcome.status == "new"
    assert outcome.story_id == original
    engine.dispose()


def test_declared_head_is_alembics_head() -> None:
    """The head read from the migration files' text is the one Alembic computes."""
    from tracker.db import declared_head

    assert declared_head() == head_revision() is not None


def test_opening_a_database_at_head_does_not_import_alembic(tmp_path: Any) -> None:
    """Every command opens the database; at head that must not cost Alembic and the migration
    modules (numpy among them), and behind head it still upgrades."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'head.db'}"
    upgrade(make_engine(url), "0004")

    def run(code: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", f"import sys\nfrom tracker.db import Database\n{code}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    # Behind head: Database() upgrades (with Alembic).
    assert run(f"Database({url!r})") == ""
    assert current_revision(make_engine(url)) == head_revision()
    # At head: settled with one query.
    at_head = run(
        f"Database({url!r})\nprint(*(m for m in ('alembic', 'numpy') if m in sys.modules))"
    )
    assert at_head == ""
