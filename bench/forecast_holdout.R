# R's side of bench/forecast_holdout.py: forecast::ets and forecast::croston fitted per product
# on the training weeks, forecasting the held-out weeks.
#
# Usage (normally called by bench/forecast_holdout.py):
#     Rscript bench/forecast_holdout.R TRAIN_CSV OUT_CSV [H]
#
# TRAIN_CSV (written by forecast_holdout.py): wide, header stockcode,w1,...,wN, one row per
# product, its N training weeks' units (zeros included).  H (default 8) is the horizon.
#
# Per product, y = the N training values:
#   ets:     fit <- ets(ts(y, frequency = 52)), every other argument left at its default;
#            forecast(fit, h = H)$mean.  At frequency 52 ets() ignores the season (its limit is
#            24) and warns; the warning is silenced.  So it searches ETS(A|M, N|A|Ad, N)
#            (multiplicative error only for a positive series), by AICc.
#   croston: croston(y, h = H, alpha = 0.1)$mean (forecast 8.20: the classic method, flat).
# A failed fit gives NA (counted and printed).
#
# OUT_CSV: long, header stockcode,method,form,step,forecast (form: ets's fit$method, e.g.
# "ETS(A,N,N)"; "Croston" for croston).
# Prints one line per method, "R <method>: <n> series, <seconds> s, <failures> failed", the
# seconds being the elapsed time of the loop of fits and forecasts (reading and writing the
# files excluded).  R is single-threaded.

suppressPackageStartupMessages(library(forecast))

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript bench/forecast_holdout.R TRAIN_CSV OUT_CSV [H]")
H <- if (length(args) >= 3) as.integer(args[3]) else 8L

d <- read.csv(args[1], colClasses = "character", check.names = FALSE)
codes <- d$stockcode
Y <- as.matrix(d[, -1, drop = FALSE])
storage.mode(Y) <- "numeric"
N <- nrow(Y)

cat(sprintf("forecast %s, %s; %d series of %d weeks, horizon %d\n",
            packageVersion("forecast"), R.version.string, N, ncol(Y), H))

run <- function(fitone) {
  fc <- matrix(NA_real_, N, H)
  form <- character(N)
  t0 <- proc.time()
  for (i in seq_len(N)) {
    r <- tryCatch(fitone(Y[i, ]), error = function(e) NULL)
    if (!is.null(r)) {
      fc[i, ] <- r$mean
      form[i] <- r$form
    } else {
      form[i] <- "failed"
    }
  }
  list(fc = fc, form = form, seconds = (proc.time() - t0)[["elapsed"]])
}

fit_ets <- function(y) {
  fit <- suppressWarnings(ets(ts(y, frequency = 52)))
  list(mean = as.numeric(forecast(fit, h = H)$mean),
       form = if (is.null(fit$method)) "constant" else fit$method)
}
fit_croston <- function(y) {
  list(mean = as.numeric(croston(y, h = H, alpha = 0.1)$mean), form = "Croston")
}

res <- list(ets = run(fit_ets), croston = run(fit_croston))

out <- do.call(rbind, lapply(names(res), function(m) {
  r <- res[[m]]
  data.frame(stockcode = rep(codes, each = H), method = m, form = rep(r$form, each = H),
             step = rep(seq_len(H), times = N), forecast = as.vector(t(r$fc)),
             stringsAsFactors = FALSE)
}))
write.csv(out, args[2], row.names = FALSE, quote = TRUE)

for (m in names(res)) {
  r <- res[[m]]
  cat(sprintf("R %s: %d series, %.3f s, %d failed\n", m, N, r$seconds, sum(r$form == "failed")))
}
