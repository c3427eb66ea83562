/* h5.c: see h5.h.  The one file that includes hdf5.h.
 *
 * Reading goes through HDF5's default (sec2) driver.  Writing builds the
 * whole file in memory with the core driver and, on close, writes the
 * image to "<path>.tmp.<pid>" with plain write(2), fsyncs it and renames it
 * over the target.  So every writable file, atomic or not, replaces its
 * target in one step, and a full disk fails in our write(2), with errno,
 * rather than inside H5Fclose: HDF5 1.10 leaves a file whose close failed
 * half torn down, and crashes on it when the library shuts down.
 *
 * Conventions inside: identifiers start as H5I_INVALID_HID and every path
 * out of a function goes through its cleanup, which drops whatever was
 * opened.  HDF5 clears its error stack at the start of every API call, so a
 * failure's detail is read (fail_at) before any cleanup call runs. */
#include "h5.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

struct ae_h5 {
    hid_t file;
    bool writable;
    char *path;   /* as given: the name in messages */
    char *target; /* writable files: the file replaced, path or where its symlink points */
    char *tmp;    /* writable files: the temporary the image goes to */
    int fd;       /* writable files: tmp, created at open */
};

#define NAME_MAX_LEN 1024

/* the library-lifetime property lists: file access for reading (strong
 * close, so closing a file closes everything in it; file locking that does
 * not fail on file systems without locks), file access for writing (the
 * core driver, no backing store), and link creation that makes the
 * missing parent groups */
static hid_t fapl_read = H5I_INVALID_HID, fapl_write = H5I_INVALID_HID, lcpl = H5I_INVALID_HID;

static int init(void)
{
    if (lcpl >= 0) return 0;
    if (H5open() < 0) return ae_failc("hdf5: the library failed to initialise");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t r = H5Pcreate(H5P_FILE_ACCESS), w = H5Pcreate(H5P_FILE_ACCESS), l = H5Pcreate(H5P_LINK_CREATE);
    bool ok = r >= 0 && w >= 0 && l >= 0 && H5Pset_fclose_degree(r, H5F_CLOSE_STRONG) >= 0 &&
              H5Pset_fclose_degree(w, H5F_CLOSE_STRONG) >= 0 && H5Pset_fapl_core(w, 1 << 20, 0) >= 0 &&
              H5Pset_create_intermediate_group(l, 1) >= 0;
#if H5_VERSION_GE(1, 10, 7)
    ok = ok && H5Pset_file_locking(r, 1, 1) >= 0;
#endif
    if (!ok) {
        if (r >= 0) H5Pclose(r);
        if (w >= 0) H5Pclose(w);
        if (l >= 0) H5Pclose(l);
        return ae_failc("hdf5: cannot create property lists");
    }
    fapl_read = r;
    fapl_write = w;
    lcpl = l;
    return 0;
}

static void drop(hid_t id)
{
    if (id >= 0) H5Idec_ref(id);
}

/* --- error messages --------------------------------------------------- */

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf(data, 256, "%s", e->desc);
    return 0;
}

/* the most specific message on HDF5's stack; for a failed system call only
 * the operating system's words ("No space left on device") */
static void hdf5_detail(char detail[256])
{
    detail[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, detail);
    const char *os = strstr(detail, "error message = '");
    if (os) {
        os += strlen("error message = '");
        const char *end = strchr(os, '\'');
        size_t len = end ? (size_t)(end - os) : strlen(os);
        memmove(detail, os, len);
        detail[len] = '\0';
    } else if (strlen(detail) > 160) {
        strcpy(detail + 157, "...");
    }
}

/* "file: object: what (HDF5's detail)"; returns -1 */
static int fail_at(const ae_h5 *f, const char *obj, const char *what)
{
    char detail[256];
    hdf5_detail(detail);
    if (detail[0]) return ae_failc("%s: %s: %s (%s)", f->path, obj, what, detail);
    return ae_failc("%s: %s: %s", f->path, obj, what);
}

static int fail_plain(const ae_h5 *f, const char *obj, const char *what)
{
    return ae_failc("%s: %s: %s", f->path, obj, what);
}

/* absolute, without trailing or repeated slashes checked: "/a/b" */
static int normalize(const ae_h5 *f, const char *name, char out[NAME_MAX_LEN])
{
    if (!name) return ae_failc("%s: object name is missing", f->path);
    size_t len = strlen(name);
    if (len + 2 > NAME_MAX_LEN) return ae_failc("%s: object name is too long (%zu bytes)", f->path, len);
    size_t o = 0;
    if (name[0] != '/') out[o++] = '/';
    memcpy(out + o, name, len + 1);
    o += len;
    while (o > 1 && out[o - 1] == '/') out[--o] = '\0';
    if (strstr(out, "//")) return ae_failc("%s: invalid object name \"%s\" (empty path component)", f->path, name);
    return 0;
}

