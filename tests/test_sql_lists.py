"""one_of: a list of ids as one array on PostgreSQL, an IN on SQLite; the same rows either way."""
import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.sql_lists import one_of

pytestmark = pytest.mark.both_databases


def names_of(ids):
    return sorted(db.session.scalars(select(Organisation.name).where(one_of(Organisation.id, ids))))


def test_one_of_finds_the_rows_listed_and_none_for_an_empty_list(factory):
    schools = [factory.organisation(f"School {n:03d}") for n in range(300)]
    assert names_of([schools[0].id, schools[299].id, 10 ** 9]) == ["School 000", "School 299"]
    assert names_of(school.id for school in schools) == [school.name for school in schools]
    assert names_of([]) == []
    sent = str(select(Organisation.id).where(one_of(Organisation.id, [1, 2])).compile(db.engine))
    assert ("= ANY" in sent) == (db.engine.dialect.name == "postgresql")
