#include "core/base/error.h"
#include "core/table/cellhash.h"
#include "core/table/colstats.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static dv_colstats *new_stats(void)
{
    dv_colstats *stats;
    cr_assert_eq(dv_colstats_new(&stats), 0, "%s", dv_error_last());
    return stats;
}

static void add(dv_colstats *stats, const char *value)
{
    size_t len = strlen(value);
    cr_assert_eq(dv_colstats_add(stats, value, len, dv_cellhash(value, len, 0)), 0, "%s",
                 dv_error_last());
}

static void add_number(dv_colstats *stats, double x)
{
    char text[64];
    snprintf(text, sizeof(text), "%.6f", x);
    add(stats, text);
}

static dv_colstats_summary summary_of(const dv_colstats *stats)
{
    dv_colstats_summary summary;
    dv_colstats_summarize(stats, &summary);
    return summary;
}

/* The type of a column holding values, in order. */
static int type_of(const char *const *values, size_t n)
{
    dv_colstats *stats = new_stats();
    int type;
    for (size_t i = 0; i < n; i++)
        add(stats, values[i]);
    type = summary_of(stats).type;
    dv_colstats_free(stats);
    return type;
}

#define TYPE_OF(...)                                                                               \
    type_of((const char *const[]){__VA_ARGS__},                                                    \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* A normal variate by Box–Muller, from the test's own generator. */
static double normal(uint64_t *state, double mean, double sd)
{
    double u1 = ((double)(splitmix64(state) >> 11) + 0.5) / 9007199254740992.0;
    double u2 = ((double)(splitmix64(state) >> 11) + 0.5) / 9007199254740992.0;
    return mean + sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static int value_is(dv_colstats_value value, const char *text)
{
    return value.len == strlen(text) && memcmp(value.ptr, text, value.len) == 0;
}

Test(colstats, each_type_is_inferred_from_its_values)
{
    cr_assert_eq(TYPE_OF("true", "FALSE", "True"), DV_COLTYPE_BOOLEAN);
    cr_assert_eq(TYPE_OF("1", "-20", "+300", "0"), DV_COLTYPE_INTEGER);
    cr_assert_eq(TYPE_OF("1.5", "-2e3", ".5", "inf", "NaN", "-Infinity"), DV_COLTYPE_FLOAT);
    cr_assert_eq(TYPE_OF("2024-02-29", "1999-12-31T23:59", "2024-01-01 10:20:30",
                         "2024-01-01T10:20:30.123456Z", "2024-01-01T10:20:30+05:30",
                         "2024-01-01T10:20-0800", "2024-01-01T10:20:30-08"),
                 DV_COLTYPE_DATETIME);
    cr_assert_eq(TYPE_OF("apple", "banana"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("yes", "no"), DV_COLTYPE_TEXT, "only true and false are booleans");
}

Test(colstats, a_column_of_nulls_has_no_type)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    dv_colstats_add_null(stats);
    dv_colstats_add_null(stats);
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_NONE);
    cr_assert_eq(summary.count, 2);
    cr_assert_eq(summary.nulls, 2);
    cr_assert_eq(summary.distinct, 0);
    cr_assert_eq(summary.numeric, 0);
    cr_assert_eq(summary.n_top, 0);
    dv_colstats_free(stats);
}

Test(colstats, integers_widen_to_float_and_any_other_mix_to_text)
{
    cr_assert_eq(TYPE_OF("1", "2", "2.5"), DV_COLTYPE_FLOAT);
    cr_assert_eq(TYPE_OF("2.5", "1", "2"), DV_COLTYPE_FLOAT);
    cr_assert_eq(TYPE_OF("1", "2", "x", "3"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("true", "1"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("1", "true"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01", "5"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("5", "2024-01-01"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01", "false"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("x", "1", "2"), DV_COLTYPE_TEXT, "nothing narrows a TEXT column");
}

Test(colstats, impossible_dates_and_malformed_times_are_text)
{
    cr_assert_eq(TYPE_OF("2024-02-30"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2023-02-29"), DV_COLTYPE_TEXT, "2023 is not a leap year");
    cr_assert_eq(TYPE_OF("1900-02-29"), DV_COLTYPE_TEXT, "1900 is not a leap year");
    cr_assert_eq(TYPE_OF("2000-02-29"), DV_COLTYPE_DATETIME, "2000 is a leap year");
    cr_assert_eq(TYPE_OF("2024-04-31"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-13-01"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-00-10"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-1-01"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01T24:00"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01T10:60"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01T10"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01T10:20:30."), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01T10:20Zx"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01T10:20+5:30"), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024-01-01 "), DV_COLTYPE_TEXT);
    cr_assert_eq(TYPE_OF("2024/01/01"), DV_COLTYPE_TEXT);
}

Test(colstats, an_integer_beyond_int64_makes_the_column_float)
{
    cr_assert_eq(TYPE_OF("9223372036854775807", "-9223372036854775808"), DV_COLTYPE_INTEGER);
    cr_assert_eq(TYPE_OF("1", "9223372036854775808"), DV_COLTYPE_FLOAT);
    cr_assert_eq(TYPE_OF("-9223372036854775809"), DV_COLTYPE_FLOAT);
    cr_assert_eq(TYPE_OF("123456789012345678901234567890"), DV_COLTYPE_FLOAT);
}

Test(colstats, mean_and_population_stddev_of_a_known_list)
{
    static const char *const values[] = {"2", "4", "4", "4", "5", "5", "7", "9"};
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    for (size_t i = 0; i < 8; i++)
        add(stats, values[i]);
    summary = summary_of(stats);
    cr_assert_eq(summary.numeric, 1);
    cr_assert_float_eq(summary.mean, 5.0, 1e-12);
    cr_assert_float_eq(summary.stddev, 2.0, 1e-12);
    cr_assert_float_eq(summary.min, 2.0, 0);
    cr_assert_float_eq(summary.max, 9.0, 0);
    dv_colstats_free(stats);
}

Test(colstats, moments_of_a_long_list_match_the_closed_form)
{
    /* k / 2 for k = 1..n: mean (n + 1) / 4, variance (n^2 - 1) / 48 */
    const unsigned n = 100001;
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    for (unsigned k = 1; k <= n; k++) {
        char text[32];
        snprintf(text, sizeof(text), "%u.%u", k / 2, k % 2 ? 5 : 0);
        add(stats, text);
    }
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_FLOAT);
    cr_assert_float_eq(summary.mean, (n + 1) / 4.0, 1e-9);
    cr_assert_float_eq(summary.stddev, sqrt(((double)n * n - 1) / 48.0), 1e-6);
    cr_assert_float_eq(summary.min, 0.5, 0);
    cr_assert_float_eq(summary.max, n / 2.0, 0);
    dv_colstats_free(stats);
}

Test(colstats, a_float_column_counts_the_integers_before_its_first_fraction)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "1");
    add(stats, "2");
    add(stats, "6.5");
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_FLOAT);
    cr_assert_float_eq(summary.mean, 9.5 / 3, 1e-12);
    cr_assert_float_eq(summary.min, 1.0, 0);
    cr_assert_float_eq(summary.max, 6.5, 0);
    dv_colstats_free(stats);
}

Test(colstats, booleans_are_numbers_zero_and_one)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "true");
    add(stats, "false");
    add(stats, "TRUE");
    add(stats, "true");
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_BOOLEAN);
    cr_assert_eq(summary.numeric, 1);
    cr_assert_float_eq(summary.mean, 0.75, 1e-12);
    cr_assert_float_eq(summary.stddev, sqrt(0.75 * 0.25), 1e-12);
    dv_colstats_free(stats);
}

