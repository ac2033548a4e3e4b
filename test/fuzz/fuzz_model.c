/*-------------------------------------------------------------------------
 *
 * fuzz_model.c
 *	  libFuzzer harness for uba's model readers, outside the server.
 *
 * Each input is a control byte and a model blob.  When the control byte is
 * odd, the harness writes the right checksum into the blob first, so that
 * mutations reach the metadata and payload parsers instead of stopping at
 * the checksum (the seed corpus has both forms).  uba_model_open() validates the header,
 * checksum and metadata, and the kind's describer (the function behind
 * uba_model_info) parses and validates the whole payload; the same
 * parsers serve every scoring function.  Errors are ereport(ERROR),
 * which this harness turns into a longjmp back to the entry point, as
 * the server would abort the query.  Built with AddressSanitizer and
 * UBSan, every overread, overflow or undefined behaviour is a crash.
 *
 * The server's memory and error machinery is replaced by the small
 * stand-ins below: every allocation is its own malloc() (so ASan sees
 * each bound) and all of them are freed after each input.
 *
 *   make -C test/fuzz            (builds ./fuzz_model and the seed corpus)
 *   test/fuzz/fuzz_model -max_total_time=60 test/fuzz/corpus
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/memutils.h"

/* ---------- memory: a list of blocks, freed after each input ---------- */

typedef struct Block
{
	struct Block *prev;
	struct Block *next;
	size_t		size;
	max_align_t align[];		/* the caller's bytes follow, aligned */
} Block;

static Block blocks = {&blocks, &blocks, 0};

MemoryContext CurrentMemoryContext = NULL;
MemoryContext TopMemoryContext = NULL;
MemoryContext ErrorContext = NULL;

/* never set: a reader that checks for interrupts (long validation loops) goes on */
volatile sig_atomic_t InterruptPending = false;

static void *
Take(size_t size, bool zero)
{
	Block	   *b = malloc(offsetof(Block, align) + (size ? size : 1));

	if (b == NULL)
		abort();
	b->size = size;
	b->next = blocks.next;
	b->prev = &blocks;
	blocks.next->prev = b;
	blocks.next = b;
	if (zero)
		memset(b->align, 0, size);
	return b->align;
}

static Block *
BlockOf(void *p)
{
	return (Block *) ((char *) p - offsetof(Block, align));
}

static void
FreeAll(void)
{
	while (blocks.next != &blocks)
	{
		Block	   *b = blocks.next;

		blocks.next = b->next;
		free(b);
	}
	blocks.prev = &blocks;
}

void	   *palloc(Size size) { return Take(size, false); }
void	   *palloc0(Size size) { return Take(size, true); }
void	   *palloc_extended(Size size, int flags) { return Take(size, (flags & MCXT_ALLOC_ZERO) != 0); }
void	   *MemoryContextAlloc(MemoryContext c, Size size) { return Take(size, false); }
void	   *MemoryContextAllocZero(MemoryContext c, Size size) { return Take(size, true); }
void	   *MemoryContextAllocHuge(MemoryContext c, Size size) { return Take(size, false); }
void	   *MemoryContextAllocExtended(MemoryContext c, Size size, int flags) { return Take(size, (flags & MCXT_ALLOC_ZERO) != 0); }

void
pfree(void *p)
{
	Block	   *b = BlockOf(p);

	b->prev->next = b->next;
	b->next->prev = b->prev;
	free(b);
}

void *
repalloc(void *p, Size size)
{
	Block	   *b = BlockOf(p);
	void	   *q = Take(size, false);

	memcpy(q, p, Min(b->size, size));
	pfree(p);
	return q;
}

void	   *repalloc_huge(void *p, Size size) { return repalloc(p, size); }

char *
pstrdup(const char *s)
{
	size_t		n = strlen(s);
	char	   *d = Take(n + 1, false);

	memcpy(d, s, n + 1);
	return d;
}

char *
pnstrdup(const char *s, Size len)
{
	size_t		n = strnlen(s, len);
	char	   *d = Take(n + 1, false);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char	   *MemoryContextStrdup(MemoryContext c, const char *s) { return pstrdup(s); }

/* ---------- errors: ERROR and above jump back to the entry point ---------- */

sigjmp_buf *PG_exception_stack = NULL;
ErrorContextCallback *error_context_stack = NULL;
static sigjmp_buf on_error;
static int	error_level;

bool
errstart(int elevel, const char *domain)
{
	error_level = elevel;
	return elevel >= ERROR;
}

bool		errstart_cold(int elevel, const char *domain) { return errstart(elevel, domain); }

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (error_level >= ERROR)
		siglongjmp(on_error, 1);
}

int			errcode(int sqlerrcode) { return 0; }
int			errmsg(const char *fmt,...) { return 0; }
int			errmsg_internal(const char *fmt,...) { return 0; }
int			errdetail(const char *fmt,...) { return 0; }
int			errdetail_internal(const char *fmt,...) { return 0; }
int			errhint(const char *fmt,...) { return 0; }
int			errcontext_msg(const char *fmt,...) { return 0; }
bool		errcontext_start(void) { return false; }
int			GetDatabaseEncoding(void) { return PG_UTF8; }

/* mbutils.c's check, on libpgcommon's per-encoding verifier */
bool
pg_verify_mbstr(int encoding, const char *mbstr, int len, bool noError)
{
	return pg_encoding_verifymbstr(encoding, mbstr, len) == len;
}

/* escape_json (utils/adt/json.c) for describers that print names: a plain quote is enough here */
void
escape_json(StringInfo buf, const char *str)
{
	appendStringInfoChar(buf, '"');
	appendStringInfoString(buf, str);
	appendStringInfoChar(buf, '"');
}

/* float8out_internal (utils/adt/float.c) for the classes of multi-class models */
char *
float8out_internal(double num)
{
	return psprintf("%.17g", num);
}

/* ---------- the fuzz target ---------- */

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024 * 1024)
		return 0;
	if (sigsetjmp(on_error, 0) == 0)
	{
		bytea	   *blob = palloc(VARHDRSZ + size);
		UbaModelMeta meta;
		UbaReader	payload;
		StringInfoData out;

		if (size < 1)
			goto done;
		SET_VARSIZE(blob, VARHDRSZ + size - 1);
		memcpy(VARDATA(blob), data + 1, size - 1);
		if ((data[0] & 1) && size - 1 >= UBA_MODEL_HEADER_SIZE)
		{
			char	   *p = VARDATA(blob);
			uint32		crc = uba_model_crc(p, size - 1);

			memcpy(p + 20, &crc, sizeof(crc));
		}
		uba_model_open(blob, UBA_KIND_ANY, &meta, &payload);
		initStringInfo(&out);
		uba_model_describe(&meta, &payload, &out);
	}
done:
	FreeAll();
	return 0;
}
