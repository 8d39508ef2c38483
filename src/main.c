/* gatepost: one binary, subcommands declared in tools/cli.c. */
#include "tools/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