static int require_writable(const ae_h5 *f, const char *obj)
{
    return f->writable ? 0 : fail_plain(f, obj, "the file is open read-only");
}

/* --- files ------------------------------------------------------------ */

static ae_h5 *new_handle(const char *path)
{
    ae_h5 *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return ae_fail("%s: out of memory", path);
    }
    f->file = H5I_INVALID_HID;
    f->fd = -1;
    return f;
}

/* frees the handle; a temporary still there is removed */
static void free_handle(ae_h5 *f)
{
    if (f->fd >= 0) close(f->fd);
    if (f->tmp) unlink(f->tmp);
    free(f->path);
    free(f->target);
    free(f->tmp);
    free(f);
}

/* HDF5 1.10's reader of global heap collections (where variable-length
 * strings live: every string attribute, ours and h5py's) loops forever on
 * a collection whose free-space object has size 0, and runs off its buffer
 * when an object's size points outside the collection.  Before HDF5 sees a
 * file, every collection in it ("GCOL", version 1) is walked the way HDF5
 * will walk it, and a file that would hang or crash the reader is refused.
 * Files over 1 GiB are not scanned (a checkpoint of the models aerun trains
 * is a few megabytes); the lengths are taken as 8 bytes, HDF5's default,
 * and a superblock that says otherwise turns the check off. */
#define GCOL_SCAN_LIMIT ((off_t)1 << 30)

static uint64_t le_bytes(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* 0, or -1 when the collection at offset off of the file is corrupt */
static int check_collection(int fd, off_t off, off_t file_size)
{
    unsigned char h[16];
    if (pread(fd, h, 16, off) != 16 || h[4] != 1) return 0; /* not one: HDF5 decides */
    uint64_t size = le_bytes(h + 8, 8);
    if (size < 16 || size > (uint64_t)(file_size - off)) return 0;
    uint64_t p = 16;
    while (p + 16 <= size) {
        if (pread(fd, h, 16, off + (off_t)p) != 16) return 0;
        uint64_t idx = le_bytes(h, 2), osize = le_bytes(h + 8, 8);
        uint64_t need = idx > 0 ? (osize > size ? size + 1 : 16 + ((osize + 7) & ~(uint64_t)7)) : osize;
        if (need == 0 || need > size - p) return -1;
        p += need;
    }
    return 0;
}

static int check_global_heaps(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0; /* HDF5 will say why */
    struct stat st;
    unsigned char sb[16];
    int rc = 0;
    if (fstat(fd, &st) != 0 || st.st_size > GCOL_SCAN_LIMIT || pread(fd, sb, 16, 0) != 16) goto done;
    /* superblock version 0/1: size of lengths at byte 14; 2/3: byte 10 */
    if (memcmp(sb, "\x89HDF\r\n\x1a\n", 8) == 0 && (sb[8] <= 1 ? sb[14] : sb[10]) != 8) goto done;
    enum { CHUNK = 1 << 20 };
    unsigned char *buf = malloc(CHUNK + 3);
    if (!buf) goto done;
    off_t base = 0;
    size_t carry = 0;
    for (;;) {
        ssize_t n = pread(fd, buf + carry, CHUNK, base + (off_t)carry);
        if (n <= 0) break;
        size_t len = carry + (size_t)n;
        for (size_t i = 0; i + 4 <= len && rc == 0; i++)
            if (buf[i] == 'G' && memcmp(buf + i, "GCOL", 4) == 0 &&
                check_collection(fd, base + (off_t)i, st.st_size) < 0) {
                rc = ae_failc("%s: cannot open as HDF5, damaged: the global heap collection at byte "
                              "%lld is corrupt",
                              path, (long long)(base + (off_t)i));
            }
        if (rc) break;
        /* the last 3 bytes may start a signature that the next chunk ends */
        carry = len < 3 ? len : 3;
        memmove(buf, buf + len - carry, carry);
        base += (off_t)(len - carry);
    }
    free(buf);
done:
    close(fd);
    return rc;
}

/* why path cannot be opened for reading, before HDF5 looks at it */
static int check_readable(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) return ae_failc("%s: cannot open (%s)", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) return ae_failc("%s: is a directory, not an HDF5 file", path);
    if (st.st_size == 0) return ae_failc("%s: is empty, not an HDF5 file", path);
    if (access(path, R_OK) != 0) return ae_failc("%s: cannot open (%s)", path, strerror(errno));
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0) return ae_failc("%s: not an HDF5 file", path);
    return check_global_heaps(path);
}

