/*-------------------------------------------------------------------------
 *
 * prefault.c
 *	  Page in freshly allocated memory on a background thread.
 *
 * The first write to each page of a new allocation is a page fault in
 * which the kernel finds and zeroes a page: for the hundreds of megabytes
 * a training aggregate collects, about half a millisecond per megabyte,
 * as much time as the scan that fills them.  The backend's scan uses one
 * core; this thread, on another, asks the kernel to map the pages in
 * (madvise MADV_POPULATE_WRITE, Linux 5.14) ahead of the writes.  That
 * never changes memory contents, so the backend may write the same pages
 * at the same time; it is only a hint, dropped wherever it cannot help.
 *
 * The rule for callers: memory handed to uba_prefault() must not be freed
 * or moved (repalloc) before uba_prefault_sync() or uba_prefault_stop()
 * has returned.  The thread calls no PostgreSQL function, starts with
 * every signal blocked, and works in 2 MB steps, so a sync waits at most
 * for one step.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23	/* Linux 5.14; older headers lack it */
#endif

#ifdef MADV_POPULATE_WRITE

#define PREFAULT_QUEUE 32
#define PREFAULT_STEP (2 * 1024 * 1024)
#define PREFAULT_MIN_BYTES (256 * 1024)

typedef struct PrefaultRange
{
	char	   *start;
	Size		len;
} PrefaultRange;

static struct
{
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a range was queued, or the thread must quit */
	pthread_cond_t idle;		/* the thread finished or dropped its range */
	PrefaultRange queue[PREFAULT_QUEUE];
	int			head;
	int			count;
	bool		busy;			/* the thread is working on a range */
	bool		quit;
	int			cancel;			/* drop the current range (atomic) */
	bool		running;
	int			unsupported;	/* the kernel refused: stop trying (atomic) */
	pthread_t	thread;
}			pf = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

/* Thread body: take ranges off the queue and page them in, step by step */
static void *
PrefaultMain(void *unused)
{
	pthread_mutex_lock(&pf.lock);
	for (;;)
	{
		PrefaultRange r;

		while (!pf.quit && pf.count == 0)
		{
			pf.busy = false;
			pthread_cond_broadcast(&pf.idle);
			pthread_cond_wait(&pf.work, &pf.lock);
		}
		if (pf.quit)
			break;
		r = pf.queue[pf.head];
		pf.head = (pf.head + 1) % PREFAULT_QUEUE;
		pf.count--;
		pf.busy = true;
		__atomic_store_n(&pf.cancel, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&pf.lock);

		for (Size off = 0; off < r.len; off += PREFAULT_STEP)
		{
			if (__atomic_load_n(&pf.cancel, __ATOMIC_RELAXED))
				break;
			if (madvise(r.start + off, Min(PREFAULT_STEP, r.len - off), MADV_POPULATE_WRITE) != 0 &&
				errno == EINVAL)
			{
				__atomic_store_n(&pf.unsupported, 1, __ATOMIC_RELAXED);
				break;
			}
		}
		pthread_mutex_lock(&pf.lock);
	}
	pf.busy = false;
	pthread_cond_broadcast(&pf.idle);
	pthread_mutex_unlock(&pf.lock);
	return NULL;
}

/*
 * Hint that [start, start + len) will be written soon: page it in on the
 * background thread (started on first use).  Small ranges are not worth
 * it; when the queue is full the hint is dropped.
 */
void
uba_prefault(void *start, Size len)
{
	uintptr_t	page = 4096;
	uintptr_t	first = ((uintptr_t) start + page - 1) & ~(page - 1);
	uintptr_t	end = ((uintptr_t) start + len) & ~(page - 1);

	if (len < PREFAULT_MIN_BYTES || end <= first ||
		__atomic_load_n(&pf.unsupported, __ATOMIC_RELAXED))
		return;
	if (!pf.running)
	{
		sigset_t	all,
					old;
		int			rc;

		pf.quit = false;
		pf.busy = false;
		pf.count = 0;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = pthread_create(&pf.thread, NULL, PrefaultMain, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0)
			return;				/* no thread: the pages fault in as they are written */
		pf.running = true;
	}
	pthread_mutex_lock(&pf.lock);
	if (pf.count < PREFAULT_QUEUE)
	{
		pf.queue[(pf.head + pf.count) % PREFAULT_QUEUE] = (PrefaultRange) {(char *) first, end - first};
		pf.count++;
		pthread_cond_signal(&pf.work);
	}
	pthread_mutex_unlock(&pf.lock);
}

/* Drop every pending hint and wait until the thread touches no memory */
void
uba_prefault_sync(void)
{
	if (!pf.running)
		return;
	pthread_mutex_lock(&pf.lock);
	pf.count = 0;
	__atomic_store_n(&pf.cancel, 1, __ATOMIC_RELAXED);
	while (pf.busy)
		pthread_cond_wait(&pf.idle, &pf.lock);
	pthread_mutex_unlock(&pf.lock);
}

/* Drop every pending hint and end the thread */
void
uba_prefault_stop(void)
{
	if (!pf.running)
		return;
	pthread_mutex_lock(&pf.lock);
	pf.count = 0;
	pf.quit = true;
	__atomic_store_n(&pf.cancel, 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&pf.work);
	pthread_mutex_unlock(&pf.lock);
	pthread_join(pf.thread, NULL);
	pf.running = false;
}

#else							/* no MADV_POPULATE_WRITE: pages fault in as written */

void
uba_prefault(void *start, Size len)
{
}

void
uba_prefault_sync(void)
{
}

void
uba_prefault_stop(void)
{
}

#endif
