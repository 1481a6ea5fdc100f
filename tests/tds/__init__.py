"""A TDS 7.4 server for tests: speaks enough of Microsoft's [MS-TDS] protocol for real SQL
Server clients (FreeTDS tsql/freebcp, python-tds, Microsoft's ODBC driver via mssql-python) and
executes their T-SQL on the test run's PostgreSQL.

Modules: packets (framing, TLS inside PRELOGIN), login (PRELOGIN/LOGIN7), kerberos (SSPI logins),
session (one connection, attention), batch (SQL batches, transactions), rpc (sp_executesql,
sp_prepexec...), bulk (INSERT BULK onto COPY), splitter/translate (T-SQL to PostgreSQL with
sqlglot plus a shim), catalog (sys.* views, DDL and system procedures SQL Server's way),
tdstypes/values (type encodings both ways), errors (SQL Server numbers).

What it does not emulate (so stays untested against a real SQL Server):
- any error aborts the batch and rolls back an open transaction (as with SET XACT_ABORT ON);
  RAISERROR with severity > 10 reports and continues, THROW aborts;
- DECLARE, EXEC, TRY/CATCH, MERGE, USE, temp tables' scoping, OUTPUT clauses, SCOPE_IDENTITY:
  answered with error 40000 naming the feature;
- statements split on ';' and on lines that start a statement (T-SQL needs neither);
- datetimeoffset comes back in UTC (PostgreSQL keeps no offset); money is PostgreSQL money;
  nvarchar/nchar become text (NVARCHAR on the wire), varchar stays varchar (cp1252 VARCHAR);
- no MARS, no TDS 8 (strict encryption), TLS 1.2 only, no NTLM, no FEDAUTH, no
  column encryption; FEATUREEXTACK acknowledges no feature.
"""
