/*
 * shellroom-holder: keeps a terminal's shell alive inside a student's container, apart
 * from whoever is looking at it, so that a worker crash or upgrade costs a reattach, not
 * the student's shell.
 *
 *   shellroom-holder attach NAME COLS ROWS -- COMMAND [ARGS...]
 *   shellroom-holder start NAME COLS ROWS -- COMMAND [ARGS...]
 *   shellroom-holder handover NAME
 *   shellroom-holder init NAME COLS ROWS -- COMMAND [ARGS...]
 *
 * The first attach for NAME starts a holder daemon (its own session, reparented to the
 * container's init) that owns a pseudo-terminal with COMMAND on it, keeps the last
 * RING_BYTES of output and counts every byte since the shell started. Each attach is a
 * client on the holder's unix socket: it writes a fixed header with that count and the
 * replayed bytes, then relays live output to its stdout and its stdin to the shell. A
 * newer client replaces an older one (the old worker's exec is gone or about to be).
 * When the shell exits, the client exits with the shell's status. `start` only starts the
 * holder (the warm pool's shells: the first attach then gets the prompt from the replay).
 *
 * `init` is a container's command: it starts the holder for NAME as `start` does, then
 * waits for ever as `idle` (docker-init above it reaps and forwards signals), so the main terminal's
 * shell is running from the container's first moment, without a `docker exec`.
 *
 * The holder also listens on an abstract socket (RELAY_PREFIX NAME) in the container's
 * network namespace. `handover` runs on the worker's host, inside that namespace only (the
 * worker starts it with nsenter --net as nobody), connects, and hands the connected socket to
 * the worker, then leaves: the worker then reaches a running shell without a `docker exec`,
 * and no process of ours stays between it and the holder. An
 * abstract name can only lead to sockets of the student's own container, never to a path
 * the student could point at a host socket.
 *
 * Why C, and our own: it must run in any image an instructor builds (so: one static
 * binary, no libc or interpreter assumed), and dtach/abduco neither replay output with a
 * byte offset nor exit with the shell's status. Every buffer is bounded; both directions
 * are non-blocking, so Ctrl-C reaches the shell while its output is held back.
 *
 * The parts: holder.h (what the files share: the frames, the relay's address), holder-wire.c
 * (encoding, buffers, sockets), holder-serve.c (the daemon and its replay), holder-client.c
 * (attach and hand-over). This file reads the arguments and picks the mode.
 */
#include "holder.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int valid_name(const char *name) {
  if (!*name) return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-')) return 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "idle") == 0) {
    signal(SIGHUP, SIG_IGN);
    for (;;) pause();
  }
  int init = argc >= 2 && strcmp(argv[1], "init") == 0;
  /*
   * The container's command carries the main tab's tag until it becomes `idle`: a hang-up of
   * that tab (the warm pool's, before a setup script) arriving first must not end the container.
   */
  if (init) {
    signal(SIGHUP, SIG_IGN);
    argv[1] = "start"; /* the same start, then the wait below */
  }
  if (argc == 3 && strcmp(argv[1], "handover") == 0) {
    if (!valid_name(argv[2])) { fprintf(stderr, "shellroom-holder: bad name\n"); return 2; }
    return run_handover(argv[2]);
  }
  int start_only = argc >= 2 && strcmp(argv[1], "start") == 0;
  if (argc < 7 || (!start_only && strcmp(argv[1], "attach") != 0) || strcmp(argv[5], "--") != 0) {
    fprintf(stderr, "usage: shellroom-holder attach|start|init NAME COLS ROWS -- COMMAND [ARGS...], or handover NAME\n");
    return 2;
  }
  const char *name = argv[2];
  if (!valid_name(name)) { fprintf(stderr, "shellroom-holder: bad name\n"); return 2; }
  unsigned short cols = (unsigned short)atoi(argv[3]), rows = (unsigned short)atoi(argv[4]);
  char path[108];
  socket_path(path, sizeof path, name);
  if (start_only) {
    /*
     * A socket already there is taken as a running holder: connecting to find out would
     * replace its attached client. A dead holder's socket costs nothing: the next attach
     * finds nobody answering and starts the shell then.
     */
    struct stat st;
    if (init) {
      /* What an exec'd terminal gets besides the container's environment. */
      char value[16];
      snprintf(value, sizeof value, "%u", cols ? cols : 80);
      setenv("COLUMNS", value, 1);
      snprintf(value, sizeof value, "%u", rows ? rows : 24);
      setenv("LINES", value, 1);
      setenv("COLORTERM", "truecolor", 1);
    }
    if (lstat(path, &st) != 0) start_holder(path, name, cols ? cols : 80, rows ? rows : 24, argv + 6);
    if (init) {
      /* Waits under a name of its own: hanging up the terminal's tagged processes must not end the container. */
      execl("/proc/self/exe", "shellroom-holder", "idle", (char *)NULL);
      for (;;) pause();
    }
    return 0;
  }
  int sock = connect_to(path);
  if (sock < 0) {
    start_holder(path, name, cols ? cols : 80, rows ? rows : 24, argv + 6);
    for (int i = 0; i < 200 && sock < 0; i++) {
      sock = connect_to(path);
      if (sock < 0) usleep(10000);
    }
    if (sock < 0) die("connect");
  }
  return run_client(sock);
}
