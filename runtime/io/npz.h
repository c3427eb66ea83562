/* npz.h: NumPy's .npz archives (np.savez, np.savez_compressed).
 *
 * An .npz is a zip archive with one .npy file per array, stored
 * (np.savez) or deflated (np.savez_compressed), in zip64 form when large.
 * The archive is read through libzip, which checks the central directory
 * against the local headers (ZIP_CHECKCONS) and each member's CRC-32 and
 * size when it is read to its end; the members go through npy.h's reader
 * as a stream, so a deflated array is inflated straight into its tensor.
 * An array is named as numpy names it: the member "x.npy" is "x"; a
 * member that does not end in ".npy" keeps its whole name; directory
 * entries are skipped.  Every message names the archive (and the array). */
#ifndef AE_NPZ_H
#define AE_NPZ_H

#include <stdint.h>

#include "core/tensor.h"

typedef struct ae_npz ae_npz;

/* opens and checks an archive; NULL with ae_error() set */
ae_npz *ae_npz_open(const char *path);
void ae_npz_close(ae_npz *z);

/* the arrays' names, in the archive's order */
int64_t ae_npz_count(const ae_npz *z);
const char *ae_npz_name(const ae_npz *z, int64_t i);
/* "'x', 'y'" (cut after 20 names): for messages */
const char *ae_npz_names_str(const ae_npz *z, char *buf, size_t cap);

/* the i-th array (0-based), or the one called name (a missing name is an
 * error that lists the names present); NULL with ae_error() set */
ae_tensor *ae_npz_read_index(ae_npz *z, int64_t i);
ae_tensor *ae_npz_read(ae_npz *z, const char *name);

#endif