/* where path leads through symlinks (at most 40 of them), malloc'd */
static char *follow_links(const char *path)
{
    char *cur = strdup(path);
    for (int depth = 0; cur && depth < 40; depth++) {
        struct stat st;
        char link[4096];
        ssize_t n;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode) || (n = readlink(cur, link, sizeof link - 1)) < 0) break;
        link[n] = '\0';
        const char *slash = strrchr(cur, '/');
        size_t dir = link[0] == '/' || !slash ? 0 : (size_t)(slash - cur) + 1;
        char *next = malloc(dir + (size_t)n + 1);
        if (next) {
            memcpy(next, cur, dir);
            memcpy(next + dir, link, (size_t)n + 1);
        }
        free(cur);
        cur = next;
    }
    return cur;
}

/* creates the temporary beside the target, so that a directory that cannot
 * take the file is reported at open, not after all the writing.  Writing
 * through a symlink replaces the file it points to, as open(2) would. */
static int create_temp(ae_h5 *f)
{
    if (!(f->target = follow_links(f->path))) return ae_failc("%s: out of memory", f->path);
    size_t n = strlen(f->target) + 48;
    if (!(f->tmp = malloc(n))) return ae_failc("%s: out of memory", f->path);
    /* "<path>.tmp.<pid>", or with a counter when this process already
     * writes one (two handles on one path) or a dead one left it behind */
    for (int k = 0; k < 100; k++) {
        if (k == 0) snprintf(f->tmp, n, "%s.tmp.%ld", f->target, (long)getpid());
        else snprintf(f->tmp, n, "%s.tmp.%ld.%d", f->target, (long)getpid(), k);
        f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (f->fd >= 0) return 0;
        if (errno != EEXIST) break;
    }
    int e = errno;
    free(f->tmp);
    f->tmp = NULL;
    return ae_failc("%s: cannot create (%s)", f->path, strerror(e));
}

static ae_h5 *open_file(const char *path, bool writable, bool create)
{
    if (!create && check_readable(path) < 0) return NULL;
    ae_h5 *f = new_handle(path);
    if (!f) return NULL;
    f->writable = writable;
    if (writable && create_temp(f) < 0) {
        free_handle(f);
        return NULL;
    }
    /* a file in memory is named after its temporary, which is unique */
    if (create) f->file = H5Fcreate(f->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl_write);
    else f->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, writable ? fapl_write : fapl_read);
    if (f->file < 0) {
        char detail[256];
        hdf5_detail(detail);
        if (create) ae_fail("%s: cannot create (%s)", path, detail[0] ? detail : "unknown reason");
        else ae_fail("%s: cannot open as HDF5, truncated or damaged? (%s)", path, detail);
        free_handle(f);
        return NULL;
    }
    return f;
}

ae_h5 *ae_h5_open(const char *path, const char *mode)
{
    if (init() < 0) return NULL;
    if (!path || !path[0]) return ae_fail("h5 open: the path is empty");
    if (!mode) mode = "r";
    if (!strcmp(mode, "r")) return open_file(path, false, false);
    if (!strcmp(mode, "w")) return open_file(path, true, true);
    if (!strcmp(mode, "a")) {
        if (access(path, F_OK) != 0) return open_file(path, true, true);
        if (access(path, W_OK) != 0) return ae_fail("%s: cannot open for writing (%s)", path, strerror(errno));
        return open_file(path, true, false);
    }
    return ae_fail("%s: unknown mode \"%s\" (use \"r\", \"w\" or \"a\")", path, mode);
}

const char *ae_h5_path(const ae_h5 *f) { return f->path; }
bool ae_h5_writable(const ae_h5 *f) { return f->writable; }

static void sync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

static int write_full(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w == 0) errno = EIO;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* the image of the file in memory, malloc'd, or NULL.  The flush puts the
 * metadata still cached (the superblock's end of file among it) into the
 * image; H5Fget_file_image alone copies the image as it stands. */
static unsigned char *take_image(ae_h5 *f, size_t *size)
{
    ssize_t n = -1;
    if (H5Fflush(f->file, H5F_SCOPE_LOCAL) < 0 || (n = H5Fget_file_image(f->file, NULL, 0)) < 0) {
        fail_at(f, "/", "cannot write");
        return NULL;
    }
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf) return ae_fail("%s: out of memory for a %zd-byte file", f->path, n);
    if (H5Fget_file_image(f->file, buf, (size_t)n) != n) {
        fail_at(f, "/", "cannot write");
        free(buf);
        return NULL;
    }
    *size = (size_t)n;
    return buf;
}

