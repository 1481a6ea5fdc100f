/* ptype: the portable column types and the one table that maps each to an exact type per engine
 * (README "model-deployer" shows the same table). */
#ifndef MD_PTYPE_H
#define MD_PTYPE_H

#include <stdbool.h>
#include <stddef.h>

enum engine { ENGINE_POSTGRES, ENGINE_MSSQL, ENGINE_COUNT };

enum ptype {
	PT_UNKNOWN, /* a catalog type no portable type maps to */
	PT_SMALLINT,
	PT_INT,
	PT_BIGINT,
	PT_DECIMAL,
	PT_TEXT,
	PT_VARCHAR,
	PT_BOOL,
	PT_DATE,
	PT_TIMESTAMP,
	PT_TIMESTAMPTZ,
	PT_UUID,
	PT_JSON,
	PT_BYTES
};

struct mtype {
	enum ptype kind;
	int p, s; /* decimal(p,s); varchar(p) */
};

/* Parse a portable type ("decimal(12,2)", "varchar(50)", "bigint"). Returns 0, or -1 with the
 * reason in err. */
int ptype_parse(const char *text, struct mtype *out, char *err, size_t errlen);

/* The portable spelling ("decimal(12,2)"). */
void ptype_format(const struct mtype *t, char *out, size_t len);

/* The engine's exact type; for PostgreSQL spelled as format_type() prints it. */
void ptype_engine(enum engine e, const struct mtype *t, char *out, size_t len);

/* The portable type an engine's catalog spelling stands for (PT_UNKNOWN when none). */
struct mtype ptype_from_engine(enum engine e, const char *spelled);

/* True when every value of from fits into to without loss (int -> bigint, varchar(10) ->
 * varchar(20), varchar -> text, decimal(10,2) -> decimal(12,2)); false for any narrowing. */
bool ptype_widens(const struct mtype *from, const struct mtype *to);

const char *engine_name(enum engine e);

#endif
