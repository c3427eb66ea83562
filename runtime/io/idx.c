/* idx.c: the IDX reader; see idx.h.
 * zlib's gzread passes a file that is not gzip through unchanged, so one
 * read path serves plain and compressed files alike and the compression is
 * decided by the file's first bytes.  The header is trusted only after it
 * has been checked against limits and against the data actually present:
 * a corrupt dimension must give a message, not a 16 GiB allocation or a
 * short read that leaves garbage in the tensor. */
#include "idx.h"
#include "core/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const struct {
    int type;
    const char *name;
    size_t size;
} types[] = {
    {AE_IDX_UBYTE, "ubyte", 1}, {AE_IDX_BYTE, "byte", 1},   {AE_IDX_SHORT, "short", 2},
    {AE_IDX_INT, "int", 4},     {AE_IDX_FLOAT, "float", 4}, {AE_IDX_DOUBLE, "double", 8},
};

const char *ae_idx_type_name(int type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return types[i].name;
    return NULL;
}

static size_t type_size(int type)
{
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].type == type) return types[i].size;
    return 0;
}

void ae_idx_free(ae_idx *idx)
{
    if (!idx) return;
    free(idx->data);
    free(idx);
}

/* gzread takes an unsigned count, so big reads go in pieces; returns the
 * bytes read (short only at end of file) or -1 on a read or gzip error */
static int64_t read_fully(gzFile f, void *buf, uint64_t n)
{
    unsigned char *p = buf;
    uint64_t got = 0;
    while (got < n) {
        uint64_t want = n - got;
        if (want > ((uint64_t)1 << 30)) want = (uint64_t)1 << 30;
        int r = gzread(f, p + got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (uint64_t)r;
    }
    return (int64_t)got;
}

/* bytes left before end of file; -1 on a read error */
static int64_t count_rest(gzFile f)
{
    unsigned char scratch[1 << 16];
    int64_t n = 0;
    for (;;) {
        int r = gzread(f, scratch, sizeof scratch);
        if (r < 0) return -1;
        if (r == 0) return n;
        n += r;
    }
}

/* a failed gzread: zlib's message without the path it puts in front (ours
 * names the file) */
static int read_error(gzFile f, const char *path)
{
    int code;
    const char *msg = gzerror(f, &code);
    if (code == Z_ERRNO) return ae_failc("cannot read IDX file '%s': %s", path, strerror(errno));
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0) msg += n + 2;
    return ae_failc("cannot read IDX file '%s': corrupt gzip data (%s)", path, msg);
}

