/* relay.h: the entered command's stdio, relayed by the helper (relay.c; contract in docs/ARCHITECTURE.md). */
#ifndef SJ_RELAY_H
#define SJ_RELAY_H
#include <signal.h>
#include <sys/types.h>
#include <termios.h>

/* a pty's slave from its master (older C libraries lack the name) */
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

enum relay_mode { RELAY_NONE, RELAY_PTY, RELAY_PIPE };
struct relay {
  enum relay_mode mode;
  int master, slave;   /* pty: the jail devpts pair */
  int in[3];           /* the command's ends (pipe mode) */
  int out[3];          /* the relay's ends (pipe mode) */
  struct termios saved;
  int have_saved;
  /* polled with the stdio while the command runs (the entered command's seccomp listener,
   * enter.c): its descriptor (-1: none) and what to do when it is ready */
  int (*extra_fd)(void);
  void (*extra_ready)(short revents);
};

/* the jail's devpts ptmx (we are in its mount namespace): O_RDWR|O_NOCTTY|O_CLOEXEC|O_NONBLOCK;
 * only a devpts ptmx, -1 and errno otherwise */
int relay_open_ptmx(void);
/* no relay yet */
void relay_init(struct relay *r);
/* before the fork, in the jail's mount (and user) namespace: MODE "pty" (a pty of the jail's
 * devpts, its slave owned by UID:GID) or "pipe"; -1 and errno on failure */
int relay_prepare(struct relay *r, const char *mode, uid_t uid, gid_t gid);
/* in the command's process: a session of its own, the jail ends on fds 0-2 */
int relay_child(struct relay *r);
/* the signals the relay takes by signalfd: enter.c blocks them before its fork (so none is lost
 * before relay_run), relay_run reads them */
void relay_sigset(sigset_t *mask);
/* in the helper: relays until CHILD ends (and its output is passed on); *STATUS from waitpid.
 * SIGTERM/SIGHUP kill the command; SIGINT/SIGQUIT go to its foreground process group;
 * the caller's terminal is restored before it returns. */
int relay_run(struct relay *r, pid_t child, int *status);
/* after the exit was reported (pipe mode): the command's output pipes stay read until every
 * process of the jail holding them has closed them, so a daemon an exec.* command left behind
 * is not killed by SIGPIPE; into the helper's own fds 1/2 (the jail's console log), or DROPped */
void relay_linger(struct relay *r, int drop);
/* closes the relay's ends */
void relay_close(struct relay *r);
#endif
