# uba: user behaviour analytics inside PostgreSQL (PGXS build)
#
#   make demo    install what is missing, build, install, run the demo on a throw-away cluster
#   make test    the same, then run the pg_regress and pgTAP suites
#   make gallery the same, then draw the charts of doc/gallery.md into doc/gallery/ from the demo data
#   make check-citus  the Citus suites on a throw-away coordinator and two workers (test/citus.sh)
#   make deb     a Debian package in dist/ (make check-deb installs and tries it)

EXTENSION = uba
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" uba.control)

MODULE_big = uba
# src/core is the shared core; each other folder is a capability (see doc/architecture.md)
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))
# The install script of the current version is built from one file per capability (sql/install,
# in dependency order); the scripts of older versions and the upgrade scripts are history, kept
# as released.  test/dump_restore.sh checks that an upgraded install equals a fresh one.
INSTALL_PARTS = $(patsubst %,sql/install/%.sql,core segment metrics predict recommend behaviour value forecast privacy decide)
FIRST_SCRIPT = sql/uba--0.1.0.sql
UPGRADE_SCRIPTS = $(sort $(wildcard sql/uba--*--*.sql))
DATA = $(FIRST_SCRIPT) $(UPGRADE_SCRIPTS)
DATA_built = sql/uba--$(EXTVERSION).sql
PG_CPPFLAGS = -I$(srcdir)/src/core -I$(srcdir)/src -DUBA_VERSION_STRING=\"$(EXTVERSION)\"
# -O3 vectorizes the distance kernels; no FP contraction keeps results CPU independent
PG_CFLAGS = -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math
SHLIB_LINK = -lopenblas -lxgboost -lm

# pg_regress: inputs sql/NAME.sql, expected output expected/NAME.out
REGRESS = setup core_model core_progress segment_kmeans segment_passes predict_logreg predict_passes predict_linreg predict_boost predict_typed predict_iforest segment_quality metrics_evaluation core_catalog core_parallel recommend_cf recommend_ids recommend_next_items metrics_ranking behaviour_events behaviour_assoc behaviour_profile behaviour_sequence behaviour_path behaviour_lifecycle behaviour_funnel behaviour_patterns behaviour_contribution value_btyd forecast_ets forecast_global privacy_budget
REGRESS_OPTS =

EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL server headers are missing: run 'make test' or 'make demo' (they install them), or apt-get install postgresql-server-dev-15" >&2; exit 1
endif

sql/uba--$(EXTVERSION).sql: $(INSTALL_PARTS)
	{ echo '-- uba $(EXTVERSION), generated from sql/install by the Makefile: edit those files'; \
	  for f in $(INSTALL_PARTS); do echo; cat $$f; done; } > $@

# every source file includes the shared core header, and its own folder's headers (PGXS tracks no
# header dependencies: without these, a changed struct leaves stale objects that crash the server)
$(OBJS): src/core/uba.h src/kinds.h uba.control
$(foreach o,$(OBJS),$(eval $(o) $(o:.o=.bc): $(wildcard $(dir $(o))*.h)))
$(filter src/recommend/%,$(OBJS)): src/recommend/cf.h

.PHONY: test demo gallery check-citus deps tap fuzz sanitized check-sanitized check-valgrind deb check-deb

deps:
	@test/run.sh deps

test:
	@test/run.sh test

demo:
	@test/run.sh demo

# the suites of test/citus/ on a throw-away Citus cluster (a coordinator and two workers on this
# machine; Citus 13.2.2 is built from ../shared/citus when it is not installed)
check-citus:
	@test/citus.sh

# the charts of doc/gallery.md (bench/gallery.py), drawn again from the demo data
gallery:
	@test/run.sh gallery

# a Debian package, postgresql-15-uba, in dist/ (debian/, built with pg_buildext as Debian's
# own extension packages are); check-deb also installs it on a throw-away cluster and uses it
deb:
	@test/deb.sh build

check-deb:
	@test/deb.sh test

# pgTAP suites against a running server (used by test/run.sh inside pg_virtualenv)
tap:
	pg_prove --ext .sql -v test/*.sql

# a long in-database fuzz run of the model readers against a running server (FUZZ_ROUNDS
# mutations of each seed model; the test suite runs 1,200)
FUZZ_ROUNDS ?= 50000
fuzz:
	psql -X -v ON_ERROR_STOP=1 -v rounds=$(FUZZ_ROUNDS) -f test/hardening_fuzz_models.sql

# UndefinedBehaviorSanitizer build with PostgreSQL's assertions on in uba's code: undefined
# behaviour (overflow, bad shifts, misaligned or out-of-bounds array access, ...) stops the backend.
# The server stays as packaged.  (AddressSanitizer needs libasan preloaded into the server, and the
# packaged postgres hangs at start with it; ASan runs in the standalone reader fuzzer instead.)
SANITIZE = -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -DUSE_ASSERT_CHECKING
sanitized:
	$(MAKE) clean
	$(MAKE) PG_CFLAGS="$(PG_CFLAGS) $(SANITIZE)" SHLIB_LINK="$(SHLIB_LINK) -fsanitize=undefined"

# the regression and pgTAP suites against that build, on a throw-away cluster
check-sanitized:
	@test/run.sh sanitized

# the regression and pgTAP suites with the server under Valgrind memcheck (test/valgrind.sh);
# fails on any report that involves uba's code.  About 20 minutes on 2 cores.
check-valgrind:
	@test/run.sh valgrind