/* big-endian file order to the host's, in place */
static void to_host_order(unsigned char *p, int64_t count, size_t size)
{
    const uint16_t probe = 1;
    if (size == 1 || *(const unsigned char *)&probe == 0) return;
    for (int64_t i = 0; i < count; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

static int check_file(const char *path, struct stat *st)
{
    if (stat(path, st) != 0) return ae_failc("cannot open IDX file '%s': %s", path, strerror(errno));
    if (S_ISDIR(st->st_mode)) return ae_failc("cannot read IDX file '%s': it is a directory, not a file", path);
    if (!S_ISREG(st->st_mode)) return ae_failc("cannot read IDX file '%s': not a regular file", path);
    return 0;
}

/* the magic, type and dimensions; fills idx and returns the header's size
 * in bytes, or -1 */
static int read_header(gzFile f, const char *path, ae_idx *idx)
{
    unsigned char m[4];
    int64_t got = read_fully(f, m, 4);
    if (got < 0) return read_error(f, path);
    if (got < 4)
        return ae_failc("'%s' is not an IDX file: it has %lld bytes, fewer than the 4-byte header", path,
                        (long long)got);
    if (m[0] != 0 || m[1] != 0)
        return ae_failc("'%s' is not an IDX file: wrong magic number 0x%02x%02x%02x%02x "
                        "(expected 0x0000 then a type byte and a dimension count, e.g. 0x00000803)",
                        path, m[0], m[1], m[2], m[3]);
    idx->type = m[2];
    idx->elem_size = type_size(m[2]);
    if (idx->elem_size == 0)
        return ae_failc("IDX file '%s': unknown element type 0x%02x (expected 0x08 ubyte, 0x09 byte, "
                        "0x0B short, 0x0C int, 0x0D float or 0x0E double)",
                        path, m[2]);
    idx->ndim = m[3];
    if (idx->ndim == 0) return ae_failc("IDX file '%s': the header declares 0 dimensions", path);
    if (idx->ndim > AE_MAX_DIMS)
        return ae_failc("IDX file '%s': the header declares %d dimensions, at most %d are supported", path, idx->ndim,
                        AE_MAX_DIMS);

    unsigned char d[4 * AE_MAX_DIMS];
    int want = 4 * idx->ndim;
    got = read_fully(f, d, (uint64_t)want);
    if (got < 0) return read_error(f, path);
    if (got < want)
        return ae_failc("IDX file '%s' is truncated: its %d dimensions need %d header bytes "
                        "after the magic, file has %lld",
                        path, idx->ndim, want, (long long)got);
    for (int i = 0; i < idx->ndim; i++)
        idx->dims[i] = (int64_t)((uint32_t)d[4 * i] << 24 | (uint32_t)d[4 * i + 1] << 16 | (uint32_t)d[4 * i + 2] << 8 |
                                 (uint32_t)d[4 * i + 3]);

    char b[AE_SHAPE_STR];
    uint64_t bytes = idx->elem_size;
    for (int i = 0; i < idx->ndim; i++) {
        if (idx->dims[i] == 0)
            return ae_failc("IDX file '%s': dimension %d of %s is 0", path, i + 1,
                            ae_dims_str(idx->ndim, idx->dims, b));
        if (bytes > AE_IDX_MAX_BYTES / (uint64_t)idx->dims[i])
            return ae_failc("IDX file '%s': dims %s of %s would be more than 2^34 bytes of data "
                            "(corrupt header?)",
                            path, ae_dims_str(idx->ndim, idx->dims, b), ae_idx_type_name(idx->type));
        bytes *= (uint64_t)idx->dims[i];
    }
    idx->count = (int64_t)(bytes / idx->elem_size);
    return 4 + want;
}

/* "60000×28×28" for bytes, "100×3 ints of 4 bytes" for wider types */
static const char *describe_size(const ae_idx *idx, char *buf)
{
    char b[AE_SHAPE_STR];
    ae_dims_str(idx->ndim, idx->dims, b);
    if (idx->elem_size == 1) snprintf(buf, 2 * AE_SHAPE_STR, "%s", b);
    else snprintf(buf, 2 * AE_SHAPE_STR, "%s %ss of %zu bytes", b, ae_idx_type_name(idx->type), idx->elem_size);
    return buf;
}

/* A compressed file's header can claim gigabytes that the stream does not
 * hold, and its real size is known only by decompressing it: the buffer
 * grows with the data that arrives, so a 40-byte file costs 1 MiB at most,
 * not the 16 GiB it may claim.  A plain file was checked against its size.
 * Returns the bytes read, -1 on a read error, -2 when out of memory. */
static int64_t read_growing(gzFile f, ae_idx *idx, uint64_t bytes, int direct)
{
    uint64_t cap = direct || bytes < ((uint64_t)1 << 20) ? bytes : (uint64_t)1 << 20, got = 0;
    idx->data = malloc(cap ? cap : 1);
    if (!idx->data) return -2;
    for (;;) {
        int64_t r = read_fully(f, (unsigned char *)idx->data + got, cap - got);
        if (r < 0) return -1;
        got += (uint64_t)r;
        if (got < cap || cap == bytes) return (int64_t)got;
        cap = cap > bytes / 2 ? bytes : 2 * cap;
        void *more = realloc(idx->data, cap);
        if (!more) return -2;
        idx->data = more;
    }
}

static int read_data(gzFile f, const char *path, ae_idx *idx, const struct stat *st, int header)
{
    char what[2 * AE_SHAPE_STR];
    uint64_t bytes = (uint64_t)idx->count * idx->elem_size;
    /* a plain file's size is known before anything is allocated */
    if (gzdirect(f) && (uint64_t)st->st_size < (uint64_t)header + bytes)
        return ae_failc("IDX file '%s' is truncated: header says %s = %llu bytes of data, file has %lld", path,
                        describe_size(idx, what), (unsigned long long)bytes, (long long)st->st_size - header);
    int64_t got = read_growing(f, idx, bytes, gzdirect(f));
    if (got == -2)
        return ae_failc("IDX file '%s': out of memory for %llu bytes of data", path, (unsigned long long)bytes);
    if (got < 0) return read_error(f, path);
    if ((uint64_t)got < bytes)
        return ae_failc("IDX file '%s' is truncated: header says %s = %llu bytes of data, file has %lld%s", path,
                        describe_size(idx, what), (unsigned long long)bytes, (long long)got,
                        gzdirect(f) ? "" : " (after decompression)");
    int64_t extra = count_rest(f);
    if (extra < 0) return read_error(f, path);
    if (extra > 0)
        return ae_failc("IDX file '%s' has %lld trailing bytes: header says %s = %llu bytes of data, "
                        "file has %lld",
                        path, (long long)extra, describe_size(idx, what), (unsigned long long)bytes,
                        (long long)((uint64_t)extra + bytes));
    to_host_order(idx->data, idx->count, idx->elem_size);
    return 0;
}

ae_idx *ae_idx_read(const char *path)
{
    struct stat st;
    if (check_file(path, &st) < 0) return NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) return ae_fail("cannot open IDX file '%s': %s", path, errno ? strerror(errno) : "out of memory");
    ae_idx *idx = calloc(1, sizeof *idx);
    if (!idx) {
        gzclose(f);
        return ae_fail("out of memory");
    }
    int header = read_header(f, path, idx);
    if (header < 0 || read_data(f, path, idx, &st, header) < 0) {
        gzclose(f);
        ae_idx_free(idx);
        return NULL;
    }
    gzclose(f);
    return idx;
}

void ae_idx_to_float(const ae_idx *idx, float *out)
{
    int64_t n = idx->count;
    switch (idx->type) {
    case AE_IDX_UBYTE: {
        const uint8_t *p = idx->data;
        for (int64_t i = 0; i < n; i++) out[i] = (float)p[i] / 255.0f;
        break;
    }
    case AE_IDX_BYTE: {
        const int8_t *p = idx->data;
        for (int64_t i = 0; i < n; i++) out[i] = (float)p[i];
        break;
    }
    case AE_IDX_SHORT: {
        const int16_t *p = idx->data;
        for (int64_t i = 0; i < n; i++) out[i] = (float)p[i];
        break;
    }
    case AE_IDX_INT: {
        const int32_t *p = idx->data;
        for (int64_t i = 0; i < n; i++) out[i] = (float)p[i];
        break;
    }
    case AE_IDX_FLOAT: memcpy(out, idx->data, (size_t)n * sizeof(float)); break;
    case AE_IDX_DOUBLE: {
        const double *p = idx->data;
        for (int64_t i = 0; i < n; i++) out[i] = (float)p[i];
        break;
    }
    }
}

ae_tensor *ae_idx_to_tensor(const ae_idx *idx)
{
    ae_tensor *t = ae_empty(idx->ndim, idx->dims);
    if (t) ae_idx_to_float(idx, ae_data(t));
    return t;
}
