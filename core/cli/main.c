/*
 * main.c — the `ferrosolv` command: dispatch to subcommands.
 *
 * `ferrosolv <subcommand> [options]`; `ferrosolv help` or `--help` lists the subcommands. Exit status: 0 success,
 * 1 internal failure, 2 bad input or usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#include "../version.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"energy", fs_cmd_energy, "single-point energy per term, forces and virial of a .gro/.top system"},
    {"run", fs_cmd_run, "minimize or run dynamics as a deck says; H5MD trajectory, log, checkpoints"},
    {"build", fs_cmd_build, "build a bulk electrolyte (salts + solvents) as .gro/.top from a deck"},
    {"devices", fs_cmd_devices, "list the compute backends and devices, and why any is unavailable"},
    {"bench", fs_cmd_bench, "time MD steps on a GROMACS input (water-23k by default); JSON on the last line"},
};

static void usage(FILE *out)
{
    fprintf(out, "ferrosolv %s - molecular dynamics for lithium-metal battery interfaces\n\n", FS_VERSION);
    fprintf(out, "usage: ferrosolv <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version");
    fprintf(out, "\n`ferrosolv <command> --help` describes a command's options.\n");
}

int fs_cli_report(const char *cmd, fs_status st)
{
    fprintf(stderr, "ferrosolv %s: error: %s\n", cmd, fs_error_message());
    switch (st) {
    case FS_OK:
        return 0;
    case FS_ERR_IO:
    case FS_ERR_PARSE:
    case FS_ERR_INVALID:
    case FS_ERR_UNSUPPORTED:
        return 2;
    default:
        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("ferrosolv %s\n", FS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ferrosolv: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
