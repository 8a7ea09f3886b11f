"""The only door to the database (SQLAlchemy models, sessions, migrations): arrives with storage."""
