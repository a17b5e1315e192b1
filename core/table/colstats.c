/*
 * colstats: one column's statistics, one value at a time. Every structure is bounded: an
 * exact set of value hashes (at most 65536 of them, 512 KiB) that gives way to a
 * HyperLogLog sketch (16 KiB), 64 space-saving counters with their values' first bytes,
 * and a reservoir of 4096 numbers. add() is on the path of every cell of a table, so the
 * type check stops at the first byte that decides it and a TEXT column skips it entirely.
 */
#include "core/table/colstats.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Space-saving counters for the most frequent values. */
#define COUNTERS 64u
#define NO_LINK 0xffu
/*
 * The exact set, open addressing with linear probing, never more than half full. It starts
 * as whole hashes in SET_MIN_SLOTS slots, doubling up to SET_WIDE_MAX_SLOTS (128 KiB); past
 * that it moves once to its last size, SET_NARROW_SLOTS of 32 bits each (512 KiB for
 * DV_COLSTATS_EXACT_DISTINCT values): a slot keeps the hash's top 32 bits, and its place
 * in the table 17 more (the low bits chose it), so two values are taken for one only when
 * 32 bits agree between hashes met on one short probe — about 65536 * 1.5 / 2^32 = 2e-5
 * for a whole set. That last table never grows again (the sketch comes next), so the bits
 * it drops are never needed to place a hash anew.
 */
#define SET_MIN_SLOTS 64u
#define SET_WIDE_MAX_SLOTS 16384u
#define SET_NARROW_SLOTS (2u * DV_COLSTATS_EXACT_DISTINCT)
/* HyperLogLog: 2^14 registers of the rank of the 50 hash bits left after the index. */
#define HLL_PRECISION 14u
#define HLL_REGISTERS (1u << HLL_PRECISION)
#define HLL_RANK_MAX (64u - HLL_PRECISION + 1u)
/* Drift: bins of the numeric test, categories of the categorical one, the least fraction a
 * bin counts as (an empty bin would make the index infinite), the fewest values a side
 * needs. */
#define DRIFT_BINS 10u
#define DRIFT_CATEGORIES 20u
#define DRIFT_FRACTION_MIN 1e-4
#define DRIFT_MIN_VALUES 2u
/* A number that needs strtod and is longer than this is not taken as a number. */
#define NUMBER_BUFFER_BYTES 128u
/* Added to the fingerprint for each null, so nulls count as a value of their own. */
#define NULL_FINGERPRINT 0x6a09e667f3bcc909ull
/* Seed of the reservoir's generator: the same sequence for every column and every run, so
 * two versions of an unchanged column keep the same sample. */
#define SAMPLE_SEED 0x2545f4914f6cdd1dull

/*
 * Numbers are folded in a block at a time: the block's own mean and squared deviations (two
 * passes over values in cache), merged into the running ones by Chan, Golub and LeVeque's
 * update, which is Welford's for a block of many values instead of one. The per-value work
 * is a store instead of a division on a chain of dependent additions, and the result is as
 * accurate.
 */
#define NUMBER_BLOCK 64u

/* Of the values but NaN: min and max; of the finite ones: count, mean, sum of squared
 * deviations from the mean. */
struct moments {
    int have_number;
    double min, max;
    uint64_t n_finite;
    double mean, m2;
};

/* Algorithm L's state; the sample itself is apart, so a copy can be brought up to date. */
struct reservoir {
    uint64_t n_offered; /* numbers offered to the reservoir */
    uint64_t next;      /* index of the next number to take once it is full */
    double w;
    uint64_t rng;
};

struct dv_colstats {
    uint64_t count; /* nulls included */
    uint64_t nulls;
    int type;

    /* Numbers (BOOLEAN as 0 and 1), gathered NUMBER_BLOCK at a time in block, then folded
     * into the moments and offered to the reservoir (NULL until the first number). */
    struct moments moments;
    struct reservoir reservoir;
    double *sample;
    size_t n_block;
    double block[NUMBER_BLOCK];

    /* Distinct values: the exact set, whole hashes in set or the top 32 bits of each in
     * narrow_set (0 marks an empty slot, so a hash of 0 is kept as a flag), or once it
     * overflows, the HyperLogLog registers. */
    uint64_t *set;
    size_t set_mask; /* slots of set - 1 */
    uint32_t *narrow_set;
    size_t set_len; /* hashes in slots */
    int set_has_zero;
    uint8_t *hll;

    uint64_t fingerprint_sum;

    /* The least and greatest value in byte order, cut to DV_COLSTATS_VALUE_KEEP_BYTES. */
    int have_text;
    uint32_t min_len, max_len;
    uint64_t min_prefix, max_prefix; /* of min_bytes and max_bytes: see prefix_of */
    char min_bytes[DV_COLSTATS_VALUE_KEEP_BYTES];
    char max_bytes[DV_COLSTATS_VALUE_KEEP_BYTES];

    /* Space-saving counters, found by hash through a byte of it in counter_tag (all 64 are
     * compared at once, and only a counter whose tag matches has its hash compared), and kept
     * in buckets of equal count (Metwally's stream-summary): a list of
     * buckets in increasing count, each a list of its counters, so that both adding one
     * to a counter and finding a least counted one take constant time. Links are indexes,
     * NO_LINK for none. */
    size_t n_counters;
    int top_evicted;
    uint8_t counter_tag[COUNTERS]; /* of counter_hash; only n_counters are used */
    uint8_t least_bucket;
    uint8_t free_bucket; /* a list of unused buckets, linked by bucket_next */
    uint8_t bucket_next[COUNTERS], bucket_prev[COUNTERS], bucket_first[COUNTERS];
    uint8_t counter_bucket[COUNTERS], counter_next[COUNTERS], counter_prev[COUNTERS];
    uint64_t counter_hash[COUNTERS];
    uint64_t counter_count[COUNTERS];
    uint32_t counter_len[COUNTERS];
    char counter_bytes[COUNTERS][DV_COLSTATS_VALUE_KEEP_BYTES];
};

