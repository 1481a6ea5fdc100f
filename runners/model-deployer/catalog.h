/* catalog: a live database read back into models (struct catalog of diff.h), per engine. Only the
 * schemas the models use are read; the result compares with models column by column. */
#ifndef MD_CATALOG_H
#define MD_CATALOG_H

#include <libpq-fe.h>

#include "diff.h"

/* Read the PostgreSQL catalog (pg_catalog) for the schemas of want. Returns TR_EXIT_OK, or the
 * exit code of a failed query (reported). */
int catalog_pg_read(PGconn *conn, const struct model_set *want, struct catalog *out);

#endif
