# Reference values for uba's intermittent-demand forecasts (Croston, SBA), from R's forecast
# package, on weekly Online Retail product sales.
#
# Usage (from the project root):
#     /usr/bin/python3 bench/retail_weekly.py /tmp/retail_weekly.csv
#     Rscript bench/croston_reference.R /tmp/retail_weekly.csv [outdir] [online_retail.csv.gz]
#
# outdir defaults to test/data.  The raw Online Retail file (default
# ../shared/data/online-retail/online_retail.csv.gz, used only if it exists) lets the script
# rebuild the chosen products' weekly series from the invoice lines itself, as a check on
# retail_weekly.py.  Written against forecast 8.20.
#
# Data: retail_weekly.py's long table stockcode,week,units (non-zero weeks only).  Every
# product's series covers the same weeks, from the first to the last week in the table
# (2010-11-29 .. 2011-12-05, 54 Monday-starting weeks), zero where the table has no row.
# Chosen products: the 30 with the most zero weeks among those with at least 10 non-zero weeks;
# ties broken by stockcode in byte order.  (All series have the same length, so this is the
# 30 products with the fewest non-zero weeks >= 10.)
#
# Files written:
#   croston_reference.csv     stockcode,method,forecast,demand_level,interval_level,nonzero_weeks
#       method croston: forecast::croston(y, h = 4, alpha = 0.1)$mean (flat, one value);
#       method sba: (1 - alpha/2) times the croston value.  demand_level and interval_level are
#       the final smoothed size and interval (the same for both methods).
#   retail_weekly_sample.csv  stockcode,week,units: the chosen products' non-zero weeks.
#
# What forecast 8.20's croston() does (read from croston/croston2/ses/HoltWintersZZ/zzhw and
# checked below against a re-implementation on every chosen product):
#
# * The series y_1..y_n (non-negative; negative values are an error) is split into the
#   non-zero demands d_1..d_k, at positions t_1 < ... < t_k (1-based), and the intervals
#   q_1 = t_1, q_j = t_j - t_{j-1}.  The first interval counts from time 0: a demand in the
#   first period has interval 1, a series starting with two zeros has q_1 = 3.
# * Each of the two sequences is smoothed by simple exponential smoothing with the same fixed
#   alpha (default 0.1; never optimized) and "simple" initialisation: the initial level is the
#   first value itself, and the first value is then also fed as an update (which leaves the
#   level unchanged), i.e. z_1 = d_1, z_j = z_{j-1} + alpha (d_j - z_{j-1}); p_1 = q_1,
#   p_j = p_{j-1} + alpha (q_j - p_{j-1}).
# * The forecast for every horizon is z_k / p_k (flat).  Trailing zeros after the last demand
#   do not change it.  No demand at all gives 0; exactly one demand gives d_1 / t_1.
# * There is no bias correction in 8.20 and no SBA option: croston() has no type argument and
#   there is no separate SBA function.  SBA (Syntetos & Boylan 2005) multiplies the Croston
#   forecast by (1 - alpha/2); this is also what later forecast releases (croston_model(...,
#   type = "sba"), forecast >= 9) do, with alpha the interval smoothing parameter.
# * Fitted values: fitted[1] is NA; fitted[t] for t >= 2 is the forecast made from y_1..y_{t-1}
#   (0 while no demand has been seen, d_1 / t_1 after the first demand, z_j / p_j after the j-th
#   demand).  So the fitted value changes only in the period right after a demand, and
#   residuals are y - fitted.  No prediction intervals.

suppressPackageStartupMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript bench/croston_reference.R WEEKLY_CSV [outdir] [online_retail.csv.gz]")
weekly_path <- args[1]
outdir <- if (length(args) >= 2) args[2] else "test/data"
raw_path <- if (length(args) >= 3) args[3] else "../shared/data/online-retail/online_retail.csv.gz"
alpha <- 0.1
h <- 4
n_products <- 30
min_nonzero <- 10

fmt <- function(x) {
  x <- as.numeric(x)
  s <- sprintf("%.15g", x)
  bad <- !is.na(x)
  bad[bad] <- as.numeric(s[bad]) != x[bad]
  s[bad] <- sprintf("%.17g", x[bad])
  s[is.na(x)] <- "NA"
  s
}

d <- read.csv(weekly_path, colClasses = c("character", "character", "numeric"))
d$week <- as.Date(d$week)
weeks <- seq(min(d$week), max(d$week), by = 7)
stopifnot(all(d$week %in% weeks), all(d$units > 0))
W <- length(weeks)

