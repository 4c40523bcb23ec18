from sqlalchemy import create_engine, text


def test_fresh_database_is_empty_and_writable(database_url):
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note VARCHAR(20))"))
        conn.execute(text("INSERT INTO probe (id, note) VALUES (1, 'é')"))
        assert conn.execute(text("SELECT note FROM probe")).scalar_one() == "é"
    engine.dispose()
