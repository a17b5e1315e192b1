/*
 * settings: the keys dv reads from its configuration, with the kind and range of each
 * value and the file it may live in, so that a value is checked before it is written
 * (dv config) with the rules that apply when it is read.
 */
#ifndef DV_SETTINGS_H
#define DV_SETTINGS_H

#include "core/base/error.h"

/* The ranges shared by the readers of these keys and dv config. */
#define DV_COMPRESSION_LEVEL_MIN 1
#define DV_COMPRESSION_LEVEL_MAX 22
#define DV_TRANSFER_JOBS_MAX 64
/* gc.reflogExpire (and dv gc --expire-reflog): days, as git's default, or never. */
#define DV_EXPIRE_DAYS_DEFAULT 90
#define DV_EXPIRE_DAYS_MAX 1000000
#define DV_EXPIRE_NEVER (-1)
/* gc.pruneExpire: dv gc --remote deletes nothing from remote packs younger than this. */
#define DV_PRUNE_EXPIRE_DAYS_DEFAULT 14

#include <stdint.h>

/** 0 when key is one dv reads; DV_EUSAGE otherwise, naming the nearest known key. */
DV_NODISCARD int dv_settings_check_key(const char *key);

/**
 * 0 when value may be written under key into .dv/config.local (local) or the committed
 * .dv/config (!local): the key is known, may be set in that file and by hand, and the value
 * is one its reader accepts (numbers in range, booleans, remote names and URLs). DV_EUSAGE
 * saying why not otherwise (a credential or cache.dir in the committed file says to use
 * --local).
 */
DV_NODISCARD int dv_settings_check(const char *key, const char *value, int local);

/** Parse a reflog expiry (gc.reflogExpire, --expire-reflog, named key in messages): "now"
 *  (0 days), "never" (DV_EXPIRE_NEVER), or a number of days ("90", "90.days",
 *  "90.days.ago"). DV_EUSAGE naming key otherwise. */
DV_NODISCARD int dv_settings_parse_expire(int64_t *days, const char *key, const char *text);

#endif