/* writes the image to the temporary, makes it durable and swaps it in.
 * The directory is synced after the rename so that the new name survives
 * a crash; a failure there is not reported, the new file being in place. */
static int commit(ae_h5 *f, const unsigned char *image, size_t size)
{
    struct stat st;
    if (stat(f->target, &st) == 0 && S_ISREG(st.st_mode)) fchmod(f->fd, st.st_mode & 07777);
    if (write_full(f->fd, image, size) != 0 || fsync(f->fd) != 0)
        return ae_failc("%s: cannot write (%s)", f->path, strerror(errno));
    int fd = f->fd;
    f->fd = -1;
    if (close(fd) != 0) return ae_failc("%s: cannot write (%s)", f->path, strerror(errno));
    if (rename(f->tmp, f->target) != 0)
        return ae_failc("%s: cannot replace it with %s (%s)", f->path, f->tmp, strerror(errno));
    free(f->tmp);
    f->tmp = NULL;
    sync_parent(f->target);
    return 0;
}

int ae_h5_close(ae_h5 *f)
{
    if (!f) return 0;
    int rc = 0;
    size_t size = 0;
    unsigned char *image = f->writable ? take_image(f, &size) : NULL;
    if (f->writable && !image) rc = -1;
    if (H5Fclose(f->file) < 0 && rc == 0) rc = fail_at(f, "/", "cannot close");
    if (image && rc == 0) rc = commit(f, image, size);
    free(image);
    free_handle(f); /* removes the temporary unless it was committed */
    return rc;
}

void ae_h5_abort(ae_h5 *f)
{
    if (!f) return;
    H5Fclose(f->file);
    free_handle(f);
}

/* --- objects ---------------------------------------------------------- */

/* AE_H5_MISSING if any component of the path is missing.  H5Lexists wants
 * every parent to exist, so the components are checked one at a time. */
static int link_exists(const ae_h5 *f, const char *abs)
{
    if (!strcmp(abs, "/")) return 1;
    char buf[NAME_MAX_LEN];
    strcpy(buf, abs);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            htri_t e = H5Lexists(f->file, buf, H5P_DEFAULT);
            if (e < 0) {
                /* the component before this one exists but is no group */
                char *up = strrchr(buf, '/');
                if (up != buf) *up = '\0';
                return ae_failc("%s: %s: not found (%s is a dataset, not a group)", f->path, abs, buf);
            }
            if (e == 0) return 0;
            *p = c;
            if (c == '\0') return 1;
        }
    }
}

static int kind_of(hid_t obj)
{
    switch (H5Iget_type(obj)) {
    case H5I_GROUP: return AE_H5_GROUP;
    case H5I_DATASET: return AE_H5_DATASET;
    default: return AE_H5_OTHER;
    }
}

int ae_h5_kind(ae_h5 *f, const char *name)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0) return -1;
    int e = link_exists(f, abs);
    if (e <= 0) return e;
    hid_t obj = H5Oopen(f->file, abs, H5P_DEFAULT);
    if (obj < 0) return fail_at(f, abs, "cannot open");
    int k = kind_of(obj);
    H5Oclose(obj);
    return k;
}

/* opens an existing object, with "not found" for a missing one */
static hid_t open_object(const ae_h5 *f, const char *abs)
{
    int e = link_exists(f, abs);
    if (e < 0) return -1;
    if (e == 0) return fail_plain(f, abs, "not found");
    hid_t obj = H5Oopen(f->file, abs, H5P_DEFAULT);
    if (obj < 0) return fail_at(f, abs, "cannot open");
    return obj;
}

static hid_t open_dataset(const ae_h5 *f, const char *abs)
{
    hid_t obj = open_object(f, abs);
    if (obj < 0) return -1;
    if (H5Iget_type(obj) != H5I_DATASET) {
        H5Oclose(obj);
        return fail_plain(f, abs, "is a group, not a dataset");
    }
    return obj;
}

int ae_h5_create_group(ae_h5 *f, const char *name)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0 || require_writable(f, abs) < 0) return -1;
    int e = link_exists(f, abs);
    if (e < 0) return -1;
    if (e > 0) {
        int k = ae_h5_kind(f, abs);
        if (k < 0) return -1;
        return k == AE_H5_GROUP ? 0 : fail_plain(f, abs, "exists and is not a group");
    }
    hid_t g = H5Gcreate2(f->file, abs, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return fail_at(f, abs, "cannot create group");
    H5Gclose(g);
    return 0;
}

typedef struct names {
    char **v;
    size_t n, cap;
    bool failed;
} names;

