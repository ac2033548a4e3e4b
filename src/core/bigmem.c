/*-------------------------------------------------------------------------
 *
 * bigmem.c
 *	  Large arrays for training rows: mapped memory that a background
 *	  thread pages in ahead of use and unmaps after it.
 *
 * Fresh memory costs the kernel a page fault per page on first write, to
 * find and zero the page, and as much again to free it: for the hundreds
 * of megabytes a training aggregate collects, about as long as the scan
 * that fills them.  The backend's scan uses one core; a background thread
 * on another asks the kernel to map the next pages in (madvise
 * MADV_POPULATE_WRITE, Linux 5.14) while the scan writes the earlier
 * ones, and unmaps arrays once they are handed back, while the backend
 * goes on.  Paging in never changes memory contents, so the backend may
 * write the same pages at the same time.
 *
 * The arrays are mmap()ed, not palloc()ed: their owner frees them with
 * uba_big_free(), also on error (rowset.c does it from a memory context
 * reset callback), and grows them with mremap() on Linux, which moves
 * page tables, not data.  uba.max_memory bounds them, not the memory
 * context machinery.  The thread calls no PostgreSQL function, starts
 * with every signal blocked, works in 2 MB steps, and ends itself after a
 * second without work.
 *
 * Arrays given back are kept mapped, up to uba.max_memory in all, and
 * new arrays are cut from them: the next array of a training (the
 * trainer's work arrays after the rows' arrival copy, or the next
 * training's rows) is written to pages that are already there.  On some
 * virtual machines a first touch costs a millisecond or more per MB,
 * several times a copy.  The kept arrays are unmapped when the thread
 * ends, five seconds after the pool was last used (one second after the
 * last job when nothing is kept).
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23	/* Linux 5.14; older headers lack it */
#endif

#define BIG_QUEUE 64
#define BIG_POOL 32				/* arrays kept mapped for reuse */
#define BIG_KEEP_SECONDS 5		/* how long they are kept unused */
/* Arrays from this size on are mapped memory; smaller ones are palloc'd in the caller's context */
#define BIG_ARRAY_BYTES (1024 * 1024)
#define BIG_STEP (2 * 1024 * 1024)
#define BIG_MIN_PREFAULT (256 * 1024)

typedef enum BigJobKind
{
	BIG_POPULATE,
	BIG_UNMAP
} BigJobKind;

typedef struct BigJob
{
	BigJobKind	kind;
	char	   *start;
	Size		len;
} BigJob;

/* A range of mapped memory */
typedef struct BigRange
{
	char	   *start;
	Size		len;
} BigRange;

static struct
{
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a job was queued */
	pthread_cond_t idle;		/* the thread finished a job */
	BigJob		queue[BIG_QUEUE];
	int			head;
	int			count;
	bool		paging;			/* the thread is paging [current, current + current_len) in */
	char	   *current;
	Size		current_len;
	int			cancel;			/* drop the current paging job (atomic) */
	bool		running;
	int			no_populate;	/* the kernel refused MADV_POPULATE_WRITE (atomic) */
	/* arrays given back, kept mapped (their pages present) for reuse */
	BigRange	pool[BIG_POOL];
	int			npool;
	Size		pooled;			/* bytes in pool */
	time_t		pool_used;		/* when the pool last gave or took an array */
}			big = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static time_t
MonotonicSeconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec;
}

static Size
PageSize(void)
{
	static Size page = 0;

	if (page == 0)
		page = (Size) sysconf(_SC_PAGESIZE);
	return page;
}

static Size
RoundToPages(Size bytes)
{
	Size		page = PageSize();

	return (bytes + page - 1) & ~(page - 1);
}

/* Page in [start, start + len) in steps, until done or cancelled */
static void
Populate(char *start, Size len)
{
#ifdef MADV_POPULATE_WRITE
	for (Size off = 0; off < len; off += BIG_STEP)
	{
		if (__atomic_load_n(&big.cancel, __ATOMIC_RELAXED))
			return;
		if (madvise(start + off, Min(BIG_STEP, len - off), MADV_POPULATE_WRITE) != 0 &&
			errno == EINVAL)
		{
			__atomic_store_n(&big.no_populate, 1, __ATOMIC_RELAXED);
			return;
		}
	}
#endif
}

