"""tinyrun integration-test harness.

Small helpers that start and drive the real things the integration tests run against, all on
loopback and all inside one temporary folder per test session:

- :mod:`harness.net`        free ports, waiting for a port to open
- :mod:`harness.osuser`     running server programs as an unprivileged system user
- :mod:`harness.tls`        a throwaway certificate authority and server certificates
- :mod:`harness.kdc`        an MIT Kerberos KDC (krb5kdc) with its own realm
- :mod:`harness.pgcluster`  a PostgreSQL cluster with password, TLS and GSSAPI authentication
- :mod:`harness.airflow`    Airflow connection strings (URI and JSON forms)
- :mod:`harness.runner`     running a tinyrun binary with a clean environment
- :mod:`harness.docker`     running a tinyrun image the way Airflow's DockerOperator would
- :mod:`harness.process`    starting a child with files for its streams, sampling its peak RSS
- :mod:`harness.result`     what a run produced: exit code, result JSON, log lines, peak RSS
- :mod:`harness.checks`     contract assertions shared by runner tests (exit code, one error line)
- :mod:`harness.platformstack`  `make platform-start MOCKS=1` isolated for one test (own project, volume, ports)

Nothing here knows about pytest; tests/conftest.py turns these into session fixtures.
"""
