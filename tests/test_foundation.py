"""The database comes up with PostGIS and the schema; codes validate."""

from gis.codes import birth_date_and_sex, grid_code_problem, id_number_check_digit, id_number_problem


def test_postgis_and_schema(conn):
    assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")
    tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
    assert {"community", "grid", "household", "person", "key_person", "grid_worker"} <= tables


def test_id_number_checksum():
    valid = "11010519491231002" + id_number_check_digit("11010519491231002")
    assert valid == "11010519491231002X"
    assert id_number_problem(valid) is None
    assert "checksum" in id_number_problem("110105194912310021")
    assert "birth date" in id_number_problem("110105194902300021")


def test_grid_code_must_start_with_community():
    assert grid_code_problem("431002001001001", "431002001001") is None
    assert "must start" in grid_code_problem("431002001002001", "431002001001")
    assert grid_code_problem("43100200100100", None)


def test_vectorised_id_check_agrees_with_the_scalar_one():
    import numpy as np
    import pandas as pd

    from gis.codes import birth_dates_and_sexes, id_number_problems

    rng = np.random.default_rng(7)
    bodies = [f"4310031{rng.integers(950, 1000):03d}{rng.integers(1, 13):02d}{rng.integers(1, 32):02d}"
              f"{rng.integers(0, 1000):03d}" for _ in range(2000)]
    values = [b + (id_number_check_digit(b) if i % 3 else str(rng.integers(0, 10)))
              for i, b in enumerate(bodies)] + ["12345", "43100319990230001X", "x" * 18]
    column = pd.Series(values, index=range(10, 10 + len(values)))
    vectorised = id_number_problems(column)
    assert list(vectorised) == [id_number_problem(v) for v in values]
    valid = column[vectorised.isna()]
    born, sex = birth_dates_and_sexes(valid)
    assert list(zip(born, sex, strict=True)) == [birth_date_and_sex(v) for v in valid]