Test(colstats, nan_is_left_out_of_the_numbers)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "1");
    add(stats, "nan");
    add(stats, "3");
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_FLOAT);
    cr_assert_float_eq(summary.mean, 2.0, 1e-12);
    cr_assert_float_eq(summary.min, 1.0, 0);
    cr_assert_float_eq(summary.max, 3.0, 0);
    dv_colstats_free(stats);
}

Test(colstats, a_text_column_reports_text_bounds_and_no_numbers)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "12");
    add(stats, "pear");
    add(stats, "apple");
    add(stats, "apples");
    add(stats, "");
    add(stats, "zucchini");
    add(stats, "Zebra");
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_TEXT);
    cr_assert_eq(summary.numeric, 0);
    cr_assert(value_is(summary.min_text, ""));
    cr_assert(value_is(summary.max_text, "zucchini"));
    dv_colstats_free(stats);
}

Test(colstats, text_bounds_follow_byte_order_past_the_first_eight_bytes)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "category_m");
    add(stats, "category_b");
    add(stats, "category_");
    add(stats, "category_z1");
    add(stats, "category_z");
    add(stats, "category");
    add(stats, "categorz");
    summary = summary_of(stats);
    cr_assert(value_is(summary.min_text, "category"));
    cr_assert(value_is(summary.max_text, "categorz"));
    dv_colstats_free(stats);
}