static int push_name(names *ns, const char *name)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? 2 * ns->cap : 16;
        char **v = realloc(ns->v, cap * sizeof *v);
        if (!v) return -1;
        ns->v = v;
        ns->cap = cap;
    }
    if (!(ns->v[ns->n] = strdup(name))) return -1;
    ns->n++;
    return 0;
}

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g, (void)info;
    names *ns = data;
    if (push_name(ns, name) < 0) {
        ns->failed = true;
        return -1;
    }
    return 0;
}

void ae_h5_free_names(char **v, size_t count)
{
    for (size_t i = 0; i < count; i++) free(v[i]);
    free(v);
}

int ae_h5_list(ae_h5 *f, const char *group, char ***out, size_t *count)
{
    char abs[NAME_MAX_LEN];
    *out = NULL;
    *count = 0;
    if (normalize(f, group, abs) < 0) return -1;
    hid_t g = open_object(f, abs);
    if (g < 0) return -1;
    if (H5Iget_type(g) != H5I_GROUP) {
        H5Oclose(g);
        return fail_plain(f, abs, "is a dataset, not a group");
    }
    names ns = {0};
    hsize_t idx = 0;
    int rc = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &ns) < 0)
        rc = ns.failed ? fail_plain(f, abs, "out of memory") : fail_at(f, abs, "cannot list");
    H5Oclose(g);
    if (rc < 0) {
        ae_h5_free_names(ns.v, ns.n);
        return -1;
    }
    *out = ns.v;
    *count = ns.n;
    return 0;
}

/* the dataspace's rank and dims; scalar is rank 0.  -1 for null spaces and
 * ranks beyond AE_MAX_DIMS */
static int space_dims(const ae_h5 *f, const char *abs, hid_t space, int64_t shape[AE_MAX_DIMS])
{
    H5S_class_t cls = H5Sget_simple_extent_type(space);
    if (cls == H5S_SCALAR) return 0;
    if (cls != H5S_SIMPLE) return fail_plain(f, abs, "holds no data (a null dataspace)");
    int rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) return fail_at(f, abs, "cannot read the shape");
    if (rank > AE_MAX_DIMS)
        return ae_failc("%s: %s: has %d dimensions, at most %d are supported", f->path, abs, rank, AE_MAX_DIMS);
    hsize_t dims[AE_MAX_DIMS];
    H5Sget_simple_extent_dims(space, dims, NULL);
    for (int i = 0; i < rank; i++) shape[i] = (int64_t)dims[i];
    return rank;
}

int ae_h5_shape(ae_h5 *f, const char *name, int64_t shape[AE_MAX_DIMS])
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0) return -1;
    hid_t d = open_dataset(f, abs);
    if (d < 0) return -1;
    hid_t space = H5Dget_space(d);
    int rank = space < 0 ? fail_at(f, abs, "cannot read the shape") : space_dims(f, abs, space, shape);
    drop(space);
    H5Dclose(d);
    return rank;
}

/* --- datasets --------------------------------------------------------- */

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length";
    case H5T_ARRAY: return "array";
    default: return "unknown";
    }
}

/* an existing object at abs is removed so that a new dataset can take the
 * name; a dataset of the same type and shape is reused in place */
static hid_t reuse_or_unlink(const ae_h5 *f, const char *abs, hid_t ftype, hid_t space)
{
    hid_t d = open_object(f, abs);
    if (d < 0) return -1;
    if (H5Iget_type(d) == H5I_DATASET) {
        hid_t t = H5Dget_type(d), s = H5Dget_space(d);
        bool same = t >= 0 && s >= 0 && H5Tequal(t, ftype) > 0 && H5Sextent_equal(s, space) > 0;
        drop(t);
        drop(s);
        if (same) return d;
    }
    H5Oclose(d);
    if (H5Ldelete(f->file, abs, H5P_DEFAULT) < 0) return fail_at(f, abs, "cannot replace");
    return 0;
}

/* writes n elements of mtype from data as a dataset of ftype and shape */
static int write_dataset(ae_h5 *f, const char *name, hid_t ftype, hid_t mtype, int rank, const int64_t *shape,
                         const void *data)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, name, abs) < 0 || require_writable(f, abs) < 0) return -1;
    if (!strcmp(abs, "/")) return fail_plain(f, abs, "the root group cannot be a dataset");
    hsize_t dims[AE_MAX_DIMS];
    for (int i = 0; i < rank; i++) dims[i] = (hsize_t)shape[i];
    hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t d = H5I_INVALID_HID;
    int rc = -1;
    if (space < 0) {
        fail_at(f, abs, "cannot create a dataspace");
        goto done;
    }
    int e = link_exists(f, abs);
    if (e < 0) goto done;
    if (e > 0) {
        hid_t r = reuse_or_unlink(f, abs, ftype, space);
        if (r < 0) goto done;
        if (r > 0) d = r;
    }
    if (d < 0) d = H5Dcreate2(f->file, abs, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (d < 0) {
        fail_at(f, abs, "cannot create dataset");
        goto done;
    }
    if (H5Sget_simple_extent_npoints(space) > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        fail_at(f, abs, "cannot write");
        goto done;
    }
    rc = 0;
done:
    if (d >= 0 && H5Dclose(d) < 0 && rc == 0) rc = fail_at(f, abs, "cannot write");
    drop(space);
    return rc;
}

