// Times how fast this machine hands a process fresh memory: 64 MiB touched in small pages,
// touched in transparent huge pages, and populated in huge pages (MADV_POPULATE_WRITE), each
// in a new mapping. HeapReserve's choice between huge and small pages rests on these numbers;
// run it back to back and with pauses between runs, where a VM with free page reporting
// has given freed memory back to its host:
//
//     cc -O2 -o /tmp/fault_cost tools/fault_cost.c
//     for i in 1 2 3 4; do /tmp/fault_cost; sleep 3; done
#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static double milliseconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

int main(void) {
  const size_t size = 64u << 20, huge = 2u << 20;
  const char *names[] = {"small pages, touched", "huge pages, touched", "huge pages, populated"};
  for (int mode = 0; mode < 3; mode++) {
    char *mapping = mmap(NULL, size + huge, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapping == MAP_FAILED) { perror("mmap"); return 1; }
    char *start = (char *)(((uintptr_t)mapping + huge - 1) & ~(uintptr_t)(huge - 1));
    if (mode > 0 && madvise(start, size, MADV_HUGEPAGE) != 0) perror("MADV_HUGEPAGE");
    double began = milliseconds();
    if (mode == 2) {
      if (madvise(start, size, MADV_POPULATE_WRITE) != 0) perror("MADV_POPULATE_WRITE");
    } else {
      for (size_t at = 0; at < size; at += 4096) start[at] = 1;
    }
    double took = milliseconds() - began;
    printf("%-22s %7.1f ms for 64 MiB (%.2f ms per MiB)\n", names[mode], took, took / 64);
  }
  return 0;
}
