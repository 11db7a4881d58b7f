"""The database comes up with PostGIS and the schema; codes validate."""

from gis.codes import grid_code_problem, id_number_check_digit, id_number_problem


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
