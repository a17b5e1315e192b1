/*
 * bundle (remote): a bundle file (storage/bundle) read as a read-only remote: its table
 * lists packs/<id>.pack and packs/<id>.idx, a get reads a byte range of one of them. So
 * dv fetch -r ./data.dvbundle and dv pull -r ... go through the transfer code, which checks
 * every index and object it reads. The bundle's whole-file checksum is not read here
 * (that is dv bundle verify's and unbundle's work): a fetch reads only what it needs.
 */
#ifndef DV_REMOTE_BUNDLE_H
#define DV_REMOTE_BUNDLE_H

#include "core/base/error.h"

#include "remotes/remote.h"

/** Open the bundle at path as a remote. Its url (the key of its remote index cache) is
 *  "bundle:<the bundle's trailer in hex>", so a bundle's cached indexes are its own whatever
 *  path it is read from; its name and display are path. DV_ENOTFOUND, DV_ECORRUPT, DV_EIO
 *  naming path. */
DV_NODISCARD int dv_remote_bundle_open(dv_remote **out, const char *path);

#endif
