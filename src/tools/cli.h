/*
 * The gatepost command line: "gatepost [-c DIR] SUBCOMMAND [args]". Each
 * subcommand is one row in a table (name, one-line summary, entry point),
 * so `gatepost --help` and dispatch come from the same data.
 */
#ifndef GATEPOST_TOOLS_CLI_H
#define GATEPOST_TOOLS_CLI_H

struct cli_context {
    const char *config_dir;     /* from -c DIR, or NULL */
    const char *program;        /* argv[0] */
};

struct cli_command {
    const char *name;
    const char *summary;
    /* argv[0] is the subcommand name; returns the exit code. */
    int (*run)(const struct cli_context *ctx, int argc, char **argv);
};

int cli_main(int argc, char **argv);

/*
 * Shared option handling for subcommands: strips "-c DIR" (anywhere) into
 * ctx->config_dir and reports whether "-h"/"--help" was given.
 */
int cli_take_common_options(struct cli_context *ctx, int *argc, char **argv,
                            int *want_help);

/* Subcommand entry points. */
int tool_serve(const struct cli_context *ctx, int argc, char **argv);
int tool_config(const struct cli_context *ctx, int argc, char **argv);
int tool_user(const struct cli_context *ctx, int argc, char **argv);

#endif
