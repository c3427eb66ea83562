/* npz.c: the .npz reader; see npz.h.
 * libzip does the zip format (zip64, deflate, CRC-32, the consistency of
 * the central directory with the local headers); this file names the
 * arrays, refuses members that cannot be arrays, and streams each member
 * into npy.c's reader.  A member's declared size is checked against its
 * compressed size before anything is inflated: deflate cannot expand more
 * than 1032 times, so a header that claims gigabytes from a few bytes is
 * refused instead of allocated. */
#include "npz.h"
#include "core/error.h"
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

struct ae_npz {
    zip_t *zip;
    char *path;
    int64_t count;
    char **names;          /* the arrays' names */
    zip_uint64_t *members; /* and their members' indices in the archive */
};

void ae_npz_close(ae_npz *z)
{
    if (!z) return;
    if (z->zip) zip_discard(z->zip);
    for (int64_t i = 0; i < z->count; i++) free(z->names[i]);
    free(z->names);
    free(z->members);
    free(z->path);
    free(z);
}

int64_t ae_npz_count(const ae_npz *z) { return z->count; }
const char *ae_npz_name(const ae_npz *z, int64_t i) { return i >= 0 && i < z->count ? z->names[i] : NULL; }

const char *ae_npz_names_str(const ae_npz *z, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    if (z->count == 0) {
        snprintf(buf, cap, "none: the archive holds no arrays");
        return buf;
    }
    for (int64_t i = 0; i < z->count && n < cap; i++) {
        if (i == 20) {
            snprintf(buf + n, cap - n, ", ... (%lld in all)", (long long)z->count);
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, i ? ", '%s'" : "'%s'", z->names[i]);
    }
    return buf;
}

/* the message of a libzip error code */
static const char *zip_code_str(int code, char *buf, size_t cap)
{
    zip_error_t e;
    zip_error_init_with_code(&e, code);
    snprintf(buf, cap, "%s", zip_error_strerror(&e));
    zip_error_fini(&e);
    return buf;
}

/* the reason a file libzip cannot open is no .npz, in the user's words */
static void *open_error(const char *path, int code)
{
    char b[256];
    if (code == ZIP_ER_NOZIP) {
        unsigned char magic[6] = {0};
        FILE *f = fopen(path, "rb");
        size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
        if (f) fclose(f);
        if (got == 6 && !memcmp(magic, "\x93NUMPY", 6))
            return ae_fail("NumPy archive '%s' is not a zip archive: it is a single .npy file (read it with npy_read)",
                           path);
        return ae_fail("NumPy archive '%s' is not an .npz: it is not a zip archive", path);
    }
    if (code == ZIP_ER_INCONS)
        return ae_fail("NumPy archive '%s' is corrupt: its zip directory does not match its contents (truncated?)",
                       path);
    return ae_fail("cannot read NumPy archive '%s': %s", path, zip_code_str(code, b, sizeof b));
}

/* the members that are arrays: their names and indices */
static int list_arrays(ae_npz *z)
{
    zip_int64_t n = zip_get_num_entries(z->zip, 0);
    if (n < 0) return ae_failc("NumPy archive '%s': cannot list its members", z->path);
    z->names = calloc((size_t)n + 1, sizeof *z->names);
    z->members = calloc((size_t)n + 1, sizeof *z->members);
    if (!z->names || !z->members) return ae_failc("NumPy archive '%s': out of memory", z->path);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *member = zip_get_name(z->zip, (zip_uint64_t)i, ZIP_FL_ENC_GUESS);
        if (!member) return ae_failc("NumPy archive '%s': member %lld has no name", z->path, (long long)i);
        size_t len = strlen(member);
        if (len == 0 || member[len - 1] == '/') continue; /* a directory */
        if (len > 4 && !strcmp(member + len - 4, ".npy")) len -= 4;
        char *name = malloc(len + 1);
        if (!name) return ae_failc("NumPy archive '%s': out of memory", z->path);
        memcpy(name, member, len);
        name[len] = 0;
        for (int64_t j = 0; j < z->count; j++)
            if (!strcmp(z->names[j], name)) {
                free(name);
                return ae_failc("NumPy archive '%s' holds two arrays named '%s'", z->path, z->names[j]);
            }
        z->names[z->count] = name;
        z->members[z->count++] = (zip_uint64_t)i;
    }
    return 0;
}