nz <- table(d$stockcode)
cand <- data.frame(stockcode = names(nz), nonzero = as.integer(nz), stringsAsFactors = FALSE)
cand <- cand[cand$nonzero >= min_nonzero, ]
cand$zero <- W - cand$nonzero
cand <- cand[order(-cand$zero, cand$stockcode, method = "radix"), ]  # radix = byte order
chosen <- head(cand, n_products)

series_of <- function(code) {
  rows <- d[d$stockcode == code, ]
  y <- numeric(W)
  y[match(rows$week, weeks)] <- rows$units
  y
}

# Independent re-implementation of the semantics documented above.
my_croston <- function(y, alpha) {
  pos <- which(y > 0)
  if (length(pos) == 0) return(list(f = 0, z = NA, p = NA))
  dem <- y[pos]
  q <- diff(c(0, pos))
  z <- dem[1]; p <- q[1]
  for (j in seq_along(dem)[-1]) {
    z <- z + alpha * (dem[j] - z)
    p <- p + alpha * (q[j] - p)
  }
  list(f = z / p, z = z, p = p)
}
my_fitted <- function(y, alpha) c(NA, vapply(seq_len(length(y) - 1),
                                             function(t) my_croston(y[1:t], alpha)$f, 0))

# Optional check of retail_weekly.py: rebuild the chosen series from the invoice lines.
raw <- NULL
if (file.exists(raw_path)) {
  r <- read.csv(gzfile(raw_path), colClasses = "character")
  r <- r[as.numeric(r$Quantity) > 0 & !startsWith(trimws(r$InvoiceNo), "C"), ]
  day <- as.Date(substr(r$InvoiceDate, 1, 10))
  r$week <- day - ((as.POSIXlt(day)$wday + 6) %% 7)
  r$StockCode <- trimws(r$StockCode)
  r <- r[r$StockCode %in% chosen$stockcode, ]
  raw <- aggregate(as.numeric(r$Quantity), by = list(code = r$StockCode, week = r$week), FUN = sum)
  stopifnot(min(day) >= weeks[1], max(day) < weeks[W] + 7)
}

out <- list()
sample_rows <- list()
for (code in chosen$stockcode) {
  y <- series_of(code)
  if (!is.null(raw)) {
    ry <- numeric(W)
    rr <- raw[raw$code == code, ]
    ry[match(rr$week, weeks)] <- rr$x
    if (!identical(ry, y)) stop(sprintf("%s: weekly series differs from the raw lines", code))
  }
  fc <- croston(ts(y), h = h, alpha = alpha)
  f <- as.numeric(fc$mean)
  stopifnot(length(unique(f)) == 1)
  mine <- my_croston(y, alpha)
  if (abs(mine$f - f[1]) > 1e-12 * abs(f[1]))
    stop(sprintf("%s: croston %.17g, re-implementation %.17g", code, f[1], mine$f))
  if (!isTRUE(all.equal(as.numeric(fc$fitted), my_fitted(y, alpha), tolerance = 1e-12)))
    stop(sprintf("%s: fitted values differ from the re-implementation", code))
  out[[code]] <- data.frame(
    stockcode = code, method = c("croston", "sba"),
    forecast = fmt(c(f[1], (1 - alpha / 2) * f[1])),
    demand_level = fmt(mine$z), interval_level = fmt(mine$p),
    nonzero_weeks = sum(y > 0), stringsAsFactors = FALSE)
  sample_rows[[code]] <- d[d$stockcode == code, ]
  cat(sprintf("%-8s nonzero=%2d units=%6g croston=%.6f sba=%.6f\n",
              code, sum(y > 0), sum(y), f[1], (1 - alpha / 2) * f[1]))
}

res <- do.call(rbind, out)
write.csv(res, file.path(outdir, "croston_reference.csv"), row.names = FALSE, quote = FALSE)
smp <- do.call(rbind, sample_rows)
smp <- smp[order(smp$stockcode, smp$week, method = "radix"), ]
write.csv(data.frame(stockcode = smp$stockcode, week = format(smp$week), units = fmt(smp$units)),
          file.path(outdir, "retail_weekly_sample.csv"), row.names = FALSE, quote = FALSE)
cat(sprintf("%d products in %s, weeks %s .. %s (%d); %d with >= %d non-zero weeks; chosen have %d..%d non-zero weeks; raw check %s; forecast %s\n",
            length(nz), weekly_path, weeks[1], weeks[W], W, nrow(cand), min_nonzero,
            min(chosen$nonzero), max(chosen$nonzero),
            if (is.null(raw)) "skipped" else "passed", packageVersion("forecast")))
