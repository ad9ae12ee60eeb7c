/* trim.c: a monitor that has set its jail up gives back the memory the setup touched. */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "helper.h"

/* the start of the ELF image and the end of its code (the linker's symbols) */
extern char __executable_start[], etext[];

/* Everything an idle monitor does not need resident: the clean code pages of its own binary (read
 * only and never written: dropping them only unmaps page-cache pages, the next use faults them
 * back from the file), the stack below the current frame (unused), and malloc's free memory.
 * Nothing written is dropped: data, RELRO, heap in use and the rest of the stack stay. */
void trim_idle(void) {
  long pg = sysconf(_SC_PAGESIZE);
  if (pg <= 0) return;
  uintptr_t a = ((uintptr_t)__executable_start + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
  uintptr_t b = (uintptr_t)etext & ~((uintptr_t)pg - 1);
  if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
  /* the stack below this frame, less a page of margin: from [stack]'s start in /proc/self/maps */
  char buf[8192];
  ssize_t n = read_file("/proc/self/maps", buf, sizeof buf);
  char *line = n > 0 ? strstr(buf, "[stack]") : NULL;
  if (line) {
    while (line > buf && line[-1] != '\n') line--;
    unsigned long lo = 0, hi = 0;
    uintptr_t sp = (uintptr_t)&pg;
    if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp > lo && sp < hi) {
      uintptr_t top = (sp & ~((uintptr_t)pg - 1)) - (uintptr_t)pg;
      if (top > lo) madvise((void *)lo, top - lo, MADV_DONTNEED);
    }
  }
  malloc_trim(0);
}
