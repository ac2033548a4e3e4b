# uba: user behaviour analytics inside PostgreSQL (PGXS build)
#
#   make demo    install what is missing, build, install, run the demo on a throw-away cluster
#   make test    the same, then run the pg_regress and pgTAP suites

EXTENSION = uba
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" uba.control)

MODULE_big = uba
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
DATA = $(wildcard sql/uba--*.sql)
PG_CPPFLAGS = -I$(srcdir)/src
# -O3 vectorizes the distance kernels; no FP contraction keeps results CPU independent
PG_CFLAGS = -O3 -ffp-contract=off -fno-math-errno -fno-trapping-math
SHLIB_LINK = -lopenblas -lm

# pg_regress: inputs sql/NAME.sql, expected output expected/NAME.out
REGRESS = setup model kmeans logreg linreg quality metrics catalog parallel cf ranking behaviour assoc
REGRESS_OPTS = --load-extension=uba

EXTRA_CLEAN = results regression.diffs regression.out

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL server headers are missing: run 'make test' or 'make demo' (they install them), or apt-get install postgresql-server-dev-15" >&2; exit 1
endif

# every source file includes the shared core header
$(OBJS): src/uba.h

.PHONY: test demo deps tap

deps:
	@test/run.sh deps

test:
	@test/run.sh test

demo:
	@test/run.sh demo

# pgTAP suites against a running server (used by test/run.sh inside pg_virtualenv)
tap:
	pg_prove --ext .sql -v test/*.sql
