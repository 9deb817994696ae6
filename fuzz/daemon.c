/*
 * daemon.c - gatehoused itself, for fuzz_http: core/main.c built in with
 * its main() renamed, so the fuzz target runs the very start-up, loops and
 * handlers the installed daemon runs.
 */
int gatehoused_main(int argc, char **argv);
#define main gatehoused_main
#include "main.c"
