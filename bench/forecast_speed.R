# How long does R's forecast::ets() take per product on the weekly Online Retail series?
# The figure uba's ETS fitting is benchmarked against.
#
# Usage (from the project root):
#     /usr/bin/python3 bench/retail_weekly.py /tmp/retail_weekly.csv
#     Rscript bench/forecast_speed.R /tmp/retail_weekly.csv [sample_size]
#
# Series: every product's weekly units over the shared 54-week range (zero-filled), as a ts
# of frequency 52.  ets() ignores seasonality above frequency 24 (it warns; the warning is
# silenced here), so it searches the non-seasonal models: A/M error x N/A/Ad trend, only A
# error for series with a zero week (almost all), with every other default.  A constant series
# (ets() then returns SES with alpha 0.99999 at once) is timed like the rest.
#
# Timing every product (about 3,900) takes minutes, so by default a deterministic sample of
# 300 is timed: the products at positions round(seq(1, N, length.out = 300)) in stockcode
# byte order.  sample_size "all" times every product.  Prints the number of series, the total
# elapsed seconds of the ets() calls (data preparation excluded), seconds per series, and the
# extrapolation to all products.  R is single-threaded here; run nothing else heavy meanwhile.

suppressPackageStartupMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1) stop("usage: Rscript bench/forecast_speed.R WEEKLY_CSV [sample_size|all]")
sample_size <- if (length(args) >= 2) args[2] else "300"

d <- read.csv(args[1], colClasses = c("character", "character", "numeric"))
d$week <- as.Date(d$week)
weeks <- seq(min(d$week), max(d$week), by = 7)
W <- length(weeks)
codes <- sort(unique(d$stockcode), method = "radix")
N <- length(codes)
if (sample_size == "all") {
  pick <- codes
} else {
  k <- min(as.integer(sample_size), N)
  pick <- codes[unique(round(seq(1, N, length.out = k)))]
}

by_code <- split(d, d$stockcode)
series <- lapply(pick, function(code) {
  rows <- by_code[[code]]
  y <- numeric(W)
  y[match(rows$week, weeks)] <- rows$units
  ts(y, frequency = 52)
})

loadavg <- function() tryCatch(sub(" .*", "", readLines("/proc/loadavg", n = 1)), error = function(e) "?")
load_before <- loadavg()
methods <- character(length(series))
t0 <- proc.time()
for (i in seq_along(series)) {
  fit <- suppressWarnings(ets(series[[i]]))
  methods[i] <- if (is.null(fit$method)) "constant" else fit$method
}
el <- (proc.time() - t0)[["elapsed"]]

cat(sprintf("forecast %s, %s; 1-minute load average before/after: %s/%s\n",
            packageVersion("forecast"), R.version.string, load_before, loadavg()))
cat(sprintf("weeks %s .. %s (%d), %d products\n", weeks[1], weeks[W], W, N))
cat(sprintf("timed: %d series, %.2f s total, %.4f s per series\n",
            length(series), el, el / length(series)))
cat(sprintf("extrapolated to all %d series: %.1f s\n", N, el / length(series) * N))
cat("chosen methods in the timed set:\n")
print(sort(table(methods), decreasing = TRUE))
