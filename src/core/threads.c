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
 * backend thread watches for a cancel between its blocks; on one it tells
 * the helpers to stop, joins them, and only then lets
 * CHECK_FOR_INTERRUPTS() raise the error, so no thread outlives the
 * memory it works on.  Other interrupts wait for the lanes to finish: a
 * parallel query's leader gets them often, and stopping for one used to
 * return with blocks left undone.
 *
 *-------------------------------------------------------------------------
 */
#include "uba.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "miscadmin.h"

#define UBA_MAX_THREADS 64
/* Lanes of one job (callers use UBA_LANES) */
#define UBA_LANES_MAX 256

typedef struct LaneJob
{
	UbaBlockFn	fn;
	void	   *arg;
	int64		nblocks;
	int			nlanes;
	int			next;			/* next lane to take (atomic) */
	int			stop;			/* set when the backend must stop (atomic) */
	int64	   *lane_next;		/* per lane: its next block to run, so a stopped lane can resume */
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

static inline int64
LaneEnd(const LaneJob *job, int lane)
{
	return job->nblocks * (lane + 1) / job->nlanes;
}

/*
 * Only a cancel or a termination stops the lanes early: they make
 * CHECK_FOR_INTERRUPTS() raise an error.  Other interrupts (a parallel
 * worker's message, a barrier) set InterruptPending too, but are handled
 * after the lanes without an error, so the work must not stop for them.
 */
static inline bool
MustStop(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

/*
 * Take lanes until none are left; run a lane's blocks in order from where
 * it stands, stopping early when asked (its progress kept).  The backend
 * thread (backend = true) is the one that notices interrupts and asks.
 */
static void
WorkLanes(LaneJob *job, bool backend)
{
	for (;;)
	{
		int			lane = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
		int64		last;

		if (lane >= job->nlanes)
			return;
		last = LaneEnd(job, lane);
		for (int64 b = job->lane_next[lane]; b < last; b++)
		{
			if (backend && uba_debug_spurious_interrupts)
				InterruptPending = true;	/* as a worker's message would */
			if (backend && MustStop())
				__atomic_store_n(&job->stop, 1, __ATOMIC_RELAXED);
			if (__atomic_load_n(&job->stop, __ATOMIC_RELAXED))
			{
				job->lane_next[lane] = b;
				return;
			}
			job->fn(job->arg, b, lane);
		}
		job->lane_next[lane] = last;
	}
}

/* Helper thread body: never calls into PostgreSQL */
static void *
HelperMain(void *p)
{
	WorkLanes((LaneJob *) p, false);
	return NULL;
}

/* One pass over the lanes not finished yet, on up to nthreads threads */
static void
RunPass(LaneJob *job, int nthreads)
{
	pthread_t	threads[UBA_MAX_THREADS];
	int			started = 0;
	sigset_t	all,
				old;

	job->next = 0;
	job->stop = 0;
	if (nthreads > 1)
	{
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (int t = 1; t < nthreads; t++)
		{
			if (pthread_create(&threads[started], NULL, HelperMain, job) != 0)
				break;			/* fewer threads: the work still gets done */
			started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	WorkLanes(job, true);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
}

/*
 * Run fn(arg, block, lane) for block = 0 .. nblocks-1 on up to nthreads
 * threads, the backend's own thread included.  Blocks are grouped into
 * nlanes contiguous lanes, each run in order by one thread at a time, so
 * per-lane partial results reduced in lane order are the same whatever the
 * thread count or scheduling: results stay reproducible.  A cancel stops
 * the lanes and raises its error once no thread runs; should the interrupt
 * turn out not to raise one, the lanes resume where they stopped: this
 * returns only with every block done.
 */
void
uba_run_lanes(int64 nblocks, int nlanes, int nthreads, UbaBlockFn fn, void *arg)
{
	LaneJob		job;
	int64		lane_next[UBA_LANES_MAX];
	bool		done;

	if (nblocks <= 0)
		return;
	if (nlanes < 1 || nlanes > UBA_LANES_MAX)
		elog(ERROR, "uba: %d lanes, at most %d", nlanes, UBA_LANES_MAX);
	job.fn = fn;
	job.arg = arg;
	job.nblocks = nblocks;
	job.nlanes = nlanes;
	job.lane_next = lane_next;
	for (int l = 0; l < nlanes; l++)
		lane_next[l] = nblocks * l / nlanes;
	nthreads = Max(1, Min(Min(nthreads, nlanes), UBA_MAX_THREADS));
	do
	{
		RunPass(&job, nthreads);
		CHECK_FOR_INTERRUPTS();
		done = true;
		for (int l = 0; l < nlanes && done; l++)
			done = lane_next[l] >= LaneEnd(&job, l);
	} while (!done);
}
