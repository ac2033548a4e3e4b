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

/* Set on helper threads: BLAS calls made there do not start threads of their own */
static __thread bool on_helper;

/* Teams alive in this backend: their helpers hold the cores, so BLAS must not add threads */
static int teams_alive;

bool
uba_blas_may_thread(void)
{
	return !on_helper && teams_alive == 0;
}

/* Helper thread body: never calls into PostgreSQL */
static void *
HelperMain(void *p)
{
	on_helper = true;
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

/*
 * A team: helper threads kept for the many short parallel sections of one
 * training (a network's mini-batch steps), where starting threads for each
 * section would cost more than the section.  uba_team_run() publishes a
 * job under the team's mutex; helpers spin on its generation for a while,
 * then sleep on the condition variable.  Each thread runs the same parts at
 * every run (every nthreads-th); callers keep results per part and reduce
 * them in part order, so they do not depend on the thread count.
 * Between runs the helpers run nothing, so the backend may raise errors
 * then: the memory context callback stops and joins them.
 */
struct UbaTeam
{
	int			started;		/* helper threads (the backend's own thread runs parts too) */
	pthread_t	threads[UBA_MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t wake;
	UbaBlockFn	fn;
	void	   *arg;
	int			nparts;
	int			quit;
	/* what the threads poll, apart from the rest (padding, not alignment: the team is palloc'd) */
	char		pad1[64];
	uint64		generation;		/* bumped (under lock) for each job */
	char		pad2[64];
	int			finished;		/* helpers done with the current generation (atomic) */
	char		pad3[64];
	MemoryContextCallback stop;
	struct TeamArg
	{
		struct UbaTeam *team;
		int			index;		/* 1 .. started */
	}			args[UBA_MAX_THREADS];
};

typedef struct TeamArg TeamArg;

/* spins before a helper sleeps: a few milliseconds, longer than the work between two runs */
#define TEAM_SPINS 200000

static inline void
CpuRelax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/*
 * The parts of thread `me` (0 the backend): every nthreads-th from its own
 * index, the same ones at every run, so a part's data stays in one core's
 * caches from run to run.
 */
static void
TeamParts(UbaTeam *t, int me)
{
	int			n = t->started + 1;

	for (int p = me; p < t->nparts; p += n)
		t->fn(t->arg, p, p);
}

/* Helper thread body: never calls into PostgreSQL */
static void *
TeamMain(void *p)
{
	TeamArg    *a = (TeamArg *) p;
	UbaTeam    *t = a->team;
	int			me = a->index;
	uint64		seen = 0;

	on_helper = true;
	for (;;)
	{
		uint64		gen = __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE);

		for (int i = 0; i < TEAM_SPINS && gen == seen && !__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE); i++)
		{
			CpuRelax();
			gen = __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE);
		}
		if (gen == seen)
		{
			pthread_mutex_lock(&t->lock);
			while (t->generation == seen && !t->quit)
				pthread_cond_wait(&t->wake, &t->lock);
			gen = t->generation;
			pthread_mutex_unlock(&t->lock);
		}
		if (__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE))
			return NULL;
		seen = gen;
		TeamParts(t, me);
		__atomic_fetch_add(&t->finished, 1, __ATOMIC_ACQ_REL);
	}
}

static void
TeamStop(void *arg)
{
	UbaTeam    *t = (UbaTeam *) arg;

	if (t->started == 0)
		return;
	teams_alive--;
	pthread_mutex_lock(&t->lock);
	__atomic_store_n(&t->quit, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&t->wake);
	pthread_mutex_unlock(&t->lock);
	for (int i = 0; i < t->started; i++)
		pthread_join(t->threads[i], NULL);
	t->started = 0;
}

/*
 * Start a team of up to nthreads threads (the backend's included), in
 * CurrentMemoryContext; its helpers stop when the context is reset or
 * deleted (an error included), or at uba_team_stop().
 */
UbaTeam *
uba_team_start(int nthreads)
{
	UbaTeam    *t = palloc0(sizeof(UbaTeam));
	sigset_t	all,
				old;

	nthreads = Max(1, Min(nthreads, UBA_MAX_THREADS));
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->wake, NULL);
	t->stop.func = TeamStop;
	t->stop.arg = t;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &t->stop);
	if (nthreads > 1)
	{
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		for (int i = 1; i < nthreads; i++)
		{
			t->args[t->started].team = t;
			t->args[t->started].index = t->started + 1;
			if (pthread_create(&t->threads[t->started], NULL, TeamMain, &t->args[t->started]) != 0)
				break;			/* fewer threads: the work still gets done */
			t->started++;
		}
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (t->started > 0)
		teams_alive++;
	return t;
}

/* Run fn(arg, part, part) for part = 0 .. nparts-1 on the team; returns with every part done */
void
uba_team_run(UbaTeam *t, int nparts, UbaBlockFn fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->nparts = nparts;
	__atomic_store_n(&t->finished, 0, __ATOMIC_RELAXED);
	if (t->started > 0)
	{
		pthread_mutex_lock(&t->lock);
		__atomic_store_n(&t->generation, t->generation + 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&t->wake);
		pthread_mutex_unlock(&t->lock);
	}
	TeamParts(t, 0);
	while (__atomic_load_n(&t->finished, __ATOMIC_ACQUIRE) < t->started)
		CpuRelax();
}

/* Stop the team's helpers now */
void
uba_team_stop(UbaTeam *t)
{
	TeamStop(t);
}
