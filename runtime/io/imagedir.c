/* imagedir.c: a folder of pictures into one tensor (see imagedir.h).
 *
 * Two passes: the first lists the folders and reads every file's header
 * (size and colour type, no pixels), so that the channels, the output's
 * size and the mismatches are known before the N×C×H×W tensor is
 * allocated; the second decodes one picture at a time into its slot. */
#include "imagedir.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"
#include "io/jpeg.h"
#include "io/png.h"

static const char *const default_extensions[] = {"png", "jpg", "jpeg"};

int ae_imagedir_known_extension(const char *ext)
{
    for (size_t i = 0; i < sizeof default_extensions / sizeof *default_extensions; i++)
        if (strcasecmp(ext, default_extensions[i]) == 0) return 1;
    return 0;
}

/* a growing list of malloc'd strings */
typedef struct {
    char **items;
    int64_t n, cap;
} strlist;

static int push(strlist *l, char *s)
{
    if (!s) return ae_failc("image_folder: out of memory");
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 16;
        char **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items) {
            free(s);
            return ae_failc("image_folder: out of memory");
        }
        l->items = items, l->cap = cap;
    }
    l->items[l->n++] = s;
    return 0;
}

static void free_list(char **items, int64_t n)
{
    for (int64_t i = 0; i < n; i++) free(items[i]);
    free(items);
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    int slash = a > 0 && dir[a - 1] != '/';
    char *s = malloc(a + (size_t)slash + b + 1);
    if (!s) return NULL;
    memcpy(s, dir, a);
    if (slash) s[a] = '/';
    memcpy(s + a + (size_t)slash, name, b + 1);
    return s;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* a folder's entries, hidden ones (".*") left out, split into folders and
 * regular files, both sorted by name; anything else (a FIFO, which would
 * block a read, a socket, a device) goes to others by its path */
static int list_dir(const char *path, strlist *dirs, strlist *files, strlist *others)
{
    DIR *d = opendir(path);
    if (!d) return ae_failc("image_folder: cannot open the folder %s: %s", path, strerror(errno));
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char *full = join(path, e->d_name);
        struct stat st;
        if (!full) rc = ae_failc("image_folder: out of memory");
        else if (stat(full, &st) != 0) rc = ae_failc("image_folder: cannot read %s: %s", full, strerror(errno));
        else if (S_ISDIR(st.st_mode)) rc = push(dirs, strdup(e->d_name));
        else if (S_ISREG(st.st_mode)) rc = push(files, strdup(e->d_name));
        else {
            rc = push(others, full);
            full = NULL;
        }
        free(full);
    }
    closedir(d);
    if (dirs->n > 1) qsort(dirs->items, (size_t)dirs->n, sizeof *dirs->items, by_name);
    if (files->n > 1) qsort(files->items, (size_t)files->n, sizeof *files->items, by_name);
    return rc;
}

static int wanted(const char *name, const ae_imagedir_opts *o)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    const char *ext = dot + 1;
    if (!o->extensions) return ae_imagedir_known_extension(ext);
    for (int i = 0; i < o->n_extensions; i++)
        if (strcasecmp(ext, o->extensions[i]) == 0) return 1;
    return 0;
}

static const char *extension_list(const ae_imagedir_opts *o, char *buf, size_t len)
{
    const char *const *ext = o->extensions ? o->extensions : default_extensions;
    int n = o->extensions ? o->n_extensions : 3;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s.%s", i ? ", " : "", ext[i]);
    return buf;
}

/* what the folders hold: the pictures' paths and labels, the skipped paths */
typedef struct {
    strlist files, skipped;
    int *labels;
    int64_t labels_cap;
} scan;

/* the files names of folder: the wanted ones to s->files with label, the
 * others to s->skipped */
static int collect(scan *s, const char *folder, strlist *names, int label, const ae_imagedir_opts *o)
{
    for (int64_t i = 0; i < names->n; i++) {
        char *path = join(folder, names->items[i]);
        if (!wanted(names->items[i], o)) {
            if (push(&s->skipped, path) != 0) return -1;
            continue;
        }
        if (push(&s->files, path) != 0) return -1;
        if (s->files.n > s->labels_cap) {
            int64_t cap = s->labels_cap ? 2 * s->labels_cap : 16;
            int *l = realloc(s->labels, (size_t)cap * sizeof *l);
            if (!l) return ae_failc("image_folder: out of memory");
            s->labels = l, s->labels_cap = cap;
        }
        s->labels[s->files.n - 1] = label;
    }
    return 0;
}