/* Empty the pool into all (big.lock held); returns how many ranges */
static int
TakePool(BigRange *all)
{
	int			n = big.npool;

	memcpy(all, big.pool, sizeof(BigRange) * n);
	big.npool = 0;
	big.pooled = 0;
	return n;
}

/* Thread body: run queued jobs; end after a second without any */
static void *
BigThreadMain(void *unused)
{
	pthread_mutex_lock(&big.lock);
	for (;;)
	{
		BigJob		job;

		while (big.count == 0)
		{
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			if (pthread_cond_timedwait(&big.work, &big.lock, &until) == ETIMEDOUT &&
				big.count == 0)
			{
				/* kept arrays wait a few seconds for the next training */
				if (big.npool > 0 && MonotonicSeconds() - big.pool_used < BIG_KEEP_SECONDS)
					continue;
				/* idle: the kept arrays go back to the kernel, then the thread */
				{
					BigRange	all[BIG_POOL];
					int			n = TakePool(all);

					for (int i = 0; i < n; i++)
						munmap(all[i].start, all[i].len);
				}
				big.running = false;
				pthread_mutex_unlock(&big.lock);
				return NULL;
			}
		}
		job = big.queue[big.head];
		big.head = (big.head + 1) % BIG_QUEUE;
		big.count--;
		big.paging = job.kind == BIG_POPULATE;
		big.current = job.start;
		big.current_len = job.len;
		__atomic_store_n(&big.cancel, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&big.lock);

		if (job.kind == BIG_POPULATE)
			Populate(job.start, job.len);
		else
			munmap(job.start, job.len);

		pthread_mutex_lock(&big.lock);
		big.paging = false;
		pthread_cond_broadcast(&big.idle);
	}
}

