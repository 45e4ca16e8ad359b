// LD_PRELOAD shim for an experiment (bench/noisy-neighbour.sh, BENCH_NN_THP=1): marks every anonymous mapping of 1 GB or
// more MADV_HUGEPAGE as it is made. In the engine host those are V8's WebAssembly memory reservations (8 GB each, with
// their guard regions), so PGlite's heap is backed by transparent huge pages where the system's THP mode is `madvise`,
// and by 4 KB pages otherwise (V8 has no flag for it). Nothing else in the process is touched.
//   gcc -O2 -shared -fPIC -o thp-madvise.so thp-madvise.c -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/types.h>

static void *(*real_mmap)(void *, size_t, int, int, int, off_t);

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  if (!real_mmap) real_mmap = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
  void *mapped = real_mmap(addr, length, prot, flags, fd, offset);
  if (mapped != MAP_FAILED && (flags & MAP_ANONYMOUS) && length >= (1UL << 30)) madvise(mapped, length, MADV_HUGEPAGE);
  return mapped;
}

void *mmap64(void *addr, size_t length, int prot, int flags, int fd, off_t offset) __attribute__((alias("mmap")));