static int scan_folders(const char *dir, const ae_imagedir_opts *o, scan *s, strlist *classes)
{
    strlist files = {0};
    char exts[200];
    int rc = list_dir(dir, classes, &files, &s->skipped);
    if (rc == 0 && classes->n == 0) {
        rc = collect(s, dir, &files, 0, o);
        if (rc == 0 && s->files.n == 0)
            rc = ae_failc("image_folder: no pictures in %s: no files ending in %s and no class subfolders%s%s%s", dir,
                          extension_list(o, exts, sizeof exts), s->skipped.n ? " (skipped: " : "",
                          s->skipped.n ? s->skipped.items[0] : "",
                          s->skipped.n > 1 ? ", ...)"
                          : s->skipped.n   ? ")"
                                           : "");
    } else if (rc == 0) {
        /* class folders: a picture beside them has no class */
        for (int64_t i = 0; rc == 0 && i < files.n; i++)
            if (wanted(files.items[i], o))
                rc = ae_failc("image_folder: %s holds both class folders (%s) and pictures (%s): put every picture "
                              "in a class folder, or the pictures alone in a folder",
                              dir, classes->items[0], files.items[i]);
        if (rc == 0) rc = collect(s, dir, &files, 0, o); /* only the skipped ones remain */
        for (int64_t c = 0; rc == 0 && c < classes->n; c++) {
            char *folder = join(dir, classes->items[c]);
            strlist sub = {0}, names = {0};
            if (!folder) rc = ae_failc("image_folder: out of memory");
            if (rc == 0) rc = list_dir(folder, &sub, &names, &s->skipped);
            if (rc == 0 && sub.n > 0)
                rc = ae_failc("image_folder: %s/%s is a folder inside the class folder %s: classes are the "
                              "subfolders of %s, one level deep",
                              folder, sub.items[0], folder, dir);
            int64_t before = s->files.n;
            if (rc == 0) rc = collect(s, folder, &names, (int)c, o);
            if (rc == 0 && s->files.n == before)
                rc = ae_failc("image_folder: the class folder %s has no pictures (files ending in %s)", folder,
                              extension_list(o, exts, sizeof exts));
            free_list(sub.items, sub.n);
            free_list(names.items, names.n);
            free(folder);
        }
    }
    free_list(files.items, files.n);
    return rc;
}

/* one file's header or pixels, by its content: PNG or JPEG */
static int decode(const char *path, ae_pixels *px, int header_only)
{
    *px = (ae_pixels){0};
    unsigned char sig[8] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return ae_failc("image_folder: cannot open %s: %s", path, strerror(errno));
    size_t got = fread(sig, 1, sizeof sig, f);
    fclose(f);
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    int rc;
    if (got == 8 && memcmp(sig, png_sig, 8) == 0) rc = ae_png_decode(path, px, header_only);
    else if (got >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF) rc = ae_jpeg_decode(path, px, header_only);
    else if (got == 0) return ae_failc("image_folder: %s is empty, not a PNG or JPEG file", path);
    else
        return ae_failc("image_folder: %s is not a PNG or JPEG file (it starts with neither format's signature)", path);
    if (rc != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ae_error());
        ae_failc("image_folder: %s", msg);
    }
    return rc;
}

/* the samples as C planes of floats in [0, 1] (see imagedir.h) */
static void to_planes(const ae_pixels *px, int channels, float *out)
{
    size_t plane = (size_t)px->width * (size_t)px->height, sc = (size_t)px->channels;
    const uint8_t *s8 = px->samples;
    const uint16_t *s16 = px->samples;
    float max = px->depth == 16 ? 65535.0f : 255.0f;
    for (size_t i = 0; i < plane; i++) {
        uint32_t v[3];
        for (size_t c = 0; c < sc; c++) v[c] = px->depth == 16 ? s16[i * sc + c] : s8[i * sc + c];
        if (sc == 1) v[1] = v[2] = v[0];
        if (channels == 1) {
            /* Pillow's rgb2l: L24(rgb) >> 16; 64 bits for 16-bit samples */
            uint64_t l = ((uint64_t)v[0] * 19595 + (uint64_t)v[1] * 38470 + (uint64_t)v[2] * 7471 + 0x8000) >> 16;
            out[i] = (float)(sc == 1 ? v[0] : (uint32_t)l) / max;
        } else
            for (int c = 0; c < 3; c++) out[(size_t)c * plane + i] = (float)v[c] / max;
    }
}