/* Start the thread if it is not running (big.lock held) */
static void
StartThread(void)
{
	if (!big.running)
	{
		pthread_t	thread;
		pthread_attr_t attr;
		sigset_t	all,
					old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		big.running = pthread_create(&thread, &attr, BigThreadMain, NULL) == 0;
		pthread_attr_destroy(&attr);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
}

/*
 * Queue a job for the thread, starting it if needed.  Returns false when
 * that is impossible (no thread, or the queue is full).
 */
static bool
Submit(BigJobKind kind, char *start, Size len)
{
	bool		queued = false;

	pthread_mutex_lock(&big.lock);
	StartThread();
	if (big.running && big.count < BIG_QUEUE)
	{
		big.queue[(big.head + big.count) % BIG_QUEUE] = (BigJob) {kind, start, len};
		big.count++;
		pthread_cond_signal(&big.work);
		queued = true;
	}
	pthread_mutex_unlock(&big.lock);
	return queued;
}

/* Do [a, a + alen) and [b, b + blen) overlap? */
static inline bool
Overlap(const char *a, Size alen, const char *b, Size blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Drop queued paging jobs within [p, p + len) and wait until the thread
 * pages nothing in there: the backend is about to move that memory.
 */
static void
StopPaging(char *p, Size len)
{
	pthread_mutex_lock(&big.lock);
	if (big.running)
	{
		int			kept = 0;

		for (int i = 0; i < big.count; i++)
		{
			BigJob		job = big.queue[(big.head + i) % BIG_QUEUE];

			if (job.kind == BIG_UNMAP || !Overlap(job.start, job.len, p, len))
				big.queue[(big.head + kept++) % BIG_QUEUE] = job;
		}
		big.count = kept;
		if (big.paging && Overlap(big.current, big.current_len, p, len))
		{
			__atomic_store_n(&big.cancel, 1, __ATOMIC_RELAXED);
			while (big.paging && Overlap(big.current, big.current_len, p, len))
				pthread_cond_wait(&big.idle, &big.lock);
		}
	}
	pthread_mutex_unlock(&big.lock);
}

/* Hint: the part of an array from offset from will be written soon */
static void
PageInAhead(char *p, Size from, Size bytes)
{
	Size		first = RoundToPages(from);

	if (bytes > first && bytes - first >= BIG_MIN_PREFAULT &&
		!__atomic_load_n(&big.no_populate, __ATOMIC_RELAXED))
		(void) Submit(BIG_POPULATE, p + first, RoundToPages(bytes) - first);
}

/*
 * Unmap [p, p + len) on the background thread, after its queued paging
 * jobs (or now, without a thread or room in the queue)
 */
static void
Unmap(char *p, Size len)
{
	if (!Submit(BIG_UNMAP, p, len))
	{
		StopPaging(p, len);
		munmap(p, len);
	}
}

/*
 * Keep [p, p + len) mapped for reuse, joined to a kept neighbour, within
 * uba.max_memory in all: smaller kept arrays are unmapped to make room.
 * False when it cannot be kept (then the caller unmaps it).
 */
static bool
PoolPut(char *p, Size len)
{
	Size		limit = uba_memory_limit();
	BigRange	evict[BIG_POOL];
	int			nevict = 0;
	bool		kept = false;

	pthread_mutex_lock(&big.lock);
	StartThread();				/* it unmaps what is kept once idle */
	if (big.running && len <= limit)
	{
		/* join neighbours: a piece cut from a kept array comes back to it */
		for (int i = 0; i < big.npool;)
		{
			if (big.pool[i].start + big.pool[i].len == p || p + len == big.pool[i].start)
			{
				p = Min(p, big.pool[i].start);
				len += big.pool[i].len;
				big.pooled -= big.pool[i].len;
				big.pool[i] = big.pool[--big.npool];
				i = 0;
			}
			else
				i++;
		}
		while (big.npool > 0 && (big.npool == BIG_POOL || big.pooled + len > limit))
		{
			int			small = 0;

			for (int i = 1; i < big.npool; i++)
				if (big.pool[i].len < big.pool[small].len)
					small = i;
			evict[nevict++] = big.pool[small];
			big.pooled -= big.pool[small].len;
			big.pool[small] = big.pool[--big.npool];
		}
		big.pool_used = MonotonicSeconds();
		if (len <= limit)
		{
			big.pool[big.npool].start = p;
			big.pool[big.npool].len = len;
			big.npool++;
			big.pooled += len;
			kept = true;
		}
	}
	pthread_mutex_unlock(&big.lock);
	for (int i = 0; i < nevict; i++)
		Unmap(evict[i].start, evict[i].len);
	return kept;
}

/*
 * Cut len bytes from the smallest kept array that has them (its start;
 * the rest stays kept), or NULL.  The memory is not zeroed.
 */
static char *
PoolTake(Size len)
{
	char	   *p = NULL;
	int			best = -1;

	pthread_mutex_lock(&big.lock);
	for (int i = 0; i < big.npool; i++)
		if (big.pool[i].len >= len && (best < 0 || big.pool[i].len < big.pool[best].len))
			best = i;
	if (best >= 0)
	{
		big.pool_used = MonotonicSeconds();
		p = big.pool[best].start;
		big.pooled -= len;
		if (big.pool[best].len > len)
		{
			big.pool[best].start += len;
			big.pool[best].len -= len;
		}
		else
			big.pool[best] = big.pool[--big.npool];
	}
	pthread_mutex_unlock(&big.lock);
	return p;
}

/*
 * An array of newbytes, with the first oldbytes of old (an array from
 * here of oldbytes, or NULL); the rest is zero unless !zero (a caller
 * that writes all of it).  It is cut from a kept array when one has room
 * (old is copied, and kept in its turn); else it is mapped.  Unless
 * reserve, the new part is paged in ahead on the background thread.  A
 * reserved array costs no memory until written.  Errors when the memory
 * cannot be had.
 */
static void *
BigGrow(void *old, Size oldbytes, Size newbytes, bool reserve, bool zero)
{
	Size		oldlen = RoundToPages(Max(oldbytes, 1));
	Size		newlen = RoundToPages(Max(newbytes, 1));
	void	   *p;

	if (old != NULL && newlen == oldlen)
		return old;
	if (!reserve && (p = PoolTake(newlen)) != NULL)
	{
		/* pages already there: copying and zeroing cost a fraction of first touches */
		Size		keep = old != NULL ? Min(oldbytes, newbytes) : 0;

		/*
		 * A kept array that was only reserved (an ordered copy's room
		 * never written) has no pages yet: the background thread maps
		 * them while this thread copies or zeroes, or the caller writes.
		 */
		PageInAhead((char *) p, keep, newbytes);
		if (keep > 0)
			memcpy(p, old, keep);
		if (zero)
			memset((char *) p + keep, 0, newlen - keep);
		if (old != NULL)
			uba_big_free(old, oldbytes);
		return p;
	}
	if (old != NULL)
		StopPaging(old, oldlen);	/* the array may move */
	p = MAP_FAILED;
#ifdef MREMAP_MAYMOVE
	/* moves page tables, not data; it fails for a range that spans mappings (joined kept arrays) */
	if (old != NULL)
		p = mremap(old, oldlen, newlen, MREMAP_MAYMOVE);
#endif
	if (p == MAP_FAILED)
	{
		p = mmap(NULL, newlen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED && old != NULL)
		{
			memcpy(p, old, Min(oldbytes, newbytes));
			uba_big_free(old, oldbytes);
		}
	}
	if (p == MAP_FAILED)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory"),
				 errdetail("Failed to map %zu MB for training rows.", newlen >> 20)));
#ifdef MADV_HUGEPAGE
	/*
	 * Transparent huge pages where the kernel gives them on request: one
	 * fault maps 2 MB instead of 4 kB, and first touches of the arrays are
	 * most of what filling and ordering them costs (a no-op otherwise)
	 */
	(void) madvise(p, newlen, MADV_HUGEPAGE);
#endif
	if (!reserve)
		PageInAhead((char *) p, old ? oldbytes : 0, newbytes);
	return p;
}