int ae_h5_write_tensor(ae_h5 *f, const char *name, ae_tensor *t)
{
    ae_tensor *c = ae_contiguous(t);
    if (!c) return -1;
    int rc = write_dataset(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, c->ndim, c->shape, ae_data(c));
    ae_release(c);
    return rc;
}

int ae_h5_write_f64(ae_h5 *f, const char *name, const double *v, int64_t n)
{
    return write_dataset(f, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, v);
}

int ae_h5_write_bytes(ae_h5 *f, const char *name, const void *data, size_t n)
{
    int64_t len = (int64_t)n;
    return write_dataset(f, name, H5T_STD_U8LE, H5T_NATIVE_UCHAR, 1, &len, data);
}

/* an open numeric dataset and its shape, or -1 naming what it holds */
typedef struct opened {
    hid_t d, type;
    H5T_class_t cls;
    int rank;
    int64_t shape[AE_MAX_DIMS];
    int64_t numel;
} opened;

static int open_data(ae_h5 *f, const char *name, char abs[NAME_MAX_LEN], opened *o)
{
    o->d = o->type = H5I_INVALID_HID;
    if (normalize(f, name, abs) < 0) return -1;
    if ((o->d = open_dataset(f, abs)) < 0) return -1;
    hid_t space = H5Dget_space(o->d);
    o->type = H5Dget_type(o->d);
    if (space < 0 || o->type < 0) {
        fail_at(f, abs, "cannot read its type");
        goto fail;
    }
    o->cls = H5Tget_class(o->type);
    o->rank = space_dims(f, abs, space, o->shape);
    if (o->rank < 0) goto fail;
    o->numel = 1;
    for (int i = 0; i < o->rank; i++) o->numel *= o->shape[i];
    drop(space);
    return 0;
fail:
    drop(space);
    drop(o->type);
    H5Dclose(o->d);
    return -1;
}

static void close_data(opened *o)
{
    drop(o->type);
    H5Dclose(o->d);
}

static int check_numeric(const ae_h5 *f, const char *abs, const opened *o)
{
    if (o->cls == H5T_INTEGER || o->cls == H5T_FLOAT) return 0;
    return ae_failc("%s: %s: holds %s data; only integer and float datasets can be read as numbers", f->path, abs,
                    class_name(o->cls));
}

ae_tensor *ae_h5_read_tensor(ae_h5 *f, const char *name)
{
    char abs[NAME_MAX_LEN];
    opened o;
    if (open_data(f, name, abs, &o) < 0) return NULL;
    ae_tensor *t = NULL;
    if (check_numeric(f, abs, &o) < 0 || ae_check_shape(abs, o.rank, o.shape) < 0) goto done;
    if (!(t = ae_empty(o.rank, o.shape))) goto done;
    if (o.numel > 0 && H5Dread(o.d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ae_data(t)) < 0) {
        fail_at(f, abs, "cannot read");
        ae_release(t);
        t = NULL;
    }
done:
    close_data(&o);
    return t;
}