/* torch's upsample_bilinear2d index and weights along one axis
 * (align_corners=False), as torch 1.13's CPU kernel computes them: the
 * scale in/out in float, the source position scale·(d + ½) − ½ in double
 * (the product is exact there: 24 by at most 18 bits), clamped at 0;
 * i0 = ⌊src⌋, i1 = i0 + 1 but not past the end, w1 = src − i0 rounded to
 * float, w0 = 1 − w1 in float */
static void axis(int in, int out, int *i0, int *i1, float *w0, float *w1)
{
    float scale = (float)in / (float)out;
    for (int d = 0; d < out; d++) {
        double src = (double)scale * ((double)d + 0.5) - 0.5;
        if (src < 0) src = 0;
        int i = (int)src;
        if (i > in - 1) i = in - 1;
        i0[d] = i, i1[d] = i + (i < in - 1);
        w1[d] = (float)(src - (double)i), w0[d] = 1.0f - w1[d];
    }
}

/* C planes h0×w0 to h×w.  The sums are torch's for an N×C×H×W tensor
 * (its generic kernel, vectorised with fused multiply-adds): each row's
 * pair as fma(p00, b0, p01·b1), then the two rows as fma(t0, a0, t1·a1).
 * (torch sends a one-channel tensor to its channels-last kernel, whose
 * sums differ in the last bit or two.) */
static int resize(const float *src, int channels, int h0, int w0, float *dst, int h, int w)
{
    int *yi = malloc(2 * ((size_t)h + (size_t)w) * sizeof(int));
    float *yw = malloc(2 * ((size_t)h + (size_t)w) * sizeof(float));
    if (!yi || !yw) {
        free(yi), free(yw);
        return ae_failc("image_folder: out of memory resizing");
    }
    int *y0 = yi, *y1 = yi + h, *x0 = yi + 2 * (size_t)h, *x1 = x0 + w;
    float *a0 = yw, *a1 = yw + h, *b0 = yw + 2 * (size_t)h, *b1 = b0 + w;
    axis(h0, h, y0, y1, a0, a1);
    axis(w0, w, x0, x1, b0, b1);
    for (int c = 0; c < channels; c++) {
        const float *p = src + (size_t)c * h0 * w0;
        float *q = dst + (size_t)c * h * w;
        for (int y = 0; y < h; y++) {
            const float *r0 = p + (size_t)y0[y] * w0, *r1 = p + (size_t)y1[y] * w0;
            for (int x = 0; x < w; x++) {
                float t0 = fmaf(r0[x0[x]], b0[x], r0[x1[x]] * b1[x]);
                float t1 = fmaf(r1[x0[x]], b0[x], r1[x1[x]] * b1[x]);
                q[(size_t)y * w + x] = fmaf(t0, a0[y], t1 * a1[y]);
            }
        }
    }
    free(yi), free(yw);
    return 0;
}

typedef struct {
    int width, height, colour;
} header;

/* pass 1: every header; the channels and the output size */
static int read_headers(scan *s, const ae_imagedir_opts *o, header *hd, int *channels, int *h, int *w)
{
    int colour = 0;
    for (int64_t i = 0; i < s->files.n; i++) {
        ae_pixels px;
        if (decode(s->files.items[i], &px, 1) != 0) return -1;
        hd[i] = (header){px.width, px.height, px.colour};
        colour |= px.colour;
        if (o->height > 0) continue;
        if (px.width != hd[0].width || px.height != hd[0].height)
            return ae_failc("image_folder: the pictures differ in size: %s is %d×%d and %s is %d×%d (height×width); "
                            "pass size = {h, w} to resize them all to h×w",
                            s->files.items[0], hd[0].height, hd[0].width, s->files.items[i], px.height, px.width);
    }
    *channels = o->channels ? o->channels : colour ? 3 : 1;
    *h = o->height > 0 ? o->height : hd[0].height;
    *w = o->width > 0 ? o->width : hd[0].width;
    return 0;
}