void *
uba_big_grow(void *old, Size oldbytes, Size newbytes)
{
	return BigGrow(old, oldbytes, newbytes, false, true);
}

/*
 * Give an array back: the background thread unmaps it while the backend
 * goes on (or it is unmapped now, without a thread).  Queued paging jobs
 * for it run first, so nothing touches it after it is gone.
 */
void
uba_big_free(void *p, Size bytes)
{
	Size		len = RoundToPages(Max(bytes, 1));

	if (p == NULL)
		return;
	StopPaging(p, len);			/* nothing pages it in once it is reused or gone */
	if (!PoolPut(p, len))
		Unmap(p, len);
}

/*
 * Give back every kept array now (unmapped on the background thread):
 * for a trainer whose next allocations are a library's own, which cannot
 * reuse them.
 */
void
uba_big_trim(void)
{
	BigRange	all[BIG_POOL];
	int			n;

	pthread_mutex_lock(&big.lock);
	n = TakePool(all);
	pthread_mutex_unlock(&big.lock);
	for (int i = 0; i < n; i++)
		Unmap(all[i].start, all[i].len);
}

/* ---------- work arrays that live as long as a memory context ---------- */

typedef struct BigInContext
{
	MemoryContextCallback cb;
	void	   *p;
	Size		bytes;
} BigInContext;

static void
FreeInContext(void *arg)
{
	BigInContext *b = (BigInContext *) arg;

	uba_big_free(b->p, b->bytes);
}

/*
 * An array of bytes that lives until cxt is reset or deleted (also on
 * error): mapped, and cut from the kept arrays when they have room, so a
 * trainer's work arrays reuse the pages its rows were read into.  Zeroed
 * unless !zero.
 */
static void *
BigAlloc(MemoryContext cxt, Size bytes, bool zero)
{
	BigInContext *b;

	if (bytes < BIG_ARRAY_BYTES)
		return zero ? MemoryContextAllocZero(cxt, Max(bytes, 1)) : MemoryContextAlloc(cxt, Max(bytes, 1));
	b = MemoryContextAlloc(cxt, sizeof(BigInContext));
	b->p = BigGrow(NULL, 0, bytes, false, zero);
	b->bytes = bytes;
	b->cb.func = FreeInContext;
	b->cb.arg = b;
	MemoryContextRegisterResetCallback(cxt, &b->cb);
	return b->p;
}