double *ae_h5_read_f64(ae_h5 *f, const char *name, int64_t *n)
{
    char abs[NAME_MAX_LEN];
    opened o;
    *n = 0;
    if (open_data(f, name, abs, &o) < 0) return NULL;
    double *v = NULL;
    if (check_numeric(f, abs, &o) < 0) goto done;
    if (!(v = malloc(((size_t)o.numel + 1) * sizeof *v))) {
        fail_plain(f, abs, "out of memory");
        goto done;
    }
    if (o.numel > 0 && H5Dread(o.d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        fail_at(f, abs, "cannot read");
        free(v);
        v = NULL;
        goto done;
    }
    *n = o.numel;
done:
    close_data(&o);
    return v;
}

unsigned char *ae_h5_read_bytes(ae_h5 *f, const char *name, size_t *n)
{
    char abs[NAME_MAX_LEN];
    opened o;
    *n = 0;
    if (open_data(f, name, abs, &o) < 0) return NULL;
    unsigned char *v = NULL;
    hid_t mtype = H5I_INVALID_HID;
    if (!((o.cls == H5T_INTEGER || o.cls == H5T_OPAQUE) && H5Tget_size(o.type) == 1)) {
        ae_failc("%s: %s: holds %s data of %zu-byte elements, not bytes", f->path, abs, class_name(o.cls),
                 H5Tget_size(o.type));
        goto done;
    }
    /* opaque bytes are read as they are; integers through the native type */
    mtype = o.cls == H5T_OPAQUE ? H5Tcopy(o.type) : H5Tcopy(H5T_NATIVE_UCHAR);
    if (!(v = malloc((size_t)o.numel + 1))) {
        fail_plain(f, abs, "out of memory");
        goto done;
    }
    if (mtype < 0 || (o.numel > 0 && H5Dread(o.d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)) {
        fail_at(f, abs, "cannot read");
        free(v);
        v = NULL;
        goto done;
    }
    *n = (size_t)o.numel;
done:
    drop(mtype);
    close_data(&o);
    return v;
}

/* --- attributes ------------------------------------------------------- */

/* the object that carries attributes, created as a group when missing */
static hid_t attr_target(ae_h5 *f, const char *abs, bool create)
{
    if (create) {
        int e = link_exists(f, abs);
        if (e < 0) return -1;
        if (e == 0 && ae_h5_create_group(f, abs) < 0) return -1;
    }
    return open_object(f, abs);
}

static int set_attr(ae_h5 *f, const char *obj, const char *key, hid_t ftype, hid_t mtype, const void *value)
{
    char abs[NAME_MAX_LEN];
    if (normalize(f, obj, abs) < 0 || require_writable(f, abs) < 0) return -1;
    if (!key || !key[0]) return fail_plain(f, abs, "attribute name is empty");
    hid_t o = attr_target(f, abs, true);
    if (o < 0) return -1;
    hid_t space = H5I_INVALID_HID, a = H5I_INVALID_HID;
    int rc = -1;
    htri_t had = H5Aexists(o, key);
    if (had < 0 || (had > 0 && H5Adelete(o, key) < 0)) {
        fail_at(f, abs, "cannot replace an attribute");
        goto done;
    }
    space = H5Screate(H5S_SCALAR);
    a = space < 0 ? -1 : H5Acreate2(o, key, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, value) < 0) {
        char what[300];
        snprintf(what, sizeof what, "cannot write attribute %s", key);
        fail_at(f, abs, what);
        goto done;
    }
    rc = 0;
done:
    drop(a);
    drop(space);
    H5Oclose(o);
    return rc;
}

/* UTF-8, variable length: h5py reads these as str */
static hid_t utf8_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int ae_h5_set_attr_str(ae_h5 *f, const char *obj, const char *key, const char *value)
{
    if (init() < 0) return -1;
    hid_t t = utf8_type();
    if (t < 0) return ae_failc("%s: cannot make a string type", f->path);
    int rc = set_attr(f, obj, key, t, t, &value);
    H5Tclose(t);
    return rc;
}

int ae_h5_set_attr_int(ae_h5 *f, const char *obj, const char *key, int64_t v)
{
    return set_attr(f, obj, key, H5T_STD_I64LE, H5T_NATIVE_INT64, &v);
}

int ae_h5_set_attr_f64(ae_h5 *f, const char *obj, const char *key, double v)
{
    return set_attr(f, obj, key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

static herr_t collect_attr(hid_t o, const char *name, const H5A_info_t *info, void *data)
{
    (void)o, (void)info;
    names *ns = data;
    if (push_name(ns, name) < 0) {
        ns->failed = true;
        return -1;
    }
    return 0;
}

int ae_h5_attr_names(ae_h5 *f, const char *obj, char ***out, size_t *count)
{
    char abs[NAME_MAX_LEN];
    *out = NULL;
    *count = 0;
    if (normalize(f, obj, abs) < 0) return -1;
    hid_t o = open_object(f, abs);
    if (o < 0) return -1;
    names ns = {0};
    hsize_t idx = 0;
    int rc = 0;
    if (H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &ns) < 0)
        rc = ns.failed ? fail_plain(f, abs, "out of memory") : fail_at(f, abs, "cannot list attributes");
    H5Oclose(o);
    if (rc < 0) {
        ae_h5_free_names(ns.v, ns.n);
        return -1;
    }
    *out = ns.v;
    *count = ns.n;
    return 0;
}

void ae_h5_value_free(ae_h5_value *v)
{
    if (v->str)
        for (size_t i = 0; i < v->count; i++) free(v->str[i]);
    free(v->str);
    free(v->i);
    free(v->f);
    memset(v, 0, sizeof *v);
}

/* variable-length strings: HDF5 allocates them, we copy and reclaim */
static int read_vlen_strings(hid_t a, hid_t ftype, hid_t space, ae_h5_value *out)
{
    hid_t m = H5Tcopy(H5T_C_S1);
    char **raw = calloc(out->count ? out->count : 1, sizeof *raw);
    int rc = -1;
    if (m < 0 || !raw || H5Tset_size(m, H5T_VARIABLE) < 0 || H5Tset_cset(m, H5Tget_cset(ftype)) < 0 ||
        H5Aread(a, m, raw) < 0)
        goto done;
    rc = 0;
    for (size_t i = 0; i < out->count && rc == 0; i++)
        if (!(out->str[i] = strdup(raw[i] ? raw[i] : ""))) rc = -1;
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(m, space, H5P_DEFAULT, raw);
#else
    H5Dvlen_reclaim(m, space, H5P_DEFAULT, raw);
#endif
done:
    free(raw);
    drop(m);
    return rc;
}

/* fixed-length strings: NUL- or space-padded in the file */
static int read_fixed_strings(hid_t a, hid_t ftype, ae_h5_value *out)
{
    size_t size = H5Tget_size(ftype);
    hid_t m = H5Tcopy(ftype);
    char *raw = malloc(out->count * size + 1);
    int rc = -1;
    if (m < 0 || !raw || H5Aread(a, m, raw) < 0) goto done;
    bool spaces = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    rc = 0;
    for (size_t i = 0; i < out->count && rc == 0; i++) {
        const char *s = raw + i * size;
        size_t len = strnlen(s, size);
        while (spaces && len > 0 && s[len - 1] == ' ') len--;
        if (!(out->str[i] = strndup(s, len))) rc = -1;
    }
done:
    free(raw);
    drop(m);
    return rc;
}

int ae_h5_get_attr(ae_h5 *f, const char *obj, const char *key, ae_h5_value *out)
{
    char abs[NAME_MAX_LEN];
    memset(out, 0, sizeof *out);
    if (normalize(f, obj, abs) < 0) return -1;
    hid_t o = open_object(f, abs), a = H5I_INVALID_HID, type = H5I_INVALID_HID, space = H5I_INVALID_HID;
    if (o < 0) return -1;
    int rc = -1;
    char what[300];
    snprintf(what, sizeof what, "attribute %s", key);
    htri_t has = H5Aexists(o, key);
    if (has <= 0) {
        if (has < 0) fail_at(f, abs, what);
        else ae_failc("%s: %s: has no attribute %s", f->path, abs, key);
        goto done;
    }
    a = H5Aopen(o, key, H5P_DEFAULT);
    type = a < 0 ? -1 : H5Aget_type(a);
    space = a < 0 ? -1 : H5Aget_space(a);
    if (type < 0 || space < 0) {
        fail_at(f, abs, what);
        goto done;
    }
    H5S_class_t sc = H5Sget_simple_extent_type(space);
    hssize_t count = H5Sget_simple_extent_npoints(space);
    if (sc == H5S_NULL || count < 0) {
        ae_failc("%s: %s: attribute %s holds no value", f->path, abs, key);
        rc = AE_H5_UNSUPPORTED;
        goto done;
    }
    out->scalar = sc == H5S_SCALAR;
    out->count = (size_t)count;
    size_t n = out->count ? out->count : 1;
    H5T_class_t cls = H5Tget_class(type);
    int r = -1;
    if (cls == H5T_STRING) {
        out->kind = AE_H5_STR;
        if ((out->str = calloc(n, sizeof *out->str)))
            r = H5Tis_variable_str(type) > 0 ? read_vlen_strings(a, type, space, out)
                                             : read_fixed_strings(a, type, out);
    } else if (cls == H5T_INTEGER) {
        out->kind = AE_H5_INT;
        if ((out->i = malloc(n * sizeof *out->i))) r = H5Aread(a, H5T_NATIVE_INT64, out->i) < 0 ? -1 : 0;
    } else if (cls == H5T_FLOAT) {
        out->kind = AE_H5_F64;
        if ((out->f = malloc(n * sizeof *out->f))) r = H5Aread(a, H5T_NATIVE_DOUBLE, out->f) < 0 ? -1 : 0;
    } else {
        ae_failc("%s: %s: attribute %s is of %s type, which aerun does not read", f->path, abs, key, class_name(cls));
        rc = AE_H5_UNSUPPORTED;
        goto done;
    }
    if (r < 0) {
        fail_at(f, abs, what);
        goto done;
    }
    rc = 0;
done:
    if (rc != 0) ae_h5_value_free(out);
    drop(space);
    drop(type);
    drop(a);
    H5Oclose(o);
    return rc;
}

int64_t ae_h5_open_objects(void)
{
    if (init() < 0) return -1;
    return (int64_t)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
}
