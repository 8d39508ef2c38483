/* Subcommand table and dispatch; see cli.h. */
#include "tools/cli.h"

#include <stdio.h>
#include <string.h>

static const struct cli_command commands[] = {
    { "serve", "run the mail server in the foreground", tool_serve },
    { "config", "show and check the configuration (like postconf)", tool_config },
    { "user", "manage SMTP AUTH users (like saslpasswd2)", tool_user },
};

static void usage(FILE *out, const char *program)
{
    fprintf(out, "usage: %s [-c DIR] COMMAND [ARGS]\n\n"
                 "  -c DIR     use DIR/main.cf and DIR/master.cf\n\ncommands:\n",
            program);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun '%s COMMAND --help' for a command's options.\n", program);
}

int cli_take_common_options(struct cli_context *ctx, int *argc, char **argv,
                            int *want_help)
{
    int out = 1;
    *want_help = 0;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "-c") == 0) {
            if (i + 1 >= *argc) {
                fprintf(stderr, "%s: -c needs a directory\n", ctx->program);
                return -1;
            }
            ctx->config_dir = argv[++i];
            continue;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            *want_help = 1;
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    *argc = out;
    return 0;
}

int cli_main(int argc, char **argv)
{
    struct cli_context ctx = { .config_dir = NULL, .program = "gatepost" };
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            ctx.config_dir = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout, ctx.program);
            return 0;
        } else {
            fprintf(stderr, "%s: unknown option %s\n", ctx.program, argv[i]);
            usage(stderr, ctx.program);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr, ctx.program);
        return 2;
    }
    for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
        if (strcmp(argv[i], commands[c].name) == 0)
            return commands[c].run(&ctx, argc - i, argv + i);
    fprintf(stderr, "%s: unknown command \"%s\"\n", ctx.program, argv[i]);
    usage(stderr, ctx.program);
    return 2;
}
