/*-------------------------------------------------------------------------
 *
 * threads.c
 *	  Run compute kernels on several cores inside one backend.
 *
 * PostgreSQL backends are single-threaded: no PostgreSQL function may be
 * called from another thread.  uba_run_lanes() splits work into blocks,
 * grouped into lanes that helper threads and the backend's own thread take
 * from a shared counter.  Block functions are pure computation on memory allocated
 * beforehand (no palloc, no ereport).  Helper threads start with every
 * signal blocked, so signal handlers only run on the backend thread.  The
 * backend thread watches for pending interrupts between its blocks; on
 * one it tells the helpers to stop, joins them, and only then lets
 * CHECK_FOR_INTERRUPTS() raise the error, so no thread outlives the
 * memory it works on.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "miscadmin.h"

#define UBA_MAX_THREADS 64

typedef struct LaneJob
{
	UbaBlockFn	fn;
	void	   *arg;
	int64		nblocks;
	int			nlanes;
	int			next;			/* next lane to take (atomic) */
	int			stop;			/* set when the backend must stop (atomic) */
} LaneJob;

/*
 * Threads to use: uba.threads, or every online CPU when it is 0; never more
 * than the online CPUs (any role may set uba.threads, and threads beyond the
 * cores only take CPU time from other sessions).
 */
int
uba_thread_count(void)
{
	long		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long		n = uba_threads;

	if (cpus < 1)
		cpus = 1;
	if (n <= 0 || n > cpus)
		n = cpus;
	return (int) Max(1, Min(n, UBA_MAX_THREADS));
}

/*
 * Take lanes until none are left; run a lane's blocks in order, stopping
 * early when asked.  The backend thread (backend = true) is the one that
 * notices interrupts and asks.
 */
static void
WorkLanes(LaneJob *job, bool backend)
{
	for (;;)
	{
		int			lane = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
		int64		first,
					last;

		if (lane >= job->nlanes)
			return;
		first = job->nblocks * lane / job->nlanes;
		last = job->nblocks * (lane + 1) / job->nlanes;
		for (int64 b = first; b < last; b++)
		{
			if (backend && InterruptPending)
				__atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
			if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED))
				return;
			job->fn(job->arg, b, lane);
		}
	}
}

/* Helper thread body: never calls into PostgreSQL */
static void *
HelperMain(void *p)
{
	WorkLanes((LaneJob *) p, false);
	return NULL;
}

/*
 * Run fn(arg, block, lane) for block = 0 .. nblocks-1 on up to nthreads
 * threads, the backend's own thread included.  Blocks are grouped into
 * nlanes contiguous lanes, each run in order by one thread, so per-lane
 * partial results reduced in lane order are the same whatever the thread
 * count or scheduling: results stay reproducible.
 */
void
uba_run_lanes(int64 nblocks, int nlanes, int nthreads, UbaBlockFn fn, void *arg)
{
	LaneJob		job;
	pthread_t	threads[UBA_MAX_THREADS];
	int			started = 0;
	sigset_t	all,
				old;

	if (nblocks <= 0)
		return;
	job.fn = fn;
	job.arg = arg;
	job.nblocks = nblocks;
	job.nlanes = nlanes;
	job.next = 0;
	job.stop = 0;
	nthreads = Max(1, Min(Min(nthreads, nlanes), UBA_MAX_THREADS));

	if (nthreads > 1)
	{
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (int t = 1; t < nthreads; t++)
		{
			if (pthread_create(&threads[started], NULL, HelperMain, &job) != 0)
				break;			/* fewer threads: the work still gets done */
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}

	WorkLanes(&job, true);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	CHECK_FOR_INTERRUPTS();
}
