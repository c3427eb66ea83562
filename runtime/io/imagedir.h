/* imagedir.h: a folder of PNG and JPEG pictures read into one tensor.
 *
 * Layout, as torchvision's ImageFolder: either the pictures sit in dir
 * itself (no labels), or each subfolder of dir is a class holding its
 * pictures (dir/cat/1.png, dir/dog/7.jpg).  Classes are the subfolders'
 * names sorted by byte value (Python's sorted()), labelled 0..K-1 in that
 * order; the files of a folder are sorted the same way, and the samples are
 * class by class, so the order never depends on the file system.
 *
 * Files are chosen by extension (png, jpg, jpeg, case-insensitive, unless
 * opts->extensions says otherwise) and decoded by their content, so a
 * .png that is really a JPEG reads; one that is neither is an error naming
 * it.  Other files, and entries that are not regular files (a FIFO would
 * block), are skipped and listed in skipped; names starting with "." are
 * ignored.  Errors: no pictures at all, a class folder without
 * pictures, files beside class folders, a folder inside a class folder,
 * a file that cannot be decoded (its path in the message), pictures of
 * different sizes without a size to resize them to.
 *
 * Channels: opts->channels 1 or 3, or 0 for 3 when any picture has colour
 * and 1 otherwise.  Gray to RGB repeats the gray level; RGB to gray is
 * Pillow's convert("L"): L = (19595 R + 38470 G + 7471 B + 32768) >> 16,
 * the ITU-R 601 weights 0.299, 0.587, 0.114 in 16-bit fixed point, on the
 * integer samples (16-bit ones too).  Alpha is dropped (see png.h).
 * Values: sample / 255, or / 65535 for 16-bit PNG, as float32.
 *
 * Resizing: with opts->height and width set, every picture is resized to
 * that size by bilinear interpolation as torch.nn.functional.interpolate
 * (mode="bilinear", align_corners=False, antialias=False) computes it on
 * the float values of an N×C×H×W tensor, to the bit: no antialiasing, so
 * shrinking by more than 2 skips pixels.  A picture already at that size
 * is copied unchanged. */
#ifndef AE_IMAGEDIR_H
#define AE_IMAGEDIR_H

#include <stdint.h>

#include "core/tensor.h"

typedef struct {
    int channels;                  /* 1, 3, or 0: from the pictures */
    int height, width;             /* both > 0 to resize, both 0 to keep */
    const char *const *extensions; /* without the dot; NULL: png, jpg, jpeg */
    int n_extensions;
} ae_imagedir_opts;

typedef struct {
    ae_tensor *x;   /* N×C×H×W in [0, 1] */
    ae_tensor *y;   /* N labels 0..K-1 as floats, NULL without classes */
    int n_classes;  /* K, 0 without classes */
    char **classes; /* the subfolders' names in label order */
    int64_t n;      /* N */
    char **files;   /* the pictures' paths (dir/class/name) in sample order */
    int64_t n_skipped;
    char **skipped; /* the paths skipped: their extension, or not a regular file */
} ae_imagedir;

/* 0 and out filled, or -1 with ae_error() set and nothing left allocated */
int ae_imagedir_read(const char *dir, const ae_imagedir_opts *opts, ae_imagedir *out);
void ae_imagedir_free(ae_imagedir *d);

/* the extensions read by default and the ones that may be asked for */
int ae_imagedir_known_extension(const char *ext);

#endif
