/* `gatepost serve`: run the mail server in the foreground. */
#include "master/master.h"
#include "tools/cli.h"

#include <stdio.h>

int tool_serve(const struct cli_context *ctx, int argc, char **argv)
{
    struct cli_context c = *ctx;
    int help = 0;
    if (cli_take_common_options(&c, &argc, argv, &help) < 0)
        return 2;
    if (help) {
        printf("usage: gatepost [-c DIR] serve\n\n"
               "Runs the mail server in the foreground until SIGTERM (SIGHUP reloads\n"
               "the configuration). Without -c it uses /etc/gatepost if that holds a\n"
               "main.cf, otherwise the embedded default: 127.0.0.1:2525, mail for\n"
               "localhost users, queue and mailboxes under ./run.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "gatepost serve: unexpected argument \"%s\"\n", argv[1]);
        return 2;
    }
    return master_run(c.config_dir);
}
