/* h5_file.c: an HDF5 file as a whole (see h5.h): the library's set-up,
 * opening (after a scan for the corruptions that hang or crash HDF5's
 * reader), and closing, which for a writable file is the atomic commit.
 * The objects inside a file are h5.c's.
 *
 * Reading goes through HDF5's default (sec2) driver.  Writing builds the
 * whole file in memory with the core driver and, on close, writes the
 * image to "<path>.tmp.<pid>" with plain write(2), fsyncs it and renames it
 * over the target.  So every writable file, atomic or not, replaces its
 * target in one step, and a full disk fails in our write(2), with errno,
 * rather than inside H5Fclose: HDF5 1.10 leaves a file whose close failed
 * half torn down, and crashes on it when the library shuts down. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "h5_internal.h"

/* the library-lifetime property lists: file access for reading (strong
 * close, so closing a file closes everything in it; file locking that does
 * not fail on file systems without locks), file access for writing (the
 * core driver, no backing store), and link creation that makes the
 * missing parent groups */
static hid_t fapl_read = H5I_INVALID_HID, fapl_write = H5I_INVALID_HID;
hid_t ae_h5_lcpl = H5I_INVALID_HID;

int ae_h5_init(void)
{
    if (ae_h5_lcpl >= 0) return 0;
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
    ae_h5_lcpl = l;
    return 0;
}

/* --- error messages --------------------------------------------------- */

static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc) snprintf(data, 256, "%s", e->desc);
    return 0;
}

void ae_h5_detail(char detail[256])
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
int ae_h5_fail_at(const ae_h5 *f, const char *obj, const char *what)
{
    char detail[256];
    ae_h5_detail(detail);
    if (detail[0]) return ae_failc("%s: %s: %s (%s)", f->path, obj, what, detail);
    return ae_failc("%s: %s: %s", f->path, obj, what);
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
        ae_h5_detail(detail);
        if (create) ae_fail("%s: cannot create (%s)", path, detail[0] ? detail : "unknown reason");
        else ae_fail("%s: cannot open as HDF5, truncated or damaged? (%s)", path, detail);
        free_handle(f);
        return NULL;
    }
    return f;
}

ae_h5 *ae_h5_open(const char *path, const char *mode)
{
    if (ae_h5_init() < 0) return NULL;
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
        ae_h5_fail_at(f, "/", "cannot write");
        return NULL;
    }
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf) return ae_fail("%s: out of memory for a %zd-byte file", f->path, n);
    if (H5Fget_file_image(f->file, buf, (size_t)n) != n) {
        ae_h5_fail_at(f, "/", "cannot write");
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
    if (H5Fclose(f->file) < 0 && rc == 0) rc = ae_h5_fail_at(f, "/", "cannot close");
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

int64_t ae_h5_open_objects(void)
{
    if (ae_h5_init() < 0) return -1;
    return (int64_t)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
}
