/* lab/cli/main.c: the autodisco command line (placeholder until the CLI lands). */
#include <stdio.h>

int main(void) {
  fputs("autodisco: not built yet\n", stderr);
  return 2;
}
