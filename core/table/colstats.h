/*
 * colstats: what one column of a table holds, gathered one value at a time in bounded
 * memory — count, nulls, distinct values (exact up to a limit, then a HyperLogLog
 * estimate), the narrowest type every value fits, min, max, mean and standard deviation of
 * numbers, the most frequent values (space-saving counters), a reservoir sample — and the
 * drift between two columns' distributions (population stability index and the two-sample
 * Kolmogorov–Smirnov statistic, on the samples). A column's statistics take at most about
 * 570 KiB, most of it the exact set of distinct values.
 */
#ifndef DV_COLSTATS_H
#define DV_COLSTATS_H

#include "core/base/error.h"

#include <stddef.h>
#include <stdint.h>

/* The type of a column: the narrowest one all its non-null values fit, in this order of
 * widening (an integer column with one "2.5" is FLOAT; anything else mixed is TEXT). */
enum dv_coltype {
    DV_COLTYPE_NONE = 0, /* no non-null value seen */
    DV_COLTYPE_BOOLEAN,  /* true/false, any case */
    DV_COLTYPE_INTEGER,  /* optional sign, decimal digits, fits in int64 */
    DV_COLTYPE_FLOAT,    /* decimal with fraction and/or exponent, or inf/nan */
    DV_COLTYPE_DATETIME, /* ISO 8601: YYYY-MM-DD, optionally [T ]hh:mm[:ss[.f]][Z|±hh:mm] */
    DV_COLTYPE_TEXT,
};

/* Distinct values are counted exactly up to this many, then estimated (HyperLogLog with
 * 2^14 registers: a standard error of about 0.8%). */
#define DV_COLSTATS_EXACT_DISTINCT 65536u
/* How many most frequent values a summary gives. */
#define DV_COLSTATS_TOP 5
/* Values longer than this are cut to it when kept as min, max or top values. */
#define DV_COLSTATS_VALUE_KEEP_BYTES 256u
/* The reservoir sample of numbers (for drift), per column. */
#define DV_COLSTATS_SAMPLE 4096u

typedef struct dv_colstats dv_colstats;

/** An empty column's statistics: 0 or DV_ENOMEM. */
DV_NODISCARD int dv_colstats_new(dv_colstats **out);
void dv_colstats_free(dv_colstats *stats);

/**
 * Add one non-null value (its bytes, lent for the call); hash is dv_cellhash of those bytes,
 * which the caller has already computed. Returns 0 or DV_ENOMEM.
 */
DV_NODISCARD int dv_colstats_add(dv_colstats *stats, const char *value, size_t len, uint64_t hash);
/** Add one null value. */
void dv_colstats_add_null(dv_colstats *stats);

typedef struct dv_colstats_value {
    const char *ptr; /* lent: valid until the dv_colstats is next added to or freed */
    size_t len;      /* at most DV_COLSTATS_VALUE_KEEP_BYTES */
    uint64_t count;  /* for top values; an upper bound when top_estimated */
} dv_colstats_value;

typedef struct dv_colstats_summary {
    uint64_t count; /* values added, nulls included */
    uint64_t nulls;
    uint64_t distinct; /* of non-null values */
    int distinct_estimated;
    int type; /* DV_COLTYPE_* */
    /* For INTEGER and FLOAT columns (BOOLEAN as 0 and 1): over the non-null values. NaN
     * is left out of all four, infinities out of mean and stddev; 0 when nothing is left. */
    int numeric;
    double min, max, mean, stddev; /* stddev: the population standard deviation */
    /* For every other type: the least and greatest value in byte order. */
    dv_colstats_value min_text, max_text;
    dv_colstats_value top[DV_COLSTATS_TOP]; /* most frequent first */
    size_t n_top;
    int top_estimated; /* counts come from space-saving counters, not exact */
    /* An order-independent hash of the multiset of values (nulls included): two columns
     * with the same values in any row order have the same fingerprint. */
    uint64_t fingerprint;
} dv_colstats_summary;

/** Fill out from stats; the values it points to stay valid while stats lives. */
void dv_colstats_summarize(const dv_colstats *stats, dv_colstats_summary *out);

enum dv_drift_test {
    DV_DRIFT_NONE = 0,       /* not computable: too few values on a side, or a type change */
    DV_DRIFT_PSI_NUMERIC,    /* PSI over ten bins cut at the old sample's deciles; KS too */
    DV_DRIFT_PSI_CATEGORIES, /* PSI over the old side's top values and "other" */
};

typedef struct dv_colstats_drift {
    int test;   /* DV_DRIFT_* */
    double psi; /* population stability index, >= 0 */
    double ks;  /* two-sample Kolmogorov–Smirnov D in [0, 1]; numeric only, else 0 */
    uint64_t old_sampled, new_sampled; /* values the statistics were computed on */
} dv_colstats_drift;

/**
 * The drift from old to new (both the same column of two versions) into out: the numeric
 * test between BOOLEAN, INTEGER and FLOAT columns, categories between TEXT and DATETIME
 * ones, or BOOLEAN and TEXT; both need 2 values on each side. Returns 0
 * (out->test DV_DRIFT_NONE when it is not computable) or DV_ENOMEM (for sorted copies of
 * the samples).
 */
DV_NODISCARD int dv_colstats_drift_of(const dv_colstats *old_stats,
                                      const dv_colstats *new_stats, dv_colstats_drift *out);

/**
 * Parse value as a number the way the type inference does: 1 for an integer (and *out),
 * 2 for another number, 0 for anything else. For --tolerance comparisons. No spaces, digit
 * separators or hex; an integer that does not fit int64 is another number. A value of 128
 * bytes or more is a number only when its digits give a mantissa up to 2^53 and a power of
 * ten within 10^±22 (the exact fast path), since strtod gets a copy in a fixed buffer.
 */
int dv_colstats_parse_number(const char *value, size_t len, double *out);

#endif
