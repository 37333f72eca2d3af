/* Every regular file counts, in name order, with its name and size, so a
 * renamed, replaced or edited file changes the hash. The mixing is a 64-bit
 * multiply-xorshift over 8-byte words: fast enough for gigabytes, not meant
 * to resist an adversary. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/dir_hash.h"
#include "util/error.h"

static uint64_t mix(uint64_t h, uint64_t word) {
    h ^= word;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t mix_bytes(uint64_t h, const unsigned char *p, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix(h, w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, n - i);
    return mix(mix(h, tail), n);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static elang_status hash_file(const char *dir, const char *name, uint64_t *h, elang_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    /* Opening a FIFO blocks until a writer comes, and a device may never
     * end: only regular files are opened (O_NONBLOCK in case the entry is
     * swapped for a FIFO between the stat and the open). */
    struct stat st;
    if (stat(path, &st) != 0) return elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return ELANG_OK;
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        return elang_fail(err, ELANG_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ELANG_OK;
    }
    *h = mix_bytes(*h, (const unsigned char *)name, strlen(name));
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return elang_fail(err, ELANG_ERR_IO, "cannot map %s: %s", path, strerror(errno));
        }
        *h = mix_bytes(*h, p, (size_t)st.st_size);
        munmap(p, (size_t)st.st_size);
    }
    close(fd);
    return ELANG_OK;
}

elang_status dir_hash(const char *dir, char out[17], elang_error *err) {
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) return elang_fail(err, ELANG_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    uint64_t h = 0x6A09E667F3BCC908ull;
    elang_status st = ELANG_OK;
    for (int i = 0; i < n; i++) {
        if (st == ELANG_OK && names[i]->d_name[0] != '.') st = hash_file(dir, names[i]->d_name, &h, err);
        free(names[i]);
    }
    free(names);
    if (st == ELANG_OK) snprintf(out, 17, "%016llx", (unsigned long long)h);
    return st;
}