void *
uba_big_alloc(MemoryContext cxt, Size bytes)
{
	return BigAlloc(cxt, bytes, true);
}

/* The same, not zeroed: for an array its caller writes in full before reading it */
void *
uba_big_alloc_raw(MemoryContext cxt, Size bytes)
{
	return BigAlloc(cxt, bytes, false);
}

/* ---------- arrays that start small: palloc'd first, mapped from 1 MB on ---------- */


/*
 * Grow the array *pp of *bytes (0 and NULL for none yet) to newbytes; small
 * arrays live in cxt.  *bytes always holds what is allocated, also when
 * growing fails, so uba_array_free() frees exactly that.
 */
static void ArrayGrow(MemoryContext cxt, void **pp, Size *bytes, Size newbytes, bool reserve, bool zero);

void
uba_array_grow(MemoryContext cxt, void **pp, Size *bytes, Size newbytes)
{
	ArrayGrow(cxt, pp, bytes, newbytes, false, true);
}

/* The same, the new part not zeroed where it is cut from kept memory: for arrays written before they are read */
void
uba_array_grow_raw(MemoryContext cxt, void **pp, Size *bytes, Size newbytes)
{
	ArrayGrow(cxt, pp, bytes, newbytes, false, false);
}

/*
 * The same for room that may never be written (the row set's room for an
 * ordered copy): mapped, not paged in ahead, so it costs no memory until
 * it is written.
 */
void
uba_array_reserve(MemoryContext cxt, void **pp, Size *bytes, Size newbytes)
{
	ArrayGrow(cxt, pp, bytes, newbytes, true, true);
}

/*
 * The first need bytes of a reserved array (uba_array_reserve) of *bytes,
 * not written yet, will be written in full now: the array becomes a kept
 * array's pages of need bytes when one has room (*pp and *bytes change;
 * not zeroed, as the caller overwrites them), or is paged in ahead on the
 * background thread.
 */
void
uba_array_page_in(void **pp, Size *bytes, Size need)
{
	Size		len = RoundToPages(Max(need, 1));
	char	   *q;

	Assert(need <= *bytes);
	if (*pp == NULL || *bytes < BIG_ARRAY_BYTES || need < BIG_ARRAY_BYTES)
		return;
	if ((q = PoolTake(len)) != NULL)
	{
		Size		oldlen = RoundToPages(*bytes);

		/* a kept array that was only reserved has no pages yet */
		PageInAhead(q, 0, need);
		/* its pages were never written, so not worth keeping */
		StopPaging(*pp, oldlen);
		Unmap(*pp, oldlen);
		*pp = q;
		*bytes = need;
	}
	else
		PageInAhead((char *) *pp, 0, need);
}

static void
ArrayGrow(MemoryContext cxt, void **pp, Size *bytes, Size newbytes, bool reserve, bool zero)
{
	void	   *old = *pp;

	if (newbytes < BIG_ARRAY_BYTES)
		*pp = old ? repalloc(old, newbytes) : MemoryContextAlloc(cxt, newbytes);
	else if (old == NULL || *bytes >= BIG_ARRAY_BYTES)
		*pp = BigGrow(old, *bytes, newbytes, reserve, zero);
	else
	{
		void	   *p = BigGrow(NULL, 0, newbytes, reserve, zero);

		memcpy(p, old, *bytes);
		pfree(old);
		*pp = p;
	}
	*bytes = newbytes;
}

/* Free the array *pp of *bytes made by uba_array_grow() */
void
uba_array_free(void **pp, Size *bytes)
{
	if (*pp != NULL)
	{
		if (*bytes >= BIG_ARRAY_BYTES)
			uba_big_free(*pp, *bytes);
		else
			pfree(*pp);
	}
	*pp = NULL;
	*bytes = 0;
}
