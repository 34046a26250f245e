/*
 * cli.h — the subcommands of the `ferrosolv` program and the conventions they share.
 *
 * Each subcommand is a function taking its own argv (argv[0] is the subcommand name) and returning the process
 * exit status: 0 success, 1 an internal failure (out of memory, numerical blow-up), 2 bad input (unreadable or
 * malformed file, bad option), which is also what a usage error returns.
 */
#ifndef FS_CLI_H
#define FS_CLI_H

#include "../status.h"

int fs_cmd_energy(int argc, char **argv);
int fs_cmd_build(int argc, char **argv);
int fs_cmd_run(int argc, char **argv);
int fs_cmd_devices(int argc, char **argv);
int fs_cmd_bench(int argc, char **argv);

/* Prints "ferrosolv <cmd>: error: <library message>" to stderr and returns the exit status for `st`. */
int fs_cli_report(const char *cmd, fs_status st);

#endif
