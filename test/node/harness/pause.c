/* The pod sandbox's process for the test node (test/node): registry.k8s.io/pause is unreachable here.
 * Like upstream's pause: sleeps until SIGINT or SIGTERM, reaps children it inherits as PID 1.
 * Built static (gcc -static -Os) and imported as the image the CRI's sandbox_image names. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
  struct sigaction q = {.sa_handler = quit}, r = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGINT, &q, NULL);
  sigaction(SIGTERM, &q, NULL);
  sigaction(SIGCHLD, &r, NULL);
  for (;;) pause();
  return 1;
}