ae_npz *ae_npz_open(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return ae_fail("cannot open NumPy archive '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ae_fail("cannot read NumPy archive '%s': it is a directory, not a file", path);
    ae_npz *z = calloc(1, sizeof *z);
    if (!z || !(z->path = strdup(path))) {
        free(z);
        return ae_fail("out of memory");
    }
    int code = 0;
    z->zip = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!z->zip) {
        ae_npz_close(z);
        return open_error(path, code);
    }
    if (list_arrays(z) < 0) {
        ae_npz_close(z);
        return NULL;
    }
    return z;
}

typedef struct {
    zip_file_t *file;
    const char *what;
} member;

static int64_t member_read(void *ctx, void *buf, size_t n)
{
    member *m = ctx;
    zip_int64_t got = zip_fread(m->file, buf, n);
    if (got < 0) {
        zip_error_t *e = zip_file_get_error(m->file);
        if (zip_error_code_zip(e) == ZIP_ER_CRC)
            return ae_failc("%s is corrupt: its data do not match the archive's CRC-32", m->what);
        return ae_failc("%s: cannot read it from the archive: %s", m->what, zip_error_strerror(e));
    }
    return got;
}

ae_tensor *ae_npz_read_index(ae_npz *z, int64_t i)
{
    if (i < 0 || i >= z->count) return ae_fail("NumPy archive '%s' has no array %lld", z->path, (long long)i);
    size_t len = strlen(z->path) + strlen(z->names[i]) + 40;
    char *what = malloc(len);
    if (!what) return ae_fail("out of memory");
    snprintf(what, len, "NumPy archive '%s', array '%s'", z->path, z->names[i]);
    ae_tensor *t = NULL;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z->zip, z->members[i], 0, &st) < 0) {
        ae_fail("%s: %s", what, zip_strerror(z->zip));
        goto done;
    }
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
        ae_fail("%s is encrypted; NumPy never writes encrypted archives", what);
        goto done;
    }
    bool sized = (st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE);
    if (sized && (st.valid & ZIP_STAT_COMP_METHOD) &&
        ((st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) ||
         (st.comp_method == ZIP_CM_DEFLATE && st.size / 1032 > st.comp_size + 1))) {
        ae_fail("%s is corrupt: the archive says %llu bytes from %llu %s", what, (unsigned long long)st.size,
                (unsigned long long)st.comp_size,
                st.comp_method == ZIP_CM_STORE ? "stored (uncompressed) bytes" : "deflated bytes");
        goto done;
    }
    zip_file_t *f = zip_fopen_index(z->zip, z->members[i], 0);
    if (!f) {
        ae_fail("%s: cannot read it from the archive: %s", what, zip_strerror(z->zip));
        goto done;
    }
    member m = {f, what};
    ae_npy_source src = {member_read, &m, (st.valid & ZIP_STAT_SIZE) ? (int64_t)st.size : -1, what};
    if (src.size < 0 && (st.valid & ZIP_STAT_SIZE)) src.size = -1; /* beyond int64: unknown */
    t = ae_npy_read_source(&src);
    zip_fclose(f);
done:
    free(what);
    return t;
}

ae_tensor *ae_npz_read(ae_npz *z, const char *name)
{
    for (int64_t i = 0; i < z->count; i++)
        if (!strcmp(z->names[i], name)) return ae_npz_read_index(z, i);
    char b[1024];
    return ae_fail("NumPy archive '%s' has no array '%s'; the arrays are: %s", z->path, name,
                   ae_npz_names_str(z, b, sizeof b));
}
