#ifndef CSYSTEM_SHIM_H
#define CSYSTEM_SHIM_H
// Linux calls and macros that Swift cannot import directly.
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>

static inline int csystem_wifexited(int status) { return WIFEXITED(status); }
static inline int csystem_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int csystem_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int csystem_wtermsig(int status) { return WTERMSIG(status); }

// Counters shared between processes through a MAP_SHARED mapping.
static inline void csystem_atomic_add(uint64_t *slot, uint64_t value) {
    __atomic_fetch_add(slot, value, __ATOMIC_RELAXED);
}
static inline void csystem_atomic_sub(uint64_t *slot, uint64_t value) {
    __atomic_fetch_sub(slot, value, __ATOMIC_RELAXED);
}
static inline void csystem_atomic_store(uint64_t *slot, uint64_t value) {
    __atomic_store_n(slot, value, __ATOMIC_RELAXED);
}
static inline uint64_t csystem_atomic_load(const uint64_t *slot) {
    return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

static inline int csystem_memfd_create(const char *name) {
    // memfd_create(name, MFD_CLOEXEC) without _GNU_SOURCE, which would clash with the Glibc module.
    return (int)syscall(SYS_memfd_create, name, 1u);
}
#endif
