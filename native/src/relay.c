/* relay.c: keeps the caller's descriptors out of an entered jail (jexec, Jail.spawn, exec.* hooks).
 *
 * The entered command never gets the helper's own fds 0-2 (the caller's terminal, pipes or
 * files): a process of the jail could take them from it (pidfd_getfd, /proc/PID/fd) and keep
 * reading the admin's terminal, or writing into the admin's files, after jexec returned. Instead
 * the command gets
 * - "pty": a new pseudo-terminal of the jail's own devpts (opened in the jail's mount namespace,
 *   checked to be a devpts ptmx), as its controlling terminal in a session of its own; the caller's
 *   terminal is put in raw mode (restored at the end), its window size copied (and on SIGWINCH);
 * - "pipe": three pipes; a session of its own too, so the caller's controlling terminal is not
 *   the command's (/dev/tty in the jail opens nothing).
 * The relay process is the helper itself: outside the jail's pid namespace (no jail process can
 * name it) and non-dumpable with its memory owned by the host (none can ptrace it). After the
 * command ended, the pipes close (jexec), or for the exec.* commands of jail.conf stay read until
 * their last writer closes them (relay_linger), into the console log or nowhere.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "relay.h"


void relay_init(struct relay *r) {
  memset(r, 0, sizeof *r);
  r->mode = RELAY_NONE;
  r->master = r->slave = -1;
  for (int i = 0; i < 3; i++) r->in[i] = r->out[i] = -1;
}

/* The jail's ptmx: /dev/pts/ptmx below the jail's root (we are in its mount namespace), no
 * symlink on the way, and only a devpts ptmx (a jail could plant anything else there). */