Test(colstats, datetime_bounds_are_the_earliest_and_latest)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "2024-03-01");
    add(stats, "2023-12-31");
    add(stats, "2024-11-05");
    summary = summary_of(stats);
    cr_assert_eq(summary.type, DV_COLTYPE_DATETIME);
    cr_assert(value_is(summary.min_text, "2023-12-31"));
    cr_assert(value_is(summary.max_text, "2024-11-05"));
    dv_colstats_free(stats);
}

Test(colstats, long_values_are_kept_cut_to_the_limit)
{
    char big_a[1000], big_b[1000];
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    memset(big_a, 'a', sizeof(big_a) - 1);
    big_a[sizeof(big_a) - 1] = '\0';
    memset(big_b, 'b', sizeof(big_b) - 1);
    big_b[sizeof(big_b) - 1] = '\0';
    add(stats, big_b);
    add(stats, big_a);
    add(stats, big_a);
    summary = summary_of(stats);
    cr_assert_eq(summary.min_text.len, DV_COLSTATS_VALUE_KEEP_BYTES);
    cr_assert_eq(memcmp(summary.min_text.ptr, big_a, DV_COLSTATS_VALUE_KEEP_BYTES), 0);
    cr_assert_eq(summary.max_text.len, DV_COLSTATS_VALUE_KEEP_BYTES);
    cr_assert_eq(memcmp(summary.max_text.ptr, big_b, DV_COLSTATS_VALUE_KEEP_BYTES), 0);
    cr_assert_eq(summary.top[0].len, DV_COLSTATS_VALUE_KEEP_BYTES);
    cr_assert_eq(summary.top[0].count, 2);
    dv_colstats_free(stats);
}

Test(colstats, nulls_are_counted_apart_from_values)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    add(stats, "1");
    dv_colstats_add_null(stats);
    add(stats, "3");
    dv_colstats_add_null(stats);
    dv_colstats_add_null(stats);
    summary = summary_of(stats);
    cr_assert_eq(summary.count, 5);
    cr_assert_eq(summary.nulls, 3);
    cr_assert_eq(summary.distinct, 2);
    cr_assert_eq(summary.type, DV_COLTYPE_INTEGER);
    cr_assert_float_eq(summary.mean, 2.0, 1e-12);
    dv_colstats_free(stats);
}

Test(colstats, distinct_values_are_exact_up_to_the_limit)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    char text[32];
    for (unsigned round = 0; round < 3; round++)
        for (unsigned i = 0; i < 1000; i++) {
            snprintf(text, sizeof(text), "value-%u", i);
            add(stats, text);
        }
    summary = summary_of(stats);
    cr_assert_eq(summary.distinct, 1000);
    cr_assert_eq(summary.distinct_estimated, 0);

    for (unsigned i = 1000; i < DV_COLSTATS_EXACT_DISTINCT; i++) {
        snprintf(text, sizeof(text), "value-%u", i);
        add(stats, text);
    }
    add(stats, "value-7");
    summary = summary_of(stats);
    cr_assert_eq(summary.distinct, DV_COLSTATS_EXACT_DISTINCT);
    cr_assert_eq(summary.distinct_estimated, 0, "the set holds exactly the limit");

    add(stats, "one more");
    summary = summary_of(stats);
    cr_assert_eq(summary.distinct_estimated, 1);
    cr_assert(fabs((double)summary.distinct - (DV_COLSTATS_EXACT_DISTINCT + 1.0)) <
                  0.03 * DV_COLSTATS_EXACT_DISTINCT,
              "%llu", (unsigned long long)summary.distinct);
    dv_colstats_free(stats);
}

