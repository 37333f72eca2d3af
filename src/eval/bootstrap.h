/* The match-super-bootstrap objective: a threshold chosen to match Super
 * on a few hundred labelled inputs falls short of Super on new data about
 * half the time, so this one asks that it match Super on most resamples of
 * them. */
#ifndef ELANG_EVAL_BOOTSTRAP_H
#define ELANG_EVAL_BOOTSTRAP_H

#include "eval/pair_run.h"

/* The number of paired bootstrap resamples each point is judged on. */
#define BOOTSTRAP_RESAMPLES 1000

/* Of the sweep's points pts[0..count) of run r routed by `kind`, the one
 * of least compute whose metric is at least Super's on a share >= `share`
 * of BOOTSTRAP_RESAMPLES paired resamples of r's inputs (both metrics on
 * the same resample). The point sending everything to Super always
 * qualifies; a share outside (0, 1] is ELANG_ERR_INVALID_ARG. The
 * resamples are the same on every call (fixed seeds). The work grows as
 * points x resamples x inputs: half a second for 1,000 inputs. */
elang_status bootstrap_choose(const elang_pair_run *r, elang_score_kind kind, const elang_point *pts, size_t count,
                              double share, elang_point *out, elang_error *err);

#endif
