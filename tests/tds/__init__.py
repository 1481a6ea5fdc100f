"""A TDS 7.4 server for tests: speaks enough of Microsoft's [MS-TDS] protocol for real SQL
Server clients, and executes their T-SQL on the test run's PostgreSQL (see server.py)."""