Test(colstats, a_hash_of_zero_is_a_value_like_any_other)
{
    dv_colstats *stats = new_stats();
    cr_assert_eq(dv_colstats_add(stats, "a", 1, 0), 0);
    cr_assert_eq(dv_colstats_add(stats, "a", 1, 0), 0);
    cr_assert_eq(dv_colstats_add(stats, "b", 1, 1), 0);
    cr_assert_eq(summary_of(stats).distinct, 2);
    dv_colstats_free(stats);
}

Test(colstats, a_million_distinct_values_are_estimated_within_two_percent)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    char text[32];
    for (unsigned i = 0; i < 1000000; i++) {
        snprintf(text, sizeof(text), "%u", i * 7919u);
        add(stats, text);
    }
    /* again: repeats change nothing */
    for (unsigned i = 0; i < 100000; i++) {
        snprintf(text, sizeof(text), "%u", i * 7919u);
        add(stats, text);
    }
    summary = summary_of(stats);
    cr_assert_eq(summary.distinct_estimated, 1);
    cr_assert(fabs((double)summary.distinct - 1e6) < 0.02 * 1e6, "%llu",
              (unsigned long long)summary.distinct);
    dv_colstats_free(stats);
}

Test(colstats, top_values_are_exact_counts_most_frequent_first)
{
    static const struct {
        const char *value;
        unsigned times;
    } rows[] = {{"red", 7}, {"blue", 3}, {"green", 9}, {"amber", 3}, {"white", 1}, {"black", 2}};
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    /* interleaved, so the order added says nothing about the order reported */
    for (unsigned round = 0; round < 9; round++)
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
            if (round < rows[i].times)
                add(stats, rows[i].value);
    summary = summary_of(stats);
    cr_assert_eq(summary.top_estimated, 0);
    cr_assert_eq(summary.n_top, DV_COLSTATS_TOP);
    cr_assert(value_is(summary.top[0], "green"));
    cr_assert_eq(summary.top[0].count, 9);
    cr_assert(value_is(summary.top[1], "red"));
    cr_assert_eq(summary.top[1].count, 7);
    cr_assert(value_is(summary.top[2], "amber"), "equal counts in byte order");
    cr_assert_eq(summary.top[2].count, 3);
    cr_assert(value_is(summary.top[3], "blue"));
    cr_assert_eq(summary.top[3].count, 3);
    cr_assert(value_is(summary.top[4], "black"));
    cr_assert_eq(summary.top[4].count, 2);
    dv_colstats_free(stats);
}

Test(colstats, frequent_values_stand_out_among_many_rare_ones)
{
    dv_colstats *stats = new_stats();
    dv_colstats_summary summary;
    char text[32];
    /* 100,000 values seen once, and "common" every tenth, "usual" every twentieth row */
    for (unsigned i = 0; i < 100000; i++) {
        snprintf(text, sizeof(text), "rare-%u", i);
        add(stats, text);
        if (i % 10 == 0)
            add(stats, "common");
        if (i % 20 == 0)
            add(stats, "usual");
    }
    summary = summary_of(stats);
    cr_assert_eq(summary.top_estimated, 1);
    cr_assert(value_is(summary.top[0], "common"));
    cr_assert(value_is(summary.top[1], "usual"));
    /* an upper bound, off by at most n / counters */
    cr_assert_geq(summary.top[0].count, 10000);
    cr_assert_leq(summary.top[0].count, 10000 + 115000 / 64);
    cr_assert_geq(summary.top[1].count, 5000);
    dv_colstats_free(stats);
}