int dv_colstats_new(dv_colstats **out)
{
    dv_colstats *stats = calloc(1, sizeof(*stats));
    *out = NULL;
    if (!stats)
        return dv_error_set(DV_ENOMEM, "out of memory for column statistics");
    stats->type = DV_COLTYPE_NONE;
    stats->reservoir.rng = SAMPLE_SEED;
    stats->least_bucket = NO_LINK;
    for (unsigned i = 0; i < COUNTERS; i++)
        stats->bucket_next[i] = (uint8_t)(i + 1 < COUNTERS ? i + 1 : NO_LINK);
    stats->free_bucket = 0;
    *out = stats;
    return 0;
}

void dv_colstats_free(dv_colstats *stats)
{
    if (!stats)
        return;
    free(stats->sample);
    free(stats->set);
    free(stats->narrow_set);
    free(stats->hll);
    free(stats);
}

/* ---- type inference ---- */

static inline int is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* 1 for true, 0 for false (any case), -1 for anything else. */
static inline int parse_boolean(const unsigned char *p, size_t len)
{
    if (len == 4 && (p[0] | 0x20) == 't' && (p[1] | 0x20) == 'r' && (p[2] | 0x20) == 'u' &&
        (p[3] | 0x20) == 'e')
        return 1;
    if (len == 5 && (p[0] | 0x20) == 'f' && (p[1] | 0x20) == 'a' && (p[2] | 0x20) == 'l' &&
        (p[3] | 0x20) == 's' && (p[4] | 0x20) == 'e')
        return 0;
    return -1;
}

static int equals_lowercase(const unsigned char *p, size_t len, const char *word)
{
    size_t i;
    for (i = 0; i < len && word[i]; i++)
        if ((p[i] | 0x20) != (unsigned char)word[i])
            return 0;
    return i == len && !word[i];
}

/* inf, infinity or nan in any case, after the sign: 2 and *out, else 0. */
static int parse_special(const unsigned char *p, size_t len, int negative, double *out)
{
    if (equals_lowercase(p, len, "inf") || equals_lowercase(p, len, "infinity")) {
        *out = negative ? -INFINITY : INFINITY;
        return 2;
    }
    if (equals_lowercase(p, len, "nan")) {
        *out = NAN;
        return 2;
    }
    return 0;
}

/* The value of a number the fast path could not take: strtod on a NUL-terminated copy (the
 * syntax is already checked, so strtod reads all of it and never sees hex or spaces). */
static int parse_number_slow(const char *value, size_t len, int kind, double *out)
{
    char copy[NUMBER_BUFFER_BYTES];
    if (len >= sizeof(copy))
        return 0;
    memcpy(copy, value, len);
    copy[len] = '\0';
    *out = strtod(copy, NULL);
    return kind;
}

static const double powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * The fast path is Clinger's: a decimal mantissa of at most 2^53 and a power of ten of at
 * most 10^22 are both exact doubles, so one IEEE multiplication or division gives the
 * correctly rounded value. Anything else goes to strtod.
 */
/* The values of PLAIN_NUMBER_MAX_BYTES or fewer hold at most 19 digits, which a mantissa of
 * 64 bits takes without overflow: the general loop's count of digits is not needed. */
#define PLAIN_NUMBER_MAX_BYTES 19u

/*
 * parse_number's fast path, for the forms most numbers in tables have: [sign]digits and
 * [sign]digits.digits, short enough (above) that every digit goes into the mantissa. The
 * same value as parse_number, or -1 for anything else, which parse_number then decides.
 */
static inline int parse_plain_number(const unsigned char *p, size_t len, double *out)
{
    const unsigned char *end = p + len, *digits;
    int negative = 0;
    uint64_t mantissa = 0;
    size_t int_digits, frac_digits;
    if (!len || len > PLAIN_NUMBER_MAX_BYTES)
        return -1;
    if (*p == '-' || *p == '+')
        negative = *p++ == '-';
    for (digits = p; p < end && is_digit(*p); p++)
        mantissa = mantissa * 10 + (unsigned)(*p - '0');
    int_digits = (size_t)(p - digits);
    if (p == end) {
        if (!int_digits || mantissa > (uint64_t)INT64_MAX + negative)
            return -1;
        *out = negative ? -(double)mantissa : (double)mantissa;
        return 1;
    }
    if (*p != '.')
        return -1;
    for (digits = ++p; p < end && is_digit(*p); p++)
        mantissa = mantissa * 10 + (unsigned)(*p - '0');
    frac_digits = (size_t)(p - digits);
    if (p != end || (!int_digits && !frac_digits) || mantissa > (1ull << 53))
        return -1;
    double magnitude = (double)mantissa / powers_of_ten[frac_digits];
    *out = negative ? -magnitude : magnitude;
    return 2;
}

static inline int parse_number(const char *value, size_t len, double *out)
{
    int plain = parse_plain_number((const unsigned char *)value, len, out);
    if (plain >= 0)
        return plain;
    const unsigned char *p = (const unsigned char *)value, *end = p + len;
    int negative = 0, overflow = 0;
    uint64_t mantissa = 0;
    unsigned mantissa_digits = 0, int_digits = 0, frac_digits = 0;
    int scale = 0; /* the value is mantissa * 10^-scale before the exponent */

    if (p == end)
        return 0;
    if (*p == '-' || *p == '+') {
        negative = *p == '-';
        if (++p == end)
            return 0;
    }
    for (; p < end && is_digit(*p); p++, int_digits++) {
        if (mantissa_digits < 19) {
            mantissa = mantissa * 10 + (unsigned)(*p - '0');
            mantissa_digits += mantissa != 0;
        } else {
            overflow = 1;
        }
    }
    if (p == end) {
        if (!int_digits)
            return 0;
        if (!overflow && mantissa <= (uint64_t)INT64_MAX + negative) {
            *out = negative ? -(double)mantissa : (double)mantissa;
            return 1;
        }
        return parse_number_slow(value, len, 2, out);
    }
    if (!int_digits && *p != '.')
        return parse_special(p, (size_t)(end - p), negative, out);
    if (*p == '.') {
        for (p++; p < end && is_digit(*p); p++, frac_digits++) {
            if (mantissa_digits < 19) {
                mantissa = mantissa * 10 + (unsigned)(*p - '0');
                mantissa_digits += mantissa != 0;
                scale++;
            } else {
                overflow = 1;
            }
        }
        if (!int_digits && !frac_digits)
            return 0;
    }
    if (p < end) {
        int exponent = 0, exponent_negative = 0;
        unsigned exponent_digits = 0;
        if ((*p | 0x20) != 'e')
            return 0;
        if (++p < end && (*p == '-' || *p == '+'))
            exponent_negative = *p++ == '-';
        for (; p < end && is_digit(*p); p++, exponent_digits++)
            if (exponent < 100000)
                exponent = exponent * 10 + (*p - '0');
        if (p != end || !exponent_digits)
            return 0;
        scale -= exponent_negative ? -exponent : exponent;
    }
    if (!overflow && mantissa <= (1ull << 53) && scale >= -22 && scale <= 22) {
        double magnitude = scale >= 0 ? (double)mantissa / powers_of_ten[scale]
                                      : (double)mantissa * powers_of_ten[-scale];
        *out = negative ? -magnitude : magnitude;
        return 2;
    }
    return parse_number_slow(value, len, 2, out);
}

