/* nsserve.h: the monitor's descriptors of its jail's namespaces, served to the jail's owner (nsserve.c). */
#ifndef SJ_NSSERVE_H
#define SJ_NSSERVE_H
#include <stdint.h>
#include <sys/types.h>

#define NS_MAX 6

/* opens /proc/PID/ns/{user,mnt,pid,uts,ipc,net} of the namespaces in CFLAGS (before the init is
 * non-dumpable); -1 and errno on failure */
int nsserve_open(pid_t pid, uint64_t cflags);
/* the held descriptor of the namespace CLONE_FLAG (CLONE_NEWNET, ...), -1 when none: for host-side
 * helpers that must reach the jail's namespace while the init is not dumpable (slirp4netns, pasta) */
int nsserve_fd(uint32_t clone_flag);
/* closes them */
void nsserve_close(void);
/* a listening socket at PATH (mode 0600); -1 and errno on failure */
int nsserve_listen(const char *path, uid_t owner);
/* answers every pending client whose uid is OWNER or 0 with the descriptors, others with nothing */
void nsserve_accept(int lfd, uid_t owner);
/* the client: the descriptors and their CLONE_NEW* types from the monitor MONITOR at PATH;
 * returns their count, or -1 and errno */
int nsserve_fetch(const char *path, pid_t monitor, int fds[NS_MAX], uint32_t types[NS_MAX]);
#endif