Test(colstats, fingerprint_ignores_row_order_and_sees_a_changed_value)
{
    static const char *const values[] = {"a", "b", "c", "b", NULL, "d", "e", "f", "g", "h"};
    const size_t n = sizeof(values) / sizeof(values[0]);
    dv_colstats *forward = new_stats(), *backward = new_stats(), *changed = new_stats(),
                *no_null = new_stats();
    uint64_t state = 42;
    size_t order[sizeof(values) / sizeof(values[0])];
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = splitmix64(&state) % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        const char *shuffled = values[order[i]];
        if (values[i])
            add(forward, values[i]);
        else
            dv_colstats_add_null(forward);
        if (shuffled)
            add(backward, shuffled);
        else
            dv_colstats_add_null(backward);
        if (values[i])
            add(changed, i == 3 ? "c" : values[i]);
        else
            dv_colstats_add_null(changed);
        add(no_null, values[i] ? values[i] : "");
    }
    cr_assert_eq(summary_of(forward).fingerprint, summary_of(backward).fingerprint);
    cr_assert_neq(summary_of(forward).fingerprint, summary_of(changed).fingerprint);
    cr_assert_neq(summary_of(forward).fingerprint, summary_of(no_null).fingerprint,
                  "a null is not an empty value");
    dv_colstats_free(forward);
    dv_colstats_free(backward);
    dv_colstats_free(changed);
    dv_colstats_free(no_null);
}

static void drift_of(const dv_colstats *old_stats, const dv_colstats *new_stats,
                     dv_colstats_drift *drift)
{
    cr_assert_eq(dv_colstats_drift_of(old_stats, new_stats, drift), 0, "%s", dv_error_last());
}

Test(colstats, samples_of_one_distribution_show_no_drift)
{
    dv_colstats *old_stats = new_stats(), *new_stats_ = new_stats();
    dv_colstats_drift drift;
    uint64_t old_state = 1, new_state = 2;
    for (unsigned i = 0; i < 100000; i++) {
        add_number(old_stats, normal(&old_state, 50, 10));
        add_number(new_stats_, normal(&new_state, 50, 10));
    }
    drift_of(old_stats, new_stats_, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_NUMERIC);
    cr_assert_eq(drift.old_sampled, DV_COLSTATS_SAMPLE);
    cr_assert_eq(drift.new_sampled, DV_COLSTATS_SAMPLE);
    cr_assert_lt(drift.psi, 0.02, "%g", drift.psi);
    cr_assert_lt(drift.ks, 0.05, "%g", drift.ks);
    dv_colstats_free(old_stats);
    dv_colstats_free(new_stats_);
}

Test(colstats, a_mean_shifted_by_one_stddev_is_drift)
{
    dv_colstats *old_stats = new_stats(), *new_stats_ = new_stats();
    dv_colstats_drift drift;
    uint64_t old_state = 3, new_state = 4;
    for (unsigned i = 0; i < 100000; i++) {
        add_number(old_stats, normal(&old_state, 50, 10));
        add_number(new_stats_, normal(&new_state, 60, 10));
    }
    drift_of(old_stats, new_stats_, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_NUMERIC);
    cr_assert_gt(drift.psi, 0.2, "%g", drift.psi);
    cr_assert_gt(drift.ks, 0.2, "%g", drift.ks);
    /* KS D of N(0,1) against N(1,1): 2 Phi(1/2) - 1 */
    cr_assert(fabs(drift.ks - erf(0.5 / sqrt(2))) < 0.05, "%g", drift.ks);
    dv_colstats_free(old_stats);
    dv_colstats_free(new_stats_);
}

Test(colstats, the_sample_spans_the_whole_column_not_its_first_rows)
{
    dv_colstats *ascending = new_stats(), *descending = new_stats();
    dv_colstats_drift drift;
    char text[32];
    for (unsigned i = 0; i < 200000; i++) {
        snprintf(text, sizeof(text), "%u", i);
        add(ascending, text);
        snprintf(text, sizeof(text), "%u", 199999 - i);
        add(descending, text);
    }
    drift_of(ascending, descending, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_NUMERIC);
    cr_assert_lt(drift.psi, 0.02, "%g", drift.psi);
    cr_assert_lt(drift.ks, 0.05, "%g", drift.ks);
    dv_colstats_free(ascending);
    dv_colstats_free(descending);
}