/* pass 2: each picture into its slot of x */
static int read_pixels(scan *s, const header *hd, int channels, int h, int w, float *x)
{
    size_t slot = (size_t)channels * (size_t)h * (size_t)w;
    float *tmp = NULL;
    size_t tmp_len = 0;
    int rc = 0;
    for (int64_t i = 0; rc == 0 && i < s->files.n; i++) {
        ae_pixels px;
        const char *path = s->files.items[i];
        if (decode(path, &px, 0) != 0) {
            rc = -1;
            break;
        }
        float *out = x + (size_t)i * slot;
        if (px.width != hd[i].width || px.height != hd[i].height)
            rc = ae_failc("image_folder: %s changed while it was read (%d×%d, then %d×%d)", path, hd[i].height,
                          hd[i].width, px.height, px.width);
        else if (px.width == w && px.height == h) to_planes(&px, channels, out);
        else {
            size_t need = (size_t)channels * (size_t)px.width * (size_t)px.height;
            if (need > tmp_len) {
                free(tmp);
                tmp = malloc(need * sizeof *tmp);
                tmp_len = tmp ? need : 0;
            }
            if (!tmp) rc = ae_failc("image_folder: out of memory for %s (%d×%d)", path, px.height, px.width);
            else {
                to_planes(&px, channels, tmp);
                rc = resize(tmp, channels, px.height, px.width, out, h, w);
            }
        }
        free(px.samples);
    }
    free(tmp);
    return rc;
}

void ae_imagedir_free(ae_imagedir *d)
{
    if (!d) return;
    if (d->x) ae_release(d->x);
    if (d->y) ae_release(d->y);
    free_list(d->classes, d->n_classes);
    free_list(d->files, d->n);
    free_list(d->skipped, d->n_skipped);
    *d = (ae_imagedir){0};
}

int ae_imagedir_read(const char *dir, const ae_imagedir_opts *opts, ae_imagedir *out)
{
    *out = (ae_imagedir){0};
    ae_imagedir_opts o = opts ? *opts : (ae_imagedir_opts){0};
    if (o.channels != 0 && o.channels != 1 && o.channels != 3)
        return ae_failc("image_folder: channels must be 1 (gray) or 3 (RGB), got %d", o.channels);
    if ((o.height > 0) != (o.width > 0) || o.height < 0 || o.width < 0 || o.height > 65535 || o.width > 65535)
        return ae_failc("image_folder: size must be {h, w} with both in 1..65535, got %d×%d", o.height, o.width);
    for (int i = 0; i < o.n_extensions && o.extensions; i++)
        if (!ae_imagedir_known_extension(o.extensions[i]))
            return ae_failc("image_folder: extension \"%s\" is not one of the formats read (png, jpg, jpeg)",
                            o.extensions[i]);
    scan s = {0};
    strlist classes = {0};
    header *hd = NULL;
    int channels = 0, h = 0, w = 0;
    int rc = scan_folders(dir, &o, &s, &classes);
    if (rc == 0) {
        hd = malloc((size_t)s.files.n * sizeof *hd);
        if (!hd) rc = ae_failc("image_folder: out of memory");
    }
    if (rc == 0) rc = read_headers(&s, &o, hd, &channels, &h, &w);
    if (rc == 0) {
        int64_t shape[4] = {s.files.n, channels, h, w};
        if ((double)s.files.n * channels * h * w > 4e12)
            rc = ae_failc("image_folder: %lld pictures of %d×%d×%d are too many floats for one tensor",
                          (long long)s.files.n, channels, h, w);
        else if (!(out->x = ae_empty(4, shape))) rc = -1;
    }
    if (rc == 0) rc = read_pixels(&s, hd, channels, h, w, ae_data(out->x));
    if (rc == 0 && classes.n > 0) {
        int64_t n = s.files.n;
        if (!(out->y = ae_empty(1, &n))) rc = -1;
        else
            for (int64_t i = 0; i < n; i++) ae_data(out->y)[i] = (float)s.labels[i];
    }
    free(hd);
    free(s.labels);
    out->classes = classes.items, out->n_classes = (int)classes.n;
    out->files = s.files.items, out->n = s.files.n;
    out->skipped = s.skipped.items, out->n_skipped = s.skipped.n;
    if (rc != 0) ae_imagedir_free(out);
    return rc;
}