int dv_colstats_parse_number(const char *value, size_t len, double *out)
{
    return parse_number(value, len, out);
}

static inline unsigned two_digits(const unsigned char *p, int *ok)
{
    *ok &= is_digit(p[0]) & is_digit(p[1]);
    return (unsigned)(p[0] - '0') * 10u + (unsigned)(p[1] - '0');
}

/* ±hh:mm or ±hhmm at p, to the end. */
static int is_zone_offset(const unsigned char *p, size_t len)
{
    int ok = 1;
    if (len != 3 && len != 5 && len != 6)
        return 0;
    if (two_digits(p + 1, &ok) > 23)
        return 0;
    if (len == 3)
        return ok;
    if (len == 6 && p[3] != ':')
        return 0;
    return two_digits(p + len - 2, &ok) <= 59 && ok;
}

/* YYYY-MM-DD with a real day, optionally [T ]hh:mm[:ss[.f]][Z|±hh:mm|±hhmm]. */
static int is_datetime(const unsigned char *p, size_t len)
{
    static const unsigned char days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int ok = 1;
    unsigned year, month, day, days;
    size_t i;

    if (len < 10 || p[4] != '-' || p[7] != '-')
        return 0;
    year = two_digits(p, &ok) * 100u + two_digits(p + 2, &ok);
    month = two_digits(p + 5, &ok);
    day = two_digits(p + 8, &ok);
    if (!ok || month < 1 || month > 12 || day < 1)
        return 0;
    days = days_in_month[month - 1];
    if (month == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
        days = 29;
    if (day > days)
        return 0;
    if (len == 10)
        return 1;
    if ((p[10] != 'T' && p[10] != ' ') || len < 16 || p[13] != ':')
        return 0;
    if (two_digits(p + 11, &ok) > 23 || two_digits(p + 14, &ok) > 59 || !ok)
        return 0;
    i = 16;
    if (i < len && p[i] == ':') {
        if (len < i + 3 || two_digits(p + i + 1, &ok) > 60 || !ok)
            return 0;
        i += 3;
        if (i < len && p[i] == '.') {
            size_t start = ++i;
            while (i < len && is_digit(p[i]))
                i++;
            if (i == start)
                return 0;
        }
    }
    if (i == len)
        return 1;
    if (p[i] == 'Z')
        return i + 1 == len;
    if (p[i] == '+' || p[i] == '-')
        return is_zone_offset(p + i, len - i);
    return 0;
}

static inline int is_numeric_type(int type)
{
    return type == DV_COLTYPE_BOOLEAN || type == DV_COLTYPE_INTEGER || type == DV_COLTYPE_FLOAT;
}

/* The column's type once value is added to a column of type; *number is set when the new
 * type is numeric. Never called for TEXT, which nothing narrows. */
static inline int next_type(int type, const char *value, size_t len, double *number)
{
    const unsigned char *p = (const unsigned char *)value;
    int kind;
    switch (type) {
    case DV_COLTYPE_INTEGER:
    case DV_COLTYPE_FLOAT:
        kind = parse_number(value, len, number);
        if (kind == 1)
            return type;
        return kind == 2 ? DV_COLTYPE_FLOAT : DV_COLTYPE_TEXT;
    case DV_COLTYPE_BOOLEAN:
        kind = parse_boolean(p, len);
        *number = kind;
        return kind >= 0 ? DV_COLTYPE_BOOLEAN : DV_COLTYPE_TEXT;
    case DV_COLTYPE_DATETIME:
        return is_datetime(p, len) ? DV_COLTYPE_DATETIME : DV_COLTYPE_TEXT;
    default:
        kind = parse_boolean(p, len);
        if (kind >= 0) {
            *number = kind;
            return DV_COLTYPE_BOOLEAN;
        }
        kind = parse_number(value, len, number);
        if (kind)
            return kind == 1 ? DV_COLTYPE_INTEGER : DV_COLTYPE_FLOAT;
        return is_datetime(p, len) ? DV_COLTYPE_DATETIME : DV_COLTYPE_TEXT;
    }
}

/* ---- numbers and the reservoir ---- */

static inline uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, whose logarithm the reservoir takes. */
static double random_unit(uint64_t *state)
{
    return ((double)(splitmix64(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Algorithm L: after the reservoir fills, how many numbers to pass over before the next
 * one taken, drawn from the geometric distribution that uniform sampling implies. */
static void reservoir_plan_next(struct reservoir *r)
{
    double skip = floor(log(random_unit(&r->rng)) / log1p(-r->w));
    if (!(skip < 1e18))
        skip = 1e18;
    r->next += (uint64_t)skip + 1;
}

static void reservoir_offer(struct reservoir *r, double *sample, const double *values, size_t n)
{
    uint64_t first = r->n_offered, end = first + n;
    for (uint64_t i = first; i < end && i < DV_COLSTATS_SAMPLE; i++) {
        sample[i] = values[i - first];
        if (i + 1 == DV_COLSTATS_SAMPLE) {
            r->w = exp(log(random_unit(&r->rng)) / DV_COLSTATS_SAMPLE);
            r->next = i;
            reservoir_plan_next(r);
        }
    }
    if (end > DV_COLSTATS_SAMPLE) {
        while (r->next < end) {
            sample[splitmix64(&r->rng) % DV_COLSTATS_SAMPLE] = values[r->next - first];
            r->w *= exp(log(random_unit(&r->rng)) / DV_COLSTATS_SAMPLE);
            reservoir_plan_next(r);
        }
    }
    r->n_offered = end;
}

static void moments_add_block(struct moments *m, const double *values, size_t n)
{
    double min = m->have_number ? m->min : INFINITY, max = m->have_number ? m->max : -INFINITY;
    double sum = 0, m2 = 0, mean, delta;
    uint64_t n_finite = 0, total;
    if (!n)
        return;
    for (size_t i = 0; i < n; i++) {
        double x = values[i];
        min = x < min ? x : min;
        max = x > max ? x : max;
        if (isfinite(x)) {
            sum += x;
            n_finite++;
        }
    }
    m->min = min;
    m->max = max;
    m->have_number = 1;
    if (!n_finite)
        return;
    mean = sum / (double)n_finite;
    for (size_t i = 0; i < n; i++)
        if (isfinite(values[i]))
            m2 += (values[i] - mean) * (values[i] - mean);
    total = m->n_finite + n_finite;
    delta = mean - m->mean;
    m->m2 += m2 + delta * delta * ((double)m->n_finite * (double)n_finite / (double)total);
    m->mean += delta * ((double)n_finite / (double)total);
    m->n_finite = total;
}

static inline void add_number(dv_colstats *stats, double x)
{
    if (x != x)
        return; /* NaN: no order, no mean */
    stats->block[stats->n_block++] = x;
    if (stats->n_block == NUMBER_BLOCK) {
        moments_add_block(&stats->moments, stats->block, NUMBER_BLOCK);
        reservoir_offer(&stats->reservoir, stats->sample, stats->block, NUMBER_BLOCK);
        stats->n_block = 0;
    }
}

/* ---- distinct values ---- */

static inline void hll_add(uint8_t *registers, uint64_t hash)
{
    size_t index = (size_t)(hash >> (64 - HLL_PRECISION));
    /* The guard bit caps the rank at HLL_RANK_MAX when the 50 bits are all zero. */
    uint64_t rest = (hash << HLL_PRECISION) | (1ull << (HLL_PRECISION - 1));
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > registers[index])
        registers[index] = rank;
}

static double hll_sigma(double x)
{
    double y = 1, z = x, previous;
    if (x == 1)
        return INFINITY;
    do {
        x *= x;
        previous = z;
        z += x * y;
        y += y;
    } while (previous != z);
    return z;
}

static double hll_tau(double x)
{
    double y = 1, z = 1 - x, previous;
    if (x == 0 || x == 1)
        return 0;
    do {
        x = sqrt(x);
        previous = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (previous != z);
    return z / 3;
}

/*
 * Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017): the raw estimate with its bias removed over the whole range, the sigma
 * term taking the place of linear counting when many registers are still zero. Standard
 * error 1.04 / sqrt(2^14), about 0.8%.
 */
static uint64_t hll_estimate(const uint8_t *registers)
{
    const double m = HLL_REGISTERS;
    uint32_t histogram[HLL_RANK_MAX + 1] = {0};
    double z;
    for (size_t i = 0; i < HLL_REGISTERS; i++)
        histogram[registers[i]]++;
    z = m * hll_tau(1 - histogram[HLL_RANK_MAX] / m);
    for (unsigned k = HLL_RANK_MAX - 1; k >= 1; k--)
        z = 0.5 * (z + histogram[k]);
    z += m * hll_sigma(histogram[0] / m);
    return (uint64_t)llround(0.5 / log(2) * m * m / z);
}

/* What narrow_set keeps of hash (its top 32 bits; 0 is the empty slot, so it becomes 1). */
static inline uint32_t narrow_key(uint64_t hash)
{
    uint32_t key = (uint32_t)(hash >> 32);
    return key ? key : 1;
}

/* hll_add of a hash of which only narrow_key is known: the index is in it, and the rank
 * when one of the 18 bits after the index is set; else it is at least 19, taken as 19
 * (one hash in 2^18 moves its register by less than it should). */
static void hll_add_narrow(uint8_t *registers, uint32_t key)
{
    size_t index = key >> (32 - HLL_PRECISION);
    uint32_t rest = key << HLL_PRECISION;
    uint8_t rank = (uint8_t)(rest ? (unsigned)__builtin_clz(rest) + 1u : 32u - HLL_PRECISION + 1u);
    if (rank > registers[index])
        registers[index] = rank;
}

static int switch_to_hll(dv_colstats *stats, uint64_t hash)
{
    uint8_t *registers = calloc(HLL_REGISTERS, 1);
    assert(stats->narrow_set); /* the wide set holds far fewer than the limit */
    if (!registers)
        return dv_error_set(DV_ENOMEM, "out of memory for a distinct-value sketch");
    for (size_t i = 0; i < SET_NARROW_SLOTS; i++)
        if (stats->narrow_set[i])
            hll_add_narrow(registers, stats->narrow_set[i]);
    if (stats->set_has_zero)
        hll_add(registers, 0);
    hll_add(registers, hash);
    free(stats->narrow_set);
    stats->narrow_set = NULL;
    stats->set_len = 0;
    stats->hll = registers;
    return 0;
}

static void set_insert(uint64_t *set, size_t mask, uint64_t hash)
{
    size_t i = (size_t)hash & mask;
    while (set[i])
        i = (i + 1) & mask;
    set[i] = hash;
}

static void narrow_set_insert(uint32_t *set, uint64_t hash)
{
    size_t i = (size_t)hash & (SET_NARROW_SLOTS - 1);
    while (set[i])
        i = (i + 1) & (SET_NARROW_SLOTS - 1);
    set[i] = narrow_key(hash);
}

static int set_grow(dv_colstats *stats)
{
    size_t old_slots = stats->set ? stats->set_mask + 1 : 0;
    size_t slots = old_slots ? old_slots * 2 : SET_MIN_SLOTS;
    if (slots > SET_WIDE_MAX_SLOTS) {
        uint32_t *narrow_set = calloc(SET_NARROW_SLOTS, sizeof(*narrow_set));
        if (!narrow_set)
            return dv_error_set(DV_ENOMEM, "out of memory for a distinct-value set");
        for (size_t i = 0; i < old_slots; i++)
            if (stats->set[i])
                narrow_set_insert(narrow_set, stats->set[i]);
        free(stats->set);
        stats->set = NULL;
        stats->narrow_set = narrow_set;
        return 0;
    }
    uint64_t *set = calloc(slots, sizeof(*set));
    if (!set)
        return dv_error_set(DV_ENOMEM, "out of memory growing a distinct-value set to %zu", slots);
    for (size_t i = 0; i < old_slots; i++)
        if (stats->set[i])
            set_insert(set, slots - 1, stats->set[i]);
    free(stats->set);
    stats->set = set;
    stats->set_mask = slots - 1;
    return 0;
}

/* hash (not 0) is in neither set: make room for it, or switch to the sketch. */
static int distinct_add_new(dv_colstats *stats, uint64_t hash)
{
    int error;
    if (stats->set_len + (size_t)stats->set_has_zero == DV_COLSTATS_EXACT_DISTINCT)
        return switch_to_hll(stats, hash);
    if (!stats->narrow_set && (!stats->set || stats->set_len + 1 > (stats->set_mask + 1) / 2) &&
        (error = set_grow(stats)) < 0)
        return error;
    if (stats->narrow_set)
        narrow_set_insert(stats->narrow_set, hash);
    else
        set_insert(stats->set, stats->set_mask, hash);
    stats->set_len++;
    return 0;
}

static inline int distinct_add(dv_colstats *stats, uint64_t hash)
{
    if (stats->hll) {
        hll_add(stats->hll, hash);
        return 0;
    }
    if (!hash) {
        if (stats->set_has_zero)
            return 0;
        if (stats->set_len == DV_COLSTATS_EXACT_DISTINCT)
            return switch_to_hll(stats, hash);
        stats->set_has_zero = 1;
        return 0;
    }
    if (stats->narrow_set) {
        const uint32_t *set = stats->narrow_set;
        uint32_t key = narrow_key(hash);
        for (size_t i = (size_t)hash & (SET_NARROW_SLOTS - 1); set[i];
             i = (i + 1) & (SET_NARROW_SLOTS - 1))
            if (set[i] == key)
                return 0;
    } else if (stats->set) {
        const uint64_t *set = stats->set;
        size_t mask = stats->set_mask;
        for (size_t i = (size_t)hash & mask; set[i]; i = (i + 1) & mask)
            if (set[i] == hash)
                return 0;
    }
    return distinct_add_new(stats, hash);
}

/* ---- least and greatest value ---- */

static inline int compare_bytes(const char *a, size_t a_len, const char *b, size_t b_len)
{
    int order = memcmp(a, b, a_len < b_len ? a_len : b_len);
    if (order)
        return order;
    return (a_len > b_len) - (a_len < b_len);
}

/* The first 8 bytes of a value as a big-endian number, zeros past its end: when two
 * values' prefixes differ they are in the same order as the values, which settles most
 * comparisons without a call to memcmp. */
static inline uint64_t prefix_of(const char *value, size_t len)
{
    uint64_t prefix = 0;
    if (len >= 8) {
        memcpy(&prefix, value, 8);
        return __builtin_bswap64(prefix);
    }
    for (size_t i = 0; i < len; i++)
        prefix |= (uint64_t)(unsigned char)value[i] << (56 - 8 * i);
    return prefix;
}

/* compare_bytes of a value and a bound whose prefixes are equal. */
static inline int compare_same_prefix(const char *a, size_t a_len, const char *b, size_t b_len)
{
    if (a_len <= 8 || b_len <= 8) /* the prefixes held all of one, so the length decides */
        return (a_len > b_len) - (a_len < b_len);
    return compare_bytes(a + 8, a_len - 8, b + 8, b_len - 8);
}

static inline void text_bound_set(char *bytes, uint32_t *bytes_len, uint64_t *bytes_prefix,
                                  const char *value, size_t keep, uint64_t prefix)
{
    memcpy(bytes, value, keep);
    *bytes_len = (uint32_t)keep;
    *bytes_prefix = prefix;
}

/* Cutting is monotone (a <= b implies cut(a) <= cut(b)), so the least cut value is the cut
 * of the least value. */
static inline void text_bounds_add(dv_colstats *stats, const char *value, size_t len)
{
    size_t keep = len < DV_COLSTATS_VALUE_KEEP_BYTES ? len : DV_COLSTATS_VALUE_KEEP_BYTES;
    uint64_t prefix = prefix_of(value, keep);
    if (!stats->have_text) {
        text_bound_set(stats->min_bytes, &stats->min_len, &stats->min_prefix, value, keep, prefix);
        text_bound_set(stats->max_bytes, &stats->max_len, &stats->max_prefix, value, keep, prefix);
        stats->have_text = 1;
        return;
    }
    if (prefix > stats->min_prefix && prefix < stats->max_prefix)
        return;
    if (prefix < stats->min_prefix ||
        (prefix == stats->min_prefix &&
         compare_same_prefix(value, keep, stats->min_bytes, stats->min_len) < 0))
        text_bound_set(stats->min_bytes, &stats->min_len, &stats->min_prefix, value, keep, prefix);
    else if (prefix > stats->max_prefix ||
             (prefix == stats->max_prefix &&
              compare_same_prefix(value, keep, stats->max_bytes, stats->max_len) > 0))
        text_bound_set(stats->max_bytes, &stats->max_len, &stats->max_prefix, value, keep, prefix);
}

/* ---- most frequent values: space-saving ---- */

static inline uint8_t counter_tag_of(uint64_t hash)
{
    return (uint8_t)(hash >> 40);
}

/* The counter whose hash is hash, or -1. */
static inline int counter_find(const dv_colstats *stats, uint64_t hash)
{
    const uint8_t tag = counter_tag_of(hash);
    uint64_t mask = 0;
#ifdef __SSE2__
    const __m128i tags = _mm_set1_epi8((char)tag);
    for (unsigned i = 0; i < COUNTERS; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(stats->counter_tag + i));
        mask |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, tags)) << i;
    }
#else
    for (unsigned i = 0; i < COUNTERS; i++)
        mask |= (uint64_t)(stats->counter_tag[i] == tag) << i;
#endif
    if (stats->n_counters < COUNTERS)
        mask &= (1ull << stats->n_counters) - 1;
    for (; mask; mask &= mask - 1) {
        int counter = __builtin_ctzll(mask);
        if (stats->counter_hash[counter] == hash)
            return counter;
    }
    return -1;
}

static void bucket_unlink_counter(dv_colstats *stats, uint8_t counter)
{
    uint8_t bucket = stats->counter_bucket[counter];
    uint8_t next = stats->counter_next[counter], prev = stats->counter_prev[counter];
    if (prev != NO_LINK)
        stats->counter_next[prev] = next;
    else
        stats->bucket_first[bucket] = next;
    if (next != NO_LINK)
        stats->counter_prev[next] = prev;
    if (stats->bucket_first[bucket] != NO_LINK)
        return;
    /* The bucket is empty: out of the list and back to the free ones. */
    next = stats->bucket_next[bucket];
    prev = stats->bucket_prev[bucket];
    if (prev != NO_LINK)
        stats->bucket_next[prev] = next;
    else
        stats->least_bucket = next;
    if (next != NO_LINK)
        stats->bucket_prev[next] = prev;
    stats->bucket_next[bucket] = stats->free_bucket;
    stats->free_bucket = bucket;
}

static void bucket_link_counter(dv_colstats *stats, uint8_t bucket, uint8_t counter)
{
    uint8_t first = stats->bucket_first[bucket];
    stats->counter_bucket[counter] = bucket;
    stats->counter_prev[counter] = NO_LINK;
    stats->counter_next[counter] = first;
    if (first != NO_LINK)
        stats->counter_prev[first] = counter;
    stats->bucket_first[bucket] = counter;
}

/* A new, empty bucket after prev (NO_LINK: first). There is always a free one: a bucket
 * holds at least one of the COUNTERS counters. */
static uint8_t bucket_new_after(dv_colstats *stats, uint8_t prev)
{
    uint8_t bucket = stats->free_bucket;
    uint8_t next = prev != NO_LINK ? stats->bucket_next[prev] : stats->least_bucket;
    assert(bucket != NO_LINK);
    stats->free_bucket = stats->bucket_next[bucket];
    stats->bucket_first[bucket] = NO_LINK;
    stats->bucket_prev[bucket] = prev;
    stats->bucket_next[bucket] = next;
    if (prev != NO_LINK)
        stats->bucket_next[prev] = bucket;
    else
        stats->least_bucket = bucket;
    if (next != NO_LINK)
        stats->bucket_prev[next] = bucket;
    return bucket;
}

/* Add one to counter's count, moving it to the bucket of the next count. */
static inline void counter_increment(dv_colstats *stats, uint8_t counter)
{
    uint8_t bucket = stats->counter_bucket[counter], next = stats->bucket_next[bucket];
    uint64_t count = ++stats->counter_count[counter];
    if (next != NO_LINK && stats->counter_count[stats->bucket_first[next]] == count) {
        bucket_unlink_counter(stats, counter);
        bucket_link_counter(stats, next, counter);
    } else if (stats->bucket_first[bucket] == counter && stats->counter_next[counter] == NO_LINK) {
        /* Alone in its bucket, which may take the new count where it is (the usual case of
         * a frequent value). */
    } else {
        bucket_unlink_counter(stats, counter);
        bucket_link_counter(stats, bucket_new_after(stats, bucket), counter);
    }
}

/* memcpy of a short value without a call: most cells are a few bytes, and a column of
 * distinct values copies one into a counter on every add. */
static inline void copy_short(char *to, const char *from, size_t len)
{
    if (len >= 8 && len <= 16) {
        memcpy(to, from, 8);
        memcpy(to + len - 8, from + len - 8, 8);
    } else if (len >= 4 && len < 8) {
        memcpy(to, from, 4);
        memcpy(to + len - 4, from + len - 4, 4);
    } else if (len < 4) {
        for (size_t i = 0; i < len; i++)
            to[i] = from[i];
    } else {
        memcpy(to, from, len);
    }
}

static void counter_set_value(dv_colstats *stats, uint8_t counter, const char *value, size_t len,
                              uint64_t hash)
{
    size_t keep = len < DV_COLSTATS_VALUE_KEEP_BYTES ? len : DV_COLSTATS_VALUE_KEEP_BYTES;
    copy_short(stats->counter_bytes[counter], value, keep);
    stats->counter_len[counter] = (uint32_t)keep;
    stats->counter_hash[counter] = hash;
    stats->counter_tag[counter] = counter_tag_of(hash);
}

/* A value no counter holds: a new counter while there are fewer than COUNTERS, else the
 * least counted one is given to it with its count plus one (space-saving's rule, which
 * makes every count an upper bound of the true one). */
static void top_add_new(dv_colstats *stats, const char *value, size_t len, uint64_t hash)
{
    uint8_t counter;
    if (stats->n_counters < COUNTERS) {
        uint8_t least = stats->least_bucket;
        counter = (uint8_t)stats->n_counters++;
        counter_set_value(stats, counter, value, len, hash);
        stats->counter_count[counter] = 1;
        if (least == NO_LINK || stats->counter_count[stats->bucket_first[least]] != 1)
            least = bucket_new_after(stats, NO_LINK);
        bucket_link_counter(stats, least, counter);
        return;
    }
    counter = stats->bucket_first[stats->least_bucket];
    counter_set_value(stats, counter, value, len, hash);
    stats->top_evicted = 1;
    counter_increment(stats, counter);
}

static inline void top_add(dv_colstats *stats, const char *value, size_t len, uint64_t hash)
{
    int counter = counter_find(stats, hash);
    if (counter >= 0)
        counter_increment(stats, (uint8_t)counter);
    else
        top_add_new(stats, value, len, hash);
}

/* ---- adding values ---- */

/* The fingerprint sums a remix of each hash, so that it does not inherit any linear
 * structure of the caller's hash; a sum is what makes it independent of row order. */
static inline uint64_t fingerprint_remix(uint64_t hash)
{
    hash ^= hash >> 33;
    hash *= 0xff51afd7ed558ccdull;
    hash ^= hash >> 33;
    hash *= 0xc4ceb9fe1a85ec53ull;
    return hash ^ (hash >> 33);
}

int dv_colstats_add(dv_colstats *stats, const char *value, size_t len, uint64_t hash)
{
    int type = stats->type, new_type = DV_COLTYPE_TEXT, error;
    double number = 0;

    /* What can fail comes first, so that a failed add leaves the statistics as they were. */
    if (type != DV_COLTYPE_TEXT) {
        new_type = next_type(type, value, len, &number);
        if (is_numeric_type(new_type) && !stats->sample &&
            !(stats->sample = malloc(DV_COLSTATS_SAMPLE * sizeof(*stats->sample))))
            return dv_error_set(DV_ENOMEM, "out of memory for a sample of numbers");
    }
    if ((error = distinct_add(stats, hash)) < 0)
        return error;

    stats->count++;
    stats->fingerprint_sum += fingerprint_remix(hash);
    text_bounds_add(stats, value, len);
    top_add(stats, value, len, hash);
    if (type != DV_COLTYPE_TEXT) {
        stats->type = new_type;
        if (is_numeric_type(new_type)) {
            add_number(stats, number);
        } else if (new_type == DV_COLTYPE_TEXT) {
            /* Numbers are not reported for TEXT, nor drift measured on them. */
            free(stats->sample);
            stats->sample = NULL;
        }
    }
    return 0;
}

void dv_colstats_add_null(dv_colstats *stats)
{
    stats->count++;
    stats->nulls++;
}

/* ---- summary ---- */

/* Most counted first, equal counts in byte order. */
static int counter_before(const dv_colstats *stats, uint8_t a, uint8_t b)
{
    if (stats->counter_count[a] != stats->counter_count[b])
        return stats->counter_count[a] > stats->counter_count[b];
    return compare_bytes(stats->counter_bytes[a], stats->counter_len[a], stats->counter_bytes[b],
                         stats->counter_len[b]) < 0;
}

/* The counters in reporting order (an insertion sort: there are COUNTERS of them). */
static size_t counters_ordered(const dv_colstats *stats, uint8_t order[COUNTERS])
{
    size_t n = stats->n_counters;
    for (size_t i = 0; i < n; i++) {
        uint8_t counter = (uint8_t)i;
        size_t j = i;
        for (; j > 0 && counter_before(stats, counter, order[j - 1]); j--)
            order[j] = order[j - 1];
        order[j] = counter;
    }
    return n;
}

static uint64_t distinct_of(const dv_colstats *stats)
{
    if (stats->hll)
        return hll_estimate(stats->hll);
    return stats->set_len + (uint64_t)stats->set_has_zero;
}

void dv_colstats_summarize(const dv_colstats *stats, dv_colstats_summary *out)
{
    uint8_t order[COUNTERS];
    size_t n_ordered;

    memset(out, 0, sizeof(*out));
    out->count = stats->count;
    out->nulls = stats->nulls;
    out->distinct = distinct_of(stats);
    out->distinct_estimated = stats->hll != NULL;
    out->type = stats->type;
    out->numeric = is_numeric_type(stats->type);
    if (out->numeric) {
        struct moments moments = stats->moments;
        moments_add_block(&moments, stats->block, stats->n_block);
        if (moments.have_number) {
            out->min = moments.min;
            out->max = moments.max;
        }
        if (moments.n_finite) {
            out->mean = moments.mean;
            out->stddev = sqrt(moments.m2 / (double)moments.n_finite);
        }
    } else if (stats->have_text) {
        out->min_text = (dv_colstats_value){stats->min_bytes, stats->min_len, 0};
        out->max_text = (dv_colstats_value){stats->max_bytes, stats->max_len, 0};
    }
    n_ordered = counters_ordered(stats, order);
    out->n_top = n_ordered < DV_COLSTATS_TOP ? n_ordered : DV_COLSTATS_TOP;
    for (size_t i = 0; i < out->n_top; i++) {
        uint8_t counter = order[i];
        out->top[i] =
            (dv_colstats_value){stats->counter_bytes[counter], stats->counter_len[counter],
                                stats->counter_count[counter]};
    }
    out->top_estimated = stats->top_evicted;
    out->fingerprint = fingerprint_remix(stats->fingerprint_sum + stats->nulls * NULL_FINGERPRINT +
                                         fingerprint_remix(stats->count ^ 0x3c6ef372fe94f82bull));
}

/* ---- drift ---- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* stats's sample with the numbers still in its block offered too, into copy (room for
 * DV_COLSTATS_SAMPLE); returns how many it holds. */
static size_t sample_copy(const dv_colstats *stats, double *copy)
{
    struct reservoir reservoir = stats->reservoir;
    size_t n;
    if (!stats->sample)
        return 0;
    n = reservoir.n_offered < DV_COLSTATS_SAMPLE ? (size_t)reservoir.n_offered : DV_COLSTATS_SAMPLE;
    memcpy(copy, stats->sample, n * sizeof(*copy));
    reservoir_offer(&reservoir, copy, stats->block, stats->n_block);
    return reservoir.n_offered < DV_COLSTATS_SAMPLE ? (size_t)reservoir.n_offered
                                                    : DV_COLSTATS_SAMPLE;
}

/* How many of the n sorted values are <= x. */
static size_t count_at_most(const double *sorted, size_t n, double x)
{
    size_t low = 0, high = n;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (sorted[mid] <= x)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

static double psi_term(double p_old, double p_new)
{
    if (p_old < DRIFT_FRACTION_MIN)
        p_old = DRIFT_FRACTION_MIN;
    if (p_new < DRIFT_FRACTION_MIN)
        p_new = DRIFT_FRACTION_MIN;
    return (p_new - p_old) * log(p_new / p_old);
}

/* PSI over bins (-inf, e1], (e1, e2], ..., (ek, inf) with e the old sample's deciles, equal
 * ones merged; KS D the greatest gap between the two empirical distribution functions. */
static void drift_numeric(const double *old_sorted, size_t n_old, const double *new_sorted,
                          size_t n_new, dv_colstats_drift *out)
{
    double edges[DRIFT_BINS - 1];
    size_t n_edges = 0, old_below = 0, new_below = 0, i = 0, j = 0;
    double psi = 0, ks = 0;

    for (size_t k = 1; k < DRIFT_BINS; k++) {
        double edge = old_sorted[(k * n_old + DRIFT_BINS - 1) / DRIFT_BINS - 1];
        if (!n_edges || edge > edges[n_edges - 1])
            edges[n_edges++] = edge;
    }
    for (size_t k = 0; k <= n_edges; k++) {
        size_t old_upto = k < n_edges ? count_at_most(old_sorted, n_old, edges[k]) : n_old;
        size_t new_upto = k < n_edges ? count_at_most(new_sorted, n_new, edges[k]) : n_new;
        psi += psi_term((double)(old_upto - old_below) / (double)n_old,
                        (double)(new_upto - new_below) / (double)n_new);
        old_below = old_upto;
        new_below = new_upto;
    }

    while (i < n_old && j < n_new) {
        double x = old_sorted[i] < new_sorted[j] ? old_sorted[i] : new_sorted[j];
        double gap;
        while (i < n_old && old_sorted[i] == x)
            i++;
        while (j < n_new && new_sorted[j] == x)
            j++;
        gap = fabs((double)i / (double)n_old - (double)j / (double)n_new);
        if (gap > ks)
            ks = gap;
    }
    out->test = DV_DRIFT_PSI_NUMERIC;
    out->psi = psi;
    out->ks = ks;
    out->old_sampled = n_old;
    out->new_sampled = n_new;
}

/* A counter's count on stats's side for hash, or 0 when no counter holds it. */
static uint64_t counted(const dv_colstats *stats, uint64_t hash)
{
    int counter = counter_find(stats, hash);
    return counter >= 0 ? stats->counter_count[counter] : 0;
}

static void drift_categories(const dv_colstats *old_stats, const dv_colstats *new_stats,
                             dv_colstats_drift *out)
{
    uint8_t order[COUNTERS];
    size_t n = counters_ordered(old_stats, order);
    double n_old = (double)(old_stats->count - old_stats->nulls);
    double n_new = (double)(new_stats->count - new_stats->nulls);
    double old_rest = 1, new_rest = 1, psi = 0;

    if (n > DRIFT_CATEGORIES)
        n = DRIFT_CATEGORIES;
    for (size_t i = 0; i < n; i++) {
        uint8_t counter = order[i];
        double p_old = (double)old_stats->counter_count[counter] / n_old;
        double p_new = (double)counted(new_stats, old_stats->counter_hash[counter]) / n_new;
        /* Counts are upper bounds once counters were reused, so a share may be a little
         * too large: "other" is what is left, never below zero. */
        if (p_old > 1)
            p_old = 1;
        if (p_new > 1)
            p_new = 1;
        psi += psi_term(p_old, p_new);
        old_rest -= p_old;
        new_rest -= p_new;
    }
    psi += psi_term(old_rest > 0 ? old_rest : 0, new_rest > 0 ? new_rest : 0);
    out->test = DV_DRIFT_PSI_CATEGORIES;
    out->psi = psi;
    out->old_sampled = old_stats->count - old_stats->nulls;
    out->new_sampled = new_stats->count - new_stats->nulls;
}

/* Category drift is measured between text and datetime columns, and between a boolean
 * column and a text one (the same words, no longer all true or false). */
static int categories_comparable(int a, int b)
{
    int a_text = a == DV_COLTYPE_TEXT || a == DV_COLTYPE_DATETIME;
    int b_text = b == DV_COLTYPE_TEXT || b == DV_COLTYPE_DATETIME;
    if (a_text && b_text)
        return 1;
    return (a == DV_COLTYPE_BOOLEAN && b == DV_COLTYPE_TEXT) ||
           (a == DV_COLTYPE_TEXT && b == DV_COLTYPE_BOOLEAN);
}

int dv_colstats_drift_of(const dv_colstats *old_stats, const dv_colstats *new_stats,
                         dv_colstats_drift *out)
{
    memset(out, 0, sizeof(*out));
    out->test = DV_DRIFT_NONE;
    if (is_numeric_type(old_stats->type) && is_numeric_type(new_stats->type)) {
        double *old_sorted = malloc(2 * DV_COLSTATS_SAMPLE * sizeof(*old_sorted)), *new_sorted;
        size_t n_old, n_new;
        if (!old_sorted)
            return dv_error_set(DV_ENOMEM, "out of memory measuring drift");
        new_sorted = old_sorted + DV_COLSTATS_SAMPLE;
        n_old = sample_copy(old_stats, old_sorted);
        n_new = sample_copy(new_stats, new_sorted);
        if (n_old >= DRIFT_MIN_VALUES && n_new >= DRIFT_MIN_VALUES) {
            qsort(old_sorted, n_old, sizeof(*old_sorted), compare_doubles);
            qsort(new_sorted, n_new, sizeof(*new_sorted), compare_doubles);
            drift_numeric(old_sorted, n_old, new_sorted, n_new, out);
        }
        free(old_sorted);
        return 0;
    }
    if (categories_comparable(old_stats->type, new_stats->type) &&
        old_stats->count - old_stats->nulls >= DRIFT_MIN_VALUES &&
        new_stats->count - new_stats->nulls >= DRIFT_MIN_VALUES)
        drift_categories(old_stats, new_stats, out);
    return 0;
}