Test(colstats, tied_deciles_collapse_into_fewer_bins)
{
    dv_colstats *old_stats = new_stats(), *same = new_stats(), *flipped = new_stats();
    dv_colstats_drift drift;
    for (unsigned i = 0; i < 1000; i++) {
        add(old_stats, i % 10 < 9 ? "0" : "1");
        add(same, i % 10 < 9 ? "0" : "1");
        add(flipped, i % 10 < 9 ? "1" : "0");
    }
    drift_of(old_stats, same, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_NUMERIC);
    cr_assert_float_eq(drift.psi, 0, 1e-12);
    cr_assert_float_eq(drift.ks, 0, 1e-12);
    drift_of(old_stats, flipped, &drift);
    /* bins {0} and {1}: (0.1 - 0.9) ln(0.1/0.9) + (0.9 - 0.1) ln(0.9/0.1) */
    cr_assert_float_eq(drift.psi, 1.6 * log(9), 1e-9);
    cr_assert_float_eq(drift.ks, 0.8, 1e-12);
    dv_colstats_free(old_stats);
    dv_colstats_free(same);
    dv_colstats_free(flipped);
}

static void add_categories(dv_colstats *stats, const unsigned *shares, size_t n, unsigned rows)
{
    char text[32];
    for (unsigned row = 0; row < rows; row++) {
        unsigned slot = row % 100, category = 0, below = shares[0];
        while (slot >= below && category + 1 < n)
            below += shares[++category];
        snprintf(text, sizeof(text), "category-%u", category);
        add(stats, text);
    }
}

Test(colstats, changed_category_shares_are_drift)
{
    static const unsigned before[] = {40, 30, 20, 10}, after[] = {10, 20, 30, 40};
    dv_colstats *old_stats = new_stats(), *same = new_stats(), *changed = new_stats();
    dv_colstats_drift drift;
    double expected = 0;
    add_categories(old_stats, before, 4, 10000);
    add_categories(same, before, 4, 5000);
    add_categories(changed, after, 4, 5000);
    drift_of(old_stats, same, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_CATEGORIES);
    cr_assert_float_eq(drift.psi, 0, 1e-9);
    drift_of(old_stats, changed, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_CATEGORIES);
    for (size_t i = 0; i < 4; i++)
        expected += ((double)after[i] - before[i]) / 100.0 * log((double)after[i] / before[i]);
    cr_assert_float_eq(drift.psi, expected, 1e-9);
    cr_assert_gt(drift.psi, 0.2);
    cr_assert_eq(drift.ks, 0);
    dv_colstats_free(old_stats);
    dv_colstats_free(same);
    dv_colstats_free(changed);
}

Test(colstats, new_categories_count_as_other)
{
    static const unsigned before[] = {50, 50}, after[] = {25, 25, 50};
    dv_colstats *old_stats = new_stats(), *new_stats_ = new_stats();
    dv_colstats_drift drift;
    add_categories(old_stats, before, 2, 1000);
    add_categories(new_stats_, after, 3, 1000);
    drift_of(old_stats, new_stats_, &drift);
    /* two halves become quarters; "other" goes from nothing (floored at 1e-4) to a half */
    cr_assert_float_eq(drift.psi, 2 * (-0.25 * log(0.5)) + (0.5 - 1e-4) * log(0.5 / 1e-4), 1e-9);
    dv_colstats_free(old_stats);
    dv_colstats_free(new_stats_);
}