int relay_open_ptmx(void) {
  struct open_how how = { .flags = O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  int fd = (int)syscall(SYS_openat2, AT_FDCWD, "/dev/pts/ptmx", &how, sizeof how);
  if (fd < 0) return -1;
  struct stat st;
  struct statfs sf;
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2 ||
      fstatfs(fd, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) {
    close(fd);
    errno = ENODEV;
    return -1;
  }
  return fd;
}

int relay_prepare(struct relay *r, const char *mode, uid_t uid, gid_t gid) {
  if (!strcmp(mode, "pipe")) {
    /* the pipes belong to the command's user too (pipefs takes the maker's fsuid/fsgid): it may
     * reopen its stdio through /proc/self/fd (/dev/stderr), as it may its pty's slave */
    int p[3][2], bad = 0;
    uid_t ofs = (uid_t)setfsuid((uid_t)-1);
    gid_t ofg = (gid_t)setfsgid((gid_t)-1);
    setfsgid(gid);
    setfsuid(uid);
    for (int i = 0; i < 3 && !bad; i++)
      if (pipe2(p[i], O_CLOEXEC) < 0) bad = 1;
    int e = errno;
    setfsuid(ofs);
    setfsgid(ofg);
    if (bad) { errno = e; return -1; }
    r->in[0] = p[0][0]; r->out[0] = p[0][1];  /* the command reads in[0]; we write out[0] */
    r->in[1] = p[1][1]; r->out[1] = p[1][0];  /* the command writes in[1]; we read out[1] */
    r->in[2] = p[2][1]; r->out[2] = p[2][0];
    for (int i = 0; i < 3; i++) fcntl(r->out[i], F_SETFL, O_NONBLOCK);
    r->mode = RELAY_PIPE;
    return 0;
  }
  if (strcmp(mode, "pty")) { errno = EINVAL; return -1; }
  if (!isatty(0)) { errno = ENOTTY; return -1; }
  /* the slave belongs to the command's user (devpts takes the opener's fsuid/fsgid) */
  uid_t ofs = (uid_t)setfsuid((uid_t)-1);
  gid_t ofg = (gid_t)setfsgid((gid_t)-1);
  setfsgid(gid);
  setfsuid(uid);
  r->master = relay_open_ptmx();
  int e = errno;
  setfsuid(ofs);
  setfsgid(ofg);
  if (r->master < 0) { errno = e; return -1; }
  int unlock = 0;
  if (ioctl(r->master, TIOCSPTLCK, &unlock) < 0) return -1;
  r->slave = ioctl(r->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (r->slave < 0) return -1;
  if (tcgetattr(0, &r->saved) == 0) {
    r->have_saved = 1;
    tcsetattr(r->slave, TCSANOW, &r->saved); /* the caller's settings (echo, erase, ...) */
  }
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(r->master, TIOCSWINSZ, &ws);
  r->mode = RELAY_PTY;
  return 0;
}

int relay_child(struct relay *r) {
  if (r->mode == RELAY_NONE) return 0;
  if (setsid() < 0) return -1;
  if (r->mode == RELAY_PTY) {
    if (ioctl(r->slave, TIOCSCTTY, 0) < 0) return -1;
    for (int i = 0; i < 3; i++) if (dup2(r->slave, i) < 0) return -1;
    return 0;
  }
  for (int i = 0; i < 3; i++) if (dup2(r->in[i], i) < 0) return -1;
  return 0;
}

/* One direction: bytes read from src wait in buf until dst takes them. */
struct pump {
  int src, dst, len, off, eof, drop;
  int close_dst;  /* close dst at src's end (the command's stdin pipe) */
  char buf[16384];
};

static void pump_init(struct pump *p, int src, int dst, int close_dst) {
  memset(p, 0, sizeof *p);
  p->src = src; p->dst = dst; p->close_dst = close_dst;
}

static void pump_end(struct pump *p) {
  p->eof = 1;
  if (p->close_dst && p->dst >= 0) { close(p->dst); p->dst = -1; }
}

/* Moves what is pending to dst (dropped when dst is gone); BLOCK: waits until all is written. */
static void pump_flush(struct pump *p, int block) {
  while (p->off < p->len) {
    if (p->drop || p->dst < 0) { p->off = p->len = 0; return; }
    ssize_t w = write(p->dst, p->buf + p->off, (size_t)(p->len - p->off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      if (!block) return;
      struct pollfd q = { p->dst, POLLOUT, 0 };
      poll(&q, 1, -1);
      continue;
    }
    if (w <= 0) { p->drop = 1; if (p->close_dst) pump_end(p); continue; } /* reader gone */
    p->off += (int)w;
  }
  p->off = p->len = 0;
}

static void pump_read(struct pump *p) {
  ssize_t n;
  do n = read(p->src, p->buf, sizeof p->buf); while (n < 0 && errno == EINTR);
  if (n > 0) { p->len = (int)n; p->off = 0; return; }
  if (n < 0 && errno == EAGAIN) return;
  pump_end(p); /* EOF, or EIO: the pty's last slave closed */
}

/* The rest of what the command wrote: sources are non-blocking, read them until empty. */
static void pump_drain(struct pump *p) {
  while (!p->eof) {
    pump_flush(p, 1);
    ssize_t n;
    do n = read(p->src, p->buf, sizeof p->buf); while (n < 0 && errno == EINTR);
    if (n <= 0) break;
    p->len = (int)n; p->off = 0;
  }
  pump_flush(p, 1);
}

static struct termios g_restore;
static int g_restore_set;

static void restore_tty(void) {
  if (g_restore_set) tcsetattr(0, TCSANOW, &g_restore);
  g_restore_set = 0;
}

void relay_sigset(sigset_t *mask) {
  sigemptyset(mask);
  sigaddset(mask, SIGTERM); sigaddset(mask, SIGINT); sigaddset(mask, SIGHUP);
  sigaddset(mask, SIGQUIT); sigaddset(mask, SIGCHLD); sigaddset(mask, SIGWINCH);
}

int relay_run(struct relay *r, pid_t child, int *status) {
  sigset_t mask;
  relay_sigset(&mask);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  int sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTTOU, SIG_IGN); /* tcsetattr from a background job must not stop us */
  signal(SIGTTIN, SIG_IGN);
  struct pump pumps[3];
  int np = 0;
  if (r->mode == RELAY_PTY) {
    close(r->slave); r->slave = -1;
    if (r->have_saved) {
      struct termios raw = r->saved;
      cfmakeraw(&raw);
      g_restore = r->saved;
      g_restore_set = 1;
      atexit(restore_tty);
      tcsetattr(0, TCSANOW, &raw);
    }
    pump_init(&pumps[np++], 0, r->master, 0);
    pump_init(&pumps[np++], r->master, 1, 0);
  } else if (r->mode == RELAY_PIPE) {
    for (int i = 0; i < 3; i++) { close(r->in[i]); r->in[i] = -1; }
    pump_init(&pumps[np++], 0, r->out[0], 1);
    pump_init(&pumps[np++], r->out[1], 1, 0);
    pump_init(&pumps[np++], r->out[2], 2, 0);
  }
  int exited = 0, killed = 0;
  while (!exited) {
    if (waitpid(child, status, WNOHANG) == child) break; /* also a SIGCHLD from before the mask */
    struct pollfd p[1 + 2 * 3 + 1];
    int n = 0;
    p[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
    for (int i = 0; i < np; i++) {
      struct pump *u = &pumps[i];
      p[n++] = (struct pollfd){ !u->eof && u->len == 0 ? u->src : -1, POLLIN, 0 };
      p[n++] = (struct pollfd){ u->len > 0 && !u->drop && u->dst >= 0 ? u->dst : -1, POLLOUT, 0 };
    }
    int xi = n;
    p[n++] = (struct pollfd){ r->extra_fd ? r->extra_fd() : -1, POLLIN, 0 };
    if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR) break;
    if (p[xi].revents && r->extra_ready) r->extra_ready(p[xi].revents);
    for (int i = 0; i < np; i++) {
      struct pump *u = &pumps[i];
      short rin = p[1 + 2 * i].revents, rout = p[2 + 2 * i].revents;
      if (rin & POLLNVAL) pump_end(u);
      else if (rin) pump_read(u);
      if (rout & (POLLERR | POLLNVAL)) { u->drop = 1; if (u->close_dst) pump_end(u); }
      if (u->len > 0) pump_flush(u, 0);
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        int s = (int)si.ssi_signo;
        if (s == SIGWINCH && r->mode == RELAY_PTY) {
          struct winsize ws;
          if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(r->master, TIOCSWINSZ, &ws);
        } else if (s == SIGINT || s == SIGQUIT) {
          /* a signal sent to jexec: the command's foreground process group gets it (on a
           * pty, typed ^C already travels as a character) */
          if (r->mode == RELAY_PTY) ioctl(r->master, TIOCSIG, s);
          else if (r->mode == RELAY_PIPE) kill(-child, s);
          else kill(child, s);
        } else if (s == SIGTERM || s == SIGHUP) {
          if (!killed) kill(child, SIGKILL);
          killed = 1;
        }
      }
      pid_t w = waitpid(child, status, WNOHANG);
      if (w == child) exited = 1;
    }
  }
  /* what the command wrote before it ended is in the pipes or the pty: pass it on */
  for (int i = 0; i < np; i++) if (pumps[i].src != 0) pump_drain(&pumps[i]);
  restore_tty();
  if (r->master >= 0) { close(r->master); r->master = -1; }
  if (pumps[0].dst >= 0 && r->mode == RELAY_PIPE) close(pumps[0].dst);
  r->out[0] = -1;
  close(sigfd);
  return 0;
}

void relay_linger(struct relay *r, int drop) {
  if (r->mode != RELAY_PIPE) return;
  /* nothing of the caller stays with us: stdin (and with DROP stdout, stderr) closed (no path is
   * opened: we are in the jail's mount namespace); out of the caller's session, so its
   * terminal's signals do not end us */
  close(0);
  if (drop) { close(1); close(2); }
  setsid();
  struct pump pumps[2];
  pump_init(&pumps[0], r->out[1], drop ? -1 : 1, 0);
  pump_init(&pumps[1], r->out[2], drop ? -1 : 2, 0);
  for (;;) {
    struct pollfd p[2];
    int open_ = 0;
    for (int i = 0; i < 2; i++) {
      p[i] = (struct pollfd){ pumps[i].eof ? -1 : pumps[i].src, POLLIN, 0 };
      open_ += !pumps[i].eof;
    }
    if (!open_) break;
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (p[i].revents) pump_read(&pumps[i]);
      pump_flush(&pumps[i], 1);
    }
  }
}

void relay_close(struct relay *r) {
  for (int i = 0; i < 3; i++) if (r->out[i] >= 0) { close(r->out[i]); r->out[i] = -1; }
}