Test(colstats, no_drift_is_measured_across_a_type_change_or_on_too_few_values)
{
    dv_colstats *numbers = new_stats(), *words = new_stats(), *one = new_stats(),
                *dates = new_stats();
    dv_colstats_drift drift;
    char text[32];
    for (unsigned i = 0; i < 100; i++) {
        snprintf(text, sizeof(text), "%u", i);
        add(numbers, text);
        snprintf(text, sizeof(text), "w%u", i);
        add(words, text);
        snprintf(text, sizeof(text), "2024-01-%02u", i % 28 + 1);
        add(dates, text);
    }
    add(one, "5");
    drift_of(numbers, words, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_NONE);
    drift_of(words, numbers, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_NONE);
    drift_of(numbers, dates, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_NONE);
    drift_of(numbers, one, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_NONE);
    cr_assert_eq(drift.psi, 0);
    drift_of(words, dates, &drift);
    cr_assert_eq(drift.test, DV_DRIFT_PSI_CATEGORIES, "a datetime column is categories too");
    dv_colstats_free(numbers);
    dv_colstats_free(words);
    dv_colstats_free(one);
    dv_colstats_free(dates);
}

static int parse(const char *text, double *out)
{
    return dv_colstats_parse_number(text, strlen(text), out);
}

Test(colstats, parse_number_takes_decimal_numbers_only)
{
    double x = -1;
    cr_assert_eq(parse("1e5", &x), 2);
    cr_assert_eq(x, 100000.0);
    cr_assert_eq(parse("-0.5", &x), 2);
    cr_assert_eq(x, -0.5);
    cr_assert_eq(parse("+3", &x), 1);
    cr_assert_eq(x, 3.0);
    cr_assert_eq(parse(".5", &x), 2);
    cr_assert_eq(x, 0.5);
    cr_assert_eq(parse("5.", &x), 2);
    cr_assert_eq(x, 5.0);
    cr_assert_eq(parse("-12", &x), 1);
    cr_assert_eq(x, -12.0);
    cr_assert_eq(parse("2.5E-3", &x), 2);
    cr_assert_eq(x, 0.0025);
    cr_assert_eq(parse("1e400", &x), 2);
    cr_assert(isinf(x));
    cr_assert_eq(parse("-INF", &x), 2);
    cr_assert(isinf(x) && x < 0);
    cr_assert_eq(parse("nan", &x), 2);
    cr_assert(isnan(x));

    cr_assert_eq(parse("1_000", &x), 0);
    cr_assert_eq(parse("0x10", &x), 0);
    cr_assert_eq(parse("", &x), 0);
    cr_assert_eq(parse("-", &x), 0);
    cr_assert_eq(parse(".", &x), 0);
    cr_assert_eq(parse("e5", &x), 0);
    cr_assert_eq(parse("1e", &x), 0);
    cr_assert_eq(parse("1e+", &x), 0);
    cr_assert_eq(parse(" 1", &x), 0);
    cr_assert_eq(parse("1 ", &x), 0);
    cr_assert_eq(parse("1.2.3", &x), 0);
    cr_assert_eq(parse("--1", &x), 0);
    cr_assert_eq(parse("infinit", &x), 0);
    cr_assert_eq(parse("1,5", &x), 0);
}

Test(colstats, parse_number_rounds_correctly)
{
    static const char *const texts[] = {"0.1",
                                        "0.3",
                                        "123456.789012345",
                                        "9007199254740993",
                                        "1.7976931348623157e308",
                                        "4.9e-324",
                                        "0.000000000000000000000000000001",
                                        "3.14159265358979323846264338327950288",
                                        "-2.2250738585072014e-308",
                                        "1e23",
                                        "8.98846567431158e307"};
    double x;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        cr_assert_neq(parse(texts[i], &x), 0, "%s", texts[i]);
        cr_assert_eq(x, strtod(texts[i], NULL), "%s: %.17g", texts[i], x);
    }
    cr_assert_eq(parse("0.1", &x), 2);
    cr_assert_eq(x, 1.0 / 10.0, "the double nearest 0.1");
}

Test(colstats, a_long_number_needing_strtod_is_not_a_number)
{
    char text[200];
    double x;
    memset(text, '1', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    text[10] = '.';
    cr_assert_eq(parse(text, &x), 0);
    /* a long run of zeros still fits the fast path */
    memset(text, '0', sizeof(text) - 1);
    text[sizeof(text) - 2] = '7';
    cr_assert_eq(parse(text, &x), 1);
    cr_assert_eq(x, 7.0);
}
